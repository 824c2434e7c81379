"""The integration API's reads: one thin view per endpoint, the work is in selectors.

Orders, merchant coupons, their totals per store, the daily summary, stays and renewals as
JSON, and each as a file of its own operation (``…/export/?format=csv|xlsx``, with the same
filters): a CSV for machines, or the admin's CSV and Excel files for people.
"""

from django.http import Http404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from orders import channels, selectors
from orders.api import filters, serializers
from orders.exports.coupons import (
    coupon_totals_csv,
    coupon_totals_machine_csv,
    coupon_totals_xlsx,
    coupons_csv,
    coupons_machine_csv,
    coupons_xlsx,
)
from orders.exports.orders import orders_csv, orders_machine_csv, orders_xlsx
from orders.exports.stays import (
    renewals_csv,
    renewals_machine_csv,
    renewals_xlsx,
    stays_csv,
    stays_machine_csv,
    stays_xlsx,
)
from orders.exports.summary import summary_file, summary_machine_csv, summary_name, summary_xlsx
from orders.models import MerchantCoupon, PayOrder
from orders.permissions import EXPORT_ORDERS, VIEW_PERSONAL_DATA
from orders.stays.models import Renewal, Stay
from orders.stays.selectors import with_gap
from parkingops import conditional, tabular
from parkingops.api_exports import FileExportView, ListExportView, export_schema
from parkingops.api_params import StrictParamsMixin, refuse_empty
from parkingops.api_views import ListView


def _unmask(request) -> bool:
    user = getattr(request, "user", None)
    return bool(user is not None and user.has_perm(VIEW_PERSONAL_DATA))


def ordering_parameter(query) -> OpenApiParameter:
    """The ``ordering`` of an export, documented as its list's (the list's paginator does)."""
    return OpenApiParameter(
        "ordering",
        str,
        enum=list(query.orderings),
        description=_("The order of the rows (default %(default)s).")
        % {"default": query.default_ordering},
    )


class UnmaskContextMixin:
    def get_serializer_context(self):
        return {**super().get_serializer_context(), "unmask": _unmask(self.request)}


class OrderExportMixin:
    """An export of an orders-app list: needs ``orders.export_orders``; its file is named
    ``export_name`` and the China-time days of the filtered ``export_time`` range."""

    export_permission = EXPORT_ORDERS
    export_name: str
    export_time = "pay_time"

    def export_filename(self, queryset) -> str:
        filterset = self.filterset_class(self.request.query_params, queryset=queryset.none())
        first, last = filters.export_days(filterset, time=self.export_time)
        return tabular.export_filename(self.export_name, first, last)


# --- Orders ----------------------------------------------------------------------------------


class OrderQuery:
    """What the order list and its export read: the rows, the filters, the orders."""

    queryset = PayOrder.objects.all()
    filterset_class = filters.OrderFilter
    orderings = {
        "-pay_time": ("-pay_time", "-pk"),
        "pay_time": ("pay_time", "pk"),
        "-pay_value": ("-pay_value", "-pk"),
        "pay_value": ("pay_value", "pk"),
        "received_at": ("received_at", "pk"),
    }
    default_ordering = "-pay_time"
    sync_orderings = ("received_at",)  # parkingops.sync: served once settled, with "resume"
    file_export = "orders:api-orders-export"


@extend_schema(
    summary=_("List pay orders"),
    description=_(
        "Newest first by default, with their discounts and merchant coupons. Paged by cursor: "
        "follow “next”. Amounts in fen, times ISO-8601 with offset. The whole list as a file: "
        "/api/v1/orders/export/."
    ),
)
class OrderListView(UnmaskContextMixin, OrderQuery, ListView):
    serializer_class = serializers.OrderSerializer

    def paginate_queryset(self, queryset):
        # Three queries a page, whatever its size: the orders (with their park), then all
        # their discounts and all their coupons.
        queryset = queryset.select_related("park").prefetch_related("discounts", "mcoupons")
        return super().paginate_queryset(channels.with_channel_name(queryset))


