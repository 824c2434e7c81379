"""The back-office reads: search, totals, coupons per store, the daily summary."""

from datetime import date, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from orders import selectors
from orders.models import MerchantCoupon, PayOrder
from orders.tests.factories import DiscountFactory, MerchantCouponFactory, PayOrderFactory
from parkingops.formatting import CHINA
from whitelist.tests.factories import ParkFactory

pytestmark = pytest.mark.django_db


def china(*args) -> datetime:
    return datetime(*args, tzinfo=CHINA)


def search(term: str) -> set[str]:
    orders = selectors.search_orders(orders=PayOrder.objects.all(), term=term)
    return set(orders.values_list("plate", flat=True))


def test_search_matches_a_plate_whole_by_beginning_or_ending_in_any_spelling():
    PayOrderFactory(plate="川A660P1")
    PayOrderFactory(plate="川A12345")
    PayOrderFactory(plate="粤B660P1")

    assert search("川a·660p1") == {"川A660P1"}
    assert search("川A") == {"川A660P1", "川A12345"}
    assert search("６６０Ｐ１") == {"川A660P1", "粤B660P1"}  # full-width ending
    assert search("   ") == {"川A660P1", "川A12345", "粤B660P1"}  # nothing to search


def test_search_does_not_match_the_middle_of_a_plate():
    PayOrderFactory(plate="粤B660P1")

    assert search("B660P") == set()


def test_search_matches_pay_and_parking_serials_exactly():
    PayOrderFactory(plate="川A1", pay_serial="P-123", parking_serial="S-456")
    PayOrderFactory(plate="川A2", pay_serial="P-1234", parking_serial="S-4567")

    assert search("P-123") == {"川A1"}
    assert search(" S-4567 ") == {"川A2"}


def test_search_treats_like_wildcards_as_plain_characters():
    PayOrderFactory(plate="川A660P1")

    assert search("%") == set()
    assert search("_660P1") == set()


def test_order_totals_sum_orders_discounts_and_coupons_of_the_filtered_set():
    park = ParkFactory()
    first = PayOrderFactory(park=park, pay_value=1000)
    DiscountFactory(order=first, relief_value=100)
    DiscountFactory(order=first, relief_value=50)
    MerchantCouponFactory(order=first, coupon_value=500)
    PayOrderFactory(park=park, pay_value=1)
    other = PayOrderFactory(pay_value=99999)
    DiscountFactory(order=other, relief_value=7)
    MerchantCouponFactory(order=other, coupon_value=9)

    filtered = selectors.order_totals(orders=PayOrder.objects.filter(park=park))
    everything = selectors.order_totals(orders=PayOrder.objects.all())

    assert filtered == selectors.OrderTotals(
        orders=2, paid=1001, relief=150, coupons=1, coupon_value=500
    )
    assert everything == selectors.OrderTotals(
        orders=3, paid=101000, relief=157, coupons=2, coupon_value=509
    )
    assert selectors.order_totals(orders=PayOrder.objects.none()) == selectors.OrderTotals()


def test_order_totals_do_not_run_the_per_row_subqueries_of_the_list():
    DiscountFactory()
    listed = selectors.with_row_totals(PayOrder.objects.filter(pay_value__gte=0))

    with CaptureQueriesContext(connection) as context:
        totals = selectors.order_totals(orders=listed)

    assert totals.orders == 1
    orders_query = context.captured_queries[0]["sql"]
    assert "orders_discount" not in orders_query
    assert "orders_merchantcoupon" not in orders_query


def test_row_totals_give_each_order_its_relief_and_coupon_count():
    order = PayOrderFactory()
    DiscountFactory(order=order, relief_value=120)
    DiscountFactory(order=order, relief_value=3)
    MerchantCouponFactory.create_batch(3, order=order)
    bare = PayOrderFactory()

    rows = {
        o.pk: (o.relief_total, o.coupon_count)
        for o in selectors.with_row_totals(PayOrder.objects.all())
    }

    assert rows == {order.pk: (123, 3), bare.pk: (0, 0)}


