"""The reconciliation's CSVs (runs and differences), downloaded from the admin: columns, amounts,
language, the export conventions and permission."""

import io
import re
from datetime import datetime

import openpyxl
import pytest

from orders.tests.conftest import csv_rows
from orders.tests.reconciliation.conftest import (
    EXPORT,
    ITEMS,
    ITEMS_EXPORT,
    RUNS_EXPORT,
    VIEW,
    order,
    run_day,
)

pytestmark = pytest.mark.django_db

ITEM_HEADER_EN = [
    "date",
    "park_uuid",
    "park_name",
    "category",
    "pay_serial",
    "plate",
    "pay_time",
    "platform_value_yuan",
    "platform_value_fen",
    "our_value_yuan",
    "our_value_fen",
    "parking_serial",
    "channel",
    "field",
    "ours",
    "platform",
    "state",
    "resolved_at",
    "resolved_by",
    "resolution_note",
]


def test_difference_csv_follows_the_order_export_conventions(staff_client, two_runs, park):
    order(park, "=HYPERLINK(1)", plate="@SUM(A1)", pay_value=5)
    run_day(park)
    client = staff_client(VIEW, EXPORT, language="en")

    response = client.get(ITEMS_EXPORT, {"park": "park-east", "date_from": "2026-11-01"})

    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "reconciliation_differences_2026-11-01_" in response["Content-Disposition"]
    rows = csv_rows(response)  # checks the BOM
    assert rows[0] == ITEM_HEADER_EN
    by_serial = {row[4]: row for row in rows[1:]}
    assert set(by_serial) == {"EAST-MISSING", "EAST-OURS", "EAST-AMOUNT", "'=HYPERLINK(1)"}
    assert by_serial["EAST-MISSING"] == [
        "2026-11-01",
        "park-east",
        "东门停车场",
        "missing here",
        "EAST-MISSING",
        "川A660P1",
        "2026-11-01 09:00:00",
        "15.00",
        "1500",
        "",
        "",
        by_serial["EAST-MISSING"][11],  # the fake platform's parking serial
        "200102",
        "",
        "—",
        "¥15.00",
        "open",
        "",
        "",
        "",
    ]
    assert by_serial["EAST-AMOUNT"][7:11] == ["12.00", "1200", "10.00", "1000"]
    assert by_serial["EAST-OURS"][3] == "missing at the platform"
    assert by_serial["EAST-OURS"][7:11] == ["", "", "8.00", "800"]
    assert by_serial["'=HYPERLINK(1)"][5] == "'@SUM(A1)"
    assert by_serial["'=HYPERLINK(1)"][9:11] == ["0.05", "5"]  # numbers never escaped


def test_difference_csv_header_is_chinese_by_default(staff_client, two_runs):
    response = staff_client(VIEW, EXPORT).get(ITEMS_EXPORT)

    header = csv_rows(response)[0]
    # The columns shared with the order export carry its Chinese names.
    assert header[4:7] == ["支付流水", "车牌", "支付时间"]
    assert len(header) == len(ITEM_HEADER_EN)


def test_run_csv_has_one_row_per_run_with_counts_and_amounts(staff_client, two_runs):
    response = staff_client(VIEW, EXPORT, language="en").get(RUNS_EXPORT, {"park": "park-east"})

    rows = csv_rows(response)
    assert rows[0][:6] == ["date", "park_uuid", "park_name", "status", "message", "platform_count"]
    (row,) = rows[1:]
    values = dict(zip(rows[0], row, strict=True))
    assert values["date"] == "2026-11-01"
    assert values["status"] == "completed"
    assert (values["platform_count"], values["platform_value_fen"]) == ("2", "2700")
    assert values["platform_value_yuan"] == "27.00"
    assert (values["our_count"], values["our_value_fen"]) == ("2", "1800")
    assert (values["missing_here_count"], values["missing_at_platform_count"]) == ("1", "1")
    assert values["amount_differs_count"] == "1"
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", values["finished_at"])


def test_exports_need_the_export_permission(staff_client, two_runs):
    viewer = staff_client(VIEW, language="en")

    assert viewer.get(ITEMS_EXPORT).status_code == 403
    assert viewer.get(RUNS_EXPORT).status_code == 403
    assert "/export/" not in viewer.get(ITEMS).content.decode()
    exporter = staff_client(VIEW, EXPORT, language="en")
    assert (
        f'href="{ITEMS_EXPORT}?category=missing_here"'
        in exporter.get(ITEMS, {"category": "missing_here"}).content.decode()
    )


def test_export_with_a_bad_filter_answers_400(staff_client, two_runs):
    response = staff_client(VIEW, EXPORT, language="en").get(ITEMS_EXPORT, {"date_from": "x"})

    assert response.status_code == 400


# --- The XLSX twins ----------------------------------------------------------------------------


def _xlsx_records(response, title: str) -> list[dict]:
    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(response.getvalue()))
    header, *rows = ([cell.value for cell in row] for row in book[title].iter_rows())
    return [dict(zip(header, row, strict=True)) for row in rows]


def test_difference_xlsx_has_the_csvs_rows_as_typed_cells(staff_client, two_runs, park):
    order(park, "=HYPERLINK(1)", plate="@SUM(A1)", pay_value=5)
    run_day(park)
    client = staff_client(VIEW, EXPORT, language="en")

    response = client.get(ITEMS_EXPORT + "xlsx/", {"park": "park-east"})

    assert ".xlsx" in response["Content-Disposition"]
    by_serial = {
        row["pay_serial"]: row for row in _xlsx_records(response, "Reconciliation differences")
    }
    assert set(by_serial) == {"EAST-MISSING", "EAST-OURS", "EAST-AMOUNT", "=HYPERLINK(1)"}
    missing = by_serial["EAST-MISSING"]
    assert missing["category"] == "missing here"
    assert missing["pay_time"] == datetime(2026, 11, 1, 9, 0)
    assert missing["platform_value_yuan"] == 15
    assert missing["platform_value_fen"] == 1500
    assert missing["our_value_yuan"] is None  # does not apply: empty, not 0
    assert missing["channel"] == "200102"
    assert by_serial["=HYPERLINK(1)"]["plate"] == "@SUM(A1)"  # text, never a formula


def test_run_xlsx_counts_are_integers(staff_client, two_runs):
    client = staff_client(VIEW, EXPORT, language="en")

    (row,) = _xlsx_records(
        client.get(RUNS_EXPORT + "xlsx/", {"park": "park-east"}), "Reconciliation runs"
    )

    assert row["date"] == "2026-11-01"
    assert (row["platform_count"], row["platform_value_fen"]) == (2, 2700)
    assert row["platform_value_yuan"] == 27
    assert isinstance(row["finished_at"], datetime)


def test_xlsx_exports_need_the_export_permission(staff_client, two_runs):
    viewer = staff_client(VIEW, language="en")

    assert viewer.get(ITEMS_EXPORT + "xlsx/").status_code == 403
    assert viewer.get(RUNS_EXPORT + "xlsx/").status_code == 403