@export_schema(
    summary=_("Export pay orders (CSV or Excel)"),
    description=_(
        "The orders of GET /api/v1/orders/ with the same filters, in the same order, not paged: "
        "one row per order with its discount and coupon totals. Needs orders.export_orders."
    ),
    parameters=[ordering_parameter(OrderQuery)],
    filters=True,
)
class OrderExportView(OrderExportMixin, OrderQuery, ListExportView):
    export_name = "orders"

    def machine_csv(self, queryset):
        return orders_machine_csv(queryset, unmask=_unmask(self.request))

    def people_csv(self, queryset):
        return orders_csv(queryset, unmask=_unmask(self.request))

    def people_xlsx(self, queryset, about):
        return orders_xlsx(queryset, about=about, unmask=_unmask(self.request))


# --- Stays and renewals ----------------------------------------------------------------------


class StayQuery:
    queryset = Stay.objects.all()
    filterset_class = filters.StayFilter
    orderings = {
        "-enter_time": ("-enter_time", "-pk"),
        "enter_time": ("enter_time", "pk"),
        "updated_at": ("updated_at", "pk"),
    }
    default_ordering = "-enter_time"
    # By last change, not first arrival: a stay comes again when its exit arrives.
    sync_orderings = ("updated_at",)
    file_export = "orders:api-stays-export"


@extend_schema(
    summary=_("List stays"),
    description=_(
        "A car's visits to a park (its entry and exit pushes), newest entry first, with what "
        "their pay orders paid and the payment gap. Paged by cursor: follow “next”. Amounts "
        "in fen, lengths in seconds, times ISO-8601 with offset. The whole list as a file: "
        "/api/v1/stays/export/."
    ),
)
class StayListView(StayQuery, ListView):
    serializer_class = serializers.StaySerializer

    def paginate_queryset(self, queryset):
        # The gap is the selectors' (written once), annotated on the page's rows only.
        return super().paginate_queryset(with_gap(queryset.select_related("park")))


@export_schema(
    summary=_("Export stays (CSV or Excel)"),
    description=_(
        "The stays of GET /api/v1/stays/ with the same filters, in the same order, not paged. "
        "Needs orders.export_orders."
    ),
    parameters=[ordering_parameter(StayQuery)],
    filters=True,
)
class StayExportView(OrderExportMixin, StayQuery, ListExportView):
    export_name = "stays"
    export_time = "enter_time"

    writers = (stays_machine_csv, stays_csv, stays_xlsx)


class RenewalQuery:
    queryset = Renewal.objects.all()
    filterset_class = filters.RenewalFilter
    orderings = {
        "-pay_time": ("-pay_time", "-pk"),
        "pay_time": ("pay_time", "pk"),
        "-pay_value": ("-pay_value", "-pk"),
        "pay_value": ("pay_value", "pk"),
        "received_at": ("received_at", "pk"),
    }
    default_ordering = "-pay_time"
    sync_orderings = ("received_at",)
    file_export = "orders:api-renewals-export"


@extend_schema(
    summary=_("List fixed-car renewals"),
    description=_(
        "Monthly cards and the like paid at the platform, newest payment first. Paged by "
        "cursor: follow “next”. Amounts in fen, times ISO-8601 with offset. The whole list as "
        "a file: /api/v1/renewals/export/."
    ),
)
class RenewalListView(UnmaskContextMixin, RenewalQuery, ListView):
    serializer_class = serializers.RenewalSerializer

    def paginate_queryset(self, queryset):
        return super().paginate_queryset(queryset.select_related("park"))


@export_schema(
    summary=_("Export fixed-car renewals (CSV or Excel)"),
    description=_(
        "The renewals of GET /api/v1/renewals/ with the same filters, in the same order, not "
        "paged. Needs orders.export_orders."
    ),
    parameters=[ordering_parameter(RenewalQuery)],
    filters=True,
)
class RenewalExportView(OrderExportMixin, RenewalQuery, ListExportView):
    export_name = "renewals"

    writers = (renewals_machine_csv, renewals_csv, renewals_xlsx)


