"""The home page's figures: a few grouped queries each, on indexed columns, so the page stays
cheap with a million orders and ten million push-log rows.

Finance: the takings of today, yesterday and this month per park, the last 30 days' amount per
day (read grouped by park and China-time day from the daily rollup), and the park-days
with orders but no completed reconciliation. Operations: the last 24 hours' pushes per hour and
outcome (one grouped query on the push log's ``(received_at, reason)`` index), the plates
refused most often, the parks gone silent, and the whitelist's state at the platform. Stays:
the cars in each park now (the stays with an entry and no exit), and the mean length of the
stays that left in each of the last 8 weeks, per park (one query grouped by park and China-time
day, on the exit-time index).

Every function takes ``now`` so the tests (and the year's and the month's first days) can pin
it. Money is integer fen here; the page turns it into yuan.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db.models import Count, Max, Min, OuterRef, Subquery
from django.db.models.functions import TruncHour
from django.utils.translation import gettext

from orders.models import PayOrder, PushLog
from orders.push.outcomes import Outcome
from orders.reconciliation.models import ReconciliationRun
from orders.rollup import selectors as rollup
from orders.stays.models import Stay
from parkingops.db_routers import on_replica
from parkingops.formatting import CHINA
from whitelist.models import Park, PlateSync, WhitelistEntry
from whitelist.selectors import expiring_entries, in_sync_state

CHART_DAYS = 30  # the takings chart: the last 30 China-time days, today included
CHART_PARKS = 5  # parks drawn on their own; the others are summed as "其他"
UNRECONCILED_DAYS = 7  # the days before today checked for a missing reconciliation
PUSH_HOURS = 24  # the push chart: the last 24 hours, by the hour
TOP_REFUSED = 10
# A park is silent when no order has come for SILENCE_FACTOR times its usual gap (the mean gap
# between its last SILENCE_SAMPLE + 1 orders), and for at least SILENCE_FLOOR; parks with fewer
# orders, or silent for longer than SILENCE_HORIZON, are not judged.
SILENCE_SAMPLE = 20
SILENCE_FACTOR = 3
SILENCE_FLOOR = timedelta(hours=1)
SILENCE_HORIZON = timedelta(days=7)
STAY_WEEKS = 8  # the mean length of stay: the last 8 weeks (Monday to Sunday), this one last


def china_today(now: datetime) -> date:
    """Return the China-time day of ``now``."""
    return now.astimezone(CHINA).date()


def park_label(name: str, park_uuid: str) -> str:
    """Return what a park is called on the page: its name, or its uuid when it has none."""
    return name or park_uuid


# --- Finance ---------------------------------------------------------------------------------


@dataclass
class Takings:
    """Orders and amount paid (fen) of one park (or all) on today, yesterday and this month."""

    park_uuid: str
    label: str
    today_count: int = 0
    today_paid: int = 0
    yesterday_count: int = 0
    yesterday_paid: int = 0
    month_count: int = 0
    month_paid: int = 0

    def add(self, other: "Takings") -> None:
        self.today_count += other.today_count
        self.today_paid += other.today_paid
        self.yesterday_count += other.yesterday_count
        self.yesterday_paid += other.yesterday_paid
        self.month_count += other.month_count
        self.month_paid += other.month_paid


@dataclass
class Series:
    """One line of a chart: its label, the park it stands for ("" for the others) and a value
    per label of the chart (fen, or a count)."""

    label: str
    values: list[int]
    park_uuid: str = ""
    key: str = ""


@dataclass
class Gap:
    """A park-day with orders but no completed reconciliation run."""

    day: date
    park_uuid: str
    label: str
    failed: bool


@dataclass
class FinanceFigures:
    """The finance half of the home page."""

    today: date
    yesterday: date
    month_start: date
    parks: list[Takings]
    total: Takings
    days: list[date]
    series: list[Series]
    gaps: list[Gap] = field(default_factory=list)
    gaps_from: date | None = None
    gaps_to: date | None = None


@on_replica
def finance_figures(*, now: datetime) -> FinanceFigures:
    """Return the takings per park, the 30-day chart and the unreconciled park-days.

    One grouped read (park × China-time day) covers them all: its days reach back to the
    earliest of the month's first day, yesterday and the chart's first day, from the daily
    rollup (``orders.rollup``: a few rows per park and day, plus the orders received since
    its last rebuild, exact); a second reads the reconciliation runs of the checked days.
    """
    today = china_today(now)
    yesterday = today - timedelta(days=1)
    month_start = today.replace(day=1)
    chart_start = today - timedelta(days=CHART_DAYS - 1)
    first = min(month_start, yesterday, chart_start)
    by_park: dict[int, dict[date, tuple[int, int]]] = {}
    for row in rollup.takings(date_from=first, date_to=today, by=("r_day", "r_park")):
        by_park.setdefault(row.park_id, {})[row.day] = (row.orders, row.paid)
    parks = {
        park.pk: park
        for park in Park.objects.filter(pk__in=by_park).only("pk", "park_uuid", "name")
    }

    takings = []
    for park_id, days in by_park.items():
        park = parks[park_id]
        line = Takings(park_uuid=park.park_uuid, label=park_label(park.name, park.park_uuid))
        for day, (count, paid) in days.items():
            if day == today:
                line.today_count, line.today_paid = count, paid
            if day == yesterday:
                line.yesterday_count, line.yesterday_paid = count, paid
            if day >= month_start:
                line.month_count += count
                line.month_paid += paid
        takings.append(line)
    takings.sort(key=lambda line: (-line.month_paid, -line.today_paid, line.label))
    total = Takings(park_uuid="", label=gettext("All parks"))
    for line in takings:
        total.add(line)

    chart_days = [chart_start + timedelta(days=n) for n in range(CHART_DAYS)]
    return FinanceFigures(
        today=today,
        yesterday=yesterday,
        month_start=month_start,
        parks=[line for line in takings if line.month_count or line.yesterday_count],
        total=total,
        days=chart_days,
        series=_paid_series(by_park, parks, chart_days),
        **_unreconciled(by_park, parks, today=today),
    )


def _paid_series(by_park, parks, days: list[date]) -> list[Series]:
    """Return the amount paid per day at the CHART_PARKS parks that took most over ``days``,
    each a series, and the others summed as one."""

    def paid(park_id: int) -> list[int]:
        return [by_park[park_id].get(day, (0, 0))[1] for day in days]

    totals = {park_id: sum(paid(park_id)) for park_id in by_park}
    ranked = sorted(
        (park_id for park_id, amount in totals.items() if amount),
        key=lambda park_id: (-totals[park_id], parks[park_id].park_uuid),
    )
    series = [
        Series(
            label=park_label(parks[park_id].name, parks[park_id].park_uuid),
            values=paid(park_id),
            park_uuid=parks[park_id].park_uuid,
        )
        for park_id in ranked[:CHART_PARKS]
    ]
    if others := ranked[CHART_PARKS:]:
        summed = [
            sum(values) for values in zip(*(paid(park_id) for park_id in others), strict=True)
        ]
        series.append(Series(label=gettext("Others"), values=summed))
    return series


def _unreconciled(by_park, parks, *, today: date) -> dict:
    """Return the park-days of the UNRECONCILED_DAYS before today that have orders but no
    completed run (newest first), with the days checked."""
    gaps_to = today - timedelta(days=1)
    gaps_from = today - timedelta(days=UNRECONCILED_DAYS)
    runs = {
        (day, park_id): status
        for day, park_id, status in ReconciliationRun.objects.filter(
            date__gte=gaps_from, date__lte=gaps_to, park_id__in=list(by_park)
        ).values_list("date", "park_id", "status")
    }
    gaps = []
    for park_id, days in by_park.items():
        park = parks[park_id]
        for day, (count, _paid) in days.items():
            if not gaps_from <= day <= gaps_to or not count:
                continue
            status = runs.get((day, park_id))
            if status != ReconciliationRun.Status.OK:
                label = park_label(park.name, park.park_uuid)
                gaps.append(Gap(day, park.park_uuid, label, failed=status is not None))
    gaps.sort(key=lambda gap: (-gap.day.toordinal(), gap.label))
    return {"gaps": gaps, "gaps_from": gaps_from, "gaps_to": gaps_to}


# --- Operations: pushes ----------------------------------------------------------------------

# The outcomes that refuse a push (the push metrics' "refused" verdict); the throttle's is
# never logged.
REFUSED = [o.value for o in Outcome if o.verdict == "refused" and o is not Outcome.THROTTLED]


def push_window(now: datetime) -> tuple[datetime, list[datetime]]:
    """Return the push chart's start and its PUSH_HOURS hours (China time), the current hour
    last: the window is whole hours, so the first bar is as long as the others."""
    hour = now.astimezone(CHINA).replace(minute=0, second=0, microsecond=0)
    hours = [hour - timedelta(hours=n) for n in range(PUSH_HOURS - 1, -1, -1)]
    return hours[0], hours


@dataclass
class PushFigures:
    """The last 24 hours' pushes: per hour and outcome, and in all per outcome."""

    start: datetime
    hours: list[datetime]
    series: list[Series]
    total: int


