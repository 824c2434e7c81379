"""Stays (停车记录) and renewals (续费记录) in the admin: read-only lists with the totals of
the filtered set above them and their exports, and a stay's page with its timeline.

Built like the order list (``orders.admin.orders``): the page count comes from the totals, the
payment gap is ``orders.stays.selectors.with_gap`` (never computed here), and money is shown
per kind, in yuan, never added across kinds.
"""

from django.contrib import admin
from django.core.paginator import Paginator
from django.http import QueryDict
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from orders import channels, selectors
from orders.admin.base import CsvExportAdmin, plate_link
from orders.admin.filters import (
    EntryDateRangeFilter,
    ExitDateRangeFilter,
    HasGapFilter,
    InParkFilter,
    NeedsReviewFilter,
    ParkFilter,
    PayDateRangeFilter,
    VipTypeFilter,
)
from orders.exports.stays import RENEWAL_COLUMNS, STAY_COLUMNS, renewal_rows, stay_rows
from orders.models import PayOrder, PushLog
from orders.stays import selectors as stay_selectors
from orders.stays.models import Renewal, Stay
from parkingops import tabular, xlsx
from parkingops.adminkit import pretty_json
from parkingops.formatting import hours_minutes, mask_mobiles, yuan

MAX_ON_PAGE = 50  # pay orders and push-log rows a stay's page lists


def stay_seconds(stay) -> int | None:
    """The stay's length: as the exit pushed it, else from its two times; None in the park."""
    if stay.parking_time is not None:
        return stay.parking_time
    if stay.leave_time is None:
        return None
    return int((stay.leave_time - stay.enter_time).total_seconds())


