"""The finance and operations admin over the Django test client: lists, search, filters,
totals, detail pages, read-only refusals, masking, the daily summary, the push log and replay."""

import re
from datetime import UTC, datetime

import pytest
from django.contrib.messages import get_messages

from orders.models import MerchantCoupon, PayOrder, PushLog
from orders.tests.conftest import FINANCE, OPERATIONS, VIEW_ALL
from orders.tests.factories import DiscountFactory, MerchantCouponFactory, PayOrderFactory
from whitelist.tests.factories import ParkFactory, WhitelistEntryFactory

ORDERS = "/admin/orders/payorder/"
COUPONS = "/admin/orders/merchantcoupon/"
PUSH_LOG = "/admin/orders/pushlog/"
SUMMARY = "/admin/orders/summary/daily/"

pytestmark = pytest.mark.django_db


def china(*args) -> datetime:
    """An aware time given in China time (UTC+8, no DST)."""
    from parkingops.formatting import CHINA

    return datetime(*args, tzinfo=CHINA)


def listed_serials(response) -> set[str]:
    """The pay serials on an order list page (the factories' serials are 26 digits)."""
    return set(re.findall(r"\b2024\d{22}\b", response.content.decode()))


def cell_texts(html: str) -> list[str]:
    """The text of each cell (td or th) of a table row."""
    cells = re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", html, re.S)
    return [re.sub(r"<[^>]+>", "", cell).strip() for cell in cells]


def result_rows(response) -> list[list[str]]:
    """The rows of the admin's result list, as cell texts."""
    table = response.content.decode().split('id="result_list"')[1]
    body = table.split("<tbody>")[1].split("</tbody>")[0]
    return [cell_texts(row) for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)]


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


# --- The order list ---------------------------------------------------------------------------


def test_order_list_shows_pay_time_in_china_time_amounts_in_yuan_relief_and_coupon_count(
    superuser_client,
):
    order = PayOrderFactory(
        pay_time=datetime(2026, 11, 1, 0, 30, tzinfo=UTC), pay_value=1250, channel="200102"
    )
    DiscountFactory(order=order, relief_value=300)
    DiscountFactory(order=order, relief_value=25)
    MerchantCouponFactory.create_batch(2, order=order)

    response = superuser_client.get(ORDERS)

    assert response.status_code == 200
    assert result_rows(response) == [
        [
            "2026-11-01 08:30:00",
            order.park.name,
            "川A660P1",
            "¥12.50",
            "200102（尚未命名）",
            "¥3.25",
            "2",
            order.pay_serial,
            "—",  # no stay pushed for its parking serial
        ]
    ]


def test_order_list_page_runs_a_bounded_number_of_queries_whatever_the_rows(
    superuser_client, django_assert_max_num_queries
):
    def make(count: int) -> None:
        for order in PayOrderFactory.create_batch(count):
            DiscountFactory(order=order)
            MerchantCouponFactory(order=order)

    make(3)
    with django_assert_max_num_queries(10):
        assert superuser_client.get(ORDERS).status_code == 200
    make(40)
    with django_assert_max_num_queries(10):
        response = superuser_client.get(f"{ORDERS}?q=川A&has_discounts=1&channel=200102")
    assert len(listed_serials(response)) == 43


def test_order_list_is_refused_without_the_view_permission(staff_client):
    assert staff_client("orders.view_pushlog").get(ORDERS).status_code == 403


