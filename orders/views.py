"""HTTP endpoints: one thin view per endpoint, the work is in services and selectors.

The platform's push, and the integration API's reads: orders, merchant coupons, their totals
per store and the daily summary, each also as the admin's CSV (``?format=csv``).
"""

import logging

from django.conf import settings
from django.http import Http404, JsonResponse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from orders import api_filters, api_serializers, selectors, serializers, services
from orders.exports.coupons import coupons_csv
from orders.exports.orders import orders_csv
from orders.exports.summary import summary_csv
from orders.models import MerchantCoupon, PayOrder
from parkingops import RAW_CONTENT_TYPE, tabular, throttling
from parkingops.api import CsvFormatMixin, CsvListMixin, KeysetPagination
from parkingops.netaddr import client_address

logger = logging.getLogger(__name__)

VIEW_PERSONAL_DATA = "orders.view_personal_data"
EXPORT_ORDERS = "orders.export_orders"

# The push's checks, in the order they run (PUSH_PROTOCOL.md): step, check, code, reason, HTTP.
PUSH_CHECKS = [
    ("0", "source address in PUSH_ALLOWED_IPS (when set)", "1403", "address_not_allowed", "403"),
    (
        "0",
        "fewer unauthenticated refusals from the address than PUSH_REFUSAL_RATE; not logged",
        "1429",
        "throttled",
        "429",
    ),
    (
        "1",
        "body readable (content type, UTF-8, JSON object, at most 1 MiB, no repeated key)",
        "1400",
        "bad_body",
        "400 (413 when too large)",
    ),
    ("2", "`app_id` present and ours", "1401", "unknown_app", "401"),
    (
        "3",
        "signature present and valid (`sign` field, or the `Authorization` header for a JSON "
        "body), `sign_type` MD5 or absent",
        "1401",
        "bad_signature",
        "401",
    ),
    (
        "4",
        "`timestamp` within PUSH_TIMESTAMP_TOLERANCE (when enabled)",
        "1401",
        "stale_timestamp",
        "401",
    ),
    ("5", "every field valid", "1400", "invalid_field", "400"),
    (
        "6",
        "plate on an active whitelist entry for the park (or all parks) at `pay_time`",
        "1403",
        "not_whitelisted",
        "403",
    ),
    ("7", "new `pay_serial`: stored with its discounts and coupons", "1001", "accepted", "200"),
    ("7'", "same `pay_serial`, same content (a retry)", "1001", "duplicate", "200"),
    ("7''", "same `pay_serial`, other content", "1409", "conflict", "409"),
    ("-", "database unreachable", "1503", "unavailable", "503"),
    ("-", "anything unexpected", "1500", "internal_error", "500"),
]
PUSH_DESCRIPTION = "\n".join(
    [
        "The platform pushes one signed pay order per payment of a whitelisted plate (see the "
        "push protocol). No API key: the signature authenticates the platform; never throttled. "
        'Every answer is `{"code", "reason", "message"}`; the checks run in this order and the '
        "first that fails answers:",
        "",
        "| step | check | code | reason | HTTP |",
        "|---|---|---|---|---|",
        *("| " + " | ".join(row) + " |" for row in PUSH_CHECKS),
        "",
        "The platform pushes again until it gets 1001; an order already held is always answered "
        "1001.",
    ]
)


def _answer(description: str) -> OpenApiResponse:
    return OpenApiResponse(api_serializers.PushAnswerSerializer, description=description)


class FirstRendererNegotiation(BaseContentNegotiation):
    """Always answer JSON: the platform's Accept header must never turn a push into a 406."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class PayOrderPushView(APIView):
    """Receive the platform's pay-order push (PUSH_PROTOCOL.md)."""

    authentication_classes = ()
    permission_classes = ()
    throttle_classes = ()  # the platform is never rate-limited: a refused push is retried
    parser_classes = ()  # the service reads the raw body itself: the header signature needs it
    content_negotiation_class = FirstRendererNegotiation

    @extend_schema(
        operation_id="push_pay_order",
        summary=_("Receive a pay order pushed by the platform"),
        description=PUSH_DESCRIPTION,
        tags=["push"],
        auth=[],
        request={
            "application/x-www-form-urlencoded": api_serializers.PushFormSerializer,
            "application/json": api_serializers.PushJsonSerializer,
        },
        responses={
            200: _answer("1001 accepted (stored) or duplicate (a retry of an order held)."),
            400: _answer("1400 bad_body (unreadable body) or invalid_field."),
            401: _answer("1401 unknown_app, bad_signature or stale_timestamp."),
            403: _answer("1403 not_whitelisted, or address_not_allowed (PUSH_ALLOWED_IPS)."),
            409: _answer("1409 conflict: the pay_serial is held with other content."),
            413: _answer("1400 bad_body: the body is larger than 1 MiB."),
            429: _answer(
                "1429 throttled: too many unauthenticated refusals from this address "
                "(PUSH_REFUSAL_RATE); not logged row by row."
            ),
            500: _answer("1500 internal_error."),
            503: _answer("1503 unavailable: the database cannot be reached; push again."),
        },
    )
    def post(self, request: Request) -> JsonResponse:
        address = client_address(request.META, trusted_proxies=settings.TRUSTED_PROXIES)
        if throttling.push_refusals_exceeded(address):
            # Not logged row by row: that is the point (a flood must not fill the push log).
            logger.warning("push: refusals from %s over PUSH_REFUSAL_RATE, answering 429", address)
            return JsonResponse(services.THROTTLED.as_json(), status=services.THROTTLED.status)
        stream = request.stream
        # One byte past the limit is enough to tell a too-large body; the rest is not read.
        body = stream.read(serializers.MAX_BODY_BYTES + 1) if stream is not None else b""
        result = services.receive_push(
            request=services.PushRequest(
                body=body,
                # parkingops.wsgi keeps a header Django could not parse here, for the log row.
                content_type=request.META.get(
                    RAW_CONTENT_TYPE, request.META.get("CONTENT_TYPE", "")
                ),
                authorization=request.META.get("HTTP_AUTHORIZATION", ""),
                remote_addr=address,
            )
        )
        throttling.count_push_refusal(address, result.reason)
        return JsonResponse(result.as_json(), status=result.status)


