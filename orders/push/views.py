"""The push endpoints: one thin view per kind of push; the work is ``services.receive_push``'s."""

import logging
import time

from django.conf import settings
from django.http import JsonResponse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.request import Request
from rest_framework.views import APIView

from orders.monitoring import metrics
from orders.push import decoding, kinds, schema, services, throttling
from orders.push.outcomes import PushResult
from parkingops import RAW_CONTENT_TYPE
from parkingops.netaddr import client_address

logger = logging.getLogger(__name__)


class FirstRendererNegotiation(BaseContentNegotiation):
    """Always answer JSON: the platform's Accept header must never turn a push into a 406."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class PayOrderPushView(APIView):
    """Receive the platform's pay-order push (PUSH_PROTOCOL.md); the other kinds' views differ
    only in their ``kind`` and schema."""

    # Every other method (GET, OPTIONS, HEAD, ...) goes to http_method_not_allowed: answered
    # 405 bad_method by the service and logged like any other request.
    http_method_names = ["post"]
    authentication_classes = ()
    permission_classes = ()
    throttle_classes = ()  # the platform is never rate-limited: a refused push is retried
    parser_classes = ()  # the service reads the raw body itself: the header signature needs it
    content_negotiation_class = FirstRendererNegotiation
    kind = kinds.PAY

    @extend_schema(
        operation_id="push_pay_order",
        summary=_("Receive a pay order pushed by the platform"),
        description=schema.PUSH_DESCRIPTION,
        tags=["push"],
        auth=[],
        request={
            "application/x-www-form-urlencoded": schema.PushFormSerializer,
            "application/json": schema.PushJsonSerializer,
        },
        responses=schema.push_responses(),
    )
    def post(self, request: Request) -> JsonResponse:
        return self._receive(request)

    def http_method_not_allowed(self, request: Request, *args, **kwargs) -> JsonResponse:
        return self._receive(request)

    def _receive(self, request: Request) -> JsonResponse:
        started = time.monotonic()
        result = self._answer(request)
        metrics.observe_push(
            kind=self.kind.metric, outcome=result.outcome, seconds=time.monotonic() - started
        )
        return JsonResponse(result.as_json(), status=result.status)

    def _answer(self, request: Request) -> PushResult:
        address = client_address(request.META, trusted_proxies=settings.TRUSTED_PROXIES)
        if throttling.push_refusals_exceeded(address):
            # Not logged row by row: that is the point (a flood must not fill the push log).
            logger.warning("push: refusals from %s over PUSH_REFUSAL_RATE, answering 429", address)
            return throttling.THROTTLED
        try:
            body, unreadable = decoding.read_body(request), ""
        except decoding.BadBody as exc:
            body, unreadable = b"", str(exc)
        result = services.receive_push(
            kind=self.kind,
            request=services.PushRequest(
                body=body,
                method=request.method,
                unreadable=unreadable,
                # parkingops.wsgi keeps a header Django could not parse here, for the log row.
                content_type=request.META.get(
                    RAW_CONTENT_TYPE, request.META.get("CONTENT_TYPE", "")
                ),
                authorization=request.META.get("HTTP_AUTHORIZATION", ""),
                remote_addr=address,
            ),
        )
        throttling.count_push_refusal(address, result.outcome)
        return result


def _other_kind_view(
    kind: kinds.PushKind, summary: str, description: str
) -> type[PayOrderPushView]:
    """Make the view of a kind of push (PLATFORM_PUSHES.md): the pay order's, another kind."""

    class KindPushView(PayOrderPushView):
        @extend_schema(
            operation_id=f"push_{kind.kind}",
            summary=summary,
            description=description,
            tags=["push"],
            auth=[],
            request={
                "application/x-www-form-urlencoded": schema.OtherPushSerializer,
                "application/json": schema.OtherPushSerializer,
            },
            responses=schema.push_responses(),
        )
        def post(self, request: Request) -> JsonResponse:
            return self._receive(request)

    KindPushView.kind = kind
    KindPushView.__name__ = KindPushView.__qualname__ = f"{kind.kind.title()}PushView"
    KindPushView.__doc__ = f"Receive the platform's {kind.kind} push (PLATFORM_PUSHES.md)."
    return KindPushView


EntryPushView = _other_kind_view(
    kinds.ENTRY,
    _("Receive a car's entry pushed by the platform"),
    schema.other_kind_description(
        "a car's entry (入场记录推送)",
        event_time="enter_time",
        identity="parking_serial",
        stored="the stay's entry, and the stay if the exit has not come",
    ),
)
ExitPushView = _other_kind_view(
    kinds.EXIT,
    _("Receive a car's exit pushed by the platform"),
    schema.other_kind_description(
        "a car's exit (离场记录推送)",
        event_time="leave_time",
        identity="parking_serial",
        stored="the stay's exit, and the stay if the entry has not come",
    ),
)
RenewalPushView = _other_kind_view(
    kinds.RENEWAL,
    _("Receive a fixed-car renewal pushed by the platform"),
    schema.other_kind_description(
        "a fixed-car renewal (固定车续费推送)",
        event_time="pay_time",
        identity="pay_serial",
        stored="the renewal",
    ),
)