@pytest.mark.parametrize(
    ("term", "found"),
    [
        ("川A660P1", {"a"}),  # the whole plate
        ("川a 660p1", {"a"}),  # any spelling: normalised first
        ("川A66", {"a"}),  # its beginning
        ("660P1", {"a"}),  # its ending
        ("0p1", {"a"}),  # its ending, lower case
        ("12345", {"b"}),  # the ending of another plate
        ("20260000000000000000000099", {"b"}),  # a pay serial
        ("590000000000000077", {"a"}),  # a parking serial
        ("A660P", set()),  # the middle is neither beginning nor ending
    ],
)
def test_order_search_finds_plate_whole_beginning_ending_and_serials(superuser_client, term, found):
    orders = {
        "a": PayOrderFactory(plate="川A660P1", parking_serial="590000000000000077"),
        "b": PayOrderFactory(plate="粤B12345", pay_serial="20260000000000000000000099"),
    }

    response = superuser_client.get(ORDERS, {"q": term})

    assert response.status_code == 200
    page = response.content.decode()
    shown = {key for key, order in orders.items() if f">{order.pay_serial}<" in page}
    assert shown == found


def test_order_filters_by_park_uuid_and_channel(superuser_client):
    park = ParkFactory(name="南门停车场")
    wanted = PayOrderFactory(park=park, channel="200102")
    PayOrderFactory(park=park, channel="100101")
    PayOrderFactory(channel="200102")

    response = superuser_client.get(ORDERS, {"park": park.park_uuid, "channel": "200102"})

    assert listed_serials(response) == {wanted.pay_serial}


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"has_discounts": "1"}, {"discounted", "both"}),
        ({"has_discounts": "0"}, {"couponed", "plain"}),
        ({"has_coupons": "1"}, {"couponed", "both"}),
        ({"has_coupons": "0"}, {"discounted", "plain"}),
        ({"has_discounts": "1", "has_coupons": "1"}, {"both"}),
    ],
)
def test_order_filters_has_discounts_and_has_coupons_take_1_and_0(
    superuser_client, params, expected
):
    orders = {name: PayOrderFactory() for name in ("discounted", "couponed", "both", "plain")}
    DiscountFactory(order=orders["discounted"])
    DiscountFactory(order=orders["both"])
    MerchantCouponFactory(order=orders["couponed"])
    MerchantCouponFactory(order=orders["both"])

    response = superuser_client.get(ORDERS, params)

    assert listed_serials(response) == {orders[name].pay_serial for name in expected}


def test_order_pay_date_range_is_china_time_days_both_inclusive(superuser_client):
    before = PayOrderFactory(pay_time=china(2026, 10, 31, 23, 59, 59))
    first = PayOrderFactory(pay_time=china(2026, 11, 1, 0, 0, 0))
    last = PayOrderFactory(pay_time=china(2026, 11, 2, 23, 59, 59, 999999))
    after = PayOrderFactory(pay_time=china(2026, 11, 3, 0, 0, 0))

    both = superuser_client.get(
        ORDERS, {"pay_date_from": "2026-11-01", "pay_date_to": "2026-11-02"}
    )
    since = superuser_client.get(ORDERS, {"pay_date_from": "2026-11-01"})
    until = superuser_client.get(ORDERS, {"pay_date_to": "2026-11-02"})

    assert listed_serials(both) == {first.pay_serial, last.pay_serial}
    assert listed_serials(since) == {first.pay_serial, last.pay_serial, after.pay_serial}
    assert listed_serials(until) == {before.pay_serial, first.pay_serial, last.pay_serial}


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"pay_date_from": "2026-13-01"}, "“2026-13-01” is not a date: use YYYY-MM-DD"),
        ({"pay_date_to": "yesterday"}, "“yesterday” is not a date: use YYYY-MM-DD"),
        (
            {"pay_date_from": "2026-11-05", "pay_date_to": "2026-11-01"},
            "The first day (2026-11-05) is after the last day (2026-11-01).",
        ),
        ({"has_coupons": "2"}, "“2” is not a valid choice"),
    ],
)
def test_order_list_bad_filter_value_shows_a_message_and_no_rows(staff_client, params, message):
    PayOrderFactory()
    client = staff_client(*VIEW_ALL, language="en")

    response = client.get(ORDERS, params)

    assert response.status_code == 200
    assert listed_serials(response) == set()
    assert any(message in text for text in messages_of(response))


