"""The home page's figures, on a real database: takings per day and park, the 30-day chart, the
unreconciled park-days, pushes per hour and outcome, refused plates, silent parks, and the
whitelist's counts. ``now`` is pinned, including on the year's and the month's first days."""

from datetime import datetime, timedelta

import pytest
from django.utils.translation import gettext

from orders.dashboard import selectors
from orders.models import PushLog
from orders.push.outcomes import Outcome
from orders.reconciliation.models import ReconciliationRun
from orders.tests.factories import PayOrderFactory, StayFactory
from parkingops.formatting import CHINA
from whitelist.models import PlateSync
from whitelist.tests.factories import ParkFactory, WhitelistEntryFactory

pytestmark = pytest.mark.django_db


def china(*args) -> datetime:
    return datetime(*args, tzinfo=CHINA)


def push(at: datetime, reason: Outcome = Outcome.ACCEPTED, plate: str = "川A660P1") -> PushLog:
    return PushLog.objects.create(
        received_at=at, code=reason.code, reason=reason.value, plate=plate
    )


def test_an_empty_database_gives_zeros_and_empty_lists():
    now = china(2026, 12, 5, 10, 30)
    finance = selectors.finance_figures(now=now)
    assert finance.parks == []
    assert (finance.total.today_count, finance.total.month_paid) == (0, 0)
    assert finance.series == []
    assert len(finance.days) == 30 and finance.days[-1] == now.date()
    assert finance.gaps == []
    pushes = selectors.push_figures(now=now)
    assert pushes.series == [] and pushes.total == 0 and len(pushes.hours) == 24
    assert selectors.refused_plates(now=now) == []
    assert selectors.silent_parks(now=now) == []
    assert selectors.whitelist_figures(now=now) == selectors.WhitelistFigures(0, 0, 0)


def test_takings_split_today_yesterday_and_month_by_china_day():
    east = ParkFactory(park_uuid="p-east", name="东门")
    now = china(2026, 12, 5, 10, 0)
    PayOrderFactory(park=east, pay_time=china(2026, 12, 5, 0, 0), pay_value=1000)  # today
    PayOrderFactory(park=east, pay_time=china(2026, 12, 4, 23, 59), pay_value=250)  # yesterday
    PayOrderFactory(park=east, pay_time=china(2026, 12, 1, 8, 0), pay_value=5)  # this month
    PayOrderFactory(park=east, pay_time=china(2026, 11, 30, 23, 59), pay_value=7)  # last month
    PayOrderFactory(park=east, pay_time=china(2026, 12, 6, 0, 0), pay_value=99999)  # tomorrow

    figures = selectors.finance_figures(now=now)

    [line] = figures.parks
    assert line.label == "东门"
    assert (line.today_count, line.today_paid) == (1, 1000)
    assert (line.yesterday_count, line.yesterday_paid) == (1, 250)
    assert (line.month_count, line.month_paid) == (3, 1255)
    assert figures.total.month_paid == 1255
    # The chart's last day is today; tomorrow's order (a clock ahead) is not in it.
    [series] = figures.series
    assert series.values[-1] == 1000 and series.values[-2] == 250
    assert series.values[figures.days.index(china(2026, 11, 30).date())] == 7


def test_on_new_years_day_yesterday_is_last_year_and_the_month_is_one_day():
    park = ParkFactory(park_uuid="p-1", name="")  # a park without a name
    now = china(2027, 1, 1, 0, 5)
    PayOrderFactory(park=park, pay_time=china(2027, 1, 1, 0, 1), pay_value=100)
    PayOrderFactory(park=park, pay_time=china(2026, 12, 31, 23, 59), pay_value=200)
    PayOrderFactory(park=park, pay_time=china(2026, 12, 3, 12, 0), pay_value=400)

    figures = selectors.finance_figures(now=now)

    assert figures.yesterday == china(2026, 12, 31).date()
    assert figures.month_start == china(2027, 1, 1).date()
    [line] = figures.parks
    assert line.label == "p-1"  # the uuid stands in for the missing name
    assert (line.today_paid, line.yesterday_paid, line.month_paid) == (100, 200, 100)
    assert figures.days[0] == china(2026, 12, 3).date()
    assert figures.series[0].values[0] == 400


def test_on_the_31st_the_month_reaches_back_past_the_chart():
    park = ParkFactory(park_uuid="p-1", name="东门")
    now = china(2026, 12, 31, 12, 0)
    PayOrderFactory(park=park, pay_time=china(2026, 12, 1, 9, 0), pay_value=300)

    figures = selectors.finance_figures(now=now)

    assert figures.days[0] == china(2026, 12, 2).date()  # 30 days, today included
    assert figures.parks[0].month_paid == 300  # still counted in the month
    assert figures.series == []  # but not drawn: no amount in the chart's days


