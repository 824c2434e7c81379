"""Writes: receiving a push of any kind (PUSH_PROTOCOL.md, PLATFORM_PUSHES.md), replaying a
logged one, pruning the push log.

``receive_push`` is the one call chain for every kind: the source address, reading the body
(``decoding``), the app id, signature and timestamp (here), the fields, the whitelist at the
event's time, storing once (what differs per kind is its ``kinds.PushKind``), then the push
log row and the JSON log line.
"""

import json
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError
from django.utils import timezone, translation
from django.utils.translation import gettext

from orders.models import PushLog
from orders.push import decoding, partitions, times, validation
from orders.push.kinds import KINDS, PAY, PushKind
from orders.push.outcomes import BODY_TOO_LARGE_STATUS, Outcome, PushResult
from orders.push.storing import NotWhitelisted
from parkingops.jobs.progress import NO_PROGRESS, Progress
from parkingops.netaddr import in_networks
from parkingops.pcloud import signing
from parkingops.timerange import EARLIEST
from whitelist.selectors import why_not_covered

logger = logging.getLogger(__name__)
# One JSON line per push on stdout (settings.LOGGING), for the log collector.
push_logger = logging.getLogger("parkingops.push")

LOG_BODY_BYTES = 64 * 1024
UNAVAILABLE = PushResult(Outcome.UNAVAILABLE, "database unavailable, retry later")


@dataclass(frozen=True)
class PushRequest:
    """What arrived over HTTP, before anything is trusted."""

    body: bytes
    method: str = "POST"
    # Why the body could not be read off the request (decoding.read_body), if it could not.
    unreadable: str = ""
    content_type: str = ""
    authorization: str = ""
    remote_addr: str = ""
    # A replay from the push log is late by design: its signature is checked again, its
    # timestamp is not (it would always be stale once PUSH_TIMESTAMP_TOLERANCE is on).
    is_replay: bool = False