class StayTotalsPaginator(Paginator):
    """Take the page count from the totals shown above the list: from the stay rollup when
    the list is filtered by exit days, park and in the park or not only (``params``), else
    one aggregate pass over the filtered stays."""

    def __init__(self, *args, params: QueryDict | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.params = params

    @cached_property
    def totals(self) -> stay_selectors.StayTotals:
        if self.params is not None:
            rolled = selectors.rolled_stay_totals(params=self.params)
            if rolled is not None:
                return rolled
        return stay_selectors.stay_totals(stays=self.object_list)

    @cached_property
    def count(self) -> int:
        return self.totals.stays


class RenewalTotalsPaginator(Paginator):
    """The per-park-and-type totals above the list; the count is their sum."""

    @cached_property
    def totals(self) -> list[dict]:
        rows = stay_selectors.renewal_totals(renewals=self.object_list)
        for row in rows:
            row["vip_type_label"] = Renewal(vip_type=row["vip_type"]).vip_type_label
        return rows

    @cached_property
    def count(self) -> int:
        return sum(row["count"] for row in self.totals)


class _StayFileAdmin(CsvExportAdmin):
    """What the stay and renewal lists share: their exports, written from one column list and
    its rows (``orders.exports.stays``, as the API writes the same files), and the park and
    plate columns."""

    export_columns: tuple = ()

    @staticmethod
    def export_rows(queryset):
        raise NotImplementedError

    def export_csv(self, request, queryset, *, progress):
        return tabular.csv_text(self.export_columns, self.export_rows(queryset), progress=progress)

    def export_xlsx(self, request, queryset, about, *, progress):
        table = xlsx.queryset_table(queryset, self.export_columns, self.export_rows(queryset))
        return xlsx.workbook([table], about, progress=progress)

    @admin.display(description=_("park"))
    def park_name(self, obj):
        return str(obj.park)

    @admin.display(description=_("plate"))
    def plate_display(self, obj):
        return plate_link(obj.plate)


@admin.register(Stay)
class StayAdmin(_StayFileAdmin):
    export_kind = "stays"
    export_columns = STAY_COLUMNS
    export_rows = staticmethod(stay_rows)
    list_display = [
        "park_name",
        "plate_display",
        "enter_time",
        "leave_time",
        "length",
        "fee",
        "discounts",
        "autopay",
        "paid",
        "gap_display",
        "state",
    ]
    list_display_links = ["enter_time"]
    sortable_by = ["enter_time"]
    list_select_related = ["park"]
    list_filter = [
        ParkFilter,
        EntryDateRangeFilter,
        ExitDateRangeFilter,
        InParkFilter,
        HasGapFilter,
        NeedsReviewFilter,
    ]
    search_fields = ["plate", "parking_serial"]  # see get_search_results
    search_help_text = _(
        "A plate (whole, its beginning or its ending, in any spelling) or a parking serial."
    )
    paginator = StayTotalsPaginator
    list_per_page = 50
    actions = None
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "parking_serial",
                    "park_display",
                    "plate",
                    "plate_raw",
                    "enter_time",
                    "leave_time",
                    "length",
                    "money_detail",
                    "needs_review",
                    "exit_enter_time",
                    "enter_gate",
                    "leave_gate",
                ]
            },
        ),
        (_("Timeline"), {"fields": ["timeline_display"]}),
        (_("Pushes as received"), {"fields": ["entry_raw_display", "exit_raw_display"]}),
    ]
    readonly_fields = [
        "park_display",
        "length",
        "money_detail",
        "timeline_display",
        "entry_raw_display",
        "exit_raw_display",
    ]

    def get_paginator(self, request, queryset, per_page, orphans=0, allow_empty_first_page=True):
        # The list's own parameters decide whether the stay rollup can total it.
        return self.paginator(
            queryset, per_page, orphans, allow_empty_first_page, params=request.GET
        )

    def get_queryset(self, request):
        return stay_selectors.with_gap(super().get_queryset(request).select_related("park"))

    def get_search_results(self, request, queryset, search_term):
        found = stay_selectors.search_by_plate_or_serial(
            queryset, term=search_term, serial="parking_serial"
        )
        return found, False

    @admin.display(description=_("park"))
    def park_display(self, obj):
        return format_html("{} ({})", obj.park.name, obj.park.park_uuid)

    @admin.display(description=_("length"))
    def length(self, obj):
        return hours_minutes(stay_seconds(obj)) or "—"

    @admin.display(description=_("fee"))
    def fee(self, obj):
        return "—" if obj.total_value is None else yuan(obj.total_value)

    @admin.display(description=_("discounts"))
    def discounts(self, obj):
        return "—" if obj.free_value is None else yuan(obj.free_value)

    @admin.display(description=_("autopay"))
    def autopay(self, obj):
        return "—" if obj.autopay_value is None else yuan(obj.autopay_value)

    @admin.display(description=_("paid by pushed orders"))
    def paid(self, obj):
        return yuan(obj.paid_by_pushes)

    @admin.display(description=_("gap"))
    def gap_display(self, obj):
        if obj.gap is None:
            return "—"
        if obj.gap == 0:
            return yuan(0)
        return format_html(
            '<strong class="orders-gap" title="{}">{}</strong>',
            gettext("The pay orders do not add up to what the stay says was due."),
            yuan(obj.gap),
        )

    @admin.display(description=_("state"))
    def state(self, obj):
        return gettext("Left") if obj.has_left else gettext("In park")

    @admin.display(description=_("money"))
    def money_detail(self, obj):
        return format_html(
            "{}: {} · {}: {} · {}: {} · {}: {} · {}: {}",
            gettext("fee"),
            self.fee(obj),
            gettext("discounts"),
            self.discounts(obj),
            gettext("autopay"),
            self.autopay(obj),
            gettext("paid by pushed orders"),
            self.paid(obj),
            gettext("gap"),
            self.gap_display(obj),
        )

    @admin.display(description=_("timeline"))
    def timeline_display(self, obj):
        return render_to_string("admin/orders/stay/timeline.html", {"events": _timeline(obj)})

    @admin.display(description=_("entry as pushed"))
    def entry_raw_display(self, obj):
        return pretty_json(mask_mobiles(obj.entry_raw))

    @admin.display(description=_("exit as pushed"))
    def exit_raw_display(self, obj):
        return pretty_json(mask_mobiles(obj.exit_raw))