def test_order_totals_cover_the_whole_filtered_set_not_just_the_page(superuser_client):
    park = ParkFactory()
    for order in PayOrderFactory.create_batch(55, park=park, pay_value=1001):
        DiscountFactory(order=order, relief_value=10)
    MerchantCouponFactory(order=PayOrder.objects.filter(park=park).first(), coupon_value=1500)
    PayOrderFactory(pay_value=99999)  # another park: not in the totals

    response = superuser_client.get(ORDERS, {"park": park.park_uuid})

    page = response.content.decode()
    assert len(listed_serials(response)) == 50  # one page
    totals = dict(re.findall(r'class="orders-total-([a-z-]+)">([^<]*)<', page))
    assert totals == {
        "count": "55",
        "paid": "¥550.55",
        "relief": "¥5.50",
        "coupons": "1",
        "coupon-value": "¥15.00",
    }


def test_order_list_offers_export_only_to_holders_of_export_orders(staff_client):
    PayOrderFactory()

    with_export = staff_client(*FINANCE).get(ORDERS, {"q": "川A"})
    without = staff_client(*VIEW_ALL).get(ORDERS)

    assert 'href="/admin/orders/payorder/export/?q=%E5%B7%9DA"' in with_export.content.decode()
    assert "/admin/orders/payorder/export/" not in without.content.decode()


# --- Read-only for everyone ------------------------------------------------------------------


@pytest.mark.parametrize("model", ["payorder", "merchantcoupon", "pushlog", "park"])
def test_no_one_may_add_change_or_delete_not_even_a_superuser(superuser_client, push, model):
    order = PayOrderFactory()
    MerchantCouponFactory(order=order)
    push()  # a push-log row (refused: the plate is not whitelisted)
    pk = {
        "payorder": order.pk,
        "merchantcoupon": MerchantCoupon.objects.get().pk,
        "pushlog": PushLog.objects.get().pk,
        "park": order.park.pk,
    }[model]
    app = "whitelist" if model == "park" else "orders"
    base = f"/admin/{app}/{model}/"

    assert superuser_client.get(f"{base}add/").status_code == 403
    assert superuser_client.post(f"{base}add/", {}).status_code == 403
    assert superuser_client.post(f"{base}{pk}/change/", {}).status_code == 403
    assert superuser_client.get(f"{base}{pk}/delete/").status_code == 403
    assert superuser_client.post(f"{base}{pk}/delete/", {"post": "yes"}).status_code == 403
    view = superuser_client.get(f"{base}{pk}/change/")
    assert view.status_code == 200
    assert 'name="_save"' not in view.content.decode()
    assert PayOrder.objects.count() == 1


# --- The order detail ------------------------------------------------------------------------


def test_order_detail_shows_every_field_discounts_coupons_extra_and_push_log(
    superuser_client, whitelisted, push, django_assert_max_num_queries
):
    push(
        pay_serial="20261101000000000000000001",
        pay_value=1250,
        pay_time_ms=int(china(2026, 11, 1, 9, 30).timestamp() * 1000),
        discounts=[{"type": "1", "mobile": "13800138000", "relief_value": "300"}],
        mcoupons=[
            {
                "store_name": "肯德基",
                "store_code": "KFC01",
                "coupon_name": "10元停车券",
                "coupon_code": "C1",
                "coupon_type": "1",
                "coupon_value": "1000",
            }
        ],
        gate="东门",
    )
    push(pay_serial="20261101000000000000000001", pay_value=1250)  # a conflict, logged
    order = PayOrder.objects.get()

    with django_assert_max_num_queries(14):
        response = superuser_client.get(f"{ORDERS}{order.pk}/change/", HTTP_ACCEPT_LANGUAGE="en")

    page = response.content.decode()
    for text in [
        order.pay_serial,
        order.parking_serial,
        order.park.park_uuid,
        "¥12.50 (1250 fen)",
        "2026-11-01 09:30:00",
        order.identity,
        order.app_id,
        "13800138000",  # the superuser holds orders.view_personal_data
        "¥3.00",
        "肯德基",
        "KFC01",
        "¥10.00",
        "&quot;gate&quot;: &quot;东门&quot;",
        "accepted",
        "conflict",
    ]:
        assert text in page, text