@on_replica
def push_figures(*, now: datetime) -> PushFigures:
    """Return the pushes of the last PUSH_HOURS hours per China-time hour and outcome.

    One grouped query whose range is on the leading column of the ``(received_at, reason)``
    index: it reads only the window's index entries (an index-only scan on PostgreSQL), however
    long the log.
    """
    start, hours = push_window(now)
    rows = (
        PushLog.objects.filter(received_at__gte=start, received_at__lte=now)
        .annotate(hour=TruncHour("received_at", tzinfo=CHINA))
        .order_by()
        .values("hour", "reason")
        .annotate(count=Count("*"))
    )
    position = {hour: n for n, hour in enumerate(hours)}
    counts: dict[str, list[int]] = {}
    for row in rows:
        n = position.get(row["hour"].astimezone(CHINA))
        if n is not None:
            counts.setdefault(row["reason"], [0] * len(hours))[n] += row["count"]
    # In the enum's order (accepted first), so the colours and the legend never move.
    series = []
    for outcome in Outcome:
        if outcome.value in counts:
            series.append(
                Series(label=str(outcome.label), values=counts[outcome.value], key=outcome.value)
            )
    for reason in sorted(counts.keys() - {o.value for o in Outcome}):
        series.append(Series(label=reason, values=counts[reason], key=reason))
    return PushFigures(
        start=start,
        hours=hours,
        series=series,
        total=sum(sum(s.values) for s in series),
    )