def _timeline(stay: Stay) -> list[dict]:
    """The stay's entry, exit, pay orders and push-log rows, ordered by time."""
    events = [
        {"at": stay.enter_time, "label": gettext("Entry"), "detail": stay.enter_gate, "url": ""}
    ]
    if stay.leave_time is not None:
        events.append(
            {"at": stay.leave_time, "label": gettext("Exit"), "detail": stay.leave_gate, "url": ""}
        )
    orders = PayOrder.objects.filter(parking_serial=stay.parking_serial).order_by("pay_time")
    for order in orders[:MAX_ON_PAGE]:
        events.append(
            {
                "at": order.pay_time,
                "label": gettext("Pay order"),
                "detail": f"{order.pay_serial} {yuan(order.pay_value)}",
                "url": reverse("admin:orders_payorder_change", args=[order.pk]),
            }
        )
    logs = PushLog.objects.filter(stay=stay).order_by("received_at", "pk")
    for log in logs[:MAX_ON_PAGE]:
        events.append(
            {
                "at": log.received_at,
                "label": gettext("Push received: %(kind)s") % {"kind": log.get_kind_display()},
                "detail": log.get_reason_display(),
                "url": reverse("admin:orders_pushlog_change", args=[log.pk]),
            }
        )
    return sorted(events, key=lambda event: event["at"])


@admin.register(Renewal)
class RenewalAdmin(_StayFileAdmin):
    export_kind = "renewals"
    export_columns = RENEWAL_COLUMNS
    export_rows = staticmethod(renewal_rows)
    list_display = [
        "pay_time",
        "plate_display",
        "park_name",
        "vip_type_label",
        "quantity",
        "period",
        "amount",
        "channel_display",
        "pay_serial",
    ]
    list_display_links = ["pay_time"]
    sortable_by = ["pay_time"]
    list_select_related = ["park"]
    list_filter = [PayDateRangeFilter, ParkFilter, VipTypeFilter]
    search_fields = ["plate", "pay_serial"]  # see get_search_results
    search_help_text = _(
        "A plate (whole, its beginning or its ending, in any spelling) or a pay serial."
    )
    paginator = RenewalTotalsPaginator
    list_per_page = 50
    actions = None
    exclude = ["raw", "extra", "identity"]
    readonly_fields = ["raw_display"]

    def get_queryset(self, request):
        renewals = super().get_queryset(request).select_related("park")
        return channels.with_channel_name(renewals)

    def get_search_results(self, request, queryset, search_term):
        found = stay_selectors.search_by_plate_or_serial(
            queryset, term=search_term, serial="pay_serial"
        )
        return found, False

    @admin.display(description=_("fixed-car type"))
    def vip_type_label(self, obj):
        return obj.vip_type_label

    @admin.display(description=_("period"))
    def period(self, obj):
        first = obj.start_time.date().isoformat() if obj.start_time else "…"
        last = obj.end_time.date().isoformat() if obj.end_time else "…"
        return f"{first} – {last}"

    @admin.display(description=_("amount paid"))
    def amount(self, obj):
        return yuan(obj.pay_value)

    @admin.display(description=_("channel"))
    def channel_display(self, obj):
        return channels.channel_label(obj.channel, {obj.channel: obj.channel_name})

    @admin.display(description=_("as pushed"))
    def raw_display(self, obj):
        return pretty_json(mask_mobiles(obj.raw))


def stay_link(stay_pk: int | None, text: str) -> str:
    """``text`` as a link to the stay ``stay_pk`` of an order (``selectors.with_stay``), or
    ``—`` when the order has no stay."""
    if stay_pk is None:
        return "—"
    return format_html(
        '<a href="{}">{}</a>', reverse("admin:orders_stay_change", args=[stay_pk]), text
    )


__all__ = ["RenewalAdmin", "StayAdmin", "stay_link"]
