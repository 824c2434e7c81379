"""Writes: receiving a pay-order push (PUSH_PROTOCOL.md) and replaying a logged one."""

import json
import logging
import time
from collections.abc import Mapping
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import (
    DatabaseError,
    IntegrityError,
    InterfaceError,
    OperationalError,
    models,
    transaction,
)
from django.db.backends.base.base import BaseDatabaseWrapper
from django.utils import timezone, translation

from orders import serializers
from orders.models import Discount, MerchantCoupon, PayOrder, PushLog
from parkingops.netaddr import in_networks
from parkingops.pcloud import signing
from whitelist.models import Park
from whitelist.selectors import find_valid_entry_id

logger = logging.getLogger(__name__)
# One JSON line per push on stdout (settings.LOGGING), for the log collector.
push_logger = logging.getLogger("parkingops.push")

LOG_BODY_BYTES = 64 * 1024


@dataclass(frozen=True)
class PushRequest:
    """What arrived over HTTP, before anything is trusted."""

    body: bytes
    content_type: str = ""
    authorization: str = ""
    remote_addr: str = ""
    # A replay from the push log is late by design: its signature is checked again, its
    # timestamp is not (it would always be stale once PUSH_TIMESTAMP_TOLERANCE is on).
    is_replay: bool = False


@dataclass(frozen=True)
class PushResult:
    """The answer to a push: the protocol's code and reason, and the HTTP status."""

    code: str
    reason: str
    message: str
    status: int
    order_id: int | None = None

    def as_json(self) -> dict[str, str]:
        return {"code": self.code, "reason": self.reason, "message": self.message}


# Answered by the view, before any of this, to an address over PUSH_REFUSAL_RATE.
THROTTLED = PushResult(
    "1429", "throttled", "too many refused pushes from this address, retry later", 429
)


class Refusal(Exception):
    """A push refused at one of the protocol's steps."""

    def __init__(self, code: str, reason: str, message: str, status: int) -> None:
        super().__init__(message)
        self.result = PushResult(code, reason, message, status)


def _clip(value: Any, length: int) -> str:
    """Turn a logged value into text that fits its column (NUL-free, for PostgreSQL)."""
    text = value if isinstance(value, str) else ("" if value is None else str(value))
    return text.replace("\x00", "\ufffd")[:length]


def _authenticate(payload: Mapping[str, Any], request: PushRequest, now: datetime) -> None:
    """Steps 2 to 4: the app id, the signature and (when enabled) the timestamp."""
    app_id = payload.get("app_id")
    if not isinstance(app_id, str) or not app_id or app_id != settings.PLATFORM_APP_ID:
        raise Refusal("1401", "unknown_app", "app_id is missing or unknown", 401)

    secrets = settings.PLATFORM_APP_SECRET
    sign_type = payload.get("sign_type")
    if sign_type not in (None, "") and (
        not isinstance(sign_type, str) or sign_type.upper() != "MD5"
    ):
        raise Refusal("1401", "bad_signature", "sign_type must be MD5", 401)
    signature = payload.get("sign")
    if signature not in (None, ""):
        valid = signing.verify_params(payload, signature, secrets)
    elif request.authorization:
        valid = signing.verify_body(request.body, request.authorization, secrets)
    else:
        raise Refusal("1401", "bad_signature", "the signature is missing", 401)
    if not valid:
        raise Refusal("1401", "bad_signature", "the signature does not match", 401)

    tolerance = settings.PUSH_TIMESTAMP_TOLERANCE
    if tolerance > 0 and not request.is_replay:
        stamp = payload.get("timestamp")
        try:
            sent = int(stamp) if not isinstance(stamp, bool) else None
        except (TypeError, ValueError):
            sent = None
        if sent is None or abs(now.timestamp() * 1000 - sent) > tolerance * 1000:
            raise Refusal(
                "1401",
                "stale_timestamp",
                f"timestamp is missing or more than {tolerance} s away from now",
                401,
            )


def create_order(
    data: serializers.PushData,
    *,
    entry_id: int | None,
    now: datetime,
    source: str = PayOrder.Source.PUSH,
    log: PushLog | None = None,
) -> int:
    """Store an order with its park, discounts and coupons at once, and return its id.

    ``log``, when given, is the push's log row, stored in the same write and pointing at the
    order: an accepted push costs one commit. Raises IntegrityError, having written nothing,
    when ``pay_serial`` is already stored. The park is created or takes the newest name.
    """
    park = Park(park_uuid=data.park_uuid, name=data.park_name, first_seen=now, last_seen=now)
    order = PayOrder(
        pay_serial=data.pay_serial,
        parking_serial=data.parking_serial,
        plate=data.plate,
        plate_raw=data.plate_raw,
        pay_value=data.pay_value,
        pay_time=data.pay_time,
        channel=data.channel,
        identity=data.identity,
        app_id=data.app_id,
        extra=data.extra,
        received_at=now,
        whitelist_entry_id=entry_id,
        fingerprint=data.fingerprint(),
        source=source,
    )
    discounts = [Discount(**item) for item in data.discounts]
    coupons = [MerchantCoupon(**item) for item in data.mcoupons]
    db = transaction.get_connection()  # resolved once: the proxy costs a lookup per use
    if db.vendor == "postgresql":
        return _insert_in_one_statement(db, park, order, discounts, coupons, log)
    with transaction.atomic():
        (order.park,) = Park.objects.bulk_create(
            [park],
            update_conflicts=True,
            unique_fields=["park_uuid"],
            update_fields=["name", "last_seen"],
        )
        order.save(force_insert=True)
        for child in (*discounts, *coupons):
            child.order = order
        Discount.objects.bulk_create(discounts)
        MerchantCoupon.objects.bulk_create(coupons)
        if log is not None:
            log.order = order
            log.save(force_insert=True)
    return order.pk


