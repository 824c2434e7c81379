"""Every answer the push endpoint gives (PUSH_PROTOCOL.md), named once.

An ``Outcome`` is the answer's ``reason`` (its value, stored in ``PushLog.reason``), with its
``code`` and HTTP ``status`` for the platform, and for staff a translated label and an
explanation (what it means, what to do). The service, the
view, the refusal throttle, the push log, the admin and the API schema all read this list.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _

# The one status that is not its outcome's: a body over the size limit is bad_body, but 413.
BODY_TOO_LARGE_STATUS = 413


class Outcome(models.TextChoices):
    """The push's answers: reason (the value), code, HTTP status; explanation, label (people)."""

    code: str
    status: int
    explanation: str

    def __new__(cls, reason: str, code: str, status: int, explanation: str) -> "Outcome":
        member = str.__new__(cls, reason)
        member._value_ = reason
        member.code = code
        member.status = status
        # Lazy: what it means and what to do, in the reader's language when shown.
        member.explanation = explanation
        return member

    # reason, code, HTTP status, what it means and what to do (for clerks), label.
    ACCEPTED = (
        "accepted",
        "1001",
        200,
        _("The order was stored. Nothing to do."),
        _("accepted"),
    )
    DUPLICATE = (
        "duplicate",
        "1001",
        200,
        _(
            "The platform sent an order we already hold again (a retry): acknowledged, not "
            "stored twice. Nothing to do."
        ),
        _("duplicate (a retry)"),
    )
    BAD_METHOD = (
        "bad_method",
        "1400",
        405,
        _(
            "Something called the push address with another method than POST: not the "
            "platform's push. Nothing to do unless it repeats; then look at the remote address."
        ),
        _("method not allowed (only POST)"),
    )
    BAD_BODY = (
        "bad_body",
        "1400",
        400,
        _(
            "The body could not be read (not a form or a JSON object, not UTF-8, or over "
            "1 MiB). Usually not the platform; if it is, send this row to the platform's support."
        ),
        _("unreadable body"),
    )
    UNKNOWN_APP = (
        "unknown_app",
        "1401",
        401,
        _(
            "The push names an app id that is not ours. If it comes from the platform, compare "
            "the setting PLATFORM_APP_ID with the platform's console."
        ),
        _("unknown app"),
    )
    BAD_SIGNATURE = (
        "bad_signature",
        "1401",
        401,
        _(
            "The signature does not match our app secret. If the platform's pushes fail this "
            "way, compare the setting PLATFORM_APP_SECRET with the platform's console."
        ),
        _("bad signature"),
    )
    STALE_TIMESTAMP = (
        "stale_timestamp",
        "1401",
        401,
        _(
            "The push's timestamp is too far from our clock (PUSH_TIMESTAMP_TOLERANCE). Check "
            "the server's clock; the platform pushes again."
        ),
        _("stale timestamp"),
    )
    INVALID_FIELD = (
        "invalid_field",
        "1400",
        400,
        _(
            "A field breaks the push contract; the detail names it. Send this row to the "
            "platform's support: the platform pushes the order again once it is corrected."
        ),
        _("invalid field"),
    )
    NOT_WHITELISTED = (
        "not_whitelisted",
        "1403",
        403,
        _(
            "The plate had no active whitelist entry for this park at the pay time; the detail "
            "says why. Correct the entry (valid at the pay time), then replay this push."
        ),
        _("not whitelisted"),
    )
    CONFLICT = (
        "conflict",
        "1409",
        409,
        _(
            "We already hold an order with this pay serial but other content; nothing was "
            "changed. Compare the two and ask the platform's support which one is right."
        ),
        _("conflict (same serial, other content)"),
    )
    ADDRESS_NOT_ALLOWED = (
        "address_not_allowed",
        "1403",
        403,
        _(
            "The push came from an address outside PUSH_ALLOWED_IPS. If it is the platform's, "
            "add the address to the setting, then replay this push."
        ),
        _("source address not allowed"),
    )
    UNAVAILABLE = (
        "unavailable",
        "1503",
        503,
        _(
            "Our database could not be reached; the platform pushes again. If it lasts, tell "
            "the administrators (the health checks)."
        ),
        _("database unavailable"),
    )
    INTERNAL_ERROR = (
        "internal_error",
        "1500",
        500,
        _(
            "An unexpected error on our side (see the server log); the platform pushes again. "
            "Report it to the developers with this row."
        ),
        _("internal error"),
    )
    # Answered by the view before the service runs, and never logged row by row: a flood of
    # refused pushes must not fill the push log.
    THROTTLED = (
        "throttled",
        "1429",
        429,
        _(
            "Too many unsigned refusals came from one address (PUSH_REFUSAL_RATE); they are "
            "answered without a log row. Nothing to do unless the address is the platform's."
        ),
        _("throttled (too many refusals)"),
    )

    @property
    def acknowledged(self) -> bool:
        """Tell whether the platform stops pushing this order (code 1001): it is stored."""
        return self.code == Outcome.ACCEPTED.code

    @property
    def verdict(self) -> str:
        """Sort the answer for the push metrics (``orders.monitoring``): ``accepted`` (the
        platform stops pushing), ``error`` (our side failed: it retries), or ``refused``."""
        if self.acknowledged:
            return "accepted"
        return "error" if self.status >= 500 else "refused"

    @property
    def unauthenticated(self) -> bool:
        """Tell whether this refusal says nothing about the platform itself (no valid
        signature was seen): a flood of these from one address is someone else. Refusals of
        signed pushes (invalid_field, not_whitelisted) are not, so the real platform is never
        slowed for pushes it will retry anyway."""
        return self in {
            Outcome.BAD_METHOD,
            Outcome.BAD_BODY,
            Outcome.UNKNOWN_APP,
            Outcome.BAD_SIGNATURE,
            Outcome.STALE_TIMESTAMP,
        }


# The answers' codes, each once (several reasons share one), as the push and the API list them.
PUSH_CODES = sorted({outcome.code for outcome in Outcome})

# The reasons of the answers that acknowledge an order (code 1001); every other row is a refusal.
ACKNOWLEDGED_REASONS = tuple(outcome.value for outcome in Outcome if outcome.acknowledged)

# What a push-log row can say: every outcome but the throttle's, which is not logged.
LOGGED_CHOICES = [
    (outcome.value, outcome.label) for outcome in Outcome if outcome is not Outcome.THROTTLED
]


@dataclass(frozen=True)
class PushResult:
    """The answer to a push: its outcome, a short English message, the order it concerns."""

    outcome: Outcome
    message: str
    order_id: int | None = None
    # Set only for a body over the size limit (BODY_TOO_LARGE_STATUS).
    status_override: int | None = None
    # What the log row keeps of why it was refused (``PushLog`` field names: ``field_path``,
    # ``refusal``...; ``orders.push.explain`` says it in words). Never sent to the platform.
    detail: Mapping[str, Any] = field(default_factory=dict)

    @property
    def code(self) -> str:
        return self.outcome.code

    @property
    def reason(self) -> str:
        return self.outcome.value

    @property
    def status(self) -> int:
        return self.status_override or self.outcome.status

    @property
    def acknowledged(self) -> bool:
        return self.outcome.acknowledged

    def as_json(self) -> dict[str, str]:
        return {"code": self.code, "reason": self.reason, "message": self.message}
