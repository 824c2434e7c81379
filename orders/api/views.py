"""The integration API's reads: one thin view per endpoint, the work is in selectors.

Orders, merchant coupons, their totals per store, the daily summary, stays and renewals,
each also as the admin's CSV (``?format=csv``) and Excel file (``?format=xlsx``).
"""

from django.http import Http404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from orders import channels, selectors
from orders.api import filters, serializers
from orders.exports.coupons import coupon_totals_csv, coupon_totals_xlsx, coupons_csv, coupons_xlsx
from orders.exports.orders import orders_csv, orders_xlsx
from orders.exports.stays import renewals_csv, renewals_xlsx, stays_csv, stays_xlsx
from orders.exports.summary import summary_file, summary_xlsx
from orders.models import MerchantCoupon, PayOrder
from orders.permissions import EXPORT_ORDERS, VIEW_PERSONAL_DATA
from orders.stays.models import Renewal, Stay
from orders.stays.selectors import with_gap
from parkingops import tabular, xlsx
from parkingops.api import CsvFormatMixin, CsvListMixin, KeysetPagination
from parkingops.api_params import refuse_empty


def _unmask(request) -> bool:
    user = getattr(request, "user", None)
    return bool(user is not None and user.has_perm(VIEW_PERSONAL_DATA))


CSV_RESPONSE = OpenApiResponse(
    OpenApiTypes.BINARY,
    description=_(
        "With ?format=csv: the admin's CSV export of the whole filtered list (UTF-8 with BOM), "
        "streamed; needs orders.export_orders."
    ),
)
XLSX_RESPONSE = OpenApiResponse(
    OpenApiTypes.BINARY,
    description=_(
        "With ?format=xlsx: the admin's Excel export of the whole filtered list (typed cells, "
        "a sheet of the filters); needs orders.export_orders. Above 1,048,575 rows: 400."
    ),
)


class UnmaskContextMixin:
    def get_serializer_context(self):
        return {**super().get_serializer_context(), "unmask": _unmask(self.request)}


class ListFilesMixin(CsvListMixin):
    """A list's CSV and XLSX files, as its export module writes them: ``write_csv(queryset)``
    and ``write_xlsx(queryset, about)`` call the writers, the file is named ``export_name``
    and the China-time days of the filtered ``export_time`` range."""

    export_name: str
    export_time = "pay_time"

    def write_csv(self, queryset):
        raise NotImplementedError

    def write_xlsx(self, queryset, about):
        raise NotImplementedError

    def csv_response(self, queryset):
        return tabular.csv_response(self.write_csv(queryset), self.export_filename(queryset))

    def xlsx_response(self, queryset):
        file = self.xlsx_file(lambda about: self.write_xlsx(queryset, about))
        return xlsx.xlsx_response(file, xlsx.xlsx_filename(self.export_filename(queryset)))

    def export_filename(self, queryset) -> str:
        filterset = self.filterset_class(self.request.query_params, queryset=queryset.none())
        first, last = filters.export_days(filterset, time=self.export_time)
        return tabular.export_filename(self.export_name, first, last)


@extend_schema(
    summary=_("List pay orders"),
    description=_(
        "Newest first by default, with their discounts and merchant coupons. Paged by cursor: "
        "follow “next”. Amounts in fen, times ISO-8601 with offset."
    ),
    responses={
        (200, "application/json"): serializers.OrderSerializer(many=True),
        (200, "text/csv"): CSV_RESPONSE,
        (200, xlsx.MEDIA_TYPE): XLSX_RESPONSE,
    },
)
class OrderListView(UnmaskContextMixin, ListFilesMixin, generics.ListAPIView):
    queryset = PayOrder.objects.all()
    serializer_class = serializers.OrderSerializer
    filterset_class = filters.OrderFilter
    pagination_class = KeysetPagination
    csv_permission = EXPORT_ORDERS
    export_name = "orders"
    orderings = {
        "-pay_time": ("-pay_time", "-pk"),
        "pay_time": ("pay_time", "pk"),
        "-pay_value": ("-pay_value", "-pk"),
        "pay_value": ("pay_value", "pk"),
    }
    default_ordering = "-pay_time"

    def paginate_queryset(self, queryset):
        # Three queries a page, whatever its size: the orders (with their park), then all
        # their discounts and all their coupons.
        queryset = queryset.select_related("park").prefetch_related("discounts", "mcoupons")
        return super().paginate_queryset(channels.with_channel_name(queryset))

    def write_csv(self, queryset):
        return orders_csv(queryset, unmask=_unmask(self.request))

    def write_xlsx(self, queryset, about):
        return orders_xlsx(queryset, about=about, unmask=_unmask(self.request))


