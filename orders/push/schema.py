"""How the OpenAPI schema (drf-spectacular) documents the push: the request's two encodings,
the answer, and the checks in the order they run, each with its outcome.

Documentation only: the push is read by ``decoding`` and ``validation``, not by these
serializers. Codes, reasons and statuses come from ``Outcome``; nothing here restates them.
"""

from django.utils.functional import lazy
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers

from orders.push.outcomes import BODY_TOO_LARGE_STATUS, PUSH_CODES, Outcome
from orders.push.validation import MAX_FEN

# --- The request and the answer --------------------------------------------------------------


class _PushFieldsSerializer(serializers.Serializer):
    app_id = serializers.CharField(help_text="Our app id at the platform.")
    park_uuid = serializers.CharField(max_length=64)
    park_name = serializers.CharField(max_length=128, help_text="The newest name wins.")
    parking_serial = serializers.CharField(max_length=64)
    pay_serial = serializers.CharField(max_length=64, help_text="The order's identity.")
    plate = serializers.CharField(help_text="Normalised before matching: 川a 660p1 is 川A660P1.")
    channel = serializers.CharField(max_length=64)
    identity = serializers.CharField(required=False, max_length=255)
    sign = serializers.CharField(
        required=False,
        help_text="Upper-case MD5 of the sorted non-empty fields and &app_secret=<secret>; "
        "or sign the raw JSON body in the Authorization header instead.",
    )
    sign_type = serializers.ChoiceField(choices=["MD5"], required=False)


class PushDiscountSerializer(serializers.Serializer):
    type = serializers.CharField(required=False)
    token = serializers.CharField(required=False)
    openid = serializers.CharField(required=False)
    mobile = serializers.CharField(required=False)
    relief_amount = serializers.IntegerField(required=False, min_value=0)
    relief_value = serializers.IntegerField(required=False, min_value=0, help_text="Fen.")


class PushCouponSerializer(serializers.Serializer):
    coupon_name = serializers.CharField(required=False)
    coupon_code = serializers.CharField(required=False)
    store_name = serializers.CharField(required=False)
    store_code = serializers.CharField(required=False)
    coupon_type = serializers.IntegerField(required=False, help_text="1 to 6; others kept.")
    coupon_value = serializers.IntegerField(required=False, min_value=0)
    grant_time = serializers.CharField(
        required=False, help_text="ms since epoch or YYYY-MM-DD HH:MM:SS (China time)."
    )
    grant_serial = serializers.CharField(required=False)


class PushFormSerializer(_PushFieldsSerializer):
    """The push as the platform usually sends it: a form, every value a string."""

    pay_value = serializers.RegexField(r"^[0-9]+$", help_text="Fen, decimal digits.")
    pay_time = serializers.RegexField(r"^[0-9]+$", help_text="ms since epoch.")
    timestamp = serializers.RegexField(r"^[0-9]+$", required=False, help_text="ms since epoch.")
    discounts = serializers.CharField(required=False, help_text="A JSON-encoded array, e.g. [].")
    mcoupons = serializers.CharField(required=False, help_text="A JSON-encoded array, e.g. [].")


class PushJsonSerializer(_PushFieldsSerializer):
    """The push as one JSON object; numbers may be strings of digits too."""

    pay_value = serializers.IntegerField(min_value=0, max_value=MAX_FEN, help_text="Fen.")
    pay_time = serializers.IntegerField(help_text="ms since epoch.")
    timestamp = serializers.IntegerField(required=False, help_text="ms since epoch.")
    discounts = PushDiscountSerializer(many=True, required=False)
    mcoupons = PushCouponSerializer(many=True, required=False)


def _outcomes_described() -> str:
    """Describe the reason enum: each reason with its code, status, label and explanation, in
    the active language (the schema's; ``GET /api/v1/push-outcomes/`` gives the same)."""
    return "\n".join(
        f"- `{outcome.value}` ({outcome.code}, HTTP {outcome.status}): **{outcome.label}** — "
        f"{outcome.explanation}"
        for outcome in Outcome
    )


# Lazy: rendered when the schema is, in the language it is asked in.
outcomes_described = lazy(_outcomes_described, str)()


class OtherPushSerializer(serializers.Serializer):
    """An entry, exit or renewal push: the protocol's fields, and the business fields of
    PLATFORM_PUSHES.md (documented there, field by field)."""

    app_id = serializers.CharField(help_text="Our app id at the platform.")
    park_uuid = serializers.CharField(max_length=64)
    park_name = serializers.CharField(max_length=128)
    plate = serializers.CharField(help_text="Normalised before matching.")
    parking_serial = serializers.CharField(
        required=False, max_length=64, help_text="Entry and exit: the stay's identity."
    )
    pay_serial = serializers.CharField(
        required=False, max_length=64, help_text="Renewal: its identity."
    )
    sign = serializers.CharField(required=False, help_text="As for the pay order.")
    sign_type = serializers.ChoiceField(choices=["MD5"], required=False)
    timestamp = serializers.CharField(required=False, help_text="ms since epoch.")


class PushAnswerSerializer(serializers.Serializer):
    """Every answer of the push endpoint: exactly these three keys."""

    code = serializers.ChoiceField(choices=PUSH_CODES)
    reason = serializers.ChoiceField(choices=Outcome.choices, help_text=outcomes_described)
    message = serializers.CharField(help_text="Short English text; names the field at fault.")