@extend_schema(
    summary=_("One pay order, by its pay serial"),
    description=_(
        "The order as listed: its park, discounts and merchant coupons nested; mobile numbers "
        "masked unless the key's user may see personal data."
    ),
    parameters=conditional.READ_PARAMETERS,
)
class OrderDetailView(StrictParamsMixin, UnmaskContextMixin, generics.RetrieveAPIView):
    queryset = PayOrder.objects.select_related("park").prefetch_related("discounts", "mcoupons")
    serializer_class = serializers.OrderSerializer
    lookup_field = "pay_serial"
    not_found_message = _("No such order.")

    def get_queryset(self):
        return channels.with_channel_name(super().get_queryset())

    def get_object(self):
        value = self.kwargs[self.lookup_field]
        if len(value) > 64 or "\x00" in value:  # no such serial; PostgreSQL refuses NUL
            raise Http404
        return super().get_object()

    def retrieve(self, request: Request, *args, **kwargs):
        order = self.get_object()
        # An order never changes once stored; what its page shows besides (the names finance
        # gives its channel, the park's name, masked or whole mobiles) is in the tag too.
        etag = conditional.strong_etag(
            "order",
            order.pk,
            order.pay_serial,
            order.received_at,
            order.channel_name,
            order.park.park_uuid,
            order.park.name,
            _unmask(request),
        )
        return conditional.conditional_get(
            request,
            etag=etag,
            last_modified=order.received_at,
            answer=lambda: Response(self.get_serializer(order).data),
        )


# --- Merchant coupons ------------------------------------------------------------------------


class CouponQuery:
    queryset = MerchantCoupon.objects.all()
    filterset_class = filters.CouponFilter
    # As the admin's coupon list: newest payment first. ``-pk`` (insertion order) stays offered.
    orderings = {
        "-pay_time": ("-order__pay_time", "-pk"),
        "pay_time": ("order__pay_time", "pk"),
        "-pk": ("-pk",),
        # A coupon arrives with its order, in one write: the order's received_at is its own.
        "received_at": ("order__received_at", "pk"),
    }
    default_ordering = "-pay_time"
    sync_orderings = ("received_at",)
    file_export = "orders:api-coupons-export"


@extend_schema(
    summary=_("List merchant coupons"),
    description=_(
        "Newest payment first (ordering=-pay_time, pay_time or -pk), with their order's pay "
        "serial, time, park and plate. The whole list as a file: /api/v1/coupons/export/."
    ),
)
class CouponListView(UnmaskContextMixin, CouponQuery, ListView):
    serializer_class = serializers.CouponListSerializer

    def paginate_queryset(self, queryset):
        return super().paginate_queryset(queryset.select_related("order__park"))


@export_schema(
    summary=_("Export merchant coupons (CSV or Excel)"),
    description=_(
        "The coupons of GET /api/v1/coupons/ with the same filters, in the same order, not "
        "paged. Needs orders.export_orders."
    ),
    parameters=[ordering_parameter(CouponQuery)],
    filters=True,
)
class CouponExportView(OrderExportMixin, CouponQuery, ListExportView):
    export_name = "coupons"

    writers = (coupons_machine_csv, coupons_csv, coupons_xlsx)


@extend_schema(
    summary=_("Merchant coupon totals per store"),
    description=_(
        "The count and value of the filtered coupons per store and coupon type, then per type "
        "over every store: what the car park bills each merchant for the period. Values are in "
        "the type's unit (fen for amount coupons, minutes for time coupons) and null for types "
        "that are only counted (percentages, undefined units). One query, not paged. As a "
        "file: /api/v1/coupons/totals/export/."
    ),
    filters=True,
    responses=serializers.StoreTotalsSerializer,
)
class CouponTotalsView(StrictParamsMixin, conditional.ConditionalGetMixin, generics.GenericAPIView):
    queryset = MerchantCoupon.objects.all()
    filterset_class = filters.CouponFilter
    serializer_class = serializers.StoreTotalsSerializer
    pagination_class = None
    file_export = "orders:api-coupon-totals-export"

    def get(self, request: Request):
        coupons = self.filter_queryset(self.get_queryset())
        return Response(self.get_serializer(selectors.coupon_totals(coupons=coupons)).data)


