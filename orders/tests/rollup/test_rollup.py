"""The daily rollup (orders.rollup): its rows equal the orders' own sums after pushes, late
orders for old days, orders created by a reconciliation and a rebuild after a deletion by hand;
its reads are exact before and after a roll; the views that use it agree with the orders."""

from collections import Counter
from datetime import date, datetime, timedelta

import pytest
from django.http import QueryDict
from django.utils import timezone

from orders import coupons as coupon_rules
from orders import selectors
from orders.models import MerchantCoupon, PayOrder
from orders.reconciliation import services as reconciliation
from orders.rollup import selectors as rollup
from orders.rollup.models import DailyCoupons, DailyStays, DailyTakings, RollupMark
from orders.rollup.services import SETTLE, roll_up
from orders.stays import selectors as stay_selectors
from orders.stays.models import Stay
from orders.tests.factories import PayOrderFactory, StayFactory
from parkingops.formatting import CHINA
from parkingops.jobs import schedules
from parkingops.jobs.testing import run_queued_jobs
from whitelist.tests.factories import ParkFactory

pytestmark = pytest.mark.django_db

ORDERS = "/admin/orders/payorder/"
DISCOUNT = {"type": "1", "relief_amount": "1", "relief_value": "300", "mobile": "13800138000"}


def coupon(coupon_type: int, value: int) -> dict:
    return {
        "coupon_name": "券",
        "coupon_code": f"C{coupon_type}{value}",
        "store_name": "肯德基",
        "store_code": "KFC01",
        "coupon_type": str(coupon_type),
        "coupon_value": str(value),
        "grant_serial": "G1",
    }


def raw_sums() -> dict[tuple, tuple]:
    """Per (China day, park id, channel): the orders' own sums, added up here in Python."""
    sums: dict[tuple, Counter] = {}
    for order in PayOrder.objects.prefetch_related("discounts", "mcoupons"):
        key = (order.pay_time.astimezone(CHINA).date(), order.park_id, order.channel)
        line = sums.setdefault(key, Counter())
        line["orders"] += 1
        line["paid"] += order.pay_value
        line["relief"] += sum(d.relief_value for d in order.discounts.all())
        line["coupons"] += len(order.mcoupons.all())
        line["coupon_value"] += sum(
            c.coupon_value
            for c in order.mcoupons.all()
            if c.coupon_type == coupon_rules.CouponType.AMOUNT
        )
    names = ("orders", "paid", "relief", "coupons", "coupon_value")
    return {key: tuple(line[name] for name in names) for key, line in sums.items()}


def stored_rows() -> dict[tuple, tuple]:
    """The rollup's own rows."""
    return {
        (row.day, row.park_id, row.channel): (
            row.order_count,
            row.paid,
            row.relief,
            row.coupon_count,
            row.coupon_value,
        )
        for row in DailyTakings.objects.all()
    }


def raw_coupons() -> dict[tuple, tuple]:
    """Per (China day, park id, store code, store name, type): count and values, in Python."""
    sums: dict[tuple, list[int]] = {}
    for coupon in MerchantCoupon.objects.select_related("order"):
        order = coupon.order
        key = (
            order.pay_time.astimezone(CHINA).date(),
            order.park_id,
            coupon.store_code,
            coupon.store_name,
            coupon.coupon_type,
        )
        line = sums.setdefault(key, [0, 0])
        line[0] += 1
        line[1] += coupon.coupon_value
    return {key: tuple(line) for key, line in sums.items()}


def stored_coupons() -> dict[tuple, tuple]:
    return {
        (row.day, row.park_id, row.store_code, row.store_name, row.coupon_type): (
            row.coupon_count,
            row.value_total,
        )
        for row in DailyCoupons.objects.all()
    }


def read_rows() -> dict[tuple, tuple]:
    """What the pages read: the rollup plus the orders received since its watermark."""
    return {
        (row.day, row.park_id, row.channel): (
            row.orders,
            row.paid,
            row.relief,
            row.coupons,
            row.coupon_value,
        )
        for row in rollup.takings()
    }


def pushed(push, **fields) -> None:
    response = push(**fields)
    assert response.status_code == 200, response.content
    assert response.json()["code"] == "1001", response.content


def settled() -> timezone.datetime:
    """The ``now`` of a roll whose watermark is this very moment: every order received so far
    is rolled up, every push after is received after the watermark (as it is SETTLE later in
    real life)."""
    return timezone.now() + SETTLE


