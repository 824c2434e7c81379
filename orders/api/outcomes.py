"""``GET /api/v1/push-outcomes/``: every answer the platform's push can give (``Outcome``, the
one list) with the label and explanation staff read, in the language asked for.

Reference data for other systems showing the push log's reasons (a BI dashboard, a ticket
tool): nothing here restates an outcome.
"""

from contextlib import nullcontext

from django.utils import translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from orders.push.outcomes import PUSH_CODES, Outcome
from orders.push.schema import outcomes_described
from parkingops.api_params import refuse_empty


class PushOutcomeSerializer(serializers.Serializer):
    code = serializers.ChoiceField(
        choices=PUSH_CODES, help_text=_("The answer's code, as the platform gets it.")
    )
    reason = serializers.ChoiceField(
        source="value", choices=Outcome.choices, help_text=outcomes_described
    )
    http_status = serializers.IntegerField(
        source="status", help_text=_("The HTTP status of the answer.")
    )
    label = serializers.CharField(help_text=_("The short name staff see in the push log."))
    explanation = serializers.CharField(help_text=_("What it means and what to do."))
    logged = serializers.SerializerMethodField(
        help_text=_("Whether a push with this answer gets a row in the push log.")
    )

    def get_logged(self, outcome: Outcome) -> bool:
        return outcome is not Outcome.THROTTLED


def _language(request: Request) -> str | None:
    """Return the language ``?lang`` asks for, None when it is not given; 400 when unknown."""
    refuse_empty(request.query_params, ["lang"])
    asked = request.query_params.get("lang")
    if asked is None:
        return None
    try:
        return translation.get_supported_language_variant(asked)
    except LookupError:
        raise exceptions.ValidationError(
            {"lang": [gettext("Unknown language: use zh-hans or en.")]}
        ) from None


@extend_schema(
    summary=_("Push outcomes"),
    description=_(
        "Every answer the platform's push can give — code, reason, HTTP status — with the label "
        "and the explanation (what it means, what to do) the push log shows staff, in the "
        "language of Accept-Language or ?lang. A short fixed list: not paged."
    ),
    parameters=[
        OpenApiParameter(
            "lang",
            str,
            enum=["zh-hans", "en"],
            description=_("The language of labels and explanations (default: Accept-Language)."),
        )
    ],
    responses={200: PushOutcomeSerializer(many=True)},
)
class PushOutcomesView(APIView):
    # Reference data, the same for everyone: any key or staff session may read it.
    permission_classes = [IsAuthenticated]

    def get(self, request: Request):
        language = _language(request)
        with translation.override(language) if language else nullcontext():
            data = PushOutcomeSerializer(list(Outcome), many=True).data
            language = translation.get_language()
        response = Response(data)
        response["Content-Language"] = language
        return response