class Refusal(Exception):
    """A push refused at one of the protocol's steps; ``detail``: what the log row keeps of why
    (``PushLog`` field names and values, ``PushResult.detail``)."""

    def __init__(
        self,
        outcome: Outcome,
        message: str,
        *,
        status: int | None = None,
        detail: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.result = PushResult(outcome, message, status_override=status, detail=detail or {})


def _clip(value: Any, length: int) -> str:
    """Turn a logged value into text that fits its column (NUL-free, for PostgreSQL)."""
    text = value if isinstance(value, str) else ("" if value is None else str(value))
    return text.replace("\x00", "\ufffd")[:length]


def _authenticate(payload: Mapping[str, Any], request: PushRequest, now: datetime) -> None:
    """Steps 2 to 4: the app id, the signature and (when enabled) the timestamp."""
    app_id = payload.get("app_id")
    if not isinstance(app_id, str) or not app_id or app_id != settings.PLATFORM_APP_ID:
        raise Refusal(Outcome.UNKNOWN_APP, "app_id is missing or unknown")

    secrets = settings.PLATFORM_APP_SECRET
    sign_type = payload.get("sign_type")
    if sign_type not in (None, "") and (
        not isinstance(sign_type, str) or sign_type.upper() != "MD5"
    ):
        raise Refusal(Outcome.BAD_SIGNATURE, "sign_type must be MD5")
    signature = payload.get("sign")
    if signature not in (None, ""):
        valid = signing.verify_params(payload, signature, secrets)
    elif request.authorization:
        valid = signing.verify_body(request.body, request.authorization, secrets)
    else:
        raise Refusal(Outcome.BAD_SIGNATURE, "the signature is missing")
    if not valid:
        raise Refusal(Outcome.BAD_SIGNATURE, "the signature does not match")

    tolerance = settings.PUSH_TIMESTAMP_TOLERANCE
    if tolerance > 0 and not request.is_replay:
        # Read inside the product's span: a 400-digit timestamp is stale, not an overflow.
        sent = times.moment_from_ms(payload.get("timestamp"))
        if sent is None or abs((now - sent).total_seconds()) > tolerance:
            raise Refusal(
                Outcome.STALE_TIMESTAMP,
                f"timestamp is missing or more than {tolerance} s away from now",
            )


def _store(kind: PushKind, data: Any, log: PushLog, started: float) -> PushResult:
    """Steps 6 and 7: the whitelist at the event's time, then the push's record, at once (in
    one statement on PostgreSQL: ``storing.Statement.whitelisted``)."""
    at = kind.event_time(data)
    # The log row is written with the record: fill it in as accepted before the write.
    _fill_log(kind, log, PushResult(Outcome.ACCEPTED, f"{kind.noun} stored"), started)
    try:
        return kind.store(data, at=at, log=log)
    except NotWhitelisted:
        # A push we already hold is always acknowledged, even if its plate has since left
        # the whitelist: otherwise the platform would retry it for ever.
        held = kind.held(data)
        if held is not None and held.acknowledged:
            return held
        raise Refusal(
            Outcome.NOT_WHITELISTED,
            "plate is not on a valid whitelist entry",
            detail=_why_not_whitelisted(data, at=at),
        ) from None


def _why_not_whitelisted(data: Any, *, at: datetime) -> dict[str, Any]:
    """Return the log row's account of why no entry let the plate in at the event's time,
    decided now: the entries may change before anyone reads the log. Costs a query on
    refusals only."""
    why = why_not_covered(plate=data.plate, park_uuid=data.park_uuid, at=at)
    if why is None:  # an entry let it in since the check: the outcome says enough
        return {}
    return {
        "refusal": why.why.value,
        "refusal_entry_id": why.entry_id,
        "refusal_date": why.date,
        "refusal_park": why.park_uuid,
    }


def _fill_log(kind: PushKind, log: PushLog, result: PushResult, started: float) -> None:
    """Write the answer and the time taken so far into the push's log row (not saved)."""
    log.code = result.code
    log.reason = result.reason
    log.message = _clip(result.message, 500)
    kind.link_log(log, result.order_id)
    for name, value in result.detail.items():
        setattr(log, name, value)
    log.duration_ms = round((time.monotonic() - started) * 1000)


def _save_log(kind: PushKind, log: PushLog, result: PushResult, started: float) -> None:
    _fill_log(kind, log, result, started)
    log.save(force_insert=True)


def receive_push(
    *, request: PushRequest, now: datetime | None = None, kind: PushKind = PAY
) -> PushResult:
    """Verify, validate and store one push of ``kind``, log it, and return the answer.

    Nothing half-stored survives a refusal: the record (an order with its discounts and
    coupons, a stay's half, a renewal) and its park are written in one transaction, and the
    log row is written either inside it (accepted) or after it.
    """
    started = time.monotonic()
    now = now or timezone.now()
    log = PushLog(
        kind=kind.kind,
        received_at=now,
        remote_addr=_clip(request.remote_addr, 64),
        content_type=_clip(request.content_type, 255),
        body=_clip(request.body[:LOG_BODY_BYTES].decode("utf-8", errors="replace"), 10**6),
        authorization=_clip(request.authorization, 255),
    )
    try:
        allowed = settings.PUSH_ALLOWED_IPS
        if allowed and not request.is_replay and not in_networks(request.remote_addr, allowed):
            raise Refusal(Outcome.ADDRESS_NOT_ALLOWED, "source address not allowed")
        if request.method != "POST":
            raise Refusal(Outcome.BAD_METHOD, f"method {request.method} is not allowed; use POST")
        if request.unreadable:
            raise Refusal(Outcome.BAD_BODY, request.unreadable)
        try:
            payload = decoding.decode_body(request.body, request.content_type)
        except decoding.BadBody as exc:
            status = BODY_TOO_LARGE_STATUS if exc.too_large else None
            raise Refusal(Outcome.BAD_BODY, str(exc), status=status) from None
        log.app_id = _clip(payload.get("app_id"), 64)
        log.pay_serial = _clip(payload.get("pay_serial"), 64)
        log.plate = _clip(payload.get("plate"), 64)
        _authenticate(payload, request, now)
        try:
            # The answer's message is English for the platform (PUSH_PROTOCOL.md), whatever
            # language LocaleMiddleware chose: DRF's own messages would come out in Chinese.
            with translation.override("en"):
                data = kind.validate(payload, now=now)
        except validation.InvalidField as exc:
            raise Refusal(
                Outcome.INVALID_FIELD, str(exc)[:500], detail={"field_path": _clip(exc.field, 255)}
            ) from None
        log.plate = data.plate
        result = _store(kind, data, log, started)
    except Refusal as refusal:
        result = refusal.result
    except (OperationalError, InterfaceError):
        logger.warning("push: database unavailable", exc_info=True)
        result = UNAVAILABLE
    except Exception:
        logger.exception("push: unexpected error")
        result = PushResult(Outcome.INTERNAL_ERROR, "internal error, retry later")

    if result.outcome is not Outcome.ACCEPTED:
        # An accepted push's log row was committed with its order; any other outcome (even
        # one whose order transaction failed on commit) is logged now, on its own.
        log.pk = None
        try:
            _save_log(kind, log, result, started)
        except DatabaseError:
            # The raw push is always logged: when the database cannot take it, the process
            # log does. The body carries a signature, never a secret.
            logger.error(
                "push: could not write the push log; code=%s reason=%s body=%r",
                result.code,
                result.reason,
                log.body,
                exc_info=True,
            )
            if not result.acknowledged:
                result = UNAVAILABLE
    if push_logger.isEnabledFor(logging.INFO):
        push_logger.info(
            json.dumps(
                {
                    "time": log.received_at.isoformat(),
                    "event": "push",
                    "kind": kind.kind,
                    "pay_serial": log.pay_serial,
                    "code": result.code,
                    "reason": result.reason,
                    "duration_ms": log.duration_ms,
                    "remote_addr": log.remote_addr,
                },
                ensure_ascii=False,
            )
        )
    return result


def replay_push(*, log: PushLog, now: datetime | None = None) -> PushResult:
    """Run a logged push's body again through ``receive_push`` as the kind it was; the result
    is a new log row."""
    return receive_push(
        kind=KINDS.get(log.kind, PAY),
        request=PushRequest(
            body=log.body.encode("utf-8"),
            content_type=log.content_type,
            authorization=log.authorization,
            remote_addr="replay",
            is_replay=True,
        ),
        now=now,
    )


# Push-log rows that produced no order are kept this many days by default (the nightly prune);
# every row goes after PUSH_LOG_RETENTION_MONTHS (settings).
PUSH_LOG_KEEP_DAYS = 90


@dataclass(frozen=True)
class Pruned:
    """What ``prune_push_log`` did: ``deleted`` rows without an order received before
    ``before``; ``expired`` rows of any kind received before ``expired_before`` (the retention),
    ``months`` of them whole partitions dropped; ``left`` partitions emptied but not yet
    dropped (their locks stayed busy; the next prune drops them)."""

    deleted: int
    before: datetime
    expired: int = 0
    expired_before: datetime | None = None
    months: int = 0
    left: tuple[str, ...] = ()

    def message(self) -> str:
        """The line telling it, in the active language (the command's output, the job's)."""
        return gettext(
            "Deleted %(count)d push-log rows received before %(before)s without an order."
        ) % {
            "count": self.deleted,
            "before": timezone.localtime(self.before).strftime("%Y-%m-%d %H:%M"),
        }

    def lines(self) -> list[str]:
        """Every line telling it: the refusals, then the retention."""
        lines = [self.message()]
        if self.expired_before:
            lines.append(
                gettext(
                    "Removed %(count)d push-log rows received before %(before)s (past the "
                    "retention); whole months dropped: %(months)d."
                )
                % {
                    "count": self.expired,
                    "before": timezone.localtime(self.expired_before).strftime("%Y-%m-%d %H:%M"),
                    "months": self.months,
                }
            )
        if self.left:
            lines.append(
                gettext("Emptied but not yet dropped, their locks were busy: %(tables)s.")
                % {"tables": ", ".join(self.left)}
            )
        return lines


def prune_push_log(
    *,
    older_than_days: int = PUSH_LOG_KEEP_DAYS,
    retention_months: int | None = None,
    batch_size: int = 10_000,
    now: datetime | None = None,
    progress: Progress = NO_PROGRESS,
) -> Pruned:
    """Remove every log row received before the retention (``retention_months`` whole
    calendar months before the current one; default PUSH_LOG_RETENTION_MONTHS), then the
    rows received more than ``older_than_days`` ago that produced no record.

    On PostgreSQL the months ahead are created first (``partitions.ensure_partitions``) and
    the months past the retention are dropped whole (``partitions.drop_before``): seconds
    for millions of rows, and no push waits on it. What is left before the retention (the
    legacy and default partitions, SQLite's plain table) and the refusals go in batches, each
    its own short transaction, so a large prune never holds long locks on the log; a job
    cancelled stops between two batches. Within the retention, rows that point at an order,
    a stay or a renewal are its history and stay.
    """
    retention_months = retention_months or settings.PUSH_LOG_RETENTION_MONTHS
    if older_than_days < 1 or batch_size < 1 or retention_months < 1:
        raise ValueError("older_than_days, retention_months and batch_size must be at least 1")
    now = now or timezone.now()
    expired_before = max(
        partitions.add_months(partitions.month_start(now), -retention_months), EARLIEST
    )
    progress.stage(gettext("Preparing the push log's months"))
    partitions.ensure_partitions(now=now)
    progress.stage(gettext("Dropping push-log months past the retention"))
    dropped = (
        partitions.drop_before(expired_before, on_rows=progress.advance)
        if partitions.is_partitioned()
        else partitions.Dropped(months=[], rows=0, left=[])
    )
    progress.stage(gettext("Deleting push-log rows past the retention"))
    expired = dropped.rows + _delete_in_batches(
        PushLog.objects.filter(received_at__lt=expired_before), batch_size, progress
    )
    # Further back than the calendar the application keeps (``timerange``) there is nothing to
    # delete, and a day count past it would overflow the date.
    before = max(now - timedelta(days=min(older_than_days, (now - EARLIEST).days + 1)), EARLIEST)
    stale = PushLog.objects.filter(
        received_at__lt=before, order__isnull=True, stay__isnull=True, renewal__isnull=True
    )
    progress.stage(gettext("Deleting old push-log rows"))
    return Pruned(
        deleted=_delete_in_batches(stale, batch_size, progress),
        before=before,
        expired=expired,
        expired_before=expired_before,
        months=len(dropped.months),
        left=tuple(dropped.left),
    )


def _delete_in_batches(rows, batch_size: int, progress: Progress) -> int:
    deleted = 0
    while True:
        ids = list(rows.values_list("pk", flat=True)[:batch_size])
        if not ids:
            return deleted
        # Within ``rows`` again: on PostgreSQL only the partitions of its times are looked at.
        count = rows.filter(pk__in=ids).delete()[0]
        deleted += count
        progress.advance(count)