# --- The integration API: reads ---------------------------------------------------------------


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


class UnmaskContextMixin:
    def get_serializer_context(self):
        return {**super().get_serializer_context(), "unmask": _unmask(self.request)}


@extend_schema(
    summary=_("List pay orders"),
    description=_(
        "Newest first by default, with their discounts and merchant coupons. Paged by cursor: "
        "follow “next”. Amounts in fen, times ISO-8601 with offset."
    ),
    responses={
        (200, "application/json"): api_serializers.OrderSerializer(many=True),
        (200, "text/csv"): CSV_RESPONSE,
    },
)
class OrderListView(UnmaskContextMixin, CsvListMixin, generics.ListAPIView):
    queryset = PayOrder.objects.all()
    serializer_class = api_serializers.OrderSerializer
    filterset_class = api_filters.OrderFilter
    pagination_class = KeysetPagination
    csv_permission = EXPORT_ORDERS
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
        return super().paginate_queryset(queryset)

    def csv_response(self, queryset):
        first, last = api_filters.export_days(
            self.filterset_class(self.request.query_params, queryset=queryset.none())
        )
        return tabular.csv_response(
            orders_csv(queryset, unmask=_unmask(self.request)),
            tabular.export_filename("orders", first, last),
        )


@extend_schema(summary=_("One pay order, by its pay serial"))
class OrderDetailView(UnmaskContextMixin, generics.RetrieveAPIView):
    queryset = PayOrder.objects.select_related("park").prefetch_related("discounts", "mcoupons")
    serializer_class = api_serializers.OrderSerializer
    lookup_field = "pay_serial"

    def get_object(self):
        value = self.kwargs[self.lookup_field]
        if len(value) > 64 or "\x00" in value:  # no such serial; PostgreSQL refuses NUL
            raise Http404
        return super().get_object()


@extend_schema(
    summary=_("List merchant coupons"),
    description=_("Newest first, with their order's pay serial, time, park and plate."),
    responses={
        (200, "application/json"): api_serializers.CouponListSerializer(many=True),
        (200, "text/csv"): CSV_RESPONSE,
    },
)
class CouponListView(UnmaskContextMixin, CsvListMixin, generics.ListAPIView):
    queryset = MerchantCoupon.objects.all()
    serializer_class = api_serializers.CouponListSerializer
    filterset_class = api_filters.CouponFilter
    pagination_class = KeysetPagination
    csv_permission = EXPORT_ORDERS
    # As the admin's coupon list: by primary key, newest first.
    orderings = {"-pk": ("-pk",)}
    default_ordering = "-pk"

    def paginate_queryset(self, queryset):
        return super().paginate_queryset(queryset.select_related("order__park"))

    def csv_response(self, queryset):
        first, last = api_filters.export_days(
            self.filterset_class(self.request.query_params, queryset=queryset.none())
        )
        return tabular.csv_response(
            coupons_csv(queryset), tabular.export_filename("coupons", first, last)
        )


@extend_schema(
    summary=_("Merchant coupon totals per store"),
    description=_(
        "The count and face value of the filtered coupons per store and coupon type: what the "
        "car park bills each merchant for the period. One query, not paged."
    ),
    filters=True,
    responses=api_serializers.StoreTotalsSerializer,
)
class CouponTotalsView(generics.GenericAPIView):
    queryset = MerchantCoupon.objects.all()
    filterset_class = api_filters.CouponFilter
    serializer_class = api_serializers.StoreTotalsSerializer
    pagination_class = None

    def get(self, request: Request) -> Response:
        coupons = self.filter_queryset(self.get_queryset())
        totals = selectors.coupon_totals_by_store(coupons=coupons)
        return Response(self.get_serializer({"results": totals}).data)


@extend_schema(
    summary=_("Daily summary per day, park and channel"),
    description=_(
        "The admin's daily summary: per China-time day × park × channel the orders, amount "
        "paid, discount relief and merchant coupons, with a total row. The same parameters, "
        "defaults (the last 7 days) and limits (366 days) as the admin page."
    ),
    parameters=[api_serializers.SummaryQuerySerializer],
    responses={
        (200, "application/json"): api_serializers.DailySummarySerializer,
        (200, "text/csv"): OpenApiResponse(
            OpenApiTypes.BINARY,
            description=_("With ?format=csv: the admin's summary CSV; needs orders.export_orders."),
        ),
    },
)
class DailySummaryView(CsvFormatMixin, APIView):
    queryset = PayOrder.objects.none()  # the permissions: view pay orders, as the admin page
    csv_permission = EXPORT_ORDERS

    def get(self, request: Request):
        if self.wants_csv():
            self.check_csv_permission(request)
        query = api_serializers.SummaryQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        summary = selectors.daily_summary(**query.validated_data)
        if self.wants_csv():
            filename = tabular.export_filename("daily_summary", summary.date_from, summary.date_to)
            return tabular.csv_response(summary_csv(summary), filename)
        return Response(api_serializers.DailySummarySerializer(summary).data)