def test_order_detail_masks_discount_mobiles_without_the_personal_data_permission(
    staff_client,
):
    order = PayOrderFactory()
    DiscountFactory(order=order, mobile="13800138000")
    url = f"{ORDERS}{order.pk}/change/"

    masked = staff_client("orders.view_payorder").get(url).content.decode()
    unmasked = staff_client("orders.view_payorder", "orders.view_personal_data").get(url)

    assert "138****8000" in masked
    assert "13800138000" not in masked
    assert "13800138000" in unmasked.content.decode()


@pytest.mark.parametrize("where", ["order", "discount", "coupon"])
def test_extra_fields_mask_mobile_numbers_without_the_personal_data_permission(staff_client, where):
    """Whatever key the platform put a mobile number under, in the order's or a part's extra
    fields, on the order page and the coupon page."""
    extra = {"contact": {"phone": "13900139000"}, "mobile": "13800138000"}
    order = PayOrderFactory(extra=extra if where == "order" else {})
    DiscountFactory(order=order, mobile="", extra=extra if where == "discount" else {})
    coupon = MerchantCouponFactory(order=order, extra=extra if where == "coupon" else {})
    pages = [f"{ORDERS}{order.pk}/change/"]
    if where == "coupon":
        pages.append(f"/admin/orders/merchantcoupon/{coupon.pk}/change/")
    viewer = staff_client("orders.view_payorder", "orders.view_merchantcoupon")
    trusted = staff_client(
        "orders.view_payorder", "orders.view_merchantcoupon", "orders.view_personal_data"
    )

    for url in pages:
        masked = viewer.get(url).content.decode()
        unmasked = trusted.get(url).content.decode()

        assert "139****9000" in masked and "138****8000" in masked, url
        assert "13900139000" not in masked and "13800138000" not in masked, url
        assert "13900139000" in unmasked and "13800138000" in unmasked, url


# --- Merchant coupons ------------------------------------------------------------------------


def test_coupon_list_shows_one_row_per_coupon_with_its_order(superuser_client):
    park = ParkFactory(name="北门停车场")
    order = PayOrderFactory(park=park, plate="粤B12345", pay_time=china(2026, 11, 1, 10, 0))
    MerchantCouponFactory(
        order=order, store_name="星巴克", coupon_name="满50减10", coupon_value=1000
    )
    MerchantCouponFactory(
        order=order,
        store_name="影城",
        coupon_type=MerchantCoupon.CouponType.TIME,
        coupon_value=120,
    )

    page = superuser_client.get(COUPONS).content.decode()

    assert page.count('class="field-store"') == 2
    for text in [
        "星巴克",
        "满50减10",
        "¥10.00",
        "影城",
        "120",
        "2026-11-01 10:00:00",
        "粤B12345",
        "北门停车场",
    ]:
        assert text in page, text


def test_coupon_list_filters_by_the_orders_pay_date_and_totals_each_store(superuser_client):
    inside = PayOrderFactory(pay_time=china(2026, 11, 1, 0, 0))
    outside = PayOrderFactory(pay_time=china(2026, 10, 31, 23, 59))
    MerchantCouponFactory.create_batch(2, order=inside, store_code="KFC01", coupon_value=500)
    MerchantCouponFactory(order=inside, store_code="SB02", store_name="星巴克", coupon_value=300)
    MerchantCouponFactory(order=outside, store_code="KFC01", coupon_value=99900)

    response = superuser_client.get(
        COUPONS, {"pay_date_from": "2026-11-01", "pay_date_to": "2026-11-01"}
    )

    page = response.content.decode()
    totals = re.findall(r'<tr class="orders-store-total">(.*?)</tr>', page, re.S)
    cells = [re.findall(r"<td[^>]*>(.*?)</td>", row) for row in totals]
    assert cells == [
        ["KFC01", "肯德基", "amount", "2", "¥10.00"],
        ["SB02", "星巴克", "amount", "1", "¥3.00"],
    ] or cells == [
        ["KFC01", "肯德基", "金额券", "2", "¥10.00"],
        ["SB02", "星巴克", "金额券", "1", "¥3.00"],
    ]
    assert page.count('class="field-store"') == 3