# --- The checks and the answers, described ---------------------------------------------------


def push_checks(
    *, event_time: str = "pay_time", identity: str = "pay_serial", stored: str = ""
) -> list[tuple[str, str, Outcome]]:
    """The checks of a push, in the order they run (PUSH_PROTOCOL.md): step, check, outcome.
    The same for every kind but for its event time, its identity and what it stores."""
    stored = stored or "stored with its discounts and coupons"
    return [
        ("0", "source address in PUSH_ALLOWED_IPS (when set)", Outcome.ADDRESS_NOT_ALLOWED),
        (
            "0",
            "fewer unauthenticated refusals from the address than PUSH_REFUSAL_RATE; not logged",
            Outcome.THROTTLED,
        ),
        ("0", "the method is POST (any other is logged)", Outcome.BAD_METHOD),
        (
            "1",
            "body readable (content type, UTF-8, JSON object, at most 1 MiB, no repeated key; a "
            "chunked body is read whole)",
            Outcome.BAD_BODY,
        ),
        ("2", "`app_id` present and ours", Outcome.UNKNOWN_APP),
        (
            "3",
            "signature present and valid (`sign` field, or the `Authorization` header), "
            "`sign_type` MD5 or absent",
            Outcome.BAD_SIGNATURE,
        ),
        (
            "4",
            "`timestamp` within PUSH_TIMESTAMP_TOLERANCE (when enabled)",
            Outcome.STALE_TIMESTAMP,
        ),
        ("5", "every field valid", Outcome.INVALID_FIELD),
        (
            "6",
            f"plate on an active whitelist entry for the park (or all parks) at `{event_time}`",
            Outcome.NOT_WHITELISTED,
        ),
        ("7", f"new `{identity}`: {stored}", Outcome.ACCEPTED),
        ("7'", f"same `{identity}`, same content (a retry)", Outcome.DUPLICATE),
        ("7''", f"same `{identity}`, other content", Outcome.CONFLICT),
        ("-", "database unreachable", Outcome.UNAVAILABLE),
        ("-", "anything unexpected", Outcome.INTERNAL_ERROR),
    ]


PUSH_CHECKS = push_checks()


def _http(outcome: Outcome) -> str:
    if outcome is Outcome.BAD_BODY:
        return f"{outcome.status} ({BODY_TOO_LARGE_STATUS} when too large)"
    return str(outcome.status)


def push_description(intro: str, checks: list[tuple[str, str, Outcome]]) -> str:
    """Describe a push endpoint: ``intro``, then its checks and answers as a table."""
    return "\n".join(
        [
            intro + " No API key: the signature authenticates the platform; never throttled. "
            'Every answer is `{"code", "reason", "message"}`; the checks run in this order and '
            "the first that fails answers:",
            "",
            "| step | check | code | reason | HTTP |",
            "|---|---|---|---|---|",
            *(
                f"| {step} | {check} | {outcome.code} | {outcome.value} | {_http(outcome)} |"
                for step, check, outcome in checks
            ),
            "",
            f"The platform pushes again until it gets {Outcome.ACCEPTED.code}; a push already "
            f"held is always answered {Outcome.ACCEPTED.code}.",
        ]
    )


PUSH_DESCRIPTION = push_description(
    "The platform pushes one signed pay order per payment of a whitelisted plate (see the "
    "push protocol).",
    PUSH_CHECKS,
)


def other_kind_description(what: str, *, event_time: str, identity: str, stored: str) -> str:
    """Describe the endpoint of another kind of push (PLATFORM_PUSHES.md)."""
    return push_description(
        f"The platform pushes {what} for a whitelisted plate, signed and answered as the pay "
        "order (see the platform's pushes).",
        push_checks(event_time=event_time, identity=identity, stored=stored),
    )


# What the answers' descriptions say about an outcome besides its reason.
_NOTES = {
    Outcome.ACCEPTED: " (stored)",
    Outcome.DUPLICATE: " (a retry of an order held)",
    Outcome.BAD_BODY: " (unreadable body)",
    Outcome.ADDRESS_NOT_ALLOWED: " (PUSH_ALLOWED_IPS)",
    Outcome.CONFLICT: ": the pay_serial is held with other content",
    Outcome.THROTTLED: (
        ": too many unauthenticated refusals from this address (PUSH_REFUSAL_RATE); "
        "not logged row by row"
    ),
    Outcome.UNAVAILABLE: ": the database cannot be reached; push again",
}


def _answer(description: str) -> OpenApiResponse:
    return OpenApiResponse(PushAnswerSerializer, description=description)


def push_responses() -> dict[int, OpenApiResponse]:
    """Return the push's answers per HTTP status, each naming its code and reasons."""
    by_status: dict[int, list[Outcome]] = {}
    for outcome in Outcome:
        by_status.setdefault(outcome.status, []).append(outcome)
    responses = {}
    for status, outcomes in by_status.items():
        reasons = [f"{outcome.value}{_NOTES.get(outcome, '')}" for outcome in outcomes]
        listed = ", ".join(reasons[:-1]) + " or " + reasons[-1] if len(reasons) > 1 else reasons[0]
        responses[status] = _answer(f"{outcomes[0].code} {listed}.")
    bad_body = Outcome.BAD_BODY
    responses[BODY_TOO_LARGE_STATUS] = _answer(
        f"{bad_body.code} {bad_body.value}: the body is larger than 1 MiB."
    )
    return dict(sorted(responses.items()))
