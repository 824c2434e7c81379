"""Every answer the push endpoint gives (PUSH_PROTOCOL.md), named once.

An ``Outcome`` is the answer's ``reason`` (its value, stored in ``PushLog.reason``), with its
``code`` and HTTP ``status`` for the platform and a translated label for staff. The service, the
view, the refusal throttle, the push log, the admin and the API schema all read this list.
"""

from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext_lazy as _

# The one status that is not its outcome's: a body over the size limit is bad_body, but 413.
BODY_TOO_LARGE_STATUS = 413


class Outcome(models.TextChoices):
    """The push's answers: reason (the value), code, HTTP status, and a label for people."""

    code: str
    status: int

    def __new__(cls, reason: str, code: str, status: int) -> "Outcome":
        member = str.__new__(cls, reason)
        member._value_ = reason
        member.code = code
        member.status = status
        return member

    ACCEPTED = "accepted", "1001", 200, _("accepted")
    DUPLICATE = "duplicate", "1001", 200, _("duplicate (a retry)")
    BAD_METHOD = "bad_method", "1400", 405, _("method not allowed (only POST)")
    BAD_BODY = "bad_body", "1400", 400, _("unreadable body")
    UNKNOWN_APP = "unknown_app", "1401", 401, _("unknown app")
    BAD_SIGNATURE = "bad_signature", "1401", 401, _("bad signature")
    STALE_TIMESTAMP = "stale_timestamp", "1401", 401, _("stale timestamp")
    INVALID_FIELD = "invalid_field", "1400", 400, _("invalid field")
    NOT_WHITELISTED = "not_whitelisted", "1403", 403, _("not whitelisted")
    CONFLICT = "conflict", "1409", 409, _("conflict (same serial, other content)")
    ADDRESS_NOT_ALLOWED = "address_not_allowed", "1403", 403, _("source address not allowed")
    UNAVAILABLE = "unavailable", "1503", 503, _("database unavailable")
    INTERNAL_ERROR = "internal_error", "1500", 500, _("internal error")
    # Answered by the view before the service runs, and never logged row by row: a flood of
    # refused pushes must not fill the push log.
    THROTTLED = "throttled", "1429", 429, _("throttled (too many refusals)")

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
