"""The merchant-coupon list over the Django test client: values in their type's unit, totals per
store and type with the grand totals (page and CSV), newest payment first."""

import io
import re
from datetime import datetime

import openpyxl
import pytest

from orders.models import MerchantCoupon
from orders.tests.conftest import FINANCE, csv_text
from orders.tests.factories import MerchantCouponFactory, PayOrderFactory
from parkingops.formatting import CHINA

COUPONS = "/admin/orders/merchantcoupon/"
TOTALS_EXPORT = "/admin/orders/merchantcoupon/export-totals/"
AMOUNT, TIME, PERCENT = (
    MerchantCoupon.CouponType.AMOUNT,
    MerchantCoupon.CouponType.TIME,
    MerchantCoupon.CouponType.PERCENTAGE,
)

pytestmark = pytest.mark.django_db


def china(*args) -> datetime:
    return datetime(*args, tzinfo=CHINA)


def table_rows(page: str, row_class: str) -> list[list[str]]:
    rows = re.findall(rf'<tr class="{row_class}">(.*?)</tr>', page, re.S)
    return [
        [
            re.sub(r"<[^>]+>", "", cell).strip()
            for cell in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row, re.S)
        ]
        for row in rows
    ]


@pytest.fixture
def mixed_coupons():
    """Coupons of two stores in every unit: money, minutes, a rate and an undefined unit."""
    order = PayOrderFactory(pay_time=china(2026, 11, 1, 10))
    for store, kind, value in [
        ("KFC01", AMOUNT, 500),
        ("KFC01", AMOUNT, 1000),
        ("KFC01", TIME, 120),
        ("KFC01", PERCENT, 80),
        ("SB02", TIME, 60),
        ("SB02", PERCENT, 90),
        ("SB02", MerchantCoupon.CouponType.FREE, 1),
    ]:
        MerchantCouponFactory(
            order=order, store_code=store, store_name=store, coupon_type=kind, coupon_value=value
        )


def test_coupon_values_are_shown_in_their_types_unit(staff_client, mixed_coupons):
    page = staff_client(*FINANCE).get(COUPONS).content.decode()

    values = re.findall(r'<td class="field-coupon_value_display">(.*?)</td>', page)
    assert sorted(values) == sorted(["¥5.00", "¥10.00", "120 分钟", "80%", "60 分钟", "90%", "1"])


def test_store_totals_never_add_unlike_units_and_end_with_grand_totals_per_type(
    staff_client, mixed_coupons
):
    page = staff_client(*FINANCE).get(COUPONS).content.decode()

    assert table_rows(page, "orders-store-total") == [
        ["KFC01", "KFC01", "金额券", "2", "¥15.00"],
        ["KFC01", "KFC01", "时长券", "1", "120 分钟"],
        ["KFC01", "KFC01", "折扣券", "1", "—"],  # a rate: counted, never summed
        ["SB02", "SB02", "时长券", "1", "60 分钟"],
        ["SB02", "SB02", "全免券", "1", "—"],  # no unit defined
        ["SB02", "SB02", "折扣券", "1", "—"],
    ]
    assert table_rows(page, "orders-store-grand-total") == [
        ["合计", "金额券", "2", "¥15.00"],
        ["合计", "时长券", "2", "180 分钟"],
        ["合计", "全免券", "1", "—"],
        ["合计", "折扣券", "2", "—"],
    ]
    # All coupons: the count of every type, money from amount coupons alone.
    assert table_rows(page, "orders-store-grand-total-all") == [
        ["全部商户券（金额仅含金额券）", "7", "¥15.00"]
    ]


