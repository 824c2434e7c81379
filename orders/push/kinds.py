"""The kinds of push the platform sends (PUSH_PROTOCOL.md, PLATFORM_PUSHES.md), each described
once for the one pipeline (``services.receive_push``): how its fields are validated, the time
the whitelist is read at, how it is stored once and how a retry is answered.

Everything else — reading the body, the app id, the signature, the timestamp, the outcomes,
the push log, the answer — is the same for every kind.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rest_framework import serializers

from orders.models import PushLog
from orders.push import storing, validation
from orders.push.outcomes import PushResult
from orders.stays import storing as stays_storing
from orders.stays import validation as stays_validation


@dataclass(frozen=True)
class PushKind:
    """One kind of push: its log ``kind``, its metrics label, and what differs per kind."""

    kind: str  # PushLog.Kind
    metric: str  # the label in orders.monitoring.metrics
    # The business fields of a decoded body, as of now: validated data, or InvalidField.
    validate: Callable[..., Any]
    # The serializer of those fields: their labels name an invalid one (validation.field_label).
    fields: type[serializers.Serializer]
    # The time the whitelist is read at (the event's own time).
    event_time: Callable[[Any], datetime]
    # The answer for the identity already held (a retry or a conflict), or None.
    held: Callable[[Any], PushResult | None]
    # Store the validated push with its filled-in log row, once, if a whitelist entry lets it
    # in at the event's time (else raise storing.NotWhitelisted): data, at=, log=.
    store: Callable[..., PushResult]
    # The PushLog column the stored record's id goes to (PushResult.order_id carries it).
    log_link: str
    # What is stored, for messages: "order", "stay", "renewal".
    noun: str

    def link_log(self, log: PushLog, record_id: int | None) -> None:
        """Point the log row at the record the push concerns (an order, stay or renewal)."""
        setattr(log, self.log_link, record_id)


PAY = PushKind(
    kind=PushLog.Kind.PAY,
    metric="pay_order",
    validate=validation.validate_push,
    fields=validation.PayOrderPushSerializer,
    event_time=lambda data: data.pay_time,
    held=storing.held_order,
    store=storing.store_once,
    log_link="order_id",
    noun="order",
)
ENTRY = PushKind(
    kind=PushLog.Kind.ENTRY,
    metric="entry",
    validate=stays_validation.validate_entry,
    fields=stays_validation.EntryPushSerializer,
    event_time=lambda data: data.event_time,
    held=stays_storing.held_entry,
    store=stays_storing.store_entry,
    log_link="stay_id",
    noun="stay",
)
EXIT = PushKind(
    kind=PushLog.Kind.EXIT,
    metric="exit",
    validate=stays_validation.validate_exit,
    fields=stays_validation.ExitPushSerializer,
    event_time=lambda data: data.event_time,
    held=stays_storing.held_exit,
    store=stays_storing.store_exit,
    log_link="stay_id",
    noun="stay",
)
RENEWAL = PushKind(
    kind=PushLog.Kind.RENEWAL,
    metric="renewal",
    validate=stays_validation.validate_renewal,
    fields=stays_validation.RenewalPushSerializer,
    event_time=lambda data: data.event_time,
    held=stays_storing.held_renewal,
    store=stays_storing.store_renewal,
    log_link="renewal_id",
    noun="renewal",
)

KINDS = {kind.kind: kind for kind in (PAY, ENTRY, EXIT, RENEWAL)}
