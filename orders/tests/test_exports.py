"""The CSV exports over the Django test client: columns, encoding, language, masking, formula
escaping, the list's own filters, file names, refusals, and no per-row queries."""

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from orders.exports import copy
from orders.models import Channel, MerchantCoupon
from orders.tests.conftest import (
    FINANCE,
    OPERATIONS,
    ORDER_HEADER_EN,
    ORDER_HEADER_ZH,
    VIEW_ALL,
    csv_rows,
    csv_text,
)
from orders.tests.factories import DiscountFactory, MerchantCouponFactory, PayOrderFactory
from parkingops import tabular
from parkingops.formatting import CHINA
from whitelist.tests.factories import ParkFactory

ORDERS_EXPORT = "/admin/orders/payorder/export/"
COUPONS_EXPORT = "/admin/orders/merchantcoupon/export/"
SUMMARY_EXPORT = "/admin/orders/summary/daily/export/"

COUPON_HEADER_EN = [
    "pay_serial",
    "pay_time",
    "park_name",
    "plate",
    "store_code",
    "store_name",
    "coupon_code",
    "coupon_name",
    "coupon_type",
    "coupon_type_label",
    "coupon_value",
    "coupon_unit",
    "coupon_value_yuan",
    "grant_serial",
    "grant_time",
]

pytestmark = pytest.mark.django_db


def china(*args) -> datetime:
    return datetime(*args, tzinfo=CHINA)


@pytest.fixture
def finance_en(staff_client):
    return staff_client(*FINANCE, language="en")


# --- Order CSV -------------------------------------------------------------------------------


def test_order_csv_has_bom_english_header_in_order_and_formatted_rows(finance_en):
    park = ParkFactory(park_uuid="49f0cc52-e8c7-41e3-b54d-af666b8cc11a", name="南门停车场")
    order = PayOrderFactory(
        pay_serial="20261101000000000000000001",
        parking_serial="591668151763415041",
        park=park,
        plate="川A660P1",
        pay_time=datetime(2026, 11, 1, 1, 2, 3, tzinfo=UTC),
        pay_value=1250,
        channel="200102",
        identity="5aeV05nlt6/ig4LplITisYg=",
        received_at=datetime(2026, 11, 1, 1, 2, 4, tzinfo=UTC),
    )
    DiscountFactory(order=order, mobile="13800138000", relief_value=300)
    DiscountFactory(order=order, mobile="13912345678", relief_value=25)
    DiscountFactory(order=order, mobile="", relief_value=0)
    MerchantCouponFactory(order=order, coupon_value=1000)
    MerchantCouponFactory(order=order, coupon_value=500)

    response = finance_en.get(ORDERS_EXPORT)

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert csv_rows(response) == [
        ORDER_HEADER_EN,
        [
            "20261101000000000000000001",
            "591668151763415041",
            "49f0cc52-e8c7-41e3-b54d-af666b8cc11a",
            "南门停车场",
            "川A660P1",
            "2026-11-01 09:02:03",
            "12.50",
            "1250",
            "200102",
            "5aeV05nlt6/ig4LplITisYg=",
            "3.25",
            "138****8000;139****5678",
            "2",
            "1500",
            "2026-11-01 09:02:04",
            "",  # 200102 has no name until finance gives it one
        ],
    ]


def test_order_csv_header_is_chinese_by_default_and_english_for_english_users(staff_client):
    PayOrderFactory()

    zh = csv_rows(staff_client(*FINANCE, language="zh-hans").get(ORDERS_EXPORT))[0]
    en = csv_rows(staff_client(*FINANCE, language="en").get(ORDERS_EXPORT))[0]
    default = csv_rows(staff_client(*FINANCE, language="").get(ORDERS_EXPORT))[0]

    assert zh == ORDER_HEADER_ZH
    assert en == ORDER_HEADER_EN
    assert default == ORDER_HEADER_ZH  # no stated language: Chinese