def test_order_extras_read_a_batch_of_orders_in_two_queries(django_assert_num_queries):
    first, second, bare = PayOrderFactory.create_batch(3)
    DiscountFactory(order=first, mobile="13800138000", relief_value=100)
    DiscountFactory(order=first, mobile="", relief_value=20)
    DiscountFactory(order=second, mobile="13900139000", relief_value=5)
    MerchantCouponFactory(order=second, coupon_value=300)
    MerchantCouponFactory(order=second, coupon_value=200)

    with django_assert_num_queries(2):
        extras = selectors.order_extras(order_ids=[first.pk, second.pk, bare.pk])

    assert extras[first.pk] == selectors.OrderExtras(120, ["13800138000"], 0, 0)
    assert extras[second.pk] == selectors.OrderExtras(5, ["13900139000"], 2, 500)
    assert extras[bare.pk] == selectors.OrderExtras()


def test_coupon_totals_are_per_store_and_coupon_type():
    MerchantCouponFactory.create_batch(2, store_code="KFC01", store_name="肯德基", coupon_value=500)
    MerchantCouponFactory(
        store_code="KFC01",
        store_name="肯德基",
        coupon_type=MerchantCoupon.CouponType.TIME,
        coupon_value=60,
    )
    MerchantCouponFactory(store_code="SB02", store_name="星巴克", coupon_type=None, coupon_value=1)

    totals = selectors.coupon_totals(coupons=MerchantCoupon.objects.all())

    assert [
        (t.store_code, t.coupon_type, t.coupons, t.value, t.is_amount) for t in totals.stores
    ] == [
        ("KFC01", 1, 2, 1000, True),
        ("KFC01", 2, 1, 60, False),
        ("SB02", None, 1, None, False),  # no unit defined: counted, never summed
    ]


def test_coupon_totals_add_money_and_minutes_apart_and_never_add_percentages():
    amount, time, percent = (
        MerchantCoupon.CouponType.AMOUNT,
        MerchantCoupon.CouponType.TIME,
        MerchantCoupon.CouponType.PERCENTAGE,
    )
    MerchantCouponFactory(store_code="A", coupon_type=amount, coupon_value=500)
    MerchantCouponFactory(store_code="B", coupon_type=amount, coupon_value=1500)
    MerchantCouponFactory(store_code="A", coupon_type=time, coupon_value=120)
    MerchantCouponFactory(store_code="B", coupon_type=time, coupon_value=120)
    MerchantCouponFactory(store_code="A", coupon_type=percent, coupon_value=80)
    MerchantCouponFactory(store_code="B", coupon_type=percent, coupon_value=420)
    MerchantCouponFactory(store_code="B", coupon_type=7, coupon_value=9)

    totals = selectors.coupon_totals(coupons=MerchantCoupon.objects.all())

    by_type = {t.coupon_type: t for t in totals.types}
    assert [(t.store_code, t.coupons, t.value, t.unit) for t in totals.types] == [
        ("", 2, 2000, "fen"),
        ("", 2, 240, "minutes"),
        ("", 2, None, "percent"),
        ("", 1, None, "as_sent"),
    ]
    assert by_type[amount].value_text == "¥20.00"
    with translation.override("zh-hans"):
        assert by_type[time].value_text == "240 分钟"
    assert by_type[percent].value_text == ""
    assert [t.value for t in totals.stores if t.coupon_type == percent] == [None, None]
    # Money is the amount coupons alone; the count is every coupon.
    assert (totals.coupons, totals.amount_value) == (7, 2000)


def test_daily_summary_cuts_days_at_china_midnight():
    park = ParkFactory(park_uuid="p-1", name="南门")
    late = PayOrderFactory(park=park, pay_time=china(2026, 11, 1, 23, 59, 59), pay_value=300)
    DiscountFactory(order=late, relief_value=30)
    DiscountFactory(order=late, relief_value=20)
    MerchantCouponFactory(order=late, coupon_value=100)
    PayOrderFactory(park=park, pay_time=china(2026, 11, 2, 0, 0, 0), pay_value=200)
    PayOrderFactory(park=park, pay_time=china(2026, 10, 31, 23, 59, 59), pay_value=7)

    summary = selectors.daily_summary(date_from=date(2026, 11, 1), date_to=date(2026, 11, 2))

    assert [
        (r.day, r.orders, r.paid, r.relief, r.coupons, r.coupon_value) for r in summary.rows
    ] == [
        (date(2026, 11, 1), 1, 300, 50, 1, 100),
        (date(2026, 11, 2), 1, 200, 0, 0, 0),
    ]
    total = summary.total
    assert (total.orders, total.paid, total.relief, total.coupons, total.coupon_value) == (
        2,
        500,
        50,
        1,
        100,
    )