def test_the_rollup_equals_the_orders_after_pushes_late_orders_and_reconciliation(
    push, whitelisted, missing_item
):
    today_ms = int(timezone.now().timestamp() * 1000)
    for n, channel in enumerate(["200102", "200102", "300101"]):
        pushed(
            push,
            pay_value=1000 + n,
            channel=channel,
            discounts=[DISCOUNT],
            mcoupons=[coupon(1, 500), coupon(2, 60)],
        )
    pushed(push, pay_value=700, park_uuid="park-west", park_name="西门")
    assert read_rows() == raw_sums()  # nothing rolled yet: all read from the orders

    first = roll_up(now=settled())

    assert first.days == sorted({key[0] for key in raw_sums()})
    assert stored_rows() == raw_sums() == read_rows()
    assert stored_coupons() == raw_coupons()

    # A late push for a day 40 days ago, received now: read exactly before the next roll,
    # stored by it, which rebuilds that day only.
    old = today_ms - 40 * 86_400_000
    pushed(push, pay_value=4321, pay_time_ms=old, discounts=[DISCOUNT])
    old_day = (timezone.now() - timedelta(days=40)).astimezone(CHINA).date()
    assert read_rows() == raw_sums() != stored_rows()
    late = roll_up(now=settled())
    assert late.days == [old_day] or old_day in late.days
    assert stored_rows() == raw_sums() == read_rows()

    # An order created from a reconciliation's "missing here" payment (2026-11-01).
    created = reconciliation.create_missing_order(item_id=missing_item.pk)
    assert created.created
    assert read_rows() == raw_sums()
    assert date(2026, 11, 1) in roll_up(now=settled()).days
    assert stored_rows() == raw_sums() == read_rows()

    assert stored_coupons() == raw_coupons()

    # Orders are never deleted by the product; one deleted by hand is healed by a full rebuild.
    PayOrder.objects.filter(pk=created.order.pk).delete()
    rebuilt = roll_up(now=settled(), everything=True)
    assert stored_rows() == raw_sums() == read_rows()
    # Every day from the first order's to the last one's (found from the bounds alone).
    first, last = min(key[0] for key in raw_sums()), max(key[0] for key in raw_sums())
    assert rebuilt.days == [first + timedelta(days=n) for n in range((last - first).days + 1)]
    assert stored_coupons() == raw_coupons()


def test_a_roll_with_nothing_new_changes_nothing_and_the_watermark_only_moves_forward(
    push, whitelisted
):
    pushed(push, pay_value=1000)
    now = settled()
    roll_up(now=now)
    mark = RollupMark.objects.get().received_before
    assert roll_up(now=now).days == []
    assert roll_up(now=now - timedelta(hours=1)).days == []
    assert RollupMark.objects.get().received_before == mark
    assert stored_rows() == raw_sums()


def test_orders_received_after_the_watermark_are_read_from_the_orders(push, whitelisted):
    pushed(push, pay_value=1000)
    roll_up(now=settled())
    # Received "before" the settle time has passed: not rolled, still counted.
    pushed(push, pay_value=2500, discounts=[DISCOUNT])
    roll_up(now=timezone.now())
    assert sum(row[0] for row in stored_rows().values()) == 1
    assert read_rows() == raw_sums()
    (total,) = rollup.takings(by=())
    assert (total.orders, total.paid, total.relief) == (2, 3500, 300)


def test_the_order_list_totals_by_day_park_and_channel_from_the_rollup_and_searches_exactly(
    push, whitelisted, admin_client
):
    for value, channel in [(1000, "200102"), (2000, "300101"), (4000, "200102")]:
        pushed(push, pay_value=value, channel=channel, discounts=[DISCOUNT])
    pushed(push, pay_value=800, park_uuid="park-west", park_name="西门")
    roll_up(now=settled())
    pushed(push, pay_value=50)  # after the watermark: read live
    today = timezone.now().astimezone(CHINA).date().isoformat()
    order = PayOrder.objects.filter(pay_value=1000).select_related("park").get()
    cases = {
        "": (5, 7850),
        f"?pay_date_from={today}&pay_date_to={today}": (5, 7850),
        f"?park={order.park.park_uuid}": (4, 7050),
        f"?park={order.park.park_uuid}&channel=200102&o=-1": (3, 5050),
        "?pay_date_from=2020-01-01&pay_date_to=2020-01-31": (0, 0),
    }
    for query, (count, paid) in cases.items():
        page = admin_client.get(ORDERS + query)
        assert page.status_code == 200
        paginator = page.context["cl"].paginator
        assert paginator.rolled is not None, query
        exact = selectors.order_totals(orders=page.context["cl"].queryset)
        assert (paginator.totals.orders, paginator.totals.paid) == (count, paid), query
        assert paginator.totals == exact, query

    # A search, another filter or a day the list refuses: totalled from the orders.
    for query in ("?q=川A660P1", "?has_discounts=yes", "?pay_date_from=2026-13-01", "?x=1"):
        page = admin_client.get(ORDERS + query)
        if page.status_code == 200:
            assert page.context["cl"].paginator.rolled is None, query