@dataclass
class RefusedPlate:
    """A plate refused in the window: how often, and its reason when it was always the same."""

    plate: str
    count: int
    reason: str  # "" when refused for several reasons


@on_replica
def refused_plates(*, now: datetime, limit: int = TOP_REFUSED) -> list[RefusedPlate]:
    """Return the plates refused most often in the push chart's window, most first.

    The window's refused rows only: the range and the reasons are both in the
    ``(received_at, reason)`` index, which on PostgreSQL also carries the plate.
    """
    start, _hours = push_window(now)
    rows = (
        PushLog.objects.filter(received_at__gte=start, received_at__lte=now, reason__in=REFUSED)
        .exclude(plate="")
        .order_by()
        .values("plate")
        .annotate(count=Count("*"), first=Min("reason"), last=Max("reason"))
        .order_by("-count", "plate")[:limit]
    )
    return [
        RefusedPlate(
            plate=row["plate"],
            count=row["count"],
            reason=row["first"] if row["first"] == row["last"] else "",
        )
        for row in rows
    ]


@dataclass
class SilentPark:
    """A park that pushed regularly and has stopped: its last order and its usual gap."""

    park_uuid: str
    label: str
    last: datetime
    usual_gap: timedelta
    silent_for: timedelta


@on_replica
def silent_parks(*, now: datetime) -> list[SilentPark]:
    """Return the parks silent for longer than their usual gap (see SILENCE_*), longest first.

    Per park, two correlated subqueries on the ``(park, pay_time)`` index read its last order
    and the SILENCE_SAMPLE-th before it: a few index entries per park, whatever the table's
    size. The usual gap is the mean gap between those orders.
    """
    orders = PayOrder.objects.filter(park=OuterRef("pk"), pay_time__lte=now).order_by("-pay_time")
    parks = (
        Park.objects.annotate(
            last=Subquery(orders.values("pay_time")[:1]),
            earlier=Subquery(orders.values("pay_time")[SILENCE_SAMPLE : SILENCE_SAMPLE + 1]),
        )
        .filter(earlier__isnull=False, last__gte=now - SILENCE_HORIZON)
        .values_list("park_uuid", "name", "last", "earlier")
    )
    silent = []
    for park_uuid, name, last, earlier in parks:
        usual = (last - earlier) / SILENCE_SAMPLE
        silent_for = now - last
        if silent_for > max(SILENCE_FACTOR * usual, SILENCE_FLOOR):
            silent.append(
                SilentPark(park_uuid, park_label(name, park_uuid), last, usual, silent_for)
            )
    silent.sort(key=lambda park: (-park.silent_for, park.label))
    return silent


