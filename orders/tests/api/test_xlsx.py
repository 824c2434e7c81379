"""``…/export/?format=xlsx`` on the integration API: the admin's Excel file of the whole
filtered list, wherever the CSV is offered, with the same permission, masking and JSON
refusals."""

import io
from datetime import datetime

import openpyxl
import pytest

from orders.tests.api.test_views import COUPONS, ORDERS, SUMMARY, china, key_client, make_user
from orders.tests.factories import DiscountFactory, MerchantCouponFactory, PayOrderFactory
from parkingops import xlsx
from parkingops.roles import FINANCE, OPERATIONS
from whitelist.tests.factories import WhitelistEntryFactory

SERIAL = "20261101000000000000000001"
COUPON_TOTALS = "/api/v1/coupons/totals/"
STATEMENTS = "/api/v1/statements/"

pytestmark = pytest.mark.django_db


def records(response) -> tuple[list[dict], dict]:
    assert response.status_code == 200, response.getvalue()
    assert response["Content-Type"] == xlsx.MEDIA_TYPE
    book = openpyxl.load_workbook(io.BytesIO(response.getvalue()))
    first, about = book.worksheets
    header, *rows = ([cell.value for cell in row] for row in first.iter_rows())
    lines = [[cell.value for cell in row] for row in about.iter_rows()]
    return [dict(zip(header, row, strict=True)) for row in rows], dict(lines)


@pytest.fixture
def finance():
    return key_client(make_user(groups=(FINANCE,)))


def test_orders_as_xlsx_are_the_filtered_list_in_typed_cells(finance):
    order = PayOrderFactory(pay_serial=SERIAL, pay_time=china(2026, 11, 1, 9), pay_value=1250)
    DiscountFactory(order=order, mobile="13800138000")
    PayOrderFactory(pay_time=china(2026, 10, 1, 9))

    after = "2026-11-01T00:00:00+08:00"
    response = finance.get(ORDERS + "export/", {"format": "xlsx", "pay_time_after": after})

    assert 'filename="orders_2026-11-01_' in response["Content-Disposition"]
    (row,), about = records(response)
    assert row["pay_serial"] == SERIAL
    assert row["pay_time"] == datetime(2026, 11, 1, 9)
    assert row["pay_value_yuan"] == 12.5
    assert row["discount_mobiles"] == "138****8000"  # masked, as the CSV
    assert about["pay_time_after"] == after  # the query, in the filters sheet


def test_coupons_and_the_summary_come_as_xlsx_too(finance):
    MerchantCouponFactory(order__pay_time=china(2026, 11, 1, 9), grant_serial="0042")

    (coupon,), _about = records(finance.get(COUPONS + "export/", {"format": "xlsx"}))
    summary, _about = records(
        finance.get(
            SUMMARY + "export/", {"format": "xlsx", "from": "2026-11-01", "to": "2026-11-01"}
        )
    )

    assert coupon["grant_serial"] == "0042"
    assert summary[-1]["date"] == "Total"
    assert summary[-1]["order_count"] == 1


def test_coupon_totals_and_statements_come_as_xlsx_too(finance):
    MerchantCouponFactory(
        order__pay_time=china(2026, 11, 1, 9), coupon_type=1, coupon_value=500, store_code="S1"
    )
    order = PayOrderFactory(pay_time=china(2026, 11, 2, 9), pay_value=700)
    order.whitelist_entry = WhitelistEntryFactory(plate=order.plate, holder="张三")
    order.save()

    totals, _about = records(finance.get(COUPON_TOTALS + "export/", {"format": "xlsx"}))
    statement, about = records(
        finance.get(STATEMENTS + "export/", {"format": "xlsx", "month": "2026-11"})
    )

    assert (totals[0]["store_code"], totals[0]["coupon_value_fen"]) == ("S1", 500)
    assert [row["row_kind"] for row in statement] == [
        "order",
        "plate_subtotal",
        "holder_subtotal",
        "total",
    ]
    assert statement[0]["holder"] == "张三" and statement[-1]["pay_value_yuan"] == 7
    assert about["month"] == "2026-11"


def test_the_whitelist_comes_as_xlsx_with_the_import_headers(db):
    WhitelistEntryFactory(plate="川A00001", valid_from=china(2026, 1, 1, 8))
    client = key_client(make_user(groups=(OPERATIONS,)))

    (row,), _about = records(client.get("/api/v1/whitelist/export/", {"format": "xlsx"}))

    assert row["plate"] == "川A00001"
    assert row["valid_from"] == datetime(2026, 1, 1, 8)
    assert row["is_active"] == 1


def test_xlsx_needs_the_export_permission_and_refusals_stay_json(db):
    PayOrderFactory()
    reader = key_client(make_user(permissions=("orders.view_payorder",)))

    refused = reader.get(ORDERS + "export/", {"format": "xlsx"})

    assert refused.status_code == 403
    assert refused["Content-Type"] == "application/json"


def test_more_rows_than_a_sheet_holds_is_a_json_400_saying_why(finance, monkeypatch):
    PayOrderFactory.create_batch(2)
    monkeypatch.setattr(xlsx, "MAX_ROWS", 2)

    response = finance.get(ORDERS + "export/", {"format": "xlsx"})

    assert response.status_code == 400
    assert "CSV" in response.json()["fields"]["format"][0]


def test_an_unknown_format_names_xlsx_among_the_choices(finance):
    response = finance.get(ORDERS + "export/", {"format": "xml"})

    assert response.status_code == 400
    assert response.json()["fields"]["format"] == ["Choose one of: csv, xlsx."]