def test_the_coupon_list_totals_by_day_park_and_store_from_the_rollup(
    push, whitelisted, admin_client
):
    coupons = [coupon(1, 500), coupon(2, 60), coupon(3, 80)]
    pushed(push, pay_value=1000, mcoupons=coupons)
    pushed(push, pay_value=1000, mcoupons=[coupon(1, 700)], park_uuid="park-west")
    roll_up(now=settled())
    pushed(push, pay_value=1000, mcoupons=[coupon(1, 300), {**coupon(1, 900), "store_code": "X"}])
    today = timezone.now().astimezone(CHINA).date().isoformat()
    west = PayOrder.objects.filter(park__park_uuid="park-west").get().park
    for query in (
        "",
        f"?pay_date_from={today}&pay_date_to={today}",
        f"?park={west.park_uuid}",
        "?store=KFC01&p=1",
        "?pay_date_from=2020-01-01",
    ):
        page = admin_client.get("/admin/orders/merchantcoupon/" + query)
        assert page.status_code == 200
        cl = page.context["cl"]
        rolled = selectors.rolled_coupon_totals(params=page.wsgi_request.GET)
        assert rolled is not None, query
        assert cl.paginator.totals == rolled == selectors.coupon_totals(coupons=cl.queryset)
    assert selectors.rolled_coupon_totals(params=QueryDict("q=KFC01")) is None
    assert selectors.coupon_totals(coupons=MerchantCoupon.objects.all()).coupons == 6


def test_the_daily_summary_and_the_home_page_read_the_rollup(push, whitelisted, admin_client):
    pushed(push, pay_value=1000, discounts=[DISCOUNT], mcoupons=[coupon(1, 500)])
    pushed(push, pay_value=3000, channel="300101")
    roll_up(now=settled())
    pushed(push, pay_value=7)
    today = timezone.now().astimezone(CHINA).date()

    summary = selectors.daily_summary(date_from=today, date_to=today)

    assert (summary.total.orders, summary.total.paid, summary.total.relief) == (3, 4007, 300)
    assert (summary.total.coupons, summary.total.coupon_value) == (1, 500)
    assert {row.channel for row in summary.rows} == {"200102", "300101"}
    from orders.dashboard.selectors import finance_figures

    figures = finance_figures(now=timezone.now())
    assert (figures.total.today_count, figures.total.today_paid) == (3, 4007)


@pytest.mark.django_db(transaction=True)
def test_the_scheduler_rolls_up_every_minute(push, whitelisted):
    schedule = next(s for s in schedules.schedules() if s.name == "roll_up_orders")
    assert schedule.every == timedelta(minutes=1)
    pushed(push, pay_value=1000)
    schedules.tick(now=timezone.now())
    run_queued_jobs()
    assert RollupMark.objects.get().received_before <= timezone.now() - SETTLE
    assert read_rows() == raw_sums()


def raw_stays() -> dict[tuple, tuple]:
    """Per (China day of exit, park id): the left stays with a length, counted in Python."""
    sums: dict[tuple, list[int]] = {}
    for stay in Stay.objects.exclude(leave_time=None).exclude(parking_time=None):
        line = sums.setdefault((stay.leave_time.astimezone(CHINA).date(), stay.park_id), [0, 0])
        line[0] += 1
        line[1] += stay.parking_time
    return {key: tuple(line) for key, line in sums.items()}


def stored_stays() -> dict[tuple, tuple]:
    """The rollup's timed stays per day and park (a day of only untimed stays counts 0)."""
    return {
        (row.day, row.park_id): (row.stay_count, row.seconds)
        for row in DailyStays.objects.exclude(stay_count=0)
    }


def read_stays(first: date, last: date) -> dict[tuple, tuple]:
    return {
        (row.day, row.park_id): (row.stays, row.seconds)
        for row in rollup.stays_left(date_from=first, date_to=last)
    }


