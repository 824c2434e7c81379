"""``GET /api/v1/push-outcomes/``: every answer the platform's push can give (``Outcome``, the
one list) with the label and explanation staff read, in the language asked for.

Reference data for other systems showing the push log's reasons (a BI dashboard, a ticket
tool): nothing here restates an outcome.
"""

from contextlib import nullcontext

from django.utils import translation
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from orders.push.outcomes import PUSH_CODES, Outcome
from orders.push.schema import outcomes_described
from parkingops import conditional
from parkingops.api_params import StrictParamsMixin, language_param


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
class PushOutcomesView(StrictParamsMixin, conditional.ConditionalGetMixin, APIView):
    # Reference data, the same for everyone: any key or staff session may read it.
    permission_classes = [IsAuthenticated]
    query_parameters = {"GET": ("lang",)}

    def get(self, request: Request):
        language = language_param(request.query_params)
        with translation.override(language) if language else nullcontext():
            data = PushOutcomeSerializer(list(Outcome), many=True).data
            language = translation.get_language()
        response = Response(data)
        response["Content-Language"] = language
        return response
