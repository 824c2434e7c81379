"""Merchant coupons in the admin: the list with its per-store totals, and the coupon's fields
as every page shows them (the order's inline too)."""

from django.contrib import admin
from django.core.paginator import Paginator
from django.db.models import Q
from django.urls import path, reverse
from django.utils.functional import cached_property
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from orders import selectors
from orders.admin.base import CsvExportAdmin, ExtraFieldsMixin, plate_link
from orders.admin.filters import CouponParkFilter, CouponPayDateRangeFilter, StoreFilter
from orders.exports.coupons import coupon_totals_csv, coupon_totals_xlsx, coupons_csv, coupons_xlsx
from orders.models import MerchantCoupon, PayOrder
from parkingops.formatting import china_time


class CouponTotalsPaginator(Paginator):
    """Take the page count from the per-store totals the coupon list shows anyway: from the
    coupon rollup when the list is filtered by days, park and store only (``params``, the
    list's query string), else one aggregate pass over the filtered coupons."""

    def __init__(self, *args, params=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.params = params

    @cached_property
    def totals(self) -> selectors.CouponTotals:
        if self.params is not None:
            rolled = selectors.rolled_coupon_totals(params=self.params)
            if rolled is not None:
                return rolled
        return selectors.coupon_totals(coupons=self.object_list)

    @cached_property
    def count(self) -> int:
        return self.totals.coupons


class CouponDisplayMixin(ExtraFieldsMixin):
    """A coupon as staff read it: type by name, value in its type's unit (``orders.coupons``:
    yuan for amount coupons, minutes for time coupons, a rate for percentages), grant time in
    China time or as the platform sent it, in the same fields on the list's detail and the
    order's inline."""

    coupon_fields = [
        "store_name",
        "store_code",
        "coupon_name",
        "coupon_code",
        "coupon_type_display",
        "coupon_value_display",
        "grant_time_display",
        "grant_serial",
        "extra_display",
    ]

    @admin.display(description=_("grant time"))
    def grant_time_display(self, obj):
        # A grant time the platform sent in a form we could not read is shown as sent.
        return china_time(obj.grant_time) if obj.grant_time else obj.grant_time_raw

    @admin.display(description=_("coupon type"))
    def coupon_type_display(self, obj):
        return obj.coupon_type_label

    @admin.display(description=_("coupon value"))
    def coupon_value_display(self, obj):
        return obj.coupon_value_text


def _name_over_code(name: str, code: str) -> str:
    """A name with its code below it, quieter, in one list cell."""
    return format_html('{}<br><span class="quiet">{}</span>', name, code)


@admin.register(MerchantCoupon)
class MerchantCouponAdmin(CouponDisplayMixin, CsvExportAdmin):
    export_kind = "coupons"
    # Eight columns, so the list fits a 1366-pixel screen beside its filters: a store's code
    # under its name, a coupon's code under its name (each detail page has them apart).
    list_display = [
        "store",
        "coupon",
        "coupon_type_display",
        "coupon_value_display",
        "pay_time",
        "plate",
        "park",
        "order_link",
    ]
    list_display_links = None
    sortable_by = []
    list_select_related = ["order__park"]
    list_filter = [CouponPayDateRangeFilter, CouponParkFilter, StoreFilter]
    search_fields = ["store_code", "order__pay_serial"]  # see get_search_results
    search_help_text = _(
        "A store code, or an order's plate (whole, beginning or ending), pay serial or "
        "parking serial."
    )
    # Newest payment first, as finance reads a period. The join walks the orders' pay-time index
    # backwards and each order's coupons by their order index, so a page reads only its rows;
    # the API's coupon list has the same order.
    ordering = ["-order__pay_time", "-pk"]
    paginator = CouponTotalsPaginator
    list_per_page = 50
    actions = None
    fields = ["order_link", *CouponDisplayMixin.coupon_fields]
    readonly_fields = fields

    def get_paginator(self, request, queryset, per_page, orphans=0, allow_empty_first_page=True):
        return self.paginator(
            queryset, per_page, orphans, allow_empty_first_page, params=request.GET
        )

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        orders = selectors.search_orders(orders=PayOrder.objects.all(), term=term)
        return queryset.filter(Q(store_code=term) | Q(order__in=orders.values("pk"))), False

    def get_urls(self):
        # The totals table above the list (per store and type, grand totals) as its own file.
        view = self.admin_site.admin_view(self.export_view)
        name = "orders_merchantcoupon_export_totals"
        return [
            path("export-totals/", view, {"part": "totals"}, name=name),
            path(
                "export-totals/xlsx/",
                view,
                {"part": "totals", "file_format": "xlsx"},
                name=f"{name}_xlsx",
            ),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        if self.has_export_permission(request):
            name = "admin:orders_merchantcoupon_export_totals"
            extra_context = {
                **(extra_context or {}),
                "totals_export_url": reverse(name),
                "totals_export_xlsx_url": reverse(f"{name}_xlsx"),
            }
        return super().changelist_view(request, extra_context)

    def export_csv(self, request, queryset, *, progress):
        return coupons_csv(queryset, progress=progress)

    def export_xlsx(self, request, queryset, about, *, progress):
        return coupons_xlsx(queryset, about=about, progress=progress)

    def export_writers(self, part):
        if part == "totals":
            return "coupon_totals", self.export_totals_csv, self.export_totals_xlsx
        return super().export_writers(part)

    # The totals' work is adding the coupons up (one query), not writing their few rows: the
    # progress counts the coupons added up, the list's rows.
    def export_totals_csv(self, request, queryset, *, progress):
        totals = selectors.coupon_totals(coupons=queryset)
        progress.advance(totals.coupons)
        return coupon_totals_csv(totals)

    def export_totals_xlsx(self, request, queryset, about, *, progress):
        totals = selectors.coupon_totals(coupons=queryset)
        progress.advance(totals.coupons)
        return coupon_totals_xlsx(totals, about=about)

    @admin.display(description=_("store"))
    def store(self, obj):
        return _name_over_code(obj.store_name, obj.store_code)

    @admin.display(description=_("merchant coupon"))
    def coupon(self, obj):
        return _name_over_code(obj.coupon_name, obj.coupon_code)

    @admin.display(description=_("pay time"))
    def pay_time(self, obj):
        return china_time(obj.order.pay_time)

    @admin.display(description=_("plate"))
    def plate(self, obj):
        return plate_link(obj.order.plate)

    @admin.display(description=_("park"))
    def park(self, obj):
        return str(obj.order.park)

    @admin.display(description=_("order"))
    def order_link(self, obj):
        url = reverse("admin:orders_payorder_change", args=[obj.order_id])
        return format_html('<a href="{}">{}</a>', url, obj.order.pay_serial)
