"""Storing a validated push once (PUSH_PROTOCOL.md, step 7): the order, its park, discounts and
coupons in one write, and telling a platform retry (1001 duplicate) from a conflict (1409).

``create_order`` is also how reconciliation stores an order the platform listed but never
pushed; the unique ``pay_serial`` decides which of two racing writes wins.
"""

from collections.abc import Mapping
from contextlib import nullcontext
from datetime import datetime
from typing import Any

from django.db import IntegrityError, models, transaction
from django.db.backends.base.base import BaseDatabaseWrapper

from orders.models import Discount, MerchantCoupon, PayOrder, PushLog
from orders.push.outcomes import Outcome, PushResult
from orders.push.validation import PushData
from whitelist.models import Park

ACCEPTED = PushResult(Outcome.ACCEPTED, "order stored")


def store_once(data: PushData, *, entry_id: int, log: PushLog) -> PushResult:
    """Store ``data`` with its filled-in log row, or answer for the order already held.

    The log row rides in the order's write: an accepted push costs one commit.
    """
    try:
        order_id = create_order(data, entry_id=entry_id, now=log.received_at, log=log)
    except IntegrityError:
        # Another request (a platform retry arriving at the same instant, or the same push
        # again) committed this pay_serial first: the unique constraint decided, so re-read
        # and compare instead of checking beforehand, which would race.
        log.pk = log.order_id = None
        held = held_order(data)
        if held is None:
            raise
        return held
    return PushResult(ACCEPTED.outcome, ACCEPTED.message, order_id)


def held_order(data: PushData) -> PushResult | None:
    """Answer for a pay_serial we already hold: a retry (duplicate) or a conflict."""
    held = (
        PayOrder.objects.filter(pay_serial=data.pay_serial)
        .values("pk", "fingerprint", "source")
        .first()
    )
    if held is None:
        return None
    if held["fingerprint"] == data.fingerprint():
        return PushResult(Outcome.DUPLICATE, "order already stored", held["pk"])
    if held["source"] == PayOrder.Source.RECONCILIATION:
        # Finance created this order from the platform's payment list before the push came;
        # the list lacks the push's discounts and coupons, so the contents never match. It
        # is the same payment: acknowledge it, or the platform would push it for ever.
        return PushResult(Outcome.DUPLICATE, "order already stored from reconciliation", held["pk"])
    return PushResult(Outcome.CONFLICT, "pay_serial already stored with different content")


def create_order(
    data: PushData,
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


class Statement:
    """One PostgreSQL statement of data-modifying CTEs, rendered from model instances.

    The push is the hot path: one statement instead of several (and no BEGIN/COMMIT around
    it) is what keeps its throughput near a one-row insert's (see bench/). A single
    statement is atomic by itself, so a failure leaves nothing behind.
    """

    def __init__(self, db: BaseDatabaseWrapper) -> None:
        self.db = db
        self.parts: list[str] = []
        self.params: list[Any] = []

    def insert(
        self,
        name: str,
        model: type[models.Model],
        rows: list[models.Model],
        tail: str = "",
        refs: Mapping[str, str] | None = None,
        only_if: str = "",
    ) -> None:
        """Add ``name AS (INSERT INTO <model's table> ... <tail>)``; foreign keys in ``refs``
        take the id of that CTE's row, and with ``only_if`` the row is inserted only when that
        CTE returned one."""
        qn = self.db.ops.quote_name
        rendered = [_values(self.db, row, refs=refs or {}) for row in rows]
        columns = rendered[0][0]
        if only_if:
            (row,) = rendered
            # Identifiers come from our models, every value is a parameter.
            source = f"SELECT {row[1][1:-1]} WHERE EXISTS (SELECT 1 FROM {only_if})"  # noqa: S608
        else:
            source = f"VALUES {', '.join(values for _, values, _ in rendered)}"
        self.parts.append(
            f"{name} AS (INSERT INTO {qn(model._meta.db_table)} ({columns}) {source} {tail})"
        )
        for _, _, row_params in rendered:
            self.params.extend(row_params)

    def add_params(self, *params: Any) -> None:
        """Append parameters used by the last ``tail`` (in their order there)."""
        self.params.extend(params)

    def run(self, result: str) -> int | None:
        """Execute the statement; return the id the CTE ``result`` returned, if any."""
        sql = f"WITH {', '.join(self.parts)} SELECT id FROM {result}"  # noqa: S608
        # Inside an outer transaction a failed statement would abort it: a savepoint contains it.
        guard = transaction.atomic() if self.db.in_atomic_block else nullcontext()
        with guard, self.db.cursor() as cursor:
            cursor.execute(sql, self.params)
            row = cursor.fetchone()
        return row[0] if row else None


# Creating the push's park, or giving it the newest name: the first CTE of every push's write.
PARK_UPSERT = (
    'ON CONFLICT ("park_uuid") DO UPDATE SET "name" = EXCLUDED."name", '
    '"last_seen" = EXCLUDED."last_seen" RETURNING id'
)


def _insert_in_one_statement(
    db: BaseDatabaseWrapper,
    park: Park,
    order: PayOrder,
    discounts: list[Discount],
    coupons: list[MerchantCoupon],
    log: PushLog | None,
) -> int:
    """Write an order's rows with one PostgreSQL statement of data-modifying CTEs."""
    statement = Statement(db)
    statement.insert("park", Park, [park], PARK_UPSERT)
    statement.insert("payorder", PayOrder, [order], "RETURNING id", refs={"park_id": "park"})
    if discounts:
        statement.insert("discounts", Discount, discounts, refs={"order_id": "payorder"})
    if coupons:
        statement.insert("mcoupons", MerchantCoupon, coupons, refs={"order_id": "payorder"})
    if log is not None:
        statement.insert("pushlog", PushLog, [log], refs={"order_id": "payorder"})
    order_id = statement.run("payorder")
    order.pk = order_id
    if log is not None:
        log.order_id = order_id
    return order_id