def test_order_csv_shows_mobiles_whole_only_to_holders_of_view_personal_data(staff_client):
    DiscountFactory(mobile="13800138000")

    masked = csv_rows(staff_client(*FINANCE).get(ORDERS_EXPORT))[1]
    whole = csv_rows(staff_client(*FINANCE, "orders.view_personal_data").get(ORDERS_EXPORT))[1]

    assert masked[11] == "138****8000"
    assert whole[11] == "13800138000"


@pytest.mark.parametrize(
    "dangerous",
    [
        '=HYPERLINK("http://x")',
        "+1+1",
        "-2+3",
        "@SUM(A1)",
        "\tx",
        "\rx",
        "＝1+1",
        "＋1",
        "－1",
        "＠x",
    ],
)
def test_order_csv_escapes_text_cells_that_a_spreadsheet_would_run(finance_en, dangerous):
    park = ParkFactory(name=dangerous)
    order = PayOrderFactory(park=park, identity=dangerous, channel=dangerous, pay_value=0)
    DiscountFactory(order=order, mobile=f"{dangerous}13800138000", relief_value=0)

    row = csv_rows(finance_en.get(ORDERS_EXPORT))[1]

    assert row[3] == f"'{dangerous}"  # park_name
    assert row[8] == f"'{dangerous}"  # channel
    assert row[9] == f"'{dangerous}"  # identity
    assert not row[11].startswith(tabular.FORMULA_PREFIXES)  # discount_mobiles, masked
    # Numbers are never touched.
    assert row[6:8] == ["0.00", "0"]
    assert row[10] == "0.00"


def test_order_export_uses_the_lists_own_filters_and_search(finance_en):
    park = ParkFactory()
    wanted = PayOrderFactory(park=park, plate="川A660P1", pay_time=china(2026, 11, 1, 0, 0))
    PayOrderFactory(park=park, plate="粤B12345", pay_time=china(2026, 11, 1, 1))  # search
    PayOrderFactory(park=park, plate="川A660P1", pay_time=china(2026, 10, 31, 23, 59))  # date
    PayOrderFactory(plate="川A660P1", pay_time=china(2026, 11, 1, 2))  # park
    DiscountFactory(order=PayOrderFactory(park=park, pay_time=china(2026, 11, 1, 3)))  # discounts

    response = finance_en.get(
        ORDERS_EXPORT,
        {
            "park": park.park_uuid,
            "q": "660p1",
            "pay_date_from": "2026-11-01",
            "pay_date_to": "2026-11-01",
            "has_discounts": "0",
        },
    )

    assert [row[0] for row in csv_rows(response)[1:]] == [wanted.pay_serial]
    assert response["Content-Disposition"] == (
        'attachment; filename="orders_2026-11-01_2026-11-01.csv"'
    )


def test_order_export_without_filters_exports_every_order_not_one_page(finance_en):
    orders = PayOrderFactory.create_batch(60)

    response = finance_en.get(ORDERS_EXPORT)

    serials = [row[0] for row in csv_rows(response)[1:]]
    assert sorted(serials) == sorted(order.pay_serial for order in orders)
    today = timezone.now().astimezone(CHINA).date().isoformat()
    assert response["Content-Disposition"] == f'attachment; filename="orders_all_{today}.csv"'


def test_order_export_rows_follow_the_lists_order_newest_first(finance_en):
    old = PayOrderFactory(pay_time=china(2026, 11, 1))
    new = PayOrderFactory(pay_time=china(2026, 11, 2))

    serials = [row[0] for row in csv_rows(finance_en.get(ORDERS_EXPORT))[1:]]

    assert serials == [new.pay_serial, old.pay_serial]


