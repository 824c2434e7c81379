from django.contrib import admin

from orders.models import Discount, MerchantCoupon, Park, PayOrder, PushLog


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class DiscountInline(ReadOnlyInline):
    model = Discount
    exclude = ["extra"]


class MerchantCouponInline(ReadOnlyInline):
    model = MerchantCoupon
    exclude = ["extra"]


@admin.register(PayOrder)
class PayOrderAdmin(admin.ModelAdmin):
    list_display = ["pay_time", "park", "plate", "pay_value", "channel", "pay_serial"]
    list_select_related = ["park"]
    search_fields = ["=plate", "=pay_serial", "=parking_serial"]
    inlines = [DiscountInline, MerchantCouponInline]


@admin.register(Park)
class ParkAdmin(admin.ModelAdmin):
    list_display = ["name", "park_uuid", "first_seen", "last_seen"]
    search_fields = ["name", "=park_uuid"]


@admin.register(PushLog)
class PushLogAdmin(admin.ModelAdmin):
    list_display = ["received_at", "code", "reason", "pay_serial", "plate", "remote_addr"]
    list_filter = ["code", "reason"]
    search_fields = ["=pay_serial"]
