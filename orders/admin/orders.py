"""Pay orders in the admin: the list with the totals of the filtered set, the order's page with
its discounts, merchant coupons and push log.

Lists stay fast on a million orders: the page count comes from the totals shown above the list
instead of a separate COUNT(*), per-row figures are correlated subqueries run only for the page,
and every search and filter has an index.
"""

from django.contrib import admin
from django.core.paginator import Paginator
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from orders import channels, selectors
from orders.admin.base import CsvExportAdmin, ExtraFieldsMixin, plate_link
from orders.admin.coupons import CouponDisplayMixin
from orders.admin.filters import (
    ChannelFilter,
    HasCouponsFilter,
    HasDiscountsFilter,
    ParkFilter,
    PayDateRangeFilter,
    SourceFilter,
)
from orders.admin.stays import stay_link
from orders.exports.orders import orders_csv, orders_xlsx
from orders.models import Discount, MerchantCoupon, PayOrder, PushLog
from orders.permissions import VIEW_ORDERS, VIEW_PERSONAL_DATA, VIEW_STAYS
from orders.stays import selectors as stay_selectors
from parkingops.formatting import mask_mobile, mask_mobiles_in_text, yuan


class OrderTotalsPaginator(Paginator):
    """Take the page count from the totals the list shows anyway: from the daily rollup when
    the list is filtered by whole days, park and channel only (``rolled``), else one
    aggregate pass over the filtered orders."""

    def __init__(self, *args, rolled: selectors.RolledScope | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.rolled = rolled

    @cached_property
    def totals(self) -> selectors.OrderTotals:
        if self.rolled is not None:
            return selectors.rolled_order_totals(scope=self.rolled)
        return selectors.order_totals(orders=self.object_list)

    @cached_property
    def count(self) -> int:
        return self.totals.orders


class OrderPartInline(ExtraFieldsMixin, admin.TabularInline):
    """Discounts and coupons are part of their order: shown to whoever may see the order."""

    extra = 0
    can_delete = False
    show_change_link = False

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm(VIEW_ORDERS)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class DiscountInline(OrderPartInline):
    model = Discount
    fields = [
        "type",
        "token",
        "openid",
        "mobile",
        "relief_amount",
        "relief_value_display",
        "extra_display",
    ]
    readonly_fields = ["relief_value_display", "extra_display"]
    masked_twins = {**OrderPartInline.masked_twins, "mobile": "mobile_masked"}

    @admin.display(description=_("mobile"))
    def mobile_masked(self, obj):
        return mask_mobile(obj.mobile)

    @admin.display(description=_("relief value"))
    def relief_value_display(self, obj):
        return yuan(obj.relief_value)


class MerchantCouponInline(CouponDisplayMixin, OrderPartInline):
    model = MerchantCoupon
    fields = CouponDisplayMixin.coupon_fields
    readonly_fields = fields


@admin.register(PayOrder)
class PayOrderAdmin(ExtraFieldsMixin, CsvExportAdmin):
    export_kind = "orders"
    list_display = [
        "pay_time",
        "park_name",
        "plate_display",
        "amount",
        "channel_display",
        "relief",
        "coupon_count",
        "pay_serial_display",
        "stay_column",
    ]
    list_display_links = ["pay_time", "pay_serial_display"]
    # Only the indexed pay time sorts: sorting a million rows by anything else reads them all.
    sortable_by = ["pay_time"]
    list_select_related = ["park"]
    list_filter = [
        PayDateRangeFilter,
        ParkFilter,
        ChannelFilter,
        HasDiscountsFilter,
        HasCouponsFilter,
        SourceFilter,
    ]
    search_fields = ["plate", "pay_serial", "parking_serial"]  # see get_search_results
    search_help_text = _(
        "A plate (whole, its beginning or its ending, in any spelling), a pay serial or a "
        "parking serial."
    )
    paginator = OrderTotalsPaginator
    list_per_page = 50
    actions = None
    inlines = [DiscountInline, MerchantCouponInline]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "pay_serial",
                    "parking_serial",
                    "stay_display",
                    "park_display",
                    "plate",
                    "plate_raw",
                    "amount_detail",
                    "pay_time",
                    "channel_display",
                    "identity",
                    "app_id",
                    "source",
                    "received_at",
                    "whitelist_entry",
                    "fingerprint",
                ]
            },
        ),
        (_("Extra fields"), {"fields": ["extra_display"]}),
        (_("Push log"), {"fields": ["push_log_display"]}),
    ]
    readonly_fields = [
        "park_display",
        "stay_display",
        "channel_display",
        "amount_detail",
        "extra_display",
        "push_log_display",
    ]
    # The push log's messages are text as received: masked like the push log's own pages.
    masked_twins = {**ExtraFieldsMixin.masked_twins, "push_log_display": "push_log_masked"}

    def get_queryset(self, request):
        orders = selectors.with_row_totals(super().get_queryset(request).select_related("park"))
        if request.user.has_perm(VIEW_STAYS):
            orders = stay_selectors.with_stay(orders)
        return channels.with_channel_name(orders)

    def get_list_display(self, request):
        shown = super().get_list_display(request)
        if request.user.has_perm(VIEW_STAYS):
            return shown
        return [name for name in shown if name != "stay_column"]

    def get_fieldsets(self, request, obj=None):
        # The stay (停车记录) only for those who may see stays.
        fieldsets = super().get_fieldsets(request, obj)
        if request.user.has_perm(VIEW_STAYS):
            return fieldsets
        return [
            (name, {**options, "fields": [f for f in options["fields"] if f != "stay_display"]})
            for name, options in fieldsets
        ]

    def get_paginator(self, request, queryset, per_page, orphans=0, allow_empty_first_page=True):
        # The list's own parameters decide whether the rollup can total it: whole days, a
        # park, a channel, nothing else (a search or another filter is totalled exactly).
        return self.paginator(
            queryset,
            per_page,
            orphans,
            allow_empty_first_page,
            rolled=selectors.rolled_scope(request.GET),
        )

    def get_search_results(self, request, queryset, search_term):
        return selectors.search_orders(orders=queryset, term=search_term), False

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "summary_url": reverse("orders_daily_summary"),
        }
        return super().changelist_view(request, extra_context)

    def export_csv(self, request, queryset, *, progress):
        unmask = request.user.has_perm(VIEW_PERSONAL_DATA)
        return orders_csv(queryset, unmask=unmask, progress=progress)

    def export_xlsx(self, request, queryset, about, *, progress):
        unmask = request.user.has_perm(VIEW_PERSONAL_DATA)
        return orders_xlsx(queryset, about=about, unmask=unmask, progress=progress)

    @admin.display(description=_("pay serial"))
    def pay_serial_display(self, obj):
        # Pushed orders are the rule; an order created from a reconciliation is marked.
        if obj.source == PayOrder.Source.RECONCILIATION:
            return format_html(
                '{} <span class="orders-source orders-source-reconciliation">{}</span>',
                obj.pay_serial,
                obj.get_source_display(),
            )
        return obj.pay_serial

    @admin.display(description=_("plate"))
    def plate_display(self, obj):
        return plate_link(obj.plate)

    @admin.display(description=_("stay"))
    def stay_display(self, obj):
        return stay_link(obj.stay_pk, obj.parking_serial)

    @admin.display(description=_("stay"))
    def stay_column(self, obj):
        return stay_link(obj.stay_pk, gettext("view the stay"))

    @admin.display(description=_("park"))
    def park_name(self, obj):
        return str(obj.park)

    @admin.display(description=_("park"))
    def park_display(self, obj):
        return format_html("{} ({})", obj.park.name, obj.park.park_uuid)

    @admin.display(description=_("channel"))
    def channel_display(self, obj):
        # The name finance gave the code; an unnamed code as it is, with a hint.
        if obj.channel_name:
            return format_html('<span title="{}">{}</span>', obj.channel, obj.channel_name)
        return format_html(
            '<span class="orders-channel-unnamed" title="{}">{}</span>',
            gettext("Finance can name this channel under Payment channels."),
            channels.channel_label(obj.channel, {}),
        )

    @admin.display(description=_("amount paid"))
    def amount(self, obj):
        return yuan(obj.pay_value)

    @admin.display(description=_("amount paid"))
    def amount_detail(self, obj):
        return gettext("%(yuan)s (%(fen)s fen)") % {
            "yuan": yuan(obj.pay_value),
            "fen": obj.pay_value,
        }

    @admin.display(description=_("discount relief"))
    def relief(self, obj):
        return yuan(obj.relief_total)

    @admin.display(description=_("merchant coupons"))
    def coupon_count(self, obj):
        return obj.coupon_count

    @admin.display(description=_("push log of this pay serial"))
    def push_log_display(self, obj, *, mask: bool = False):
        logs = list(
            PushLog.objects.filter(pay_serial=obj.pay_serial).order_by("-received_at", "-pk")[:50]
        )
        if mask:
            for log in logs:  # shown only, never saved
                log.message = mask_mobiles_in_text(log.message)
        return render_to_string("admin/orders/payorder/push_log.html", {"logs": logs})

    @admin.display(description=_("push log of this pay serial"))
    def push_log_masked(self, obj):
        return self.push_log_display(obj, mask=True)