def test_order_export_reads_discounts_and_coupons_per_chunk_not_per_row(finance_en, monkeypatch):
    # The Python writer's reads (SQLite's; on PostgreSQL one COPY reads everything, see
    # test_exports_copy.py).
    monkeypatch.setattr(copy, "COPY_ON_POSTGRESQL", False)
    monkeypatch.setattr(tabular, "CHUNK_ROWS", 10)

    def queries_for(count: int) -> int:
        for order in PayOrderFactory.create_batch(count):
            DiscountFactory(order=order)
            MerchantCouponFactory(order=order)
        with CaptureQueriesContext(connection) as context:
            rows = csv_rows(finance_en.get(ORDERS_EXPORT))
        assert len(rows) == 1 + PayOrderFactory._meta.model.objects.count()
        return len(context.captured_queries)

    few = queries_for(5)  # 1 chunk
    many = queries_for(45)  # 50 orders: 5 chunks

    # Two queries (discounts, coupons) per chunk of 10, whatever the rows in it.
    assert many - few == 2 * 4


def test_order_export_streams_in_pieces(finance_en, monkeypatch):
    monkeypatch.setattr(tabular, "FLUSH_CHARS", 500)
    PayOrderFactory.create_batch(20)

    response = finance_en.get(ORDERS_EXPORT)

    assert response.streaming
    pieces = list(response.streaming_content)
    assert len(pieces) > 3
    assert pieces[0].startswith("\ufeff".encode())


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"pay_date_from": "2026-11-31"}, "“2026-11-31” is not a date"),
        ({"has_discounts": "yes"}, "“yes” is not a valid choice"),
        ({"no_such_field": "1"}, "The address holds a filter this list does not have."),
    ],
)
def test_order_export_with_a_bad_filter_answers_400_and_exports_nothing(
    staff_client, params, message
):
    PayOrderFactory()

    response = staff_client(*FINANCE, language="en").get(ORDERS_EXPORT, params)

    assert response.status_code == 400
    assert message in response.content.decode()


def test_an_export_whose_query_the_database_refuses_answers_400_not_a_cut_off_file(
    staff_client, monkeypatch
):
    """Whatever a query string builds, an export never sends a 200 that fails halfway: the
    query runs once before the first byte. (A NUL is refused long before; this search puts
    one in to stand for anything the database may refuse: PostgreSQL does, SQLite does not.)"""
    PayOrderFactory.create_batch(3)
    monkeypatch.setattr(
        "orders.admin.orders.selectors.search_orders",
        lambda *, orders, term: orders.filter(plate=f"{term}\x00"),
    )

    response = staff_client(*FINANCE, language="en").get(ORDERS_EXPORT, {"q": "川A"})

    if connection.vendor == "postgresql":
        assert response.status_code == 400
        assert response.content.decode() == "The export's filters are not valid."
    else:
        assert response.status_code == 200
        assert csv_rows(response)[1:] == []


@pytest.mark.parametrize("url", [ORDERS_EXPORT, COUPONS_EXPORT, SUMMARY_EXPORT])
def test_exports_are_refused_without_the_export_permission(staff_client, url):
    PayOrderFactory()

    assert staff_client(*VIEW_ALL).get(url).status_code == 403
    assert staff_client(*OPERATIONS).get(url).status_code == 403


# --- Coupon CSV ------------------------------------------------------------------------------


def test_coupon_csv_has_one_row_per_coupon_in_the_filtered_period(finance_en):
    park = ParkFactory(name="北门停车场")
    order = PayOrderFactory(
        pay_serial="20261101000000000000000001",
        park=park,
        plate="粤B12345",
        pay_time=china(2026, 11, 1, 0, 0),
    )
    MerchantCouponFactory(
        order=order,
        store_code="KFC01",
        store_name="肯德基",
        coupon_code="C1",
        coupon_name="10元停车券",
        coupon_value=1000,
        grant_serial="G1",
        grant_time=china(2026, 10, 30, 12, 0),
    )
    MerchantCouponFactory(
        order=order,
        store_code="=cmd",
        coupon_code="C2",
        coupon_type=MerchantCoupon.CouponType.TIME,
        coupon_value=120,
        grant_time=None,
        grant_time_raw="yesterday noon",
    )
    MerchantCouponFactory(order=PayOrderFactory(pay_time=china(2026, 10, 31, 23, 59)))

    response = finance_en.get(
        COUPONS_EXPORT, {"pay_date_from": "2026-11-01", "pay_date_to": "2026-11-30"}
    )

    rows = csv_rows(response)
    assert rows[0] == COUPON_HEADER_EN
    assert sorted(rows[1:]) == [
        [
            "20261101000000000000000001",
            "2026-11-01 00:00:00",
            "北门停车场",
            "粤B12345",
            "'=cmd",
            "肯德基",
            "C2",
            "10元停车券",
            "2",
            "time",
            "120",
            "minutes",
            "",  # no money: a time coupon
            "",
            "yesterday noon",
        ],
        [
            "20261101000000000000000001",
            "2026-11-01 00:00:00",
            "北门停车场",
            "粤B12345",
            "KFC01",
            "肯德基",
            "C1",
            "10元停车券",
            "1",
            "amount",
            "1000",
            "yuan",
            "10.00",
            "G1",
            "2026-10-30 12:00:00",
        ],
    ]
    assert response["Content-Disposition"] == (
        'attachment; filename="coupons_2026-11-01_2026-11-30.csv"'
    )