def test_daily_summary_keeps_parks_and_channels_apart_and_can_take_one_park():
    north, south = ParkFactory(name="北"), ParkFactory(name="南")
    PayOrderFactory(park=north, pay_time=china(2026, 11, 1, 12), channel="A")
    PayOrderFactory(park=north, pay_time=china(2026, 11, 1, 13), channel="B")
    PayOrderFactory(park=south, pay_time=china(2026, 11, 1, 14), channel="A")
    day = date(2026, 11, 1)

    everywhere = selectors.daily_summary(date_from=day, date_to=day)
    south_only = selectors.daily_summary(date_from=day, date_to=day, park_uuid=south.park_uuid)

    assert [(r.park_name, r.channel, r.orders) for r in everywhere.rows] == [
        ("北", "A", 1),
        ("北", "B", 1),
        ("南", "A", 1),
    ]
    assert [(r.park_name, r.channel) for r in south_only.rows] == [("南", "A")]


TODAY = date(2026, 11, 30)


@pytest.mark.parametrize(
    "date_from, date_to, expected",
    [
        (None, None, (date(2026, 11, 24), TODAY)),
        (None, date(2026, 11, 10), (date(2026, 11, 4), date(2026, 11, 10))),
        (date(2026, 11, 1), None, (date(2026, 11, 1), TODAY)),
        (date(2025, 12, 1), date(2026, 11, 30), (date(2025, 12, 1), date(2026, 11, 30))),
    ],
)
def test_summary_range_fills_in_the_last_7_days(date_from, date_to, expected):
    assert selectors.summary_range(date_from=date_from, date_to=date_to, today=TODAY) == expected


@pytest.mark.parametrize(
    "date_from, date_to, message",
    [
        (date(2026, 11, 2), date(2026, 11, 1), "The first day (2026-11-02) is after the last"),
        (date(2025, 11, 29), None, "Choose at most 366 days at once."),
        (None, date(1, 1, 3), "Choose days between the years 1 and 9999."),
        (date(9999, 12, 30), date(9999, 12, 31), "Choose days between the years 1 and 9999."),
    ],
)
def test_summary_range_refuses_what_the_summary_cannot_show(date_from, date_to, message):
    with translation.override("en"), pytest.raises(selectors.SummaryRangeError) as excinfo:
        selectors.summary_range(date_from=date_from, date_to=date_to, today=TODAY)

    assert excinfo.value.messages[0].startswith(message)
    assert excinfo.value.date_to == (date_to or TODAY)


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="pattern_ops indexes exist on PostgreSQL only"
)
def test_plate_beginning_and_ending_searches_use_indexes_on_postgresql():
    PayOrderFactory.create_batch(3)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")

    plan = selectors.search_orders(orders=PayOrder.objects.all(), term="660P1").explain()

    assert "payorder_plate_reversed_like" in plan
    assert "Seq Scan" not in plan


def test_money_totals_add_up_amount_coupons_only_and_count_every_coupon():
    order = PayOrderFactory(pay_time=datetime(2026, 11, 1, 12, 0, tzinfo=CHINA))
    MerchantCouponFactory(
        order=order, coupon_type=MerchantCoupon.CouponType.AMOUNT, coupon_value=500
    )
    MerchantCouponFactory(order=order, coupon_type=MerchantCoupon.CouponType.TIME, coupon_value=60)
    MerchantCouponFactory(
        order=order, coupon_type=MerchantCoupon.CouponType.PERCENTAGE, coupon_value=80
    )
    day = date(2026, 11, 1)

    totals = selectors.order_totals(orders=PayOrder.objects.all())
    extras = selectors.order_extras(order_ids=[order.pk])[order.pk]
    summary = selectors.daily_summary(date_from=day, date_to=day)

    assert (totals.coupons, totals.coupon_value) == (3, 500)
    assert (extras.coupons, extras.coupon_value) == (3, 500)
    assert (summary.total.coupons, summary.total.coupon_value) == (3, 500)
