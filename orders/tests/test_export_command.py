"""``manage.py export_orders``: the same CSV as the admin's export, for a date range."""

import csv
import io
import re
from datetime import datetime

import openpyxl
import pytest
from django.core.management import CommandError, call_command

from orders.tests.conftest import ORDER_HEADER_EN, ORDER_HEADER_ZH
from orders.tests.factories import DiscountFactory, PayOrderFactory
from parkingops import xlsx
from parkingops.formatting import CHINA
from whitelist.tests.factories import ParkFactory

pytestmark = pytest.mark.django_db


def china(*args) -> datetime:
    return datetime(*args, tzinfo=CHINA)


def read(text: str) -> list[list[str]]:
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:], newline="")))


def test_export_orders_writes_both_days_inclusive_in_china_time_to_a_file(tmp_path):
    before = PayOrderFactory(pay_time=china(2026, 10, 31, 23, 59, 59))
    first = PayOrderFactory(pay_time=china(2026, 11, 1, 0, 0, 0))
    last = PayOrderFactory(pay_time=china(2026, 11, 2, 23, 59, 59))
    after = PayOrderFactory(pay_time=china(2026, 11, 3, 0, 0, 0))
    DiscountFactory(order=first, mobile="13800138000", relief_value=250)
    output = tmp_path / "orders.csv"
    err = io.StringIO()

    call_command(
        "export_orders",
        "--from",
        "2026-11-01",
        "--to",
        "2026-11-02",
        "--output",
        output,
        stderr=err,
    )

    rows = read(output.read_text(encoding="utf-8"))
    assert rows[0] == ORDER_HEADER_ZH
    assert [row[0] for row in rows[1:]] == [first.pay_serial, last.pay_serial]  # oldest first
    assert rows[1][5] == "2026-11-01 00:00:00"
    assert rows[1][10:12] == ["2.50", "138****8000"]  # masked: a command has no user
    assert before.pay_serial not in output.read_text(encoding="utf-8")
    assert after.pay_serial not in output.read_text(encoding="utf-8")
    assert f"Wrote {output}" in err.getvalue()
    assert output.read_bytes().count(b"\r\n") == 3


def test_export_orders_writes_to_stdout_and_narrows_to_one_park():
    park = ParkFactory()
    wanted = PayOrderFactory(park=park, pay_time=china(2026, 11, 1, 12))
    PayOrderFactory(pay_time=china(2026, 11, 1, 12))
    out = io.StringIO()

    call_command(
        "export_orders",
        "--from=2026-11-01",
        "--to=2026-11-01",
        f"--park={park.park_uuid}",
        "--language=en",
        stdout=out,
    )

    rows = read(out.getvalue())
    assert rows[0] == ORDER_HEADER_EN
    assert [row[0] for row in rows[1:]] == [wanted.pay_serial]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--from", "2026-11-31", "--to", "2026-12-01"], "2026-11-31"),
        (["--from", "2026-11-05", "--to", "2026-11-01"], "is after --to"),
        (["--from", "2026-11-01", "--to", "2026-11-01", "--park", "nope"], "No park"),
    ],
)
def test_export_orders_refuses_bad_arguments_clearly(arguments, message):
    with pytest.raises(CommandError, match=message):
        call_command("export_orders", *arguments, stdout=io.StringIO())


# --- --format xlsx -----------------------------------------------------------------------------


def test_export_orders_as_xlsx_writes_typed_cells_and_masks(tmp_path):
    order = PayOrderFactory(
        pay_serial="20261101000000000000000001", pay_time=china(2026, 11, 1, 8), pay_value=1250
    )
    DiscountFactory(order=order, mobile="13800138000")
    output = tmp_path / "orders.xlsx"

    call_command(
        "export_orders",
        "--from=2026-11-01",
        "--to=2026-11-01",
        "--format=xlsx",
        f"--output={output}",
        "--language=en",
        stderr=io.StringIO(),
    )

    book = openpyxl.load_workbook(output)
    header, row = ([cell.value for cell in line] for line in book["Pay orders"].iter_rows())
    assert header == ORDER_HEADER_EN
    assert row[0] == "20261101000000000000000001"
    assert row[5] == datetime(2026, 11, 1, 8)
    assert row[6] == 12.5
    assert row[11] == "138****8000"
    about = {line[0].value: line[1].value for line in book["Filters"].iter_rows()}
    assert (about["from"], about["to"]) == ("2026-11-01", "2026-11-01")


def test_export_orders_as_xlsx_over_the_sheet_limit_stops_with_a_message(tmp_path, monkeypatch):
    PayOrderFactory.create_batch(2, pay_time=china(2026, 11, 1, 8))
    monkeypatch.setattr(xlsx, "MAX_ROWS", 2)
    output = tmp_path / "orders.xlsx"

    with pytest.raises(CommandError, match="按月"):
        call_command(
            "export_orders", "--from=2026-11-01", "--to=2026-11-01", "--format=xlsx",
            f"--output={output}",
        )  # fmt: skip

    assert not output.exists()


def test_export_orders_as_xlsx_needs_an_output_file():
    with pytest.raises(CommandError, match="--output"):
        call_command("export_orders", "--from=2026-11-01", "--to=2026-11-01", "--format=xlsx")


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_export_orders_reports_its_progress_in_plain_lines_off_a_terminal(tmp_path, file_format):
    PayOrderFactory(pay_time=china(2026, 11, 1, 8))
    PayOrderFactory(pay_time=china(2026, 11, 2, 8))
    PayOrderFactory(pay_time=china(2026, 11, 3, 8))  # after the range
    output = tmp_path / f"orders.{file_format}"
    err = io.StringIO()  # not a terminal: log lines, no bar

    call_command(
        "export_orders",
        *("--from", "2026-11-01", "--to", "2026-11-02"),
        *("--format", file_format, "--output", output),
        stderr=err,
    )

    stamp = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d"
    lines = err.getvalue().splitlines()
    assert len(lines) == 3, lines
    assert re.fullmatch(rf"{stamp} 正在写入文件: 开始 0/2", lines[0])
    assert re.fullmatch(rf"{stamp} 正在写入文件: 完成 2/2", lines[1])
    assert lines[2] == f"Wrote {output}."


def test_export_orders_to_stdout_reports_its_progress_on_stderr_only():
    PayOrderFactory(pay_time=china(2026, 11, 1, 8))
    out, err = io.StringIO(), io.StringIO()

    call_command(
        "export_orders", "--from", "2026-11-01", "--to", "2026-11-01", stdout=out, stderr=err
    )

    assert len(read(out.getvalue())) == 2  # the header and the order, nothing else
    assert [line.split(" ", 2)[2] for line in err.getvalue().splitlines()] == [
        "正在写入文件: 开始 0/1",
        "正在写入文件: 完成 1/1",
    ]