@extend_schema(
    summary=_("List stays"),
    description=_(
        "A car's visits to a park (its entry and exit pushes), newest entry first, with what "
        "their pay orders paid and the payment gap. Paged by cursor: follow “next”. Amounts "
        "in fen, lengths in seconds, times ISO-8601 with offset."
    ),
    responses={
        (200, "application/json"): serializers.StaySerializer(many=True),
        (200, "text/csv"): CSV_RESPONSE,
        (200, xlsx.MEDIA_TYPE): XLSX_RESPONSE,
    },
)
class StayListView(ListFilesMixin, generics.ListAPIView):
    queryset = Stay.objects.all()
    serializer_class = serializers.StaySerializer
    filterset_class = filters.StayFilter
    pagination_class = KeysetPagination
    csv_permission = EXPORT_ORDERS
    export_name = "stays"
    export_time = "enter_time"
    orderings = {
        "-enter_time": ("-enter_time", "-pk"),
        "enter_time": ("enter_time", "pk"),
    }
    default_ordering = "-enter_time"

    def paginate_queryset(self, queryset):
        # The gap is the selectors' (written once), annotated on the page's rows only.
        return super().paginate_queryset(with_gap(queryset.select_related("park")))

    def write_csv(self, queryset):
        return stays_csv(queryset)

    def write_xlsx(self, queryset, about):
        return stays_xlsx(queryset, about=about)


@extend_schema(
    summary=_("List fixed-car renewals"),
    description=_(
        "Monthly cards and the like paid at the platform, newest payment first. Paged by "
        "cursor: follow “next”. Amounts in fen, times ISO-8601 with offset."
    ),
    responses={
        (200, "application/json"): serializers.RenewalSerializer(many=True),
        (200, "text/csv"): CSV_RESPONSE,
        (200, xlsx.MEDIA_TYPE): XLSX_RESPONSE,
    },
)
class RenewalListView(UnmaskContextMixin, ListFilesMixin, generics.ListAPIView):
    queryset = Renewal.objects.all()
    serializer_class = serializers.RenewalSerializer
    filterset_class = filters.RenewalFilter
    pagination_class = KeysetPagination
    csv_permission = EXPORT_ORDERS
    export_name = "renewals"
    orderings = {
        "-pay_time": ("-pay_time", "-pk"),
        "pay_time": ("pay_time", "pk"),
        "-pay_value": ("-pay_value", "-pk"),
        "pay_value": ("pay_value", "pk"),
    }
    default_ordering = "-pay_time"

    def paginate_queryset(self, queryset):
        return super().paginate_queryset(queryset.select_related("park"))

    def write_csv(self, queryset):
        return renewals_csv(queryset)

    def write_xlsx(self, queryset, about):
        return renewals_xlsx(queryset, about=about)


@extend_schema(
    summary=_("One pay order, by its pay serial"),
    description=_(
        "The order as listed: its park, discounts and merchant coupons nested; mobile numbers "
        "masked unless the key's user may see personal data."
    ),
)
class OrderDetailView(UnmaskContextMixin, generics.RetrieveAPIView):
    queryset = PayOrder.objects.select_related("park").prefetch_related("discounts", "mcoupons")
    serializer_class = serializers.OrderSerializer
    lookup_field = "pay_serial"

    def get_queryset(self):
        return channels.with_channel_name(super().get_queryset())

    def get_object(self):
        value = self.kwargs[self.lookup_field]
        if len(value) > 64 or "\x00" in value:  # no such serial; PostgreSQL refuses NUL
            raise Http404
        return super().get_object()


@extend_schema(
    summary=_("List merchant coupons"),
    description=_(
        "Newest payment first (ordering=-pay_time, pay_time or -pk), with their order's pay "
        "serial, time, park and plate."
    ),
    responses={
        (200, "application/json"): serializers.CouponListSerializer(many=True),
        (200, "text/csv"): CSV_RESPONSE,
        (200, xlsx.MEDIA_TYPE): XLSX_RESPONSE,
    },
)
class CouponListView(UnmaskContextMixin, ListFilesMixin, generics.ListAPIView):
    queryset = MerchantCoupon.objects.all()
    serializer_class = serializers.CouponListSerializer
    filterset_class = filters.CouponFilter
    pagination_class = KeysetPagination
    csv_permission = EXPORT_ORDERS
    export_name = "coupons"
    # As the admin's coupon list: newest payment first. ``-pk`` (insertion order) stays offered.
    orderings = {
        "-pay_time": ("-order__pay_time", "-pk"),
        "pay_time": ("order__pay_time", "pk"),
        "-pk": ("-pk",),
    }
    default_ordering = "-pay_time"

    def paginate_queryset(self, queryset):
        return super().paginate_queryset(queryset.select_related("order__park"))

    def write_csv(self, queryset):
        return coupons_csv(queryset)

    def write_xlsx(self, queryset, about):
        return coupons_xlsx(queryset, about=about)


