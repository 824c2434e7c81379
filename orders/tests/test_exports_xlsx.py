"""The Excel (XLSX) twins of the CSV exports over the Django test client: typed cells and formats
from the same columns, the same filtered rows, masking, the filters sheet, the admin's buttons
(Excel first) and the refusal of a list longer than a sheet."""

import csv
import io
import shutil
import subprocess
from datetime import UTC, datetime

import openpyxl
import pytest

from orders.tests.conftest import FINANCE, ORDER_HEADER_EN, ORDER_HEADER_ZH, csv_rows
from orders.tests.factories import DiscountFactory, MerchantCouponFactory, PayOrderFactory
from parkingops import xlsx
from parkingops.formatting import CHINA
from whitelist.tests.factories import ParkFactory

ORDERS = "/admin/orders/payorder/"
COUPONS = "/admin/orders/merchantcoupon/"
SUMMARY = "/admin/orders/summary/daily/"
SERIAL = "20261101000000000000000001"

pytestmark = pytest.mark.django_db


def workbook(response) -> openpyxl.Workbook:
    assert response.status_code == 200, response.getvalue()
    assert response["Content-Type"] == xlsx.MEDIA_TYPE
    return openpyxl.load_workbook(io.BytesIO(response.getvalue()))


def values(sheet) -> list[list]:
    return [[cell.value for cell in row] for row in sheet.iter_rows()]


@pytest.fixture
def finance_en(staff_client):
    return staff_client(*FINANCE, language="en")


@pytest.fixture
def order():
    park = ParkFactory(park_uuid="49f0cc52-e8c7-41e3-b54d-af666b8cc11a", name="南门停车场")
    order = PayOrderFactory(
        pay_serial=SERIAL,
        parking_serial="591668151763415041",
        park=park,
        plate="川A660P1",
        pay_time=datetime(2026, 11, 1, 1, 2, 3, tzinfo=UTC),
        pay_value=123456,
        channel="200102",
        identity="=cmd|' /C calc'!A0",
        received_at=datetime(2026, 11, 1, 1, 2, 4, tzinfo=UTC),
    )
    DiscountFactory(order=order, mobile="13800138000", relief_value=300)
    MerchantCouponFactory(
        order=order,
        coupon_value=1000,
        grant_serial="000123",
        grant_time=datetime(2026, 11, 1, 1, 0, tzinfo=UTC),
    )
    return order


def test_order_xlsx_has_the_csv_columns_as_typed_cells(finance_en, order):
    book = workbook(finance_en.get(ORDERS + "export/xlsx/"))

    sheet = book["Pay orders"]
    header, row = values(sheet)
    assert header == ORDER_HEADER_EN
    cells = dict(zip(header, sheet[2], strict=True))
    assert cells["pay_serial"].value == SERIAL  # every digit, a text cell
    assert cells["pay_serial"].data_type == "s"
    assert cells["parking_serial"].value == "591668151763415041"
    assert cells["parking_serial"].data_type == "s"
    assert cells["channel"].value == "200102"
    assert cells["channel"].data_type == "s"
    assert cells["pay_time"].value == datetime(2026, 11, 1, 9, 2, 3)  # China time
    assert cells["pay_time"].number_format == "yyyy-mm-dd hh:mm:ss"
    assert cells["pay_value_yuan"].value == 1234.56
    assert cells["pay_value_yuan"].number_format == "#,##0.00"
    assert cells["pay_value_fen"].value == 123456
    assert cells["discount_relief_yuan"].value == 3
    assert cells["discount_relief_yuan"].number_format == "#,##0.00"
    assert cells["coupon_count"].value == 1
    assert cells["coupon_value_total_fen"].value == 1000
    # Formula-like text is a string cell, as sent (the CSV's ' is not needed).
    assert cells["identity"].value == "=cmd|' /C calc'!A0"
    assert cells["identity"].data_type == "s"
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:P2"


def test_order_xlsx_header_is_the_csvs_in_chinese(staff_client, order):
    book = workbook(staff_client(*FINANCE).get(ORDERS + "export/xlsx/"))

    assert book.sheetnames == ["支付订单", "筛选条件"]
    assert values(book["支付订单"])[0] == ORDER_HEADER_ZH


def test_order_xlsx_masks_mobiles_as_the_csv_does(staff_client, order):
    masked = workbook(staff_client(*FINANCE).get(ORDERS + "export/xlsx/"))
    whole = workbook(
        staff_client(*FINANCE, "orders.view_personal_data").get(ORDERS + "export/xlsx/")
    )

    assert values(masked.worksheets[0])[1][11] == "138****8000"
    assert values(whole.worksheets[0])[1][11] == "13800138000"


def test_order_xlsx_has_the_lists_rows_and_says_its_filters(staff_client, order):
    PayOrderFactory(pay_time=datetime(2026, 10, 1, tzinfo=UTC))  # another day, another park
    query = f"?pay_date_from=2026-11-01&pay_date_to=2026-11-30&park={order.park.park_uuid}&q=川A"
    client = staff_client(*FINANCE)

    response = client.get(ORDERS + "export/xlsx/" + query)

    assert response["Content-Disposition"] == (
        'attachment; filename="orders_2026-11-01_2026-11-30.xlsx"'
    )
    book = workbook(response)
    assert [row[0] for row in values(book["支付订单"])[1:]] == [SERIAL]
    about = dict(values(book["筛选条件"]))
    assert about["导出人"].startswith("staff")  # the user's login
    assert isinstance(about["导出时间"], datetime)
    assert about["支付日期"] == "2026-11-01 – 2026-11-30"
    assert about["车场"] == "南门停车场"
    assert about["搜索"] == "川A"
    # The CSV of the same query has the same rows.
    assert [r[0] for r in csv_rows(client.get(ORDERS + "export/" + query))[1:]] == [SERIAL]


