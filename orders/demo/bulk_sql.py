# ruff: noqa: S608 — the statements hold numbers and texts of the command's own, quoted.
"""seed_bulk on PostgreSQL: every table filled by one ``INSERT … SELECT generate_series``
statement, computed in the server, so ten million orders never pass through Python.

While the rows go in, the tables' secondary indexes and foreign keys are set aside and built
again afterwards (one sorted build per index instead of ten million random insertions, one
join per foreign key instead of a trigger per row), all in the caller's transaction: a failure
leaves the schema as it was. The primary keys, unique and check constraints stay.

Every figure a row needs comes from its number ``n`` (0 to orders − 1) and ``random()`` after
``setseed``, so the dataset is the same for the same seed; ids are given (``first_id + n``),
so the children refer to their orders without reading them back. Orders are paid in time
order, as a real table fills (a day's orders lie together).
"""

from dataclasses import dataclass

from orders.push.outcomes import Outcome

# The tables seed_bulk fills, whose indexes and foreign keys are set aside meanwhile.
TABLES = (
    "orders_payorder",
    "orders_discount",
    "orders_merchantcoupon",
    "orders_stay",
    "orders_renewal",
    "orders_pushlog",
)


@dataclass(frozen=True)
class Plan:
    """What to build: the counts, the span and where the ids start."""

    orders: int
    pushlog_per_order: int
    stay_share: float
    renewals: int
    days: int
    seed: float  # setseed's argument, in [-1, 1]
    first_order: int
    first_stay: int
    park_ids: list[int]
    entry_ids: list[int]
    channels: list[str]
    stores: list[tuple[str, str]]
    app_id: str
    serial_prefix: str


def _array(values: list) -> str:
    return "(ARRAY[" + ", ".join(str(value) for value in values) + "]::bigint[])"


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _texts(values: list[str]) -> str:
    return "(ARRAY[" + ", ".join(_quote(value) for value in values) + "]::text[])"


def _pick(array: str, length: int) -> str:
    """An element of ``array`` chosen by ``random()``."""
    return f"({array})[1 + floor(random() * {length})::int]"


def set_aside(cursor) -> list[str]:
    """Drop the secondary indexes and foreign keys of TABLES; return the statements that
    create them again."""
    cursor.execute(
        """
        SELECT 'ALTER TABLE ' || c.conrelid::regclass || ' ADD CONSTRAINT '
               || quote_ident(c.conname) || ' ' || pg_get_constraintdef(c.oid),
               'ALTER TABLE ' || c.conrelid::regclass || ' DROP CONSTRAINT '
               || quote_ident(c.conname)
        FROM pg_constraint c
        WHERE c.contype = 'f' AND c.conrelid = ANY(%s::regclass[])
        """,
        [list(TABLES)],
    )
    foreign_keys = cursor.fetchall()
    # Partitioned tables' indexes are defined "ON ONLY" the parent: built again on the
    # parent, they cover every partition.
    cursor.execute(
        """
        SELECT replace(pg_get_indexdef(i.indexrelid), ' ON ONLY ', ' ON '),
               'DROP INDEX ' || i.indexrelid::regclass
        FROM pg_index i
        WHERE i.indrelid = ANY(%s::regclass[])
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
        """,
        [list(TABLES)],
    )
    indexes = cursor.fetchall()
    for _create, drop in foreign_keys + indexes:
        cursor.execute(drop)
    return [create for create, _drop in indexes + foreign_keys]


