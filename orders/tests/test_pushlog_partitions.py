"""The push log partitioned by month on PostgreSQL (``orders.push.partitions``, migration 0019):
rows land in their month, months ahead are created, months past the retention are dropped whole
while pushes keep being inserted, and a table with rows is converted without copying them.
SQLite keeps its plain table and prunes in batches (test_prune_push_log.py)."""

import threading
import time
from datetime import UTC, datetime, timedelta
from io import StringIO

import psycopg
import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from orders.dashboard import selectors
from orders.models import PushLog
from orders.push import partitions
from orders.push.services import prune_push_log
from orders.selectors import pushlog as pushlog_selectors
from orders.tests.factories import PayOrderFactory

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the push log is partitioned on PostgreSQL only"
)

NOW = datetime(2026, 12, 5, 8, tzinfo=UTC)


def insert_sql(received_at: str, *, count: str = "1", reason: str = "'not_whitelisted'") -> str:
    """An INSERT of ``count`` log rows as the push does, ``received_at`` an SQL expression of
    ``n`` (1 to ``count``)."""
    return (
        "INSERT INTO orders_pushlog (received_at, kind, remote_addr, content_type, body, "  # noqa: S608 (our SQL)
        '"authorization", code, reason, message, app_id, pay_serial, plate, duration_ms, '
        f"field_path, refusal, refusal_park) SELECT {received_at}, 'pay', '', '', '', '', "
        f"'1403', {reason}, '', '', 'S' || n, 'P' || n, 0, '', '', '' "
        f"FROM generate_series(1, {count}) n"
    )