def test_the_stay_rollup_equals_the_stays_after_exits_late_exits_and_cars_still_in(db):
    now = timezone.now()
    park = ParkFactory()
    StayFactory(park=park, left=True, exit_received_at=now)
    StayFactory(park=park, left=True, parking_time=600, exit_received_at=now)
    StayFactory(park=ParkFactory(), left=True, exit_received_at=now)
    StayFactory(park=park)  # still in the park: no exit, no length
    first, last = now.date() - timedelta(days=30), now.date() + timedelta(days=1)
    assert read_stays(first, last) == raw_stays()

    roll_up(now=settled())
    assert stored_stays() == raw_stays() == read_stays(first, last)

    # An exit received now for a car that left 10 days ago (its exit was late), and an exit
    # for the car that was in: read live, then stored by the next roll.
    ten_days_ago = timezone.now() - timedelta(days=10)
    StayFactory(
        park=park,
        enter_time=ten_days_ago - timedelta(hours=3),
        left=True,
        leave_time=ten_days_ago,
        exit_received_at=timezone.now(),
    )
    inside = Stay.objects.get(leave_time=None)
    inside.leave_time, inside.parking_time = timezone.now(), 7200
    inside.exit_received_at = timezone.now()
    inside.save()
    assert read_stays(first, last) == raw_stays() != stored_stays()
    assert ten_days_ago.astimezone(CHINA).date() in roll_up(now=settled()).days
    assert stored_stays() == raw_stays() == read_stays(first, last)

    from orders.dashboard.selectors import stay_figures

    figures = stay_figures(now=timezone.now())
    line = next(line for line in figures.parks if line.park_id == park.pk)
    assert line.weeks[-1] is not None or line.weeks[-2] is not None


def test_a_rollup_read_on_sqlite_takes_no_write_lock(transactional_db):
    """SQLite's transactions take the write lock (IMMEDIATE): a read inside one would wait for
    every push and job that writes (30 s, then a 500 on the home page)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL reads in a transaction of their own (SET LOCAL), lock-free")
    roll_up(now=timezone.now())
    with CaptureQueriesContext(connection) as queries:
        rollup.takings(date_from=date(2026, 11, 1), date_to=date(2026, 11, 30))
    assert queries.captured_queries
    assert not [q["sql"] for q in queries.captured_queries if q["sql"].startswith("BEGIN")]


STAYS = "/admin/orders/stay/"


def list_totals(admin_client, query: str) -> tuple[stay_selectors.StayTotals, object]:
    """The stay list's totals for ``query`` and the exact ones of the stays it lists."""
    page = admin_client.get(STAYS + query)
    assert page.status_code == 200, query
    exact = stay_selectors.stay_totals(stays=page.context["cl"].queryset)
    return page.context["cl"].paginator.totals, exact


def test_the_stay_list_totals_from_the_rollup_equal_the_stays_after_late_pay_orders(
    admin_client,
):
    now = timezone.now()
    east, west = ParkFactory(), ParkFactory()
    # Left stays: paid in full, short by 3 yuan, paid 2 yuan too much, free; no fee told.
    paid = StayFactory(park=east, left=True)
    PayOrderFactory(park=east, parking_serial=paid.parking_serial, pay_value=1000)
    short = StayFactory(park=east, left=True, free_value=200)
    PayOrderFactory(park=east, parking_serial=short.parking_serial, pay_value=500)
    StayFactory(park=west, left=True, autopay_value=1000)
    over = StayFactory(park=west, left=True)
    PayOrderFactory(park=west, parking_serial=over.parking_serial, pay_value=1200)
    StayFactory(park=west, left=True, total_value=None, parking_time=None)
    # In the park, one paid already (the exit will tell the fee).
    inside = StayFactory(park=east)
    PayOrderFactory(park=east, parking_serial=inside.parking_serial, pay_value=300)
    StayFactory(park=west)
    today = now.astimezone(CHINA).date()
    queries = [
        "",
        f"?park={east.park_uuid}",
        f"?park={west.park_uuid}&o=1",
        f"?exit_date_from={today}&exit_date_to={today}",
        f"?exit_date_from={today - timedelta(days=3)}&park={east.park_uuid}",
        "?in_park=1",
        "?in_park=0",
        f"?in_park=1&park={west.park_uuid}",
        "?exit_date_from=2020-01-01&exit_date_to=2020-01-31",
    ]

    def all_agree() -> None:
        for query in queries:
            totals, exact = list_totals(admin_client, query)
            assert totals == exact, query

    all_agree()  # nothing rolled up yet: every stay read directly
    everything, _ = list_totals(admin_client, "")
    assert (everything.stays, everything.in_park, everything.with_a_gap) == (7, 2, 2)
    assert (everything.fee, everything.paid_by_pushes, everything.gap) == (4000, 3000, 300 - 200)

    roll_up(now=settled())
    assert DailyStays.objects.filter(left_count__gt=0).exists()
    all_agree()

    # After the watermark: a late pay order settles the short stay, one more for the stay
    # paid in full makes it overpaid, a stay that leaves, an exit of a stay that left days ago.
    PayOrderFactory(park=east, parking_serial=short.parking_serial, pay_value=300)
    PayOrderFactory(park=east, parking_serial=paid.parking_serial, pay_value=100)
    inside.leave_time, inside.parking_time, inside.total_value = now, 3600, 300
    inside.exit_received_at = timezone.now()
    inside.save()
    StayFactory(
        park=west,
        left=True,
        enter_time=now - timedelta(days=2, hours=1),
        leave_time=now - timedelta(days=2),
        exit_received_at=timezone.now(),
    )
    all_agree()
    moved, _ = list_totals(admin_client, "")
    # Short settled (0), paid in full now overpaid (−100), the one that left paid its fee
    # before (0), the late exit unpaid (1000), the overpaid one as it was (−200).
    assert (moved.gap, moved.with_a_gap) == (-100 + 1000 - 200, 3)

    rolled = roll_up(now=settled())
    assert (now - timedelta(days=2)).astimezone(CHINA).date() in rolled.days
    all_agree()
    assert list_totals(admin_client, "")[0] == moved
    # The stored rows alone equal the stays (the reads need no live half now).
    assert sum(row.paid for row in DailyStays.objects.all()) == sum(
        stay.paid_by_pushes
        for stay in stay_selectors.with_gap(Stay.objects.exclude(leave_time=None))
    )

    # A search or another filter: totalled from the stays.
    for query in ("?q=川A660P1", "?has_gap=1", "?review=1", "?entry_date_from=2026-01-01"):
        totals, exact = list_totals(admin_client, query)
        assert totals == exact, query