def statements(plan: Plan) -> list[tuple[str, str]]:
    """Return (table, statement) pairs filling every table, in order (children after their
    parents)."""
    n_orders = plan.orders
    parks = _array(plan.park_ids)
    entries = _array(plan.entry_ids)
    channels = _texts(plan.channels)
    span = plan.days * 86400
    # Orders are paid oldest first over the span, ending now; a stay is kept for the orders
    # whose number falls in the share (a fixed hash of n, so the push log knows it too).
    has_stay = f"(mod(n * 2654435761, 1000) < {round(plan.stay_share * 1000)})"
    # The plate comes with its entry (a join on the entry's id: a subscript of a long text
    # array walks it element by element, one of integers is direct).
    orders = f"""
        INSERT INTO orders_payorder (id, pay_serial, parking_serial, park_id, plate, plate_raw,
            pay_value, pay_time, channel, identity, app_id, extra, received_at,
            whitelist_entry_id, fingerprint, source)
        SELECT {plan.first_order} + n, {_quote(plan.serial_prefix)} || lpad(n::text, 20, '0'),
            (100000000000000000 + n)::text, {_pick(parks, len(plan.park_ids))},
            w.plate, w.plate,
            (ARRAY[300, 500, 800, 1000, 1500, 2000, 3000, 5000, 8000])[1 + floor(r * 9)::int],
            paid, {_pick(channels, len(plan.channels))}, '', {_quote(plan.app_id)}, '{{}}',
            paid + interval '1 second', w.id, lpad(to_hex(n), 64, '0'), 'push'
        FROM (
            SELECT n, {entries}[1 + floor(random() * {len(plan.entry_ids)})::int] AS entry,
                random() AS r,
                now() - interval '1 minute'
                    - ({n_orders} - n - random()) * {span / n_orders} * interval '1 second'
                    AS paid
            FROM generate_series(0, {n_orders - 1}) AS n
        ) AS drawn
        JOIN whitelist_whitelistentry AS w ON w.id = drawn.entry
    """
    discounts = f"""
        INSERT INTO orders_discount (order_id, type, token, openid, mobile, relief_amount,
            relief_value, extra)
        SELECT {plan.first_order} + n, '1', '', '',
            '1' || (3 + floor(random() * 7))::int || lpad(floor(random() * 1e9)::text, 9, '0'),
            1, (ARRAY[200, 500, 1000])[1 + floor(random() * 3)::int], '{{}}'
        FROM generate_series(0, {n_orders - 1}) AS n
        WHERE random() < 0.3
    """
    stores = plan.stores
    coupons = f"""
        INSERT INTO orders_merchantcoupon (order_id, coupon_name, coupon_code, store_name,
            store_code, coupon_type, coupon_value, grant_time_raw, grant_serial, extra)
        SELECT {plan.first_order} + n, '停车券', 'C' || lpad(n::text, 9, '0'),
            {_texts([name for _code, name in stores])}[s],
            {_texts([code for code, _name in stores])}[s],
            (ARRAY[1, 1, 1, 2, 3, 6])[1 + floor(random() * 6)::int],
            (ARRAY[500, 1000, 1500])[1 + floor(random() * 3)::int], '',
            'G' || lpad(n::text, 9, '0'), '{{}}'
        FROM (
            SELECT n, 1 + floor(random() * {len(stores)})::int AS s
            FROM generate_series(0, {n_orders - 1}) AS n
        ) AS drawn
        WHERE random() < 0.25
    """
    # A stay around its order: entered 20 min to 5 h before paying, left 5 min after with its
    # length pushed; the last 2 hours' cars are still in the park.
    minutes = "(mod(o.id, 280) + 20)"
    left = (
        "CASE WHEN o.pay_time > now() - interval '2 hours' THEN NULL "
        "ELSE o.pay_time + interval '5 minutes' END"
    )
    stays = f"""
        INSERT INTO orders_stay (id, parking_serial, park_id, plate, plate_raw, app_id,
            enter_time, car_desc, enter_gate, enter_security, enter_image, leave_time,
            parking_time, total_value, free_value, autopay_value, leave_gate, leave_security,
            leave_image, needs_review, entry_extra, exit_extra, entry_received_at,
            exit_received_at, entry_fingerprint, exit_fingerprint, updated_at)
        SELECT {plan.first_stay} + n, o.parking_serial, o.park_id, o.plate, o.plate,
            {_quote(plan.app_id)}, o.pay_time - {minutes} * interval '1 minute', '', '', '',
            '', {left}, CASE WHEN {left} IS NULL THEN NULL ELSE ({minutes} + 5) * 60 END,
            CASE WHEN {left} IS NULL THEN NULL ELSE o.pay_value END, 0, 0, '', '', '', false,
            '{{}}', '{{}}', o.pay_time - {minutes} * interval '1 minute', {left}, '', '',
            COALESCE({left}, o.pay_time - {minutes} * interval '1 minute')
        FROM (SELECT *, id - {plan.first_order} AS n FROM orders_payorder
              WHERE id >= {plan.first_order}) AS o
        WHERE {has_stay}
    """
    renewals = f"""
        INSERT INTO orders_renewal (pay_serial, park_id, plate, plate_raw, vip_type, quantity,
            start_time, end_time, pay_value, pay_time, channel, identity, app_id, raw, extra,
            received_at, fingerprint, whitelist_entry_id)
        SELECT 'BULKR' || lpad(n::text, 15, '0'), {_pick(parks, len(plan.park_ids))},
            w.plate, w.plate, 1, 1, paid, paid + interval '30 days', 30000, paid,
            {_pick(channels, len(plan.channels))}, '', {_quote(plan.app_id)}, '{{}}', '{{}}',
            paid + interval '1 second', lpad(to_hex(n), 64, '0'), w.id
        FROM (
            SELECT n, {entries}[1 + floor(random() * {len(plan.entry_ids)})::int] AS entry,
                now() - interval '1 minute'
                    - ({plan.renewals} - n - random()) * {span / max(plan.renewals, 1)}
                    * interval '1 second' AS paid
            FROM generate_series(0, {plan.renewals - 1}) AS n
        ) AS drawn
        JOIN whitelist_whitelistentry AS w ON w.id = drawn.entry
    """
    return [
        ("orders_payorder", orders),
        ("orders_discount", discounts),
        ("orders_merchantcoupon", coupons),
        ("orders_stay", stays),
        ("orders_renewal", renewals),
        ("orders_pushlog", _push_log(plan, has_stay)),
    ]


