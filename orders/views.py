"""HTTP endpoints: one thin view per endpoint, the work is in services and selectors."""

from django.http import JsonResponse
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.request import Request
from rest_framework.views import APIView

from orders import serializers, services
from parkingops import RAW_CONTENT_TYPE


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
    parser_classes = ()  # the service reads the raw body itself: the header signature needs it
    content_negotiation_class = FirstRendererNegotiation

    def post(self, request: Request) -> JsonResponse:
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
                remote_addr=request.META.get("REMOTE_ADDR", ""),
            )
        )
        return JsonResponse(result.as_json(), status=result.status)