def test_coupon_list_page_runs_a_bounded_number_of_queries(
    superuser_client, django_assert_max_num_queries
):
    for order in PayOrderFactory.create_batch(30):
        MerchantCouponFactory.create_batch(2, order=order)

    with django_assert_max_num_queries(10):
        response = superuser_client.get(COUPONS, {"pay_date_from": "2020-01-01"})

    assert response.content.decode().count('class="field-store"') == 50


# --- The daily summary -----------------------------------------------------------------------


def summary_rows(response) -> list[list[str]]:
    page = response.content.decode()
    rows = re.findall(r'<tr class="orders-summary-(?:row|total)">(.*?)</tr>', page, re.S)
    return [cell_texts(row) for row in rows]


def test_daily_summary_groups_by_china_day_park_and_channel_with_a_total(
    finance_client, django_assert_max_num_queries
):
    north = ParkFactory(name="A北门")
    south = ParkFactory(name="B南门")
    late = PayOrderFactory(park=north, pay_time=china(2026, 11, 1, 23, 30), pay_value=1000)
    DiscountFactory(order=late, relief_value=200)
    MerchantCouponFactory(order=late, coupon_value=500)
    PayOrderFactory(park=north, pay_time=china(2026, 11, 1, 0, 0), pay_value=100)
    PayOrderFactory(park=north, pay_time=china(2026, 11, 1, 8), pay_value=1, channel="100101")
    PayOrderFactory(park=south, pay_time=china(2026, 11, 2, 0, 10), pay_value=700)
    PayOrderFactory(park=south, pay_time=china(2026, 11, 3, 0, 0), pay_value=5)  # after "to"

    # 9, and on PostgreSQL the heavy read's SET and RESET of the statement limit.
    with django_assert_max_num_queries(11):
        response = finance_client.get(SUMMARY, {"from": "2026-11-01", "to": "2026-11-02"})

    assert response.status_code == 200
    assert summary_rows(response) == [
        ["2026-11-01", "A北门", "100101（尚未命名）", "1", "¥0.01", "¥0.00", "0", "¥0.00"],
        ["2026-11-01", "A北门", "200102（尚未命名）", "2", "¥11.00", "¥2.00", "1", "¥5.00"],
        ["2026-11-02", "B南门", "200102（尚未命名）", "1", "¥7.00", "¥0.00", "0", "¥0.00"],
        [summary_rows(response)[-1][0], "4", "¥18.01", "¥2.00", "1", "¥5.00"],
    ]


