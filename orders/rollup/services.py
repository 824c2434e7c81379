"""Keeping the rollup: ``roll_up`` moves the watermark to a little before now and rebuilds the
days the orders received meanwhile were paid on, the days stays left on whose exits or pay
orders were received meanwhile (the scheduler runs it every minute).

Why not an upsert beside each insert: every push of a park on a channel would update the same
row of today, and the row's lock would serialise a park's concurrent pushes (and the push
path would carry the rollup's cost). Rebuilding from the orders instead leaves the push path
alone and heals itself: a day touched again is recomputed whole from its orders, so it never
drifts. Orders are never changed or deleted by the product (their admin is read-only); if one
is changed by hand in the database, ``roll_up(everything=True)`` rebuilds every day.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db import IntegrityError, connections, transaction
from django.db.models import Max, Min, Q
from django.db.models.functions import TruncDate

from orders.models import PayOrder
from orders.rollup.models import DailyCoupons, DailyStays, DailyTakings, RollupMark
from orders.rollup.selectors import (
    COUPON_GROUPS,
    COUPON_SUMS,
    GROUPS,
    STAY_FIELDS,
    STAY_GROUPS,
    STAY_MONEY,
    STAY_PER_ROW,
    STAY_ROW,
    STAY_SUMS,
    coupon_parts,
    grouped_sql,
    parts,
    stay_parts,
)
from orders.stays.models import Stay
from parkingops import timerange
from parkingops.db_timeouts import without_statement_timeout
from parkingops.formatting import CHINA
from parkingops.queries import in_days

# An order is rolled up once it was received this long ago: the time between stamping an
# order's received_at and committing it is a request's (gunicorn's timeout is 60 s; a
# reconciliation's created order, one short transaction), so every order received before the
# watermark is committed when the watermark passes it. Orders received after it are read
# live by the selectors, so the figures do not wait for it.
SETTLE = timedelta(minutes=2)


@dataclass(frozen=True)
class Rolled:
    """What a ``roll_up`` did: the watermark it left and the days it rebuilt."""

    received_before: datetime
    days: list[date]


def _ranges(days: list[date]) -> list[tuple[date, date]]:
    """Return the runs of consecutive days in ``days`` (sorted) as (first, last) pairs."""
    ranges: list[tuple[date, date]] = []
    for day in days:
        if ranges and day == ranges[-1][1] + timedelta(days=1):
            ranges[-1] = (ranges[-1][0], day)
        else:
            ranges.append((day, day))
    return ranges


def _insert(model, fields: tuple[str, ...], select: str, params: list, *, using: str) -> None:
    """``INSERT INTO <model's table> (<fields' columns>) <select>``."""
    quote = connections[using].ops.quote_name
    meta = model._meta
    columns = ", ".join(quote(meta.get_field(name).column) for name in fields)
    with connections[using].cursor() as cursor:
        cursor.execute(f"INSERT INTO {quote(meta.db_table)} ({columns}) {select}", params)  # noqa: S608


def _rebuild(*, date_from: date, date_to: date, received_before: datetime, using: str) -> None:
    """Replace the rollups' rows of ``date_from`` .. ``date_to`` by the sums of those days'
    orders (and their coupons) received before ``received_before``: one grouped
    INSERT … SELECT per table."""
    for model in (DailyTakings, DailyCoupons, DailyStays):
        model.objects.using(using).filter(day__gte=date_from, day__lte=date_to).delete()
    scope = in_days("pay_time", date_from=date_from, date_to=date_to)
    related = in_days("order__pay_time", date_from=date_from, date_to=date_to)
    related &= Q(order__received_at__lt=received_before)
    select, params = grouped_sql(
        parts(scope=scope & Q(received_at__lt=received_before), related_scope=related),
        by=GROUPS,
        using=using,
    )
    fields = ("day", "park", "channel", "order_count", "paid", "relief", "coupon_count")
    _insert(DailyTakings, (*fields, "coupon_value"), select, params, using=using)
    select, params = grouped_sql(
        coupon_parts(related_scope=related), by=COUPON_GROUPS, using=using, sums=COUPON_SUMS
    )
    fields = ("day", "park", "store_code", "store_name", "coupon_type", "coupon_count")
    _insert(DailyCoupons, (*fields, "value_total"), select, params, using=using)
    left = in_days("leave_time", date_from=date_from, date_to=date_to)
    select, params = grouped_sql(
        stay_parts(
            scope=left & Q(exit_received_at__lt=received_before),
            paid_before=received_before,
            sums=STAY_ROW,
        ),
        by=STAY_GROUPS,
        using=using,
        sums=(*STAY_SUMS, *STAY_MONEY),
        per_row=STAY_PER_ROW,
    )
    _insert(DailyStays, ("day", "park", *STAY_FIELDS), select, params, using=using)


def _days_touched(since: datetime, target: datetime, *, using: str) -> list[date]:
    """The China days a roll from ``since`` to ``target`` rebuilds: those of the orders
    received in between, of the exits received in between, and of the left stays those
    orders belong to."""
    received = PayOrder.objects.using(using).filter(received_at__gte=since, received_at__lt=target)
    touched = (
        received.annotate(day=TruncDate("pay_time", tzinfo=CHINA))
        .order_by("day")
        .values_list("day", flat=True)
        .distinct()
    )
    # The days stays left on, of the exits received meanwhile (an exit is written once).
    exits = (
        Stay.objects.using(using)
        .filter(exit_received_at__gte=since, exit_received_at__lt=target)
        .exclude(leave_time=None)
        .annotate(day=TruncDate("leave_time", tzinfo=CHINA))
        .order_by("day")
        .values_list("day", flat=True)
        .distinct()
    )
    # The days of the stays (already rolled up) that pay orders received meanwhile
    # belong to: their paid and gap change.
    paid_late = (
        Stay.objects.using(using)
        .filter(exit_received_at__lt=target, parking_serial__in=received.values("parking_serial"))
        .exclude(leave_time=None)
        .annotate(day=TruncDate("leave_time", tzinfo=CHINA))
        .order_by("day")
        .values_list("day", flat=True)
        .distinct()
    )
    return sorted(set(touched) | set(exits) | set(paid_late))


def _all_days(using: str) -> list[date]:
    """Every China day from the first order's or left stay's to the last one's."""
    bounds = [
        *PayOrder.objects.using(using).aggregate(Min("pay_time"), Max("pay_time")).values(),
        *Stay.objects.using(using).aggregate(Min("leave_time"), Max("leave_time")).values(),
    ]
    moments = [moment for moment in bounds if moment is not None]
    if not moments:
        return []
    first, last = (min(moments).astimezone(CHINA).date(), max(moments).astimezone(CHINA).date())
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def roll_up(*, now: datetime, everything: bool = False) -> Rolled:
    """Move the watermark to ``now − SETTLE`` and rebuild the days of the orders received
    since the last one (``everything``: every day, from the first order on).

    Two rollers never interleave: the watermark's row is locked for the whole rebuild, and
    the first roll of a database creates it (the unique id decides between two).
    """
    using = PayOrder.objects.db
    target = now - SETTLE
    # The first roll of a database that holds millions of orders adds them all up: longer
    # than a request's statement limit (the job's connection has it too).
    with without_statement_timeout(using), transaction.atomic(using=using):
        try:
            with transaction.atomic(using=using):
                RollupMark.objects.using(using).get_or_create(
                    pk=1, defaults={"received_before": timerange.EARLIEST, "rolled_at": now}
                )
        except IntegrityError:
            pass  # another roller created it at the same moment: it is there now
        mark = RollupMark.objects.using(using).select_for_update().get(pk=1)
        if target <= mark.received_before and not everything:
            return Rolled(received_before=mark.received_before, days=[])
        target = max(target, mark.received_before)
        # Every day (a repair, or seed_bulk's first roll): the days from the first to the
        # last, from four index reads; listing each order's and stay's day took 20 s at 10M.
        since = mark.received_before
        days = _all_days(using) if everything else _days_touched(since, target, using=using)
        if everything:
            # Days outside the span (their orders and stays all gone) keep no row either; a
            # range, not the days listed (up to a century of them: past SQLite's variables).
            outside = ~Q(day__gte=days[0], day__lte=days[-1]) if days else Q()
            for model in (DailyTakings, DailyCoupons, DailyStays):
                model.objects.using(using).filter(outside).delete()
        for first, last in _ranges(days):
            _rebuild(date_from=first, date_to=last, received_before=target, using=using)
        mark.received_before = target
        mark.rolled_at = now
        mark.save(update_fields=["received_before", "rolled_at"])
    return Rolled(received_before=target, days=days)