def _values(
    db: BaseDatabaseWrapper, obj: models.Model, *, refs: Mapping[str, str]
) -> tuple[str, str, list[Any]]:
    """Render ``obj`` for an INSERT: its columns, a VALUES tuple and the parameters.

    Foreign keys named in ``refs`` take the id returned by that CTE of the statement.
    """
    columns, values, params = [], [], []
    for field in obj._meta.concrete_fields:
        if field.primary_key:
            continue
        columns.append(db.ops.quote_name(field.column))
        if field.attname in refs:
            values.append(f"(SELECT id FROM {refs[field.attname]})")  # noqa: S608 — our CTE
        else:
            values.append("%s")
            params.append(field.get_db_prep_save(field.pre_save(obj, add=True), db))
    return ", ".join(columns), f"({', '.join(values)})", params


def _insert_in_one_statement(
    db: BaseDatabaseWrapper,
    park: Park,
    order: PayOrder,
    discounts: list[Discount],
    coupons: list[MerchantCoupon],
    log: PushLog | None,
) -> int:
    """Write an order's rows with one PostgreSQL statement of data-modifying CTEs.

    The push is the hot path: one statement instead of six (and no BEGIN/COMMIT around it)
    is what keeps its throughput near a one-row insert's (see bench/). A single statement
    is atomic by itself, so a duplicate pay_serial leaves nothing behind.
    """
    qn = db.ops.quote_name
    parts, params = [], []

    def cte(
        name: str,
        model: type[models.Model],
        rows: list[models.Model],
        tail: str = "",
        refs: Mapping[str, str] | None = None,
    ) -> None:
        rendered = [_values(db, row, refs=refs or {}) for row in rows]
        columns = rendered[0][0]
        parts.append(
            # Identifiers come from our models, every value is a parameter.
            f"{name} AS (INSERT INTO {qn(model._meta.db_table)} ({columns}) VALUES "  # noqa: S608
            f"{', '.join(values for _, values, _ in rendered)} {tail})"
        )
        for _, _, row_params in rendered:
            params.extend(row_params)

    cte(
        "park",
        Park,
        [park],
        'ON CONFLICT ("park_uuid") DO UPDATE SET "name" = EXCLUDED."name", '
        '"last_seen" = EXCLUDED."last_seen" RETURNING id',
    )
    cte("payorder", PayOrder, [order], "RETURNING id", refs={"park_id": "park"})
    if discounts:
        cte("discounts", Discount, discounts, refs={"order_id": "payorder"})
    if coupons:
        cte("mcoupons", MerchantCoupon, coupons, refs={"order_id": "payorder"})
    if log is not None:
        cte("pushlog", PushLog, [log], refs={"order_id": "payorder"})
    sql = f"WITH {', '.join(parts)} SELECT id FROM payorder"  # noqa: S608
    # Inside an outer transaction a failed statement would abort it: a savepoint contains it.
    guard = transaction.atomic() if db.in_atomic_block else nullcontext()
    with guard, db.cursor() as cursor:
        cursor.execute(sql, params)
        (order_id,) = cursor.fetchone()
    order.pk = order_id
    if log is not None:
        log.order_id = order_id
    return order_id


def _held_order(data: serializers.PushData) -> PushResult | None:
    """Answer for a pay_serial we already hold: a retry (1001) or a conflict (1409)."""
    held = (
        PayOrder.objects.filter(pay_serial=data.pay_serial)
        .values("pk", "fingerprint", "source")
        .first()
    )
    if held is None:
        return None
    if held["fingerprint"] == data.fingerprint():
        return PushResult("1001", "duplicate", "order already stored", 200, held["pk"])
    if held["source"] == PayOrder.Source.RECONCILIATION:
        # Finance created this order from the platform's payment list before the push came;
        # the list lacks the push's discounts and coupons, so the contents never match. It
        # is the same payment: acknowledge it, or the platform would push it for ever.
        return PushResult(
            "1001", "duplicate", "order already stored from reconciliation", 200, held["pk"]
        )
    return PushResult("1409", "conflict", "pay_serial already stored with different content", 409)