def test_order_xlsx_over_the_sheet_limit_is_refused_with_the_reason(
    staff_client, order, monkeypatch
):
    PayOrderFactory()
    monkeypatch.setattr(xlsx, "MAX_ROWS", 2)  # the header and one row

    response = staff_client(*FINANCE).get(ORDERS + "export/xlsx/")

    assert response.status_code == 400
    text = response.content.decode()
    assert "2 行超出 Excel 工作表的上限（最多 1 行）" in text
    assert "按月" in text and "CSV" in text


def test_order_xlsx_needs_the_export_permission(staff_client, order):
    from orders.tests.conftest import VIEW_ALL

    assert staff_client(*VIEW_ALL).get(ORDERS + "export/xlsx/").status_code == 403


def test_changelists_offer_excel_first_then_csv(staff_client, order):
    client = staff_client(*FINANCE)
    for page in (ORDERS, COUPONS, SUMMARY):
        text = client.get(page).content.decode()
        assert text.index("导出 Excel") < text.index("导出 CSV"), page


def test_coupon_xlsx_types_its_cells(finance_en, order):
    MerchantCouponFactory(
        order=order, grant_time=None, grant_time_raw="2026/11/01 x", coupon_code="0001"
    )

    sheet = workbook(finance_en.get(COUPONS + "export/xlsx/"))["Merchant coupons"]

    rows = {row["coupon_code"]: row for row in _records(sheet)}
    assert rows["0001"]["grant_time"] == "2026/11/01 x"  # kept as sent
    first = next(row for code, row in rows.items() if code != "0001")
    assert isinstance(first["grant_time"], datetime)
    assert first["pay_serial"] == SERIAL
    assert first["grant_serial"] == "000123"  # leading zeros kept


def test_summary_xlsx_has_the_total_row_and_typed_money(finance_en):
    park = ParkFactory(park_uuid="p-1", name="南门")
    PayOrderFactory(park=park, pay_time=datetime(2026, 11, 1, 12, tzinfo=CHINA), pay_value=1000)

    response = finance_en.get(SUMMARY + "export/xlsx/", {"from": "2026-11-01", "to": "2026-11-01"})

    book = workbook(response)
    rows = _records(book["Daily summary"])
    assert rows[0]["date"] == "2026-11-01"
    assert rows[0]["pay_value_yuan"] == 10
    assert rows[-1]["date"] == "Total"
    assert rows[-1]["order_count"] == 1
    assert dict(values(book["Filters"]))["From"] == "2026-11-01"


def _records(sheet) -> list[dict]:
    header, *rows = values(sheet)
    return [dict(zip(header, row, strict=True)) for row in rows]


def test_libreoffice_reads_every_digit_of_the_serial(finance_en, order, tmp_path):
    office = shutil.which("libreoffice") or shutil.which("soffice")
    if office is None:
        pytest.skip("LibreOffice is not installed (.ci/run installs it)")
    source = tmp_path / "orders.xlsx"
    source.write_bytes(finance_en.get(ORDERS + "export/xlsx/").getvalue())

    subprocess.run(
        [
            office,
            f"-env:UserInstallation=file://{tmp_path}/profile",
            "--headless",
            "--convert-to",
            "csv:Text - txt - csv (StarCalc):44,34,76",  # UTF-8
            "--outdir",
            str(tmp_path / "out"),
            str(source),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )

    header, row = csv.reader(io.StringIO((tmp_path / "out" / "orders.csv").read_text("utf-8")))
    assert header == ORDER_HEADER_EN
    assert row[0] == SERIAL  # all 26 digits, not 2.02611E+25
    assert row[1] == "591668151763415041"
    assert row[5] == "2026-11-01 09:02:03"


def test_summary_xlsx_marks_subtotals_and_gives_the_pivot_as_its_own_file(finance_en):
    north, south = (
        ParkFactory(park_uuid="p-n", name="北门"),
        ParkFactory(park_uuid="p-s", name="南门"),
    )
    PayOrderFactory(park=north, pay_time=datetime(2026, 11, 1, 12, tzinfo=CHINA), pay_value=1000)
    PayOrderFactory(park=south, pay_time=datetime(2026, 11, 2, 12, tzinfo=CHINA), pay_value=250)
    days = {"from": "2026-11-01", "to": "2026-11-02"}

    table = _records(workbook(finance_en.get(SUMMARY + "export/xlsx/", days))["Daily summary"])
    pivot_response = finance_en.get(SUMMARY + "export/xlsx/", {**days, "view": "pivot"})

    kinds = ["detail", "day_subtotal"] * 2 + ["park_subtotal"] * 2 + ["total"]
    assert [row["row_kind"] for row in table] == kinds
    assert table[-1]["pay_value_yuan"] == 12.5
    assert "daily_summary_pivot_2026-11-01_2026-11-02.xlsx" in pivot_response["Content-Disposition"]
    book = workbook(pivot_response)
    header, *rows = values(book["Pivot"])
    assert header == [
        "row_kind",
        "date",
        "北门 [p-n] (yuan)",
        "南门 [p-s] (yuan)",
        "pay_value_yuan",
    ]
    assert rows == [
        ["detail", "2026-11-01", 10, 0, 10],
        ["detail", "2026-11-02", 0, 2.5, 2.5],
        ["total", "Total", 10, 2.5, 12.5],
    ]
    assert dict(values(book["Filters"]))["View"] == "Pivot"