def _push_log(plan: Plan, has_stay: str) -> str:
    """The push log: ``pushlog_per_order`` rows per order, oldest first. The first is the
    order's accepted pay push; for an order with a stay the next two are its entry and exit
    pushes (accepted, at those times); the rest are a mix of what a real log holds beside:
    duplicates (the platform's retries) and refusals of 5,000 plates."""
    minutes = "(mod(o.id, 280) + 20)"
    entered = f"o.pay_time - {minutes} * interval '1 minute'"
    left = "o.pay_time + interval '5 minutes'"
    stay_row = (
        f"({has_stay} AND j BETWEEN 1 AND 2 "
        "AND (j = 1 OR o.pay_time <= now() - interval '2 hours'))"
    )
    accepted, duplicate = Outcome.ACCEPTED.value, Outcome.DUPLICATE.value
    refused, invalid = Outcome.NOT_WHITELISTED.value, Outcome.INVALID_FIELD.value
    # For the rows that are neither the pay push nor a stay's: 30 % duplicates, the rest
    # refusals (5 in 7 not whitelisted, 2 in 7 invalid).
    other = (
        f"CASE WHEN r < 0.3 THEN '{duplicate}' WHEN r < 0.8 THEN '{refused}' ELSE '{invalid}' END"
    )
    reason = f"CASE WHEN j = 0 THEN '{accepted}' WHEN {stay_row} THEN '{accepted}' ELSE {other} END"
    code = (
        f"CASE WHEN j = 0 OR {stay_row} OR r < 0.3 THEN '1001' WHEN r < 0.8 THEN '1403' "
        "ELSE '1400' END"
    )
    kind = (
        f"CASE WHEN {stay_row} THEN (CASE WHEN j = 1 THEN 'entry' ELSE 'exit' END) ELSE 'pay' END"
    )
    received = (
        f"CASE WHEN {stay_row} THEN (CASE WHEN j = 1 THEN {entered} ELSE {left} END) "
        "ELSE o.received_at + j * interval '7 seconds' END"
    )
    own_order = f"(j = 0 OR (NOT {stay_row} AND r < 0.3))"
    return f"""
        INSERT INTO orders_pushlog (received_at, remote_addr, content_type, body,
            "authorization", code, reason, message, app_id, pay_serial, plate, order_id,
            stay_id, duration_ms, field_path, refusal, refusal_park, kind)
        SELECT {received}, '10.0.0.1', 'application/x-www-form-urlencoded', '', '',
            {code}, {reason}, '', {_quote(plan.app_id)},
            CASE WHEN {stay_row} THEN '' ELSE o.pay_serial END,
            CASE WHEN {own_order} OR {stay_row} THEN o.plate
                 ELSE '川A' || lpad(mod(o.id, 5000)::text, 5, '0') END,
            CASE WHEN {own_order} THEN o.id END,
            CASE WHEN {stay_row} THEN {plan.first_stay} + o.n END,
            3, '', '', '', {kind}
        FROM (SELECT *, id - {plan.first_order} AS n FROM orders_payorder
              WHERE id >= {plan.first_order}) AS o
        CROSS JOIN LATERAL (
            SELECT j, random() + 0 * o.id AS r
            FROM generate_series(0, {plan.pushlog_per_order - 1}) AS j
        ) AS logged
    """
