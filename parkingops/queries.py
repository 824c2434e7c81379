"""Generic reads every app's lists use: China-time day ranges, and cheap reads on large tables.

No model of any app is named here: each function takes the model, field or queryset it works on.
"""

import json
from datetime import date, datetime, time, timedelta

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import Model, Q, QuerySet

from parkingops.formatting import CHINA

# --- Dates -----------------------------------------------------------------------------------


def day_start(day: date) -> datetime:
    """Return China-time midnight at the start of ``day``."""
    return datetime.combine(day, time.min, tzinfo=CHINA)


def in_days(field: str, *, date_from: date | None = None, date_to: date | None = None) -> Q:
    """Return the condition "``field`` on ``date_from`` .. ``date_to``", both China-time days
    inclusive, as a half-open range the column's index serves: ``field >= 00:00 of date_from``
    and ``field < 00:00 of the day after date_to``. Either end may be None (open).
    """
    condition = Q()
    if date_from is not None:
        condition &= Q(**{f"{field}__gte": day_start(date_from)})
    if date_to is not None:
        condition &= Q(**{f"{field}__lt": day_start(date_to + timedelta(days=1))})
    return condition


# --- Cheap reads on large tables -------------------------------------------------------------


def distinct_values(*, model: type[Model], field_name: str, limit: int = 200) -> list[str]:
    """Return the distinct values of an indexed column, smallest first, at most ``limit``.

    A "loose index scan": each step asks the index for the next value above the last one, so
    a million rows with ten channels cost about ten index probes, where SELECT DISTINCT would
    read every entry. Works the same on SQLite and PostgreSQL.
    """
    connection = connections[model.objects.db]
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    column = quote(model._meta.get_field(field_name).column)
    sql = (
        f"WITH RECURSIVE seen(value, depth) AS ("  # noqa: S608 (names quoted, from the model)
        f" SELECT (SELECT {column} FROM {table} ORDER BY {column} LIMIT 1), 1"
        f" UNION ALL"
        f" SELECT (SELECT {column} FROM {table} WHERE {column} > seen.value"
        f" ORDER BY {column} LIMIT 1), seen.depth + 1"
        f" FROM seen WHERE seen.value IS NOT NULL AND seen.depth < %s"
        f") SELECT value FROM seen WHERE value IS NOT NULL"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [limit])
        return [row[0] for row in cursor.fetchall()]


def estimate_count(queryset: QuerySet, *, exact_below: int = 10_000) -> int:
    """Return how many rows ``queryset`` has: exactly when that is cheap, else an estimate.

    On PostgreSQL the planner's row estimate (EXPLAIN, no table read) is used when it is at
    least ``exact_below``; smaller results, and every result on other databases, are counted.
    """
    connection = connections[queryset.db]
    if connection.vendor == "postgresql":
        try:
            sql, params = queryset.order_by().query.sql_with_params()
        except EmptyResultSet:  # .none(), or a filter that can match nothing
            return 0
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
            plan = cursor.fetchone()[0]
        if isinstance(plan, str):  # a driver that does not decode json
            plan = json.loads(plan)
        estimate = int(plan[0]["Plan"]["Plan Rows"])
        if estimate >= exact_below:
            return estimate
    return queryset.count()
