"""The push log's monthly partitions on PostgreSQL (docs/deployment.md#the-push-log).

On PostgreSQL ``orders_pushlog`` is partitioned by range of ``received_at``, one partition a
calendar month in UTC (``orders_pushlog_p202612`` holds [2026-12-01 00:00 UTC, 2027-01-01
00:00 UTC)), plus ``orders_pushlog_default`` for a time no month covers and, on a database
converted with rows in it (migration ``0019``), ``orders_pushlog_legacy``: the table as it was,
attached whole for every time before its upper bound. SQLite keeps a plain table; everything
here answers "not partitioned" there.

Every change takes its locks under a short ``lock_timeout`` and is tried again a few times:
a statement waiting for a lock makes every later one on the same table wait behind it, so a
push never queues behind this code for longer than ``LOCK_TIMEOUT_MS``. New months are attached
(``ATTACH PARTITION`` locks the parent only against other schema changes, never against
inserts); old ones are emptied with ``TRUNCATE`` (their own lock only), then detached and
dropped (``DETACH ... CONCURRENTLY`` is refused on a table with a default partition, so a plain
detach: a catalog change of milliseconds).
"""

import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from django.db import OperationalError, connection, transaction
from django.utils import timezone

logger = logging.getLogger("parkingops.pushlog")

TABLE = "orders_pushlog"
DEFAULT = f"{TABLE}_default"
LEGACY = f"{TABLE}_legacy"
MONTH = re.compile(rf"^{TABLE}_p(\d{{4}})(\d{{2}})$")
# Months created ahead of the current one: the daily schedule may miss a few days.
AHEAD_MONTHS = 3
LOCK_TIMEOUT_MS = 200
ATTEMPTS = 5
# Any number: ensure_partitions holds it so two runs (a deployment's migrate and the nightly
# schedule) never create the same month.
ADVISORY_LOCK = 4_711_001


@dataclass(frozen=True)
class Partition:
    """One partition: ``start`` None for MINVALUE, ``end`` None for the default partition."""

    name: str
    start: datetime | None
    end: datetime | None

    @property
    def is_month(self) -> bool:
        return bool(MONTH.match(self.name))


def month_start(moment: datetime) -> datetime:
    """The first instant of ``moment``'s month in UTC."""
    moment = moment.astimezone(UTC)
    return datetime(moment.year, moment.month, 1, tzinfo=UTC)


def add_months(start: datetime, months: int) -> datetime:
    """``start`` (a month's first instant) moved by ``months`` whole months."""
    index = start.year * 12 + start.month - 1 + months
    return datetime(index // 12, index % 12 + 1, 1, tzinfo=UTC)


def month_name(start: datetime) -> str:
    return f"{TABLE}_p{start:%Y%m}"


def is_partitioned() -> bool:
    """Whether the push log is a partitioned table (PostgreSQL after migration 0019)."""
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM pg_partitioned_table WHERE partrelid = to_regclass(%s)", [TABLE]
        )
        return cursor.fetchone() is not None


def _bound(text: str) -> datetime | None:
    return None if text == "MINVALUE" else datetime.fromisoformat(text.strip("'"))


def partitions() -> list[Partition]:
    """The push log's partitions, oldest first, the default last."""
    with connection.cursor() as cursor:
        # The bounds are printed in the session's time zone: UTC, as Django sets it.
        cursor.execute(
            "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i "
            "JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = to_regclass(%s)",
            [TABLE],
        )
        rows = cursor.fetchall()
    found = []
    for name, bound in rows:
        match = re.match(r"FOR VALUES FROM \((.+)\) TO \((.+)\)", bound)
        if match:
            found.append(Partition(name, _bound(match[1]), _bound(match[2])))
        else:
            found.append(Partition(name, None, None))  # DEFAULT
    oldest = datetime.min.replace(tzinfo=UTC)
    return sorted(found, key=lambda p: (p.end is None, p.start or oldest))


def _with_lock_timeout(work: Callable[[], None]) -> bool:
    """Run ``work`` in a transaction whose locks wait at most LOCK_TIMEOUT_MS; try again a few
    times when a lock was not granted. Return whether it was done."""
    for attempt in range(ATTEMPTS):
        try:
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute(f"SET LOCAL lock_timeout = {LOCK_TIMEOUT_MS}")
                work()
            return True
        except OperationalError as exc:
            if getattr(exc.__cause__, "sqlstate", None) != "55P03":  # lock_not_available
                raise
            logger.info("Push log partitions: a lock was busy (attempt %d)", attempt + 1)
            time.sleep(0.1 * 2**attempt)
    return False


