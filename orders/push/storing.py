"""Storing a validated push once (PUSH_PROTOCOL.md, step 7): the order, its park, discounts and
coupons in one write, and telling a platform retry (1001 duplicate) from a conflict (1409).

``create_order`` is also how reconciliation stores an order the platform listed but never
pushed; the unique ``pay_serial`` decides which of two racing writes wins.
"""

from collections.abc import Mapping
from contextlib import nullcontext
from datetime import datetime, timedelta
from typing import Any

import psycopg
from django.db import IntegrityError, models, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.utils import CursorWrapper

from orders.models import Discount, MerchantCoupon, PayOrder, PushLog
from orders.push.outcomes import Outcome, PushResult
from orders.push.validation import PushData
from whitelist.models import Park
from whitelist.selectors import find_valid_entry_id, valid_entry_id_sql

ACCEPTED = PushResult(Outcome.ACCEPTED, "order stored")
# A park's last_seen is written again by the first push this long after it (``Statement.park``).
LAST_SEEN_EVERY = timedelta(minutes=1)


class NotWhitelisted(Exception):
    """No whitelist entry lets the push's plate in at its event's time: nothing was written."""


def valid_entry_id(data: Any, *, at: datetime) -> int:
    """Return the whitelist entry letting ``data``'s plate in at its park at ``at`` (the
    protocol's step 6), or raise NotWhitelisted: the check of a write that is not one
    PostgreSQL statement (``Statement.whitelisted`` is the one that is)."""
    entry_id = find_valid_entry_id(plate=data.plate, park_uuid=data.park_uuid, at=at)
    if entry_id is None:
        raise NotWhitelisted
    return entry_id