def test_the_chart_draws_five_parks_and_sums_the_others():
    now = china(2026, 12, 5, 12, 0)
    for n in range(7):
        park = ParkFactory(park_uuid=f"p-{n}", name=f"停车场{n}")
        PayOrderFactory(park=park, pay_time=china(2026, 12, 5, 9, 0), pay_value=100 * (n + 1))

    series = selectors.finance_figures(now=now).series

    assert [line.label for line in series] == [
        "停车场6", "停车场5", "停车场4", "停车场3", "停车场2", gettext("Others")
    ]  # fmt: skip
    assert series[-1].values[-1] == 100 + 200
    assert series[-1].park_uuid == ""


def test_unreconciled_days_are_those_with_orders_and_no_completed_run():
    east = ParkFactory(park_uuid="p-east", name="东门")
    west = ParkFactory(park_uuid="p-west", name="西门")
    now = china(2026, 12, 5, 10, 0)
    for day in (4, 3, 2):
        PayOrderFactory(park=east, pay_time=china(2026, 12, day, 9, 0))
    PayOrderFactory(park=west, pay_time=china(2026, 12, 4, 9, 0))
    PayOrderFactory(park=west, pay_time=china(2026, 12, 5, 9, 0))  # today: not yet due
    PayOrderFactory(park=west, pay_time=china(2026, 11, 20, 9, 0))  # before the 7 days
    ReconciliationRun.objects.create(
        date=china(2026, 12, 4).date(), park=east, status=ReconciliationRun.Status.OK
    )
    ReconciliationRun.objects.create(
        date=china(2026, 12, 3).date(), park=east, status=ReconciliationRun.Status.FAILED
    )

    figures = selectors.finance_figures(now=now)

    assert [(gap.day.day, gap.park_uuid, gap.failed) for gap in figures.gaps] == [
        (4, "p-west", False),
        (3, "p-east", True),
        (2, "p-east", False),
    ]
    assert (figures.gaps_from.day, figures.gaps_to.day) == (28, 4)


def test_pushes_per_hour_and_outcome_in_china_hours():
    now = china(2026, 12, 5, 10, 30)
    push(china(2026, 12, 5, 10, 1))
    push(china(2026, 12, 5, 10, 2), Outcome.NOT_WHITELISTED)
    push(china(2026, 12, 5, 9, 59), Outcome.NOT_WHITELISTED)
    push(china(2026, 12, 4, 11, 0))  # the window's first hour
    push(china(2026, 12, 4, 10, 59))  # before it
    push(china(2026, 12, 5, 10, 31))  # after now

    figures = selectors.push_figures(now=now)

    assert figures.hours[0] == china(2026, 12, 4, 11, 0)
    assert figures.hours[-1] == china(2026, 12, 5, 10, 0)
    by_key = {line.key: line for line in figures.series}
    assert [line.key for line in figures.series] == ["accepted", "not_whitelisted"]
    assert by_key["accepted"].values[0] == 1 and by_key["accepted"].values[-1] == 1
    assert by_key["not_whitelisted"].values[-2:] == [1, 1]
    assert by_key["accepted"].label == str(Outcome.ACCEPTED.label)
    assert figures.total == 4


def test_the_push_window_crosses_the_year():
    now = china(2027, 1, 1, 0, 10)
    push(china(2026, 12, 31, 1, 0))
    figures = selectors.push_figures(now=now)
    assert figures.hours[0] == china(2026, 12, 31, 1, 0)
    assert figures.series[0].values[0] == 1


def test_refused_plates_are_counted_most_first_with_their_single_reason():
    now = china(2026, 12, 5, 10, 30)
    at = china(2026, 12, 5, 9, 0)
    for _ in range(3):
        push(at, Outcome.NOT_WHITELISTED, plate="川A11111")
    push(at, Outcome.NOT_WHITELISTED, plate="川B22222")
    push(at, Outcome.INVALID_FIELD, plate="川B22222")
    push(at, Outcome.ACCEPTED, plate="川C33333")  # accepted: not a refusal
    push(at, Outcome.INTERNAL_ERROR, plate="川C33333")  # our error: not a refusal
    push(at, Outcome.BAD_SIGNATURE, plate="")  # no plate to show
    push(china(2026, 12, 4, 9, 0), Outcome.NOT_WHITELISTED, plate="川D44444")  # too old

    plates = selectors.refused_plates(now=now)

    assert [(p.plate, p.count, p.reason) for p in plates] == [
        ("川A11111", 3, "not_whitelisted"),
        ("川B22222", 2, ""),
    ]
    assert len(selectors.refused_plates(now=now, limit=1)) == 1


