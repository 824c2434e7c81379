"""The daily summary's reads (the admin page, its files, the API): its days, then per China-time
day × park × channel the orders, amount paid, discount relief and coupons, with subtotals per day
and per park, the total and the pivot.

Re-exported by ``orders.selectors``, where callers find it.
"""

from dataclasses import dataclass, field
from datetime import UTC, date, timedelta

from django.core.exceptions import ValidationError
from django.utils.translation import gettext

from orders import channels
from orders.rollup.selectors import takings
from parkingops.db_routers import on_replica
from parkingops.queries import day_start
from whitelist.models import Park

# The daily summary's days (the admin page and the API): the last 7 by default, 366 at most.
SUMMARY_DEFAULT_DAYS = 7
SUMMARY_MAX_DAYS = 366


class SummaryRangeError(ValidationError):
    """The days asked for break the daily summary's limits.

    ``date_from`` and ``date_to`` are the days as understood, defaults filled in (None when a
    default cannot be computed), for a form to show them again.
    """

    def __init__(self, message: str, *, date_from: date | None, date_to: date) -> None:
        super().__init__(message)
        self.date_from = date_from
        self.date_to = date_to


def _out_of_calendar(*, date_from: date | None, date_to: date) -> SummaryRangeError:
    return SummaryRangeError(
        gettext("Choose days between the years 1 and 9999."), date_from=date_from, date_to=date_to
    )


def summary_range(
    *, date_from: date | None, date_to: date | None, today: date
) -> tuple[date, date]:
    """Return the daily summary's first and last day, defaults filled in, or raise
    SummaryRangeError with the reason.

    Without days: the last 7, ``today`` included; with only ``date_to``: the 7 days ending then.
    The first day may not be after the last, the range may not exceed 366 days, and both must
    have a midnight every database can store (not at the calendar's very ends).
    """
    date_to = date_to or today
    try:
        date_from = date_from or date_to - timedelta(days=SUMMARY_DEFAULT_DAYS - 1)
    except OverflowError:  # 7 days before the first days of year 1
        raise _out_of_calendar(date_from=None, date_to=date_to) from None
    if date_from > date_to:
        raise SummaryRangeError(
            gettext("The first day (%(first)s) is after the last day (%(last)s).")
            % {"first": date_from.isoformat(), "last": date_to.isoformat()},
            date_from=date_from,
            date_to=date_to,
        )
    if (date_to - date_from).days >= SUMMARY_MAX_DAYS:
        raise SummaryRangeError(
            gettext("Choose at most %(max)d days at once.") % {"max": SUMMARY_MAX_DAYS},
            date_from=date_from,
            date_to=date_to,
        )
    try:
        # Days at the calendar's ends have no midnight every database can store.
        day_start(date_from).astimezone(UTC)
        day_start(date_to + timedelta(days=1))
    except OverflowError:
        raise _out_of_calendar(date_from=date_from, date_to=date_to) from None
    return date_from, date_to


@dataclass
class SummaryRow:
    """One China-time day at one park on one channel (or the total, with ``day`` None)."""

    day: date | None
    park_uuid: str
    park_name: str
    channel: str
    orders: int = 0
    # The channel's name in the active language ("" when finance has not named the code).
    channel_name: str = ""
    paid: int = 0
    relief: int = 0
    coupons: int = 0
    coupon_value: int = 0

    def add(self, other: "SummaryRow") -> None:
        self.orders += other.orders
        self.paid += other.paid
        self.relief += other.relief
        self.coupons += other.coupons
        self.coupon_value += other.coupon_value


@dataclass
class PivotDay:
    """One day of the pivot: the amount paid (fen) at each of the pivot's parks, and in all."""

    day: date
    paid: list[int]
    total: int


@dataclass
class Pivot:
    """Days × parks, amount paid (fen): every day of the range (a row, even without orders),
    every park with orders in it (a column, in the order of ``parks``), with totals."""

    parks: list[SummaryRow]
    days: list[PivotDay]
    total: int


@dataclass
class DailySummary:
    """The groups the database made (``rows``), with their subtotals per day (``days``, park
    and channel blank) and per park (``parks``, day None), and the grand ``total``."""

    date_from: date
    date_to: date
    park_uuid: str
    rows: list[SummaryRow]
    total: SummaryRow
    days: list[SummaryRow] = field(default_factory=list)
    parks: list[SummaryRow] = field(default_factory=list)

    @property
    def pivot(self) -> Pivot:
        paid = {(row.day, row.park_uuid): 0 for row in self.rows}
        for row in self.rows:
            paid[row.day, row.park_uuid] += row.paid
        per_day = {row.day: row.paid for row in self.days}
        days = []
        day = self.date_from
        while day <= self.date_to:
            cells = [paid.get((day, park.park_uuid), 0) for park in self.parks]
            days.append(PivotDay(day=day, paid=cells, total=per_day.get(day, 0)))
            day += timedelta(days=1)
        return Pivot(parks=self.parks, days=days, total=self.total.paid)


def _subtotals(rows: list[SummaryRow], *, per_day: bool) -> list[SummaryRow]:
    """Add up the database's groups per day (every park and channel) or per park (every day
    and channel): sums of a few aggregate rows, never a loop over orders."""
    subtotals: dict[object, SummaryRow] = {}
    for row in rows:
        key = row.day if per_day else row.park_uuid
        if key not in subtotals:
            subtotals[key] = SummaryRow(
                day=row.day if per_day else None,
                park_uuid="" if per_day else row.park_uuid,
                park_name="" if per_day else row.park_name,
                channel="",
            )
        subtotals[key].add(row)
    if per_day:
        return list(subtotals.values())  # the rows come by day
    return sorted(subtotals.values(), key=lambda r: (r.park_name, r.park_uuid))


@on_replica
def daily_summary(*, date_from: date, date_to: date, park_uuid: str = "") -> DailySummary:
    """Return per day (China time) × park × channel (with its name): orders, amount paid,
    discount relief, coupon count and the amount coupons' value (fen), with subtotals per day
    and per park and a total row.

    Read from the daily rollup (``orders.rollup``: its rows of those days plus the orders
    received since it was last rebuilt, exact), a few rows per day whatever the orders' count.
    """
    park_id = None
    if park_uuid:
        park_id = Park.objects.filter(park_uuid=park_uuid).values_list("pk", flat=True).first()
    found = (
        takings(date_from=date_from, date_to=date_to, park_id=park_id)
        if park_id is not None or not park_uuid
        else []
    )
    parks = {
        pk: (uuid, name)
        for pk, uuid, name in Park.objects.filter(
            pk__in={row.park_id for row in found}
        ).values_list("pk", "park_uuid", "name")
    }
    names = channels.channel_names()
    rows = [
        SummaryRow(
            day=row.day,
            park_uuid=parks[row.park_id][0],
            park_name=parks[row.park_id][1],
            channel=row.channel,
            channel_name=names.get(row.channel, ""),
            orders=row.orders,
            paid=row.paid,
            relief=row.relief,
            coupons=row.coupons,
            coupon_value=row.coupon_value,
        )
        for row in found
    ]
    ordered = sorted(rows, key=lambda r: (r.day, r.park_name, r.park_uuid, r.channel))
    total = SummaryRow(day=None, park_uuid="", park_name="", channel="")
    for row in ordered:
        total.add(row)
    return DailySummary(
        date_from=date_from,
        date_to=date_to,
        park_uuid=park_uuid,
        rows=ordered,
        total=total,
        days=_subtotals(ordered, per_day=True),
        parks=_subtotals(ordered, per_day=False),
    )