def _create_month(start: datetime, created: list[str]) -> None:
    end = add_months(start, 1)
    name = month_name(start)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [ADVISORY_LOCK])
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [name])
        if cursor.fetchone()[0]:
            return  # another run created it since we looked
        # A standalone table attached afterwards: ATTACH locks the parent only against other
        # schema changes (CREATE TABLE ... PARTITION OF would lock out every insert).
        cursor.execute(
            f'CREATE TABLE "{name}" (LIKE "{TABLE}" INCLUDING DEFAULTS INCLUDING CONSTRAINTS)'
        )
        # Rows the default partition took for this month (a clock far ahead, or the schedule
        # stopped for months) move into it: the attach refuses while they are there.
        cursor.execute(f'LOCK TABLE "{DEFAULT}" IN ACCESS EXCLUSIVE MODE')
        move = (
            f'WITH moved AS (DELETE FROM "{DEFAULT}" WHERE received_at >= %s '  # noqa: S608 (our names)
            f'AND received_at < %s RETURNING *) INSERT INTO "{name}" SELECT * FROM moved'
        )
        cursor.execute(move, [start, end])
        cursor.execute(
            f'ALTER TABLE "{TABLE}" ATTACH PARTITION "{name}" FOR VALUES FROM (%s) TO (%s)',
            [start.isoformat(), end.isoformat()],
        )
    created.append(name)
    logger.info("Push log: created partition %s", name)


def ensure_partitions(
    *, now: datetime | None = None, ahead: int = AHEAD_MONTHS, since: datetime | None = None
) -> list[str]:
    """Create the months from ``since`` (default: the current one) to ``ahead`` months after
    the current one that no partition covers yet; return the names created.

    A month inside the legacy partition's range is covered already and is not created.
    """
    if not is_partitioned():
        return []
    current = month_start(now or timezone.now())
    start = month_start(since) if since else current
    existing = partitions()
    covered_until = max((p.end for p in existing if not p.is_month and p.end), default=None)
    names = {p.name for p in existing}
    created = []
    while start <= add_months(current, ahead):
        name = month_name(start)
        if name not in names and (covered_until is None or start >= covered_until):
            done = []
            if _with_lock_timeout(lambda start=start, done=done: _create_month(start, done)):
                created += done
            else:
                logger.warning("Push log: %s not created, its locks stayed busy", name)
        start = add_months(start, 1)
    return created


@dataclass(frozen=True)
class Dropped:
    """What ``drop_before`` did: ``rows`` in the ``months`` partitions emptied; ``left`` the
    tables emptied but still to be detached or dropped (the next prune finishes them)."""

    months: list[str]
    rows: int
    left: list[str]


def drop_before(before: datetime, *, on_rows: Callable[[int], None] = lambda n: None) -> Dropped:
    """Empty, detach and drop each partition wholly before ``before`` (the legacy one too
    once its upper bound is reached); the default partition is never dropped."""
    months, rows, left = [], 0, []
    # Tables an earlier prune emptied and detached but could not drop (its locks stayed busy).
    for name in _detached():
        if not _detach_and_drop(name):
            left.append(name)
    for partition in partitions():
        if partition.end is None or partition.end > before:
            continue
        counted = []

        def empty(name=partition.name, counted=counted):
            with connection.cursor() as cursor:
                # The rows are counted under the same lock that empties them: exact.
                # TRUNCATE refuses a table with foreign-key checks still pending in the
                # transaction (rows written earlier in it); there are none in a prune's own.
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                cursor.execute(f'LOCK TABLE "{name}" IN ACCESS EXCLUSIVE MODE')
                cursor.execute(f'SELECT count(*) FROM "{name}"')  # noqa: S608 (our name)
                counted.append(cursor.fetchone()[0])
                cursor.execute(f'TRUNCATE "{name}"')

        if not _with_lock_timeout(empty):
            logger.warning("Push log: %s kept, its lock stayed busy", partition.name)
            left.append(partition.name)
            continue
        rows += counted[0]
        on_rows(counted[0])
        months.append(partition.name)
        if not _detach_and_drop(partition.name):
            left.append(partition.name)
    return Dropped(months=months, rows=rows, left=left)


def _detach_and_drop(name: str) -> bool:
    def detach():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT 1 FROM pg_inherits WHERE inhrelid = to_regclass(%s) "
                "AND inhparent = to_regclass(%s)",
                [name, TABLE],
            )
            if cursor.fetchone():
                cursor.execute(f'ALTER TABLE "{TABLE}" DETACH PARTITION "{name}"')

    def drop():
        with connection.cursor() as cursor:
            # Its foreign keys' triggers on the orders' tables go with it (a short lock on
            # each): under the lock timeout, so an export reading them delays only this.
            cursor.execute(f'DROP TABLE IF EXISTS "{name}"')

    done = _with_lock_timeout(detach) and _with_lock_timeout(drop)
    if not done:
        logger.warning("Push log: %s emptied but not yet dropped, its locks stayed busy", name)
    return done


def _detached() -> list[str]:
    """Month and legacy tables no longer attached to the push log."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = current_schema() AND c.relkind = 'r' "
            "AND (c.relname ~ %s OR c.relname = %s) "
            "AND NOT EXISTS (SELECT 1 FROM pg_inherits i WHERE i.inhrelid = c.oid)",
            [MONTH.pattern, LEGACY],
        )
        return [row[0] for row in cursor.fetchall()]