def test_store_totals_csv_has_a_column_per_unit_and_the_grand_totals(staff_client, mixed_coupons):
    response = staff_client(*FINANCE, language="en").get(
        TOTALS_EXPORT, {"pay_date_from": "2026-11-01", "pay_date_to": "2026-11-30"}
    )

    assert response.status_code == 200
    assert response["Content-Disposition"] == (
        'attachment; filename="coupon_totals_2026-11-01_2026-11-30.csv"'
    )
    rows = [line.split(",") for line in csv_text(response).splitlines()]
    assert rows == [
        [
            "store_code",
            "store_name",
            "coupon_type",
            "coupon_type_label",
            "coupon_count",
            "coupon_value_yuan",
            "coupon_value_fen",
            "coupon_value_minutes",
        ],
        ["KFC01", "KFC01", "1", "amount", "2", "15.00", "1500", ""],
        ["KFC01", "KFC01", "2", "time", "1", "", "", "120"],
        ["KFC01", "KFC01", "6", "percentage", "1", "", "", ""],
        ["SB02", "SB02", "2", "time", "1", "", "", "60"],
        ["SB02", "SB02", "3", "free of charge", "1", "", "", ""],
        ["SB02", "SB02", "6", "percentage", "1", "", "", ""],
        ["Total", "", "1", "amount", "2", "15.00", "1500", ""],
        ["Total", "", "2", "time", "2", "", "", "180"],
        ["Total", "", "3", "free of charge", "1", "", "", ""],
        ["Total", "", "6", "percentage", "2", "", "", ""],
        ["Total", "All coupons (money: amount coupons only)", "", "", "7", "15.00", "1500", ""],
    ]


def test_store_totals_csv_is_linked_from_the_list_and_needs_the_export_permission(
    staff_client, mixed_coupons
):
    viewer = staff_client("orders.view_merchantcoupon", "orders.view_payorder")
    exporter = staff_client(*FINANCE)

    assert TOTALS_EXPORT in exporter.get(COUPONS, {"store": "KFC01"}).content.decode()
    assert TOTALS_EXPORT not in viewer.get(COUPONS).content.decode()
    assert viewer.get(TOTALS_EXPORT).status_code == 403
    assert exporter.get(TOTALS_EXPORT, {"store": "KFC01", "foo": "1"}).status_code == 400


def test_coupon_list_is_newest_payment_first_whatever_the_insertion_order(staff_client):
    old = PayOrderFactory(pay_time=china(2026, 11, 1, 8))
    new = PayOrderFactory(pay_time=china(2026, 11, 3, 8))
    middle = PayOrderFactory(pay_time=china(2026, 11, 2, 8))
    for order in (new, old, middle):  # inserted out of time order
        MerchantCouponFactory(order=order)

    page = staff_client(*FINANCE).get(COUPONS).content.decode()

    serials = re.findall(r"\b2024\d{22}\b", page)
    assert list(dict.fromkeys(serials)) == [new.pay_serial, middle.pay_serial, old.pay_serial]


def test_store_totals_excel_file_has_the_csvs_rows_as_typed_cells(staff_client, mixed_coupons):
    client = staff_client(*FINANCE, language="en")
    days = {"pay_date_from": "2026-11-01", "pay_date_to": "2026-11-30"}
    csv_header, *csv_lines = [
        line.split(",") for line in csv_text(client.get(TOTALS_EXPORT, days)).splitlines()
    ]

    response = client.get(TOTALS_EXPORT + "xlsx/", days)

    assert response.status_code == 200
    assert "coupon_totals_2026-11-01_2026-11-30.xlsx" in response["Content-Disposition"]
    sheet = openpyxl.load_workbook(io.BytesIO(response.getvalue())).worksheets[0]
    header, *rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert header == csv_header
    assert [row[0] for row in rows] == [line[0] for line in csv_lines]
    amount = rows[0]
    assert amount[:2] == ["KFC01", "KFC01"] and amount[5] == 15 and amount[6] == 1500
    assert amount[7] is None  # minutes: not a time coupon
    page = client.get("/admin/orders/merchantcoupon/", days).content.decode()
    assert page.index(TOTALS_EXPORT + "xlsx/?") < page.index(TOTALS_EXPORT + "?")