@extend_schema(
    summary=_("Merchant coupon totals per store"),
    description=_(
        "The count and value of the filtered coupons per store and coupon type, then per type "
        "over every store: what the car park bills each merchant for the period. Values are in "
        "the type's unit (fen for amount coupons, minutes for time coupons) and null for types "
        "that are only counted (percentages, undefined units). One query, not paged."
    ),
    filters=True,
    responses={
        (200, "application/json"): serializers.StoreTotalsSerializer,
        (200, "text/csv"): OpenApiResponse(
            OpenApiTypes.BINARY,
            description=_(
                "With ?format=csv: the admin's coupon totals CSV; needs orders.export_orders."
            ),
        ),
        (200, xlsx.MEDIA_TYPE): OpenApiResponse(
            OpenApiTypes.BINARY,
            description=_(
                "With ?format=xlsx: the coupon totals as an Excel file; needs orders.export_orders."
            ),
        ),
    },
)
class CouponTotalsView(CsvFormatMixin, generics.GenericAPIView):
    queryset = MerchantCoupon.objects.all()
    filterset_class = filters.CouponFilter
    serializer_class = serializers.StoreTotalsSerializer
    pagination_class = None
    csv_permission = EXPORT_ORDERS

    def get(self, request: Request):
        if self.wants_file():
            self.check_csv_permission(request)
        coupons = self.filter_queryset(self.get_queryset())
        totals = selectors.coupon_totals(coupons=coupons)
        if not self.wants_file():
            return Response(self.get_serializer(totals).data)
        first, last = filters.export_days(
            self.filterset_class(request.query_params, queryset=coupons.none())
        )
        filename = tabular.export_filename("coupon_totals", first, last)
        if self.wants_xlsx():
            file = self.xlsx_file(lambda about: coupon_totals_xlsx(totals, about=about))
            return xlsx.xlsx_response(file, xlsx.xlsx_filename(filename))
        return tabular.csv_response(coupon_totals_csv(totals), filename)


@extend_schema(
    summary=_("Daily summary per day, park and channel"),
    description=_(
        "The admin's daily summary: per China-time day × park × channel the orders, amount "
        "paid, discount relief and merchant coupons, with subtotals per day and per park, a "
        "total row and the pivot (days × parks, amount paid). The same parameters, defaults "
        "(the last 7 days) and limits (366 days) as the admin page."
    ),
    parameters=[serializers.SummaryQuerySerializer],
    responses={
        (200, "application/json"): serializers.DailySummarySerializer,
        (200, "text/csv"): OpenApiResponse(
            OpenApiTypes.BINARY,
            description=_(
                "With ?format=csv: the admin's summary CSV (the view's table, a row_kind "
                "column marking subtotals); needs orders.export_orders."
            ),
        ),
        (200, xlsx.MEDIA_TYPE): OpenApiResponse(
            OpenApiTypes.BINARY,
            description=_(
                "With ?format=xlsx: the admin's summary as an Excel file; needs "
                "orders.export_orders."
            ),
        ),
    },
)
class DailySummaryView(CsvFormatMixin, APIView):
    queryset = PayOrder.objects.none()  # the permissions: view pay orders, as the admin page
    csv_permission = EXPORT_ORDERS

    def get(self, request: Request):
        if self.wants_file():
            self.check_csv_permission(request)
        refuse_empty(request.query_params, ["from", "to", "park", "view"])
        query = serializers.SummaryQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        view = query.validated_data.pop("view")
        summary = selectors.daily_summary(**query.validated_data)
        if self.wants_xlsx():
            file, name = self.xlsx_file(lambda about: summary_xlsx(summary, view, about=about))
            filename = tabular.export_filename(name, summary.date_from, summary.date_to)
            return xlsx.xlsx_response(file, xlsx.xlsx_filename(filename))
        if self.wants_csv():
            pieces, name = summary_file(summary, view)
            filename = tabular.export_filename(name, summary.date_from, summary.date_to)
            return tabular.csv_response(pieces, filename)
        return Response(serializers.DailySummarySerializer(summary).data)