def test_daily_summary_shows_each_days_subtotal_after_its_rows_then_each_park_and_the_total(
    finance_client,
):
    north = ParkFactory(name="A北门")
    south = ParkFactory(name="B南门")
    PayOrderFactory(park=north, pay_time=china(2026, 11, 1, 8), pay_value=100)
    PayOrderFactory(park=south, pay_time=china(2026, 11, 1, 9), pay_value=20, channel="100101")
    PayOrderFactory(park=south, pay_time=china(2026, 11, 2, 9), pay_value=3)

    response = finance_client.get(SUMMARY, {"from": "2026-11-01", "to": "2026-11-02"})

    page = response.content.decode()
    rows = re.findall(r'<tr class="orders-summary-([a-z -]+)">(.*?)</tr>', page, re.S)
    assert [(kind, cell_texts(cells)) for kind, cells in rows] == [
        ("row", ["2026-11-01", "A北门", "200102（尚未命名）", "1", "¥1.00", "¥0.00", "0", "¥0.00"]),
        ("row", ["2026-11-01", "B南门", "100101（尚未命名）", "1", "¥0.20", "¥0.00", "0", "¥0.00"]),
        (
            "subtotal orders-summary-day-subtotal",
            ["2026-11-01", "按日小计", "2", "¥1.20", "¥0.00", "0", "¥0.00"],
        ),
        ("row", ["2026-11-02", "B南门", "200102（尚未命名）", "1", "¥0.03", "¥0.00", "0", "¥0.00"]),
        (
            "subtotal orders-summary-day-subtotal",
            ["2026-11-02", "按日小计", "1", "¥0.03", "¥0.00", "0", "¥0.00"],
        ),
        (
            "subtotal orders-summary-park-subtotal",
            ["按车场小计", "A北门", "", "1", "¥1.00", "¥0.00", "0", "¥0.00"],
        ),
        (
            "subtotal orders-summary-park-subtotal",
            ["按车场小计", "B南门", "", "2", "¥0.23", "¥0.00", "0", "¥0.00"],
        ),
        ("total", ["合计", "3", "¥1.23", "¥0.00", "0", "¥0.00"]),
    ]


def test_daily_summary_pivot_shows_days_by_parks_with_totals(finance_client):
    north = ParkFactory(name="A北门")
    south = ParkFactory(name="B南门")
    PayOrderFactory(park=north, pay_time=china(2026, 11, 1, 8), pay_value=100)
    PayOrderFactory(park=north, pay_time=china(2026, 11, 1, 9), pay_value=50, channel="100101")
    PayOrderFactory(park=south, pay_time=china(2026, 11, 3, 9), pay_value=7)

    response = finance_client.get(
        SUMMARY, {"from": "2026-11-01", "to": "2026-11-03", "view": "pivot"}
    )

    assert response.status_code == 200
    page = response.content.decode()
    head = re.search(
        r'<table class="orders-summary orders-summary-pivot">\s*<thead>(.*?)</thead>', page, re.S
    )
    assert cell_texts(head[1]) == ["日期", "A北门", "B南门", "合计"]
    rows = re.findall(r'<tr class="orders-pivot-(?:row|total)">(.*?)</tr>', page, re.S)
    assert [cell_texts(row) for row in rows] == [
        ["2026-11-01", "¥1.50", "¥0.00", "¥1.50"],
        ["2026-11-02", "¥0.00", "¥0.00", "¥0.00"],
        ["2026-11-03", "¥0.00", "¥0.07", "¥0.07"],
        ["合计", "¥1.50", "¥0.07", "¥1.57"],
    ]
    assert (
        'href="/admin/orders/summary/daily/export/?from=2026-11-01&amp;to=2026-11-03&amp;view=pivot"'
        in page
    )
    assert 'name="view" value="pivot"' in page


def test_daily_summary_counts_its_queries_not_its_orders(
    finance_client, django_assert_max_num_queries
):
    """The subtotals and the pivot are sums of the database's groups: as many queries for
    60 orders as for one, in either view."""
    parks = [ParkFactory(), ParkFactory(), ParkFactory()]
    for day in range(1, 21):
        for park in parks:
            PayOrderFactory(park=park, pay_time=china(2026, 11, day, 12))

    for view in ("rows", "pivot"):
        with django_assert_max_num_queries(11):
            response = finance_client.get(
                SUMMARY, {"from": "2026-11-01", "to": "2026-11-30", "view": view}
            )
        assert response.status_code == 200


@pytest.mark.parametrize("view", ["table", "Pivot", "pi vot", "rows&view=pivot"])
def test_daily_summary_refuses_an_unknown_view_with_the_reason(staff_client, view):
    response = staff_client("orders.view_payorder", language="en").get(SUMMARY, {"view": view})

    assert response.status_code == 400
    assert "is not a view of this page: choose rows, pivot." in response.content.decode()