def test_a_park_is_silent_after_three_usual_gaps_and_an_hour():
    now = china(2026, 12, 5, 12, 0)
    busy = ParkFactory(park_uuid="p-busy", name="东门")
    quiet = ParkFactory(park_uuid="p-quiet", name="")
    regular = ParkFactory(park_uuid="p-regular", name="南门")
    few = ParkFactory(park_uuid="p-few", name="北门")
    gone = ParkFactory(park_uuid="p-gone", name="旧门")
    # busy: an order every 10 minutes until 4 hours ago: silent (4 h > max(30 min, 1 h)).
    last = now - timedelta(hours=4)
    for n in range(21):
        PayOrderFactory(park=busy, pay_time=last - timedelta(minutes=10 * n))
    # quiet: every 2 hours until 5 hours ago: not silent (5 h < 3 × 2 h).
    for n in range(21):
        PayOrderFactory(park=quiet, pay_time=now - timedelta(hours=5 + 2 * n))
    # regular: every 10 minutes until 20 minutes ago: under the hour's floor.
    for n in range(21):
        PayOrderFactory(park=regular, pay_time=now - timedelta(minutes=20 + 10 * n))
    # few: 20 orders are not enough to know its gap.
    for n in range(20):
        PayOrderFactory(park=few, pay_time=now - timedelta(days=1, minutes=n))
    # gone: silent for over the horizon of 7 days.
    for n in range(21):
        PayOrderFactory(park=gone, pay_time=now - timedelta(days=8, minutes=n))

    silent = selectors.silent_parks(now=now)

    assert [(park.park_uuid, park.label) for park in silent] == [("p-busy", "东门")]
    assert silent[0].usual_gap == timedelta(minutes=10)
    assert silent[0].silent_for == timedelta(hours=4)
    assert silent[0].last == last


def test_whitelist_counts_match_the_lists_filters():
    now = china(2026, 12, 5, 12, 0)
    WhitelistEntryFactory(plate="川A00001", valid_until=now + timedelta(days=3))  # expiring
    WhitelistEntryFactory(plate="川A00002", valid_until=now + timedelta(days=8))
    WhitelistEntryFactory(plate="川A00003", valid_until=now - timedelta(days=1))  # ended
    WhitelistEntryFactory(plate="川A00004")  # no row: pending
    PlateSync.objects.create(plate="川A00001", state=PlateSync.State.FAILED)
    PlateSync.objects.create(plate="川A00002", state=PlateSync.State.SYNCED)
    PlateSync.objects.create(plate="川A00003", state=PlateSync.State.PENDING)

    figures = selectors.whitelist_figures(now=now)

    assert figures == selectors.WhitelistFigures(failed=1, pending=2, expiring=1)


# --- Stays -----------------------------------------------------------------------------------


def left(park, leave_time: datetime, parking_time: int | None):
    return StayFactory(
        park=park,
        left=True,
        enter_time=leave_time - timedelta(hours=1),
        leave_time=leave_time,
        parking_time=parking_time,
    )


def test_an_empty_database_has_no_stays():
    figures = selectors.stay_figures(now=china(2026, 12, 5, 10, 30))
    assert (figures.parks, figures.in_park) == ([], 0)
    assert len(figures.weeks) == 8


def test_cars_in_the_park_now_and_the_mean_length_of_stay_per_china_week():
    now = china(2026, 12, 5, 10, 30)  # a Saturday: this week began on Monday 11-30
    east = ParkFactory(park_uuid="p-east", name="东门")
    west = ParkFactory(park_uuid="p-west", name="西门")
    ParkFactory(park_uuid="p-quiet", name="北门")  # no stay at all: not listed
    for _ in range(2):
        StayFactory(park=east, enter_time=china(2026, 12, 5, 9, 0))  # in the park
    left(east, china(2026, 11, 29, 23, 59), 3600)  # Sunday night, China time: last week
    left(east, china(2026, 11, 30, 0, 0), 7200)  # Monday 00:00 China (Sunday in UTC)
    left(east, china(2026, 12, 5, 10, 0), 7500)
    left(east, china(2026, 12, 5, 10, 10), None)  # no pushed length: not averaged
    left(east, china(2026, 10, 12, 0, 30), 600)  # the first week's first hour
    left(east, china(2026, 10, 11, 23, 59), 99_999)  # before the 8 weeks
    left(west, china(2026, 11, 25, 12, 0), 1800)

    figures = selectors.stay_figures(now=now)

    assert figures.weeks[0] == datetime(2026, 10, 12).date()
    assert figures.weeks[-1] == datetime(2026, 11, 30).date()
    assert figures.in_park == 2
    by_park = {line.park_uuid: line for line in figures.parks}
    assert [line.park_uuid for line in figures.parks] == ["p-east", "p-west"]  # most inside
    assert by_park["p-east"].in_park == 2
    assert by_park["p-east"].weeks == [600, None, None, None, None, None, 3600, 7350]
    assert by_park["p-west"].in_park == 0
    assert by_park["p-west"].weeks == [None] * 6 + [1800, None]


def test_on_postgresql_the_weeks_of_stays_are_read_from_the_exit_time_index_alone():
    """Migration 0018: the exit-time index carries the park and the length (INCLUDE)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("covering indexes are PostgreSQL's")
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'stay_leave_time'")
        (definition,) = cursor.fetchone()
    assert definition.endswith("(leave_time) INCLUDE (park_id, parking_time)")