# --- Daily summary CSV -----------------------------------------------------------------------


def test_summary_csv_marks_day_and_park_subtotals_and_the_total_in_its_row_kind(finance_en):
    Channel.objects.create(code="200102", name="微信扫码", name_en="WeChat scan")
    park = ParkFactory(park_uuid="p-1", name="南门")
    other = ParkFactory(park_uuid="p-2", name="北门")
    order = PayOrderFactory(park=park, pay_time=china(2026, 11, 1, 23, 59), pay_value=1000)
    DiscountFactory(order=order, relief_value=150)
    MerchantCouponFactory(order=order, coupon_value=500)
    MerchantCouponFactory(order=order, coupon_value=30, coupon_type=2)  # minutes, not money
    PayOrderFactory(park=park, pay_time=china(2026, 11, 2, 0, 0), pay_value=250)
    PayOrderFactory(park=other, pay_time=china(2026, 11, 2, 9), pay_value=5, channel="100101")

    response = finance_en.get(SUMMARY_EXPORT, {"from": "2026-11-01", "to": "2026-11-02"})

    assert csv_rows(response) == [
        [
            "row_kind",
            "date",
            "park_uuid",
            "park_name",
            "channel",
            "order_count",
            "pay_value_yuan",
            "pay_value_fen",
            "discount_relief_yuan",
            "coupon_count",
            "coupon_value_total_fen",
            "channel_name",
        ],
        [
            "detail",
            "2026-11-01",
            "p-1",
            "南门",
            "200102",
            "1",
            "10.00",
            "1000",
            "1.50",
            "2",
            "500",
            "WeChat scan",
        ],
        ["day_subtotal", "2026-11-01", "", "", "", "1", "10.00", "1000", "1.50", "2", "500", ""],
        ["detail", "2026-11-02", "p-2", "北门", "100101", "1", "0.05", "5", "0.00", "0", "0", ""],
        [
            "detail",
            "2026-11-02",
            "p-1",
            "南门",
            "200102",
            "1",
            "2.50",
            "250",
            "0.00",
            "0",
            "0",
            "WeChat scan",
        ],
        ["day_subtotal", "2026-11-02", "", "", "", "2", "2.55", "255", "0.00", "0", "0", ""],
        ["park_subtotal", "", "p-2", "北门", "", "1", "0.05", "5", "0.00", "0", "0", ""],
        ["park_subtotal", "", "p-1", "南门", "", "2", "12.50", "1250", "1.50", "2", "500", ""],
        ["total", "Total", "", "", "", "3", "12.55", "1255", "1.50", "2", "500", ""],
    ]
    assert response["Content-Disposition"] == (
        'attachment; filename="daily_summary_2026-11-01_2026-11-02.csv"'
    )