def where(row: PushLog) -> str:
    """The partition holding ``row``."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tableoid::regclass::text FROM orders_pushlog WHERE id = %s", [row.pk]
        )
        return cursor.fetchone()[0]


def log(received_at: datetime, **fields) -> PushLog:
    fields.setdefault("code", "1403")
    fields.setdefault("reason", "not_whitelisted")
    return PushLog.objects.create(received_at=received_at, **fields)


def test_sqlite_keeps_a_plain_table(db):
    if connection.vendor == "postgresql":
        assert partitions.is_partitioned()
    else:
        assert not partitions.is_partitioned()
        assert partitions.ensure_partitions() == []


def test_the_ensure_command_creates_the_months_ahead(db):
    out = StringIO()
    with translation.override("en"):
        call_command("ensure_push_log_partitions", "--ahead", "5", stdout=out)
    if connection.vendor != "postgresql":
        assert out.getvalue() == "The push log is not partitioned on this database.\n"
        return
    current = partitions.month_start(timezone.now())
    created = [partitions.month_name(partitions.add_months(current, n)) for n in (4, 5)]
    assert out.getvalue().splitlines() == ["Push-log partitions created: 2.", *created]


@postgresql_only
def test_migrate_leaves_the_current_month_and_three_ahead_and_a_default(db):
    names = [p.name for p in partitions.partitions()]
    current = partitions.month_start(timezone.now())
    months = [partitions.month_name(partitions.add_months(current, n)) for n in range(4)]
    assert names[-1] == partitions.DEFAULT
    assert set(months) <= set(names)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid "
            "AND a.attnum = ANY(i.indkey) WHERE i.indrelid = 'orders_pushlog'::regclass "
            "AND i.indisprimary ORDER BY a.attname"
        )
        assert [row[0] for row in cursor.fetchall()] == ["id", "received_at"]


@postgresql_only
def test_a_push_lands_in_its_months_partition(whitelisted, push):
    # The push's own times are far ahead; the partition key is when it was received.
    push(pay_time="4102444800000")
    row = PushLog.objects.get()
    assert row.reason == "invalid_field" and row.received_at > timezone.now() - timedelta(hours=1)
    assert where(row) == partitions.month_name(partitions.month_start(row.received_at))


@postgresql_only
def test_times_no_month_covers_go_to_the_default_partition_then_to_their_month(db):
    far_past = log(datetime(2000, 1, 2, tzinfo=UTC))
    far_future = log(datetime(2099, 12, 1, tzinfo=UTC))
    assert where(far_past) == where(far_future) == partitions.DEFAULT

    def ensure():
        return partitions.ensure_partitions(
            now=datetime(2099, 11, 15, tzinfo=UTC), ahead=2, since=datetime(2099, 12, 1, tzinfo=UTC)
        )

    created = ensure()

    assert created == ["orders_pushlog_p209912", "orders_pushlog_p210001"]
    assert where(far_future) == "orders_pushlog_p209912"
    assert where(far_past) == partitions.DEFAULT
    assert ensure() == []  # each month once


@postgresql_only
def test_prune_drops_the_months_past_the_retention_and_keeps_the_others(db):
    partitions.ensure_partitions(now=NOW, since=datetime(2025, 9, 1, tzinfo=UTC))
    order = PayOrderFactory()
    dropped = [
        log(datetime(2025, 9, 3, tzinfo=UTC)),
        log(datetime(2025, 10, 31, 23, 59, tzinfo=UTC), order=order, reason="accepted"),
    ]
    past_in_default = log(datetime(2024, 1, 1, tzinfo=UTC))
    kept = [
        log(datetime(2025, 11, 1, tzinfo=UTC), order=order, reason="accepted"),
        log(datetime(2026, 12, 1, tzinfo=UTC)),
    ]
    refusal_past_days = log(datetime(2025, 11, 2, tzinfo=UTC))

    pruned = prune_push_log(retention_months=13, now=NOW)

    assert pruned.expired_before == datetime(2025, 11, 1, tzinfo=UTC)
    assert pruned.months == 2 and pruned.expired == 3 and pruned.left == ()
    assert pruned.deleted == 1  # the refusal past the 90 days, inside the retention
    left = set(PushLog.objects.values_list("pk", flat=True))
    assert left == {row.pk for row in kept}
    assert not {row.pk for row in [*dropped, past_in_default, refusal_past_days]} & left
    names = {p.name for p in partitions.partitions()}
    assert "orders_pushlog_p202509" not in names and "orders_pushlog_p202510" not in names
    assert "orders_pushlog_p202511" in names
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('orders_pushlog_p202510')")
        assert cursor.fetchone()[0] is None  # dropped, not only detached


@postgresql_only
def test_the_command_reports_the_months_dropped(db):
    start = partitions.add_months(partitions.month_start(timezone.now()), -20)
    partitions.ensure_partitions(since=start)
    for day in range(3):
        log(start + timedelta(days=day))
    out = StringIO()
    with translation.override("en"):
        call_command("prune_push_log", "--retention-months", "13", stdout=out, stderr=StringIO())
    lines = out.getvalue().splitlines()
    assert lines[1].startswith("Removed 3 push-log rows received before ")
    assert lines[1].endswith("whole months dropped: 7.")


def _insert_pushes(stop: threading.Event, inserted: list[float], failures: list[Exception]):
    """Insert log rows, as pushes do, each waiting at most 1 s for a lock; note each wait."""
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    with psycopg.connect(**params, autocommit=True) as conn:
        conn.execute("SET lock_timeout = '1s'")
        while not stop.is_set():
            started = time.monotonic()
            try:
                conn.execute(insert_sql("now()"))
            except psycopg.Error as exc:
                failures.append(exc)
            inserted.append(time.monotonic() - started)


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_pruning_never_blocks_the_pushes_being_inserted():
    start = partitions.add_months(partitions.month_start(timezone.now()), -16)
    partitions.ensure_partitions(since=start)
    with connection.cursor() as cursor:
        for month in range(3):
            first = partitions.add_months(start, month)
            cursor.execute(insert_sql("%s + n * interval '1 second'", count="20000"), [first])
    stop, inserted, failures = threading.Event(), [], []
    thread = threading.Thread(target=_insert_pushes, args=(stop, inserted, failures))
    thread.start()
    try:
        while len(inserted) < 20:
            time.sleep(0.01)
        before = len(inserted)
        pruned = prune_push_log(retention_months=13)
        during = len(inserted) - before
    finally:
        stop.set()
        thread.join()

    assert pruned.months == 3 and pruned.expired == 60_000 and pruned.left == ()
    assert failures == []
    assert during > 0  # the pushes went on while it ran
    assert max(inserted) < 1
    assert PushLog.objects.filter(received_at__lt=pruned.expired_before).count() == 0


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_a_month_whose_drop_waits_behind_a_long_read_is_emptied_and_dropped_the_next_night():
    start = partitions.add_months(partitions.month_start(timezone.now()), -14)
    partitions.ensure_partitions(since=start)
    with connection.cursor() as cursor:
        cursor.execute(insert_sql("%s + n * interval '1 second'", count="1000"), [start])
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    stop, inserted, failures = threading.Event(), [], []
    thread = threading.Thread(target=_insert_pushes, args=(stop, inserted, failures))
    # An export reading the orders for minutes: dropping the month's table also drops its
    # foreign keys' triggers on the orders' table, which must wait for it.
    with psycopg.connect(**params) as export:
        export.execute("SELECT count(*) FROM orders_payorder")
        thread.start()
        try:
            pruned = prune_push_log(retention_months=13)
        finally:
            stop.set()
            thread.join()
    name = partitions.month_name(start)
    assert pruned.expired == 1000 and pruned.left == (name,)
    assert failures == [] and max(inserted) < 1
    assert PushLog.objects.filter(received_at__lt=pruned.expired_before).count() == 0

    again = prune_push_log(retention_months=13)

    assert again.left == () and again.expired == 0
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s)", [name])
        assert cursor.fetchone()[0] is None


# --- The conversion of a table with rows (migration 0019) ---------------------------------------

BEFORE = ("orders", "0018_stay_leave_time_covering")


def _migrate(targets):
    MigrationExecutor(connection).migrate(targets)


def _latest():
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_a_table_with_rows_is_attached_whole_and_pushes_go_on_after_it():
    _migrate([BEFORE])
    assert not partitions.is_partitioned()
    now = timezone.now()
    old = [log(now - timedelta(days=days)) for days in (0, 40, 500)]
    ahead = log(now + timedelta(days=70))  # a clock that ran ahead

    _migrate(_latest())

    assert partitions.is_partitioned()
    legacy = next(p for p in partitions.partitions() if p.name == partitions.LEGACY)
    assert legacy.start is None and legacy.end > now
    assert {where(row) for row in old} == {partitions.LEGACY}
    assert where(ahead) == partitions.month_name(partitions.month_start(ahead.received_at))
    # The ids go on after the largest; the indexes are the legacy table's own, attached.
    new = log(timezone.now())
    assert new.pk > ahead.pk
    assert where(new) in (partitions.LEGACY, partitions.month_name(partitions.month_start(now)))
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_indexes WHERE tablename = %s", [partitions.LEGACY])
        legacy_indexes = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM pg_indexes WHERE tablename = 'orders_pushlog'")
        assert legacy_indexes == cursor.fetchone()[0] == 11

    # Within its range the legacy partition is pruned row by row, then dropped whole.
    pruned = prune_push_log(retention_months=13)
    assert pruned.months == 0 and pruned.expired == 1
    assert not PushLog.objects.filter(pk=old[2].pk).exists()
    pruned = prune_push_log(retention_months=1, now=partitions.add_months(legacy.end, 1))
    assert partitions.LEGACY not in {p.name for p in partitions.partitions()}
    assert pruned.months >= 1

    # And back: a plain table with the rows.
    _migrate([BEFORE])
    assert not partitions.is_partitioned()
    assert PushLog.objects.filter(pk=ahead.pk).exists()
    _migrate(_latest())


@postgresql_only
def test_the_push_log_list_reads_the_indexes_of_its_months(db):
    partitions.ensure_partitions(since=datetime(2026, 10, 1, tzinfo=UTC), now=NOW)
    with connection.cursor() as cursor:
        refused_or_not = "CASE WHEN n %% 10 = 0 THEN 'not_whitelisted' ELSE 'accepted' END"
        cursor.execute(
            insert_sql("%s + n * interval '8 minutes'", count="5000", reason=refused_or_not),
            [datetime(2026, 10, 1, tzinfo=UTC)],
        )
        cursor.execute("ANALYZE orders_pushlog")
    day = PushLog.objects.filter(
        received_at__gte=datetime(2026, 10, 2, tzinfo=UTC),
        received_at__lt=datetime(2026, 10, 3, tzinfo=UTC),
    )
    plan = pushlog_selectors.for_list(day).order_by("-received_at", "-pk")[:100].explain()
    # The list's rows: that day's month only, through its index (the subqueries of the
    # 已修复 column look at every later month, through each one's indexes).
    assert "Index Scan Backward using orders_pushlog_p202610_received_at_reason" in plan
    assert "on orders_pushlog_p202611 orders_pushlog " not in plan
    assert "Seq Scan on orders_pushlog_p202610 orders_pushlog " not in plan
    by_serial = PushLog.objects.filter(pay_serial="S42").explain()
    assert "Index" in by_serial
    # The dashboard's pushes per hour and refused plates (orders/dashboard/selectors.py) over a
    # day: its month's time-and-reason index, no other month.
    now = datetime(2026, 10, 3, tzinfo=UTC)
    with CaptureQueriesContext(connection) as queries:
        selectors.push_figures(now=now)
        selectors.refused_plates(now=now)
    reads = [q["sql"] for q in queries.captured_queries if "orders_pushlog" in q["sql"]]
    assert len(reads) >= 2
    with connection.cursor() as cursor:
        for sql in reads:
            cursor.execute(f"EXPLAIN {sql}")
            plan = "\n".join(row[0] for row in cursor.fetchall())
            assert "orders_pushlog_p202610" in plan, plan
            assert "Seq Scan on orders_pushlog_p202610" not in plan, plan
            assert "orders_pushlog_p202611" not in plan, plan