def _store(data: serializers.PushData, log: PushLog, started: float) -> PushResult:
    """Steps 6 and 7: the whitelist, then the order, its discounts and coupons, at once."""
    entry_id = find_valid_entry_id(plate=data.plate, park_uuid=data.park_uuid, at=data.pay_time)
    if entry_id is None:
        # An order we already hold is always acknowledged, even if its plate has since left
        # the whitelist: otherwise the platform would retry it for ever.
        held = _held_order(data)
        if held is not None and held.code == "1001":
            return held
        raise Refusal("1403", "not_whitelisted", "plate is not on a valid whitelist entry", 403)

    accepted = PushResult("1001", "accepted", "order stored", 200)
    _fill_log(log, accepted, started)
    try:
        # The log row rides in the order's write: one commit for an accepted push.
        order_id = create_order(data, entry_id=entry_id, now=log.received_at, log=log)
    except IntegrityError:
        # Another request (a platform retry arriving at the same instant, or the same push
        # again) committed this pay_serial first: the unique constraint decided, so re-read
        # and compare instead of checking beforehand, which would race.
        log.pk = log.order_id = None
        held = _held_order(data)
        if held is None:
            raise
        return held
    return PushResult(accepted.code, accepted.reason, accepted.message, 200, order_id)


def _fill_log(log: PushLog, result: PushResult, started: float) -> None:
    log.code = result.code
    log.reason = result.reason
    log.message = _clip(result.message, 500)
    log.order_id = result.order_id
    log.duration_ms = round((time.monotonic() - started) * 1000)


def _save_log(log: PushLog, result: PushResult, started: float) -> None:
    _fill_log(log, result, started)
    log.save(force_insert=True)


def receive_push(*, request: PushRequest, now: datetime | None = None) -> PushResult:
    """Verify, validate and store one push, log it, and return the protocol's answer.

    Nothing half-stored survives a refusal: the order, its discounts and coupons are written
    in one transaction, and the log row is written either inside it (accepted) or after it.
    """
    started = time.monotonic()
    now = now or timezone.now()
    log = PushLog(
        received_at=now,
        remote_addr=_clip(request.remote_addr, 64),
        content_type=_clip(request.content_type, 255),
        body=_clip(request.body[:LOG_BODY_BYTES].decode("utf-8", errors="replace"), 10**6),
        authorization=_clip(request.authorization, 255),
    )
    try:
        allowed = settings.PUSH_ALLOWED_IPS
        if allowed and not request.is_replay and not in_networks(request.remote_addr, allowed):
            raise Refusal("1403", "address_not_allowed", "source address not allowed", 403)
        try:
            payload = serializers.decode_body(request.body, request.content_type)
        except serializers.BadBody as exc:
            status = 413 if exc.too_large else 400
            raise Refusal("1400", "bad_body", str(exc), status) from None
        log.app_id = _clip(payload.get("app_id"), 64)
        log.pay_serial = _clip(payload.get("pay_serial"), 64)
        log.plate = _clip(payload.get("plate"), 64)
        _authenticate(payload, request, now)
        try:
            # The answer's message is English for the platform (PUSH_PROTOCOL.md), whatever
            # language LocaleMiddleware chose: DRF's own messages would come out in Chinese.
            with translation.override("en"):
                data = serializers.validate_push(payload, now=now)
        except serializers.InvalidField as exc:
            raise Refusal("1400", "invalid_field", str(exc)[:500], 400) from None
        log.plate = data.plate
        result = _store(data, log, started)
    except Refusal as refusal:
        result = refusal.result
    except (OperationalError, InterfaceError):
        logger.warning("push: database unavailable", exc_info=True)
        result = PushResult("1503", "unavailable", "database unavailable, retry later", 503)
    except Exception:
        logger.exception("push: unexpected error")
        result = PushResult("1500", "internal_error", "internal error, retry later", 500)

    if result.reason != "accepted":
        # An accepted push's log row was committed with its order; any other outcome (even
        # one whose order transaction failed on commit) is logged now, on its own.
        log.pk = None
        try:
            _save_log(log, result, started)
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
            if result.code != "1001":
                result = PushResult("1503", "unavailable", "database unavailable, retry later", 503)
    if push_logger.isEnabledFor(logging.INFO):
        push_logger.info(
            json.dumps(
                {
                    "time": log.received_at.isoformat(),
                    "event": "push",
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
    """Run a logged push's body again through ``receive_push``; the result is a new log row."""
    return receive_push(
        request=PushRequest(
            body=log.body.encode("utf-8"),
            content_type=log.content_type,
            authorization=log.authorization,
            remote_addr="replay",
            is_replay=True,
        ),
        now=now,
    )


def prune_push_log(*, before: datetime, batch_size: int = 10_000) -> int:
    """Delete log rows received before ``before`` that produced no order; return how many.

    Rows that point at an order are its history and stay. The delete goes in batches, each
    its own short transaction, so a large prune never holds long locks on the log.
    """
    deleted = 0
    stale = PushLog.objects.filter(received_at__lt=before, order__isnull=True)
    while True:
        ids = list(stale.values_list("pk", flat=True)[:batch_size])
        if not ids:
            return deleted
        deleted += PushLog.objects.filter(pk__in=ids).delete()[0]