def test_summary_csv_detail_rows_add_up_to_every_subtotal(finance_en):
    """A system that keeps only the detail rows gets the total the file states."""
    parks = [ParkFactory(), ParkFactory()]
    for day in range(1, 6):
        for number, park in enumerate(parks):
            PayOrderFactory(
                park=park, pay_time=china(2026, 11, day, 10), pay_value=day * 101 + number
            )

    rows = csv_rows(finance_en.get(SUMMARY_EXPORT, {"from": "2026-11-01", "to": "2026-11-05"}))

    kinds = [row[0] for row in rows[1:]]
    detail = sum(int(row[7]) for row in rows[1:] if row[0] == "detail")
    days = sum(int(row[7]) for row in rows[1:] if row[0] == "day_subtotal")
    parks_total = sum(int(row[7]) for row in rows[1:] if row[0] == "park_subtotal")
    assert kinds.count("day_subtotal") == 5 and kinds.count("park_subtotal") == 2
    assert (
        detail == days == parks_total == int(rows[-1][7]) == sum(d * 202 + 1 for d in range(1, 6))
    )


def test_summary_pivot_csv_has_a_column_per_park_in_yuan_and_a_row_per_day(finance_en):
    east = ParkFactory(park_uuid="p-e", name="东门")
    west = ParkFactory(park_uuid="p-w", name="西门")
    PayOrderFactory(park=east, pay_time=china(2026, 11, 1, 8), pay_value=1000)
    PayOrderFactory(park=east, pay_time=china(2026, 11, 1, 9), pay_value=1, channel="100101")
    PayOrderFactory(park=west, pay_time=china(2026, 11, 3, 23, 59), pay_value=250)

    response = finance_en.get(
        SUMMARY_EXPORT, {"from": "2026-11-01", "to": "2026-11-03", "view": "pivot"}
    )

    assert response.status_code == 200
    assert csv_rows(response) == [
        ["row_kind", "date", "东门 [p-e] (yuan)", "西门 [p-w] (yuan)", "pay_value_yuan"],
        ["detail", "2026-11-01", "10.01", "0.00", "10.01"],
        ["detail", "2026-11-02", "0.00", "0.00", "0.00"],
        ["detail", "2026-11-03", "0.00", "2.50", "2.50"],
        ["total", "Total", "10.01", "2.50", "12.51"],
    ]
    assert response["Content-Disposition"] == (
        'attachment; filename="daily_summary_pivot_2026-11-01_2026-11-03.csv"'
    )


def test_summary_pivot_csv_headers_name_the_unit_in_chinese(finance_client):
    PayOrderFactory(park=ParkFactory(park_uuid="p-e", name="东门"), pay_time=china(2026, 11, 1, 8))

    rows = csv_rows(
        finance_client.get(
            SUMMARY_EXPORT, {"from": "2026-11-01", "to": "2026-11-01", "view": "pivot"}
        )
    )

    assert rows[0][2] == "东门 [p-e] (元)"
    assert rows[-1][:2] == ["total", "合计"]


@pytest.mark.parametrize("view", ["table", "PIVOT", "pivot\x00", "rows,pivot"])
def test_summary_csv_with_an_unknown_view_answers_400(finance_en, view):
    response = finance_en.get(SUMMARY_EXPORT, {"view": view})

    assert response.status_code == 400
    assert "view" in response.content.decode() or "NUL" in response.content.decode()


def test_summary_csv_with_a_bad_date_answers_400(finance_en):
    response = finance_en.get(SUMMARY_EXPORT, {"to": "2026-11"})

    assert response.status_code == 400
    assert "“2026-11” is not a date" in response.content.decode()


def test_summary_page_links_its_csv_with_the_same_days(finance_en):
    page = finance_en.get(
        "/admin/orders/summary/daily/", {"from": "2026-11-01", "to": "2026-11-02"}
    )

    assert f'href="{SUMMARY_EXPORT}?from=2026-11-01&amp;to=2026-11-02"' in page.content.decode()


def test_csv_text_is_crlf_separated_with_quoting_where_needed(finance_en):
    PayOrderFactory(park=ParkFactory(name='南门, "东"区'))

    text = csv_text(finance_en.get(ORDERS_EXPORT))

    assert text.count("\r\n") == 2
    assert '"南门, ""东""区"' in text