def store_once(data: PushData, *, at: datetime, log: PushLog) -> PushResult:
    """Store ``data`` with its filled-in log row if its plate is whitelisted at ``at`` (else
    raise NotWhitelisted), or answer for the order already held.

    The log row rides in the order's write: an accepted push costs one commit.
    """
    try:
        order_id = create_order(data, whitelisted_at=at, now=log.received_at, log=log)
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
    entry_id: int | None = None,
    whitelisted_at: datetime | None = None,
    now: datetime,
    source: str = PayOrder.Source.PUSH,
    log: PushLog | None = None,
) -> int:
    """Store an order with its park, discounts and coupons at once, and return its id.

    With ``whitelisted_at`` the order is written only if a whitelist entry lets its plate in
    at that time, and records that entry (else NotWhitelisted is raised, nothing written);
    without it, the order records ``entry_id``. ``log``, when given, is the push's log row,
    stored in the same write and pointing at the order: an accepted push costs one commit.
    Raises IntegrityError, having written nothing, when ``pay_serial`` is already stored. The
    park is created or takes the newest name.
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
        statement = Statement(db)
        if whitelisted_at is not None:
            statement.whitelisted(data, at=whitelisted_at)
        return _insert_in_one_statement(statement, park, order, discounts, coupons, log)
    if whitelisted_at is not None:
        order.whitelist_entry_id = valid_entry_id(data, at=whitelisted_at)
    with transaction.atomic():
        order.park_id = save_park(park, update=["name"])
        order.save(force_insert=True)
        for child in (*discounts, *coupons):
            child.order = order
        Discount.objects.bulk_create(discounts)
        MerchantCoupon.objects.bulk_create(coupons)
        if log is not None:
            log.order = order
            log.save(force_insert=True)
    return order.pk


def save_park(park: Park, *, update: list[str]) -> int:
    """Return the id of the push's park: the park as held when it has ``park``'s values of
    ``update`` and was last seen within ``LAST_SEEN_EVERY``, else created, or updated with
    those values and ``last_seen`` — ``Statement.park``'s rule, for writes of several
    statements (SQLite)."""
    held = (
        Park.objects.filter(
            park_uuid=park.park_uuid,
            last_seen__gte=park.last_seen - LAST_SEEN_EVERY,
            **{name: getattr(park, name) for name in update},
        )
        .values_list("pk", flat=True)
        .first()
    )
    if held is not None:
        return held
    (park,) = Park.objects.bulk_create(
        [park],
        update_conflicts=True,
        unique_fields=["park_uuid"],
        update_fields=[*update, "last_seen"],
    )
    return park.pk


# (vendor, model, refs) -> the columns, the VALUES tuple and the fields giving its parameters:
# the same for every row of a kind, so worked out once (``_values``).
_LAYOUTS: dict[tuple[str, type[models.Model], frozenset], tuple[str, str, list]] = {}


def _layout(
    db: BaseDatabaseWrapper, model: type[models.Model], refs: Mapping[str, str]
) -> tuple[str, str, list[models.Field]]:
    key = (db.vendor, model, frozenset(refs.items()))
    layout = _LAYOUTS.get(key)
    if layout is None:
        columns, values, fields = [], [], []
        for field in model._meta.concrete_fields:
            if field.primary_key:
                continue
            columns.append(db.ops.quote_name(field.column))
            if field.attname in refs:
                values.append(f"(SELECT id FROM {refs[field.attname]})")  # noqa: S608 — our CTE
            else:
                values.append("%s")
                fields.append(field)
        layout = _LAYOUTS[key] = (", ".join(columns), f"({', '.join(values)})", fields)
    return layout


def _values(
    db: BaseDatabaseWrapper, obj: models.Model, *, refs: Mapping[str, str]
) -> tuple[str, str, list[Any]]:
    """Render ``obj`` for an INSERT: its columns, a VALUES tuple and the parameters.

    Foreign keys named in ``refs`` take the id returned by that CTE of the statement.
    """
    columns, values, fields = _layout(db, type(obj), refs)
    params = [field.get_db_prep_save(field.pre_save(obj, add=True), db) for field in fields]
    return columns, values, params


def _bound_cursor(db: BaseDatabaseWrapper) -> CursorWrapper:
    """A cursor of ``db`` (PostgreSQL) that sends a statement's parameters apart from its
    text (psycopg's server-side binding, what Django's ``server_side_binding`` option does
    for every query), wrapped like ``db.cursor()``'s, after the same health check.

    Only such a statement can be prepared: the connection prepares it from its fifth run
    (``prepare_threshold``, settings' DATABASE_PREPARED_STATEMENTS), and PostgreSQL plans the
    push's statement once instead of on every push — 0.34 ms of backend CPU a statement
    instead of 0.81 (``bench/push_statement.py``; Django's default, client-side binding,
    writes every value into the text and is never prepared)."""
    db.close_if_health_check_failed()
    db.ensure_connection()
    with db.wrap_database_errors:
        cursor = psycopg.Cursor(db.connection)
    return db.make_debug_cursor(cursor) if db.queries_logged else db.make_cursor(cursor)


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
        self.checks_whitelist = False

    def whitelisted(self, data: Any, *, at: datetime) -> None:
        """Make the statement write only if a whitelist entry lets ``data``'s plate in at its
        park at ``at`` (the protocol's step 6): its first CTE, ``entry``, looks the entry up
        (``whitelist.selectors``'s query); the first insert is made ``only_if`` it found one,
        each next one only if the one before wrote its row, and ``run`` raises NotWhitelisted
        when there is none.

        Checked in the write itself: one round trip less per push, and no moment between the
        check and the write in which the entry could change.
        """
        sql, params = valid_entry_id_sql(plate=data.plate, park_uuid=data.park_uuid, at=at)
        self.parts.append(f"entry AS (SELECT pk AS id FROM ({sql}) AS found)")  # noqa: S608
        self.params.extend(params)
        self.checks_whitelist = True

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
        CTE returned one (several rows are then a CTE each, ``name`` numbered, returning their
        ids: a VALUES list cannot be made conditional)."""
        qn = self.db.ops.quote_name
        rendered = [_values(self.db, row, refs=refs or {}) for row in rows]
        columns = rendered[0][0]
        table = qn(model._meta.db_table)
        if only_if and len(rows) > 1:
            # Each row waits for the one before (so the ids keep the rows' order, as a VALUES
            # list's do): the first for ``only_if``, each next for the row before it.
            for n, (_, values, _) in enumerate(rendered):
                # Identifiers come from our models, every value is a parameter.
                source = f"SELECT {values[1:-1]} WHERE EXISTS (SELECT 1 FROM {only_if})"  # noqa: S608
                only_if = f"{name}{n}"
                self.parts.append(
                    f"{only_if} AS (INSERT INTO {table} ({columns}) {source} {tail} RETURNING id)"
                )
        elif only_if:
            (values,) = (values for _, values, _ in rendered)
            source = f"SELECT {values[1:-1]} WHERE EXISTS (SELECT 1 FROM {only_if})"  # noqa: S608
            self.parts.append(f"{name} AS (INSERT INTO {table} ({columns}) {source} {tail})")
        else:
            source = f"VALUES {', '.join(values for _, values, _ in rendered)}"
            self.parts.append(f"{name} AS (INSERT INTO {table} ({columns}) {source} {tail})")
        for _, _, row_params in rendered:
            self.params.extend(row_params)

    def park(self, park: Park, *, update: list[str]) -> None:
        """Add the push's park as the CTE ``park`` (its id), only if the whitelist check (when
        the statement makes one) found an entry: the park as held when it has ``park``'s
        values of ``update`` and was last seen within ``LAST_SEEN_EVERY``; else created, or
        updated with those values and ``last_seen`` (``ON CONFLICT`` on its uuid).

        Read, not written, for most pushes: a write would lock the park's row until the push
        commits, and each next push of the park would wait for it (they share the row, so
        one park's pushes would be stored one at a time)."""
        qn = self.db.ops.quote_name
        meta = Park._meta
        held = [meta.get_field("park_uuid"), *(meta.get_field(name) for name in update)]
        seen = meta.get_field("last_seen")
        matches = [f"{qn(field.column)} = %s" for field in held]
        found = "EXISTS (SELECT 1 FROM entry)" if self.checks_whitelist else "TRUE"
        self.parts.append(
            f"park_held AS (SELECT id FROM {qn(meta.db_table)} "  # noqa: S608
            f"WHERE {' AND '.join(matches)} AND {qn(seen.column)} >= %s AND {found})"
        )
        self.params.extend(
            field.get_db_prep_value(getattr(park, field.attname), self.db) for field in held
        )
        self.params.append(seen.get_db_prep_value(park.last_seen - LAST_SEEN_EVERY, self.db))
        self.parts.append(
            f"park_missing AS (SELECT 1 WHERE {found} AND NOT EXISTS (SELECT 1 FROM park_held))"  # noqa: S608
        )
        sets = ", ".join(f"{qn(name)} = EXCLUDED.{qn(name)}" for name in (*update, "last_seen"))
        tail = f'ON CONFLICT ("park_uuid") DO UPDATE SET {sets} RETURNING id'
        self.insert("park_new", Park, [park], tail, only_if="park_missing")
        self.parts.append("park AS (SELECT id FROM park_held UNION ALL SELECT id FROM park_new)")

    def add_params(self, *params: Any) -> None:
        """Append parameters used by the last ``tail`` (in their order there)."""
        self.params.extend(params)

    def run(self, result: str) -> int | None:
        """Execute the statement; return the id the CTE ``result`` returned, if any. Raise
        NotWhitelisted, having written nothing, when a ``whitelisted`` statement found no
        entry."""
        entry = "(SELECT id FROM entry)" if self.checks_whitelist else "0"
        sql = f"WITH {', '.join(self.parts)} SELECT {entry}, (SELECT id FROM {result})"  # noqa: S608
        # Inside an outer transaction a failed statement would abort it: a savepoint contains it.
        atomic = transaction.atomic() if self.db.in_atomic_block else nullcontext()
        with atomic, _bound_cursor(self.db) as cursor:
            cursor.execute(sql, self.params)
            entry_id, result_id = cursor.fetchone()
        if entry_id is None:
            raise NotWhitelisted
        return result_id


def _insert_in_one_statement(
    statement: Statement,
    park: Park,
    order: PayOrder,
    discounts: list[Discount],
    coupons: list[MerchantCoupon],
    log: PushLog | None,
) -> int:
    """Write an order's rows with one PostgreSQL statement of data-modifying CTEs (only if the
    whitelist lets the order in, when the statement is ``whitelisted``)."""
    # When the statement checks the whitelist, each row waits for the one it hangs on.
    check = statement.checks_whitelist
    statement.park(park, update=["name"])
    order_refs = {"park_id": "park", **({"whitelist_entry_id": "entry"} if check else {})}
    statement.insert(
        "payorder", PayOrder, [order], "RETURNING id", order_refs, "park" if check else ""
    )
    children = {"refs": {"order_id": "payorder"}, "only_if": "payorder" if check else ""}
    if discounts:
        statement.insert("discounts", Discount, discounts, **children)
    if coupons:
        statement.insert("mcoupons", MerchantCoupon, coupons, **children)
    if log is not None:
        statement.insert("pushlog", PushLog, [log], **children)
    order_id = statement.run("payorder")
    order.pk = order_id
    if log is not None:
        log.order_id = order_id
    return order_id