@export_schema(
    summary=_("Export merchant coupon totals (CSV or Excel)"),
    description=_(
        "The totals of GET /api/v1/coupons/totals/ with the same filters: a row per store and "
        "type (row_kind store), the grand total of each type (type_total), all coupons "
        "(total). Needs orders.export_orders."
    ),
    filters=True,
)
class CouponTotalsExportView(OrderExportMixin, FileExportView):
    queryset = MerchantCoupon.objects.all()
    filterset_class = filters.CouponFilter
    export_name = "coupon_totals"

    def export_data(self):
        self.coupons = self.filter_queryset(self.get_queryset())
        return selectors.coupon_totals(coupons=self.coupons)

    def export_filename(self, totals) -> str:
        return super().export_filename(self.coupons)

    writers = (coupon_totals_machine_csv, coupon_totals_csv, coupon_totals_xlsx)


# --- Daily summary ---------------------------------------------------------------------------


def _summary(request: Request, query_class) -> tuple[selectors.DailySummary, dict]:
    """Return the daily summary the query asks for, and the query's other values (``view``)."""
    refuse_empty(request.query_params, list(query_class().get_fields()))
    query = query_class(data=request.query_params)
    query.is_valid(raise_exception=True)
    values = dict(query.validated_data)
    others = {name: values.pop(name) for name in list(values) if name not in _SUMMARY_ARGS}
    return selectors.daily_summary(**values), others


_SUMMARY_ARGS = ("date_from", "date_to", "park_uuid")


@extend_schema(
    summary=_("Daily summary per day, park and channel"),
    description=_(
        "The admin's daily summary: per China-time day × park × channel the orders, amount "
        "paid, discount relief and merchant coupons, with subtotals per day and per park, a "
        "total row and the pivot (days × parks, amount paid). The same parameters, defaults "
        "(the last 7 days) and limits (366 days) as the admin page. As a file: "
        "/api/v1/summary/daily/export/."
    ),
    parameters=[serializers.SummaryQuerySerializer],
    responses=serializers.DailySummarySerializer,
)
class DailySummaryView(StrictParamsMixin, conditional.ConditionalGetMixin, APIView):
    queryset = PayOrder.objects.none()  # the permissions: view pay orders, as the admin page
    file_export = "orders:api-daily-summary-export"
    query_parameters = {"GET": tuple(serializers.SummaryQuerySerializer().fields)}

    def get(self, request: Request):
        summary, _others = _summary(request, serializers.SummaryQuerySerializer)
        return Response(serializers.DailySummarySerializer(summary).data)


@export_schema(
    summary=_("Export the daily summary (CSV or Excel)"),
    description=_(
        "The summary of GET /api/v1/summary/daily/ with the same parameters, as a file: "
        "view=rows (the default) the table with a row_kind column marking the subtotals, "
        "view=pivot days × parks. Needs orders.export_orders."
    ),
    parameters=[serializers.SummaryExportQuerySerializer],
)
class DailySummaryExportView(FileExportView):
    queryset = PayOrder.objects.none()  # the permissions: view pay orders, as the admin page
    export_permission = EXPORT_ORDERS
    query_parameters = {"GET": tuple(serializers.SummaryExportQuerySerializer().fields)}

    def export_data(self):
        summary, others = _summary(self.request, serializers.SummaryExportQuerySerializer)
        self.table = others["view"]
        return summary

    def export_filename(self, summary) -> str:
        name = summary_name(self.table)
        return tabular.export_filename(name, summary.date_from, summary.date_to)

    def machine_csv(self, summary):
        return summary_machine_csv(summary, self.table)

    def people_csv(self, summary):
        return summary_file(summary, self.table)[0]

    def people_xlsx(self, summary, about):
        return summary_xlsx(summary, self.table, about=about)[0]