def test_daily_summary_narrows_to_one_park(finance_client):
    north, south = ParkFactory(), ParkFactory()
    PayOrderFactory(park=north, pay_time=china(2026, 11, 1, 12))
    PayOrderFactory(park=south, pay_time=china(2026, 11, 1, 12))

    response = finance_client.get(
        SUMMARY, {"from": "2026-11-01", "to": "2026-11-01", "park": south.park_uuid}
    )

    rows = summary_rows(response)
    assert [row[1] for row in rows[:-1]] == [south.name]


def test_daily_summary_defaults_to_the_last_7_days(finance_client):
    from django.utils import timezone

    PayOrderFactory(pay_time=timezone.now())
    PayOrderFactory(pay_time=timezone.now() - timezone.timedelta(days=8))

    response = finance_client.get(SUMMARY)

    assert response.status_code == 200
    assert summary_rows(response)[-1][1] == "1"


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"from": "2026-02-30"}, "“2026-02-30” is not a date"),
        ({"from": "2026-11-05", "to": "2026-11-01"}, "is after the last day"),
        ({"park": "no-such-park"}, "No park has the uuid “no-such-park”."),
        ({"from": "2020-01-01", "to": "2026-01-01"}, "Choose at most 366 days at once."),
    ],
)
def test_daily_summary_bad_query_answers_400_with_the_reason(staff_client, params, message):
    response = staff_client("orders.view_payorder", language="en").get(SUMMARY, params)

    assert response.status_code == 400
    assert message in response.content.decode()


def test_daily_summary_is_refused_without_the_order_view_permission(staff_client):
    assert staff_client(*OPERATIONS).get(SUMMARY).status_code == 403


def test_daily_summary_is_linked_from_the_admin_index_and_the_orders_app(
    finance_client, staff_client
):
    for url in ["/admin/", "/admin/orders/"]:
        assert f'href="{SUMMARY}"' in finance_client.get(url).content.decode()
    assert f'href="{SUMMARY}"' not in staff_client(*OPERATIONS).get("/admin/").content.decode()


# --- The push log ----------------------------------------------------------------------------


def test_push_log_lists_time_code_reason_serial_plate_and_address(
    superuser_client, whitelisted, push, django_assert_max_num_queries
):
    push(pay_serial="20261101000000000000000001")
    push(pay_serial="20261101000000000000000002", plate="粤B12345")

    with django_assert_max_num_queries(10):
        response = superuser_client.get(PUSH_LOG)

    page = response.content.decode()
    for text in [
        "1001",
        "accepted",
        "1403",
        "not_whitelisted",
        "20261101000000000000000002",
        "粤B12345",
        "127.0.0.1",
    ]:
        assert text in page, text


def test_push_log_filters_by_code_reason_and_date_and_searches_by_plate(
    superuser_client, whitelisted, push
):
    push(pay_serial="20261101000000000000000001")
    push(pay_serial="20261101000000000000000002", plate="粤B12345")
    from django.utils import timezone

    today = timezone.now().astimezone(china(2026, 1, 1).tzinfo).date().isoformat()

    def serials(params):
        page = superuser_client.get(PUSH_LOG, params).content.decode()
        return set(re.findall(r"2026110100000000000000000\d", page))

    assert serials({"code": "1403"}) == {"20261101000000000000000002"}
    assert serials({"reason": "accepted"}) == {"20261101000000000000000001"}
    assert serials({"received_date_from": today, "received_date_to": today}) == {
        "20261101000000000000000001",
        "20261101000000000000000002",
    }
    assert serials({"received_date_to": "2020-01-01"}) == set()
    assert serials({"q": "粤b 12345"}) == {"20261101000000000000000002"}