# --- Operations: the whitelist ---------------------------------------------------------------


@dataclass
class WhitelistFigures:
    """Entries whose plate the platform has not confirmed, and entries ending soon."""

    failed: int
    pending: int
    expiring: int


@on_replica
def whitelist_figures(*, now: datetime) -> WhitelistFigures:
    """Return the whitelist list's counts behind its 同步失败, 待同步 and 即将到期 filters (the
    same selectors the filters use, so the figure and the list agree)."""
    entries = WhitelistEntry.objects.order_by()
    return WhitelistFigures(
        failed=in_sync_state(entries, state=PlateSync.State.FAILED).count(),
        pending=in_sync_state(entries, state=PlateSync.State.PENDING).count(),
        expiring=expiring_entries(entries, now=now).count(),
    )


# --- Stays -----------------------------------------------------------------------------------


@dataclass
class ParkStays:
    """One park's cars in the park now and the mean length (seconds) of its stays that left in
    each week (None: none left that week)."""

    park_id: int
    park_uuid: str
    label: str
    in_park: int
    weeks: list[float | None]


@dataclass
class StayFigures:
    """The stays' half of the home page: the weeks (their Mondays, China time, oldest first)
    and a line per park with a car in it or a stay that left in those weeks."""

    weeks: list[date]
    parks: list[ParkStays]
    in_park: int


def stay_weeks(now: datetime) -> list[date]:
    """Return the Mondays of the last STAY_WEEKS China-time weeks, the current week last."""
    today = china_today(now)
    monday = today - timedelta(days=today.weekday())
    return [monday - timedelta(weeks=n) for n in range(STAY_WEEKS - 1, -1, -1)]


@on_replica
def stay_figures(*, now: datetime) -> StayFigures:
    """Return the cars in each park now and the mean length of stay per park and week.

    Two grouped reads: the stays in the park (``Stay.objects.in_park()``, the stay list's
    filter, so the figure and the list agree) per park, on the exit-time index (exit NULL); and
    the left stays' pushed lengths (``parking_time``) summed and counted per park and China-time
    day of exit over the weeks, from the stay rollup (``orders.rollup``: a row per park and
    day, plus the exits received since its last rebuild, exact), then added up per week here. A
    stay's week is its exit's: its length is known then. A stay without a pushed length is not
    averaged.
    """
    weeks = stay_weeks(now)
    in_park = dict(
        Stay.objects.in_park()
        .order_by()
        .values("park_id")
        .annotate(count=Count("*"))
        .values_list("park_id", "count")
    )
    totals: dict[int, list[list[int]]] = {}  # park → per week [seconds, stays]
    for row in rollup.stays_left(date_from=weeks[0], date_to=china_today(now)):
        week = (row.day - weeks[0]).days // 7
        if 0 <= week < len(weeks):
            line = totals.setdefault(row.park_id, [[0, 0] for _ in weeks])
            line[week][0] += row.seconds
            line[week][1] += row.stays
    parks = Park.objects.filter(pk__in=in_park.keys() | totals.keys()).only(
        "pk", "park_uuid", "name"
    )
    lines = [
        ParkStays(
            park_id=park.pk,
            park_uuid=park.park_uuid,
            label=park_label(park.name, park.park_uuid),
            in_park=in_park.get(park.pk, 0),
            weeks=[
                seconds / count if count else None
                for seconds, count in totals.get(park.pk, [[0, 0] for _ in weeks])
            ],
        )
        for park in parks
    ]
    lines.sort(key=lambda line: (-line.in_park, line.label))
    return StayFigures(weeks=weeks, parks=lines, in_park=sum(in_park.values()))