def test_the_stay_rebuild_reads_each_stays_pay_orders_once(db):
    """The rebuild's stay statement sums each stay's pay orders in one subquery, not once for
    each of paid, gap and "has a gap" (``grouped_sql``'s ``per_row``): the database's own
    plan of the statement that ran has one correlated subquery."""
    from django.db import connection

    stay = StayFactory(park=ParkFactory(), left=True, exit_received_at=timezone.now())
    PayOrderFactory(park=stay.park, parking_serial=stay.parking_serial, pay_value=400)
    statements = []

    def keep(execute, sql, params, many, context):
        statements.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(keep):
        roll_up(now=settled())
    table = connection.ops.quote_name(DailyStays._meta.db_table)
    ((sql, params),) = [s for s in statements if s[0].startswith(f"INSERT INTO {table}")]
    select = sql[sql.index("SELECT") :]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"EXPLAIN {select}", params)
            plan = [line for (line,) in cursor.fetchall() if "SubPlan" in line]
        else:
            cursor.execute(f"EXPLAIN QUERY PLAN {select}", params)
            plan = [row[3] for row in cursor.fetchall() if "CORRELATED" in row[3]]
    assert len(plan) == 1, plan
    row = DailyStays.objects.get()
    assert (row.paid, row.gap, row.gapped) == (400, stay.total_value - 400, 1)


def test_a_full_rebuild_spans_the_first_day_to_the_last_and_keeps_nothing_outside(db):
    """``everything``: the days from the first order or stay to the last, whatever lies
    between (a century at most: 2000-2099); rows of days outside it are removed."""
    park = ParkFactory()
    PayOrderFactory(park=park, pay_time=datetime(2000, 1, 1, 8, tzinfo=CHINA))
    StayFactory(
        park=park,
        left=True,
        leave_time=datetime(2099, 12, 31, 12, tzinfo=CHINA),
        exit_received_at=timezone.now(),
    )
    DailyTakings.objects.create(
        day=date(1999, 12, 31),
        park=park,
        channel="x",
        order_count=1,
        paid=1,
        relief=0,
        coupon_count=0,
        coupon_value=0,
    )
    rebuilt = roll_up(now=settled(), everything=True)
    assert (rebuilt.days[0], rebuilt.days[-1]) == (date(2000, 1, 1), date(2099, 12, 31))
    assert len(rebuilt.days) == (date(2099, 12, 31) - date(2000, 1, 1)).days + 1
    assert not DailyTakings.objects.filter(day__lt=date(2000, 1, 1)).exists()
    assert DailyTakings.objects.get(day=date(2000, 1, 1)).order_count == 1
    assert DailyStays.objects.filter(day=date(2099, 12, 31), left_count=1).exists()