def test_push_log_with_a_bad_date_shows_a_message_and_no_rows(staff_client, push):
    push(pay_serial="20261101000000000000000001")

    response = staff_client("orders.view_pushlog", language="en").get(
        PUSH_LOG, {"received_date_from": "2026-11-31"}
    )

    assert response.status_code == 200
    assert "20261101000000000000000001" not in response.content.decode()
    assert any("“2026-11-31” is not a date" in text for text in messages_of(response))


def test_push_log_detail_pretty_prints_a_json_body_with_mobiles_masked(staff_client, push):
    push(as_json=True, discounts=[{"mobile": "13800138000", "relief_value": 100}])
    log = PushLog.objects.get()

    masked = staff_client("orders.view_pushlog").get(f"{PUSH_LOG}{log.pk}/change/")
    unmasked = staff_client("orders.view_pushlog", "orders.view_personal_data").get(
        f"{PUSH_LOG}{log.pk}/change/"
    )

    page = masked.content.decode()
    assert (
        "  &quot;discounts&quot;: [\n    {\n      &quot;mobile&quot;: &quot;138****8000&quot;"
        in page
    )
    assert "13800138000" not in page
    assert "&quot;mobile&quot;: &quot;13800138000&quot;" in unmasked.content.decode()


def test_push_log_detail_shows_a_form_body_as_decoded_key_value_lines(superuser_client, push):
    push(park_name="南门 停车场")
    log = PushLog.objects.get()

    page = superuser_client.get(f"{PUSH_LOG}{log.pk}/change/").content.decode()

    assert "park_name = 南门 停车场\n" in page
    assert "plate = 川A660P1\n" in page


def replay(client, *logs):
    return client.post(
        PUSH_LOG,
        {"action": "replay_selected", "_selected_action": [log.pk for log in logs], "index": "0"},
        follow=True,
    )


def test_replay_of_a_plate_still_off_the_whitelist_is_refused_again_then_accepted_once_added(
    staff_client, push
):
    push(pay_serial="20261101000000000000000009")
    refused = PushLog.objects.get()
    assert refused.reason == "not_whitelisted"
    operations = staff_client(*OPERATIONS, language="en")

    again = replay(operations, refused)

    assert again.status_code == 200
    assert not PayOrder.objects.exists()
    assert list(PushLog.objects.order_by("pk").values_list("reason", flat=True)) == [
        "not_whitelisted",
        "not_whitelisted",
    ]
    assert any("1403 not_whitelisted" in text for text in messages_of(again))

    WhitelistEntryFactory(plate="川A660P1", valid_from=datetime(2020, 1, 1, tzinfo=UTC))
    accepted = replay(operations, refused)

    order = PayOrder.objects.get()
    assert order.pay_serial == "20261101000000000000000009"
    newest = PushLog.objects.order_by("-pk").first()
    assert (newest.reason, newest.order, newest.remote_addr) == ("accepted", order, "replay")
    assert PushLog.objects.count() == 3
    assert any("1001 accepted" in text for text in messages_of(accepted))


def test_replay_is_refused_without_the_replay_permission(staff_client, push):
    push()
    log = PushLog.objects.get()
    finance = staff_client(*FINANCE)

    response = replay(finance, log)

    assert response.status_code == 403
    assert PushLog.objects.count() == 1
    assert "replay_selected" not in finance.get(PUSH_LOG).content.decode()


def test_order_detail_labels_the_platforms_codes_in_its_extra_fields(superuser_client):
    order = PayOrderFactory(extra={"car_type": "2", "plate_color": 1, "vehicle_type": 42})

    page = superuser_client.get(f"{ORDERS}{order.pk}/change/").content.decode()

    labels = re.findall(r'<ul class="orders-code-labels">(.*?)</ul>', page, re.S)
    assert cell_texts_of_items(labels[0]) == [
        "车牌颜色: 蓝色 (1)",
        "车辆类型: 月租车 (2)",
        "车型: 42",
    ]


def cell_texts_of_items(html: str) -> list[str]:
    return [item.strip() for item in re.findall(r"<li>(.*?)</li>", html, re.S)]
