"""The XLSX kernel (``parkingops.xlsx``): each column kind as its typed cell and number format,
the frozen header with its autofilter, fitted widths, the filters sheet, formula-like text kept
as text, and the row limit checked before anything is written."""

from datetime import UTC, datetime

import openpyxl
import pytest
from django.utils.translation import override

from parkingops import xlsx
from parkingops.jobs.progress import Progress
from parkingops.tabular import PROGRESS_ROWS, Column, Kind

COLUMNS = (
    Column("serial", Kind.TEXT, "serial"),
    Column("paid_yuan", Kind.YUAN, "paid"),
    Column("paid_fen", Kind.FEN, "paid"),
    Column("count", Kind.NUMBER, "count"),
    Column("time", Kind.TIME, "time"),
)
ROW = {
    "serial": "20261205162056512345678901",
    "paid": 123456,
    "count": 3,
    "time": datetime(2026, 12, 4, 16, 30, 5, tzinfo=UTC),
}
ABOUT = xlsx.About("finance", datetime(2026, 12, 5, 2, 0, tzinfo=UTC), [("park", "南门")])


def book(rows, about=ABOUT, columns=COLUMNS):
    table = xlsx.Table("Pay orders", columns, rows, len(rows))
    with xlsx.workbook([table], about) as file:
        return openpyxl.load_workbook(file)


def test_every_kind_of_column_has_a_cell_writer_and_a_number_format():
    # A kind added to parkingops.tabular.Kind must say here how Excel gets it.
    assert set(xlsx._WRITERS) == set(Kind)
    assert set(xlsx._FORMATS) == set(Kind)


def test_each_kind_is_its_typed_cell_with_its_number_format():
    sheet = book([ROW])["Pay orders"]

    serial, yuan, fen, count, time = sheet[2]
    assert serial.value == "20261205162056512345678901"
    assert serial.data_type == "s"
    assert yuan.value == 1234.56
    assert yuan.number_format == "#,##0.00"
    assert fen.value == 123456
    assert isinstance(fen.value, int)
    assert count.value == 3
    assert isinstance(count.value, int)
    # China time (UTC+8), naive: a spreadsheet has no time zones.
    assert time.value == datetime(2026, 12, 5, 0, 30, 5)
    assert time.number_format == "yyyy-mm-dd hh:mm:ss"


def test_the_header_is_frozen_with_an_autofilter_over_the_table():
    sheet = book([ROW, ROW])["Pay orders"]

    assert [cell.value for cell in sheet[1]] == ["serial", "paid_yuan", "paid_fen", "count", "time"]
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:E3"


def test_a_printed_table_is_landscape_one_page_wide_with_the_header_on_every_page():
    sheet = book([ROW] * 3)["Pay orders"]

    assert sheet.page_setup.orientation == "landscape"
    assert sheet.sheet_properties.pageSetUpPr.fitToPage
    assert sheet.page_setup.fitToWidth in (None, 1)  # 1 page wide: the default, left unwritten
    assert sheet.page_setup.fitToHeight == 0  # as many pages down as it takes
    assert sheet.print_title_rows.replace("$", "") == "1:1"


def test_column_widths_fit_the_header_and_the_values():
    sheet = book([{**ROW, "serial": "支付流水" * 3}])["Pay orders"]

    assert sheet.column_dimensions["A"].width >= 26  # twelve wide characters
    assert sheet.column_dimensions["E"].width >= len("2026-12-05 00:30:05")
    assert sheet.column_dimensions["D"].width < 12


def test_formula_like_text_stays_text_and_empty_values_stay_empty():
    rows = [{**ROW, "serial": '=HYPERLINK("http://x","y")'}, {**ROW, "serial": None, "paid": None}]
    sheet = book(rows)["Pay orders"]

    formula = sheet["A2"]
    assert formula.value == '=HYPERLINK("http://x","y")'
    assert formula.data_type == "s"  # a string cell, never a formula ("f")
    assert sheet["A3"].value is None
    assert sheet["B3"].value is None


def test_a_time_that_is_text_stays_as_sent():
    sheet = book([{**ROW, "time": "2026-13-45 99:00"}])["Pay orders"]

    assert sheet["E2"].value == "2026-13-45 99:00"


def test_the_last_sheet_says_who_when_and_the_filters():
    with override("zh-hans"):
        workbook = book([ROW])

    assert workbook.sheetnames == ["Pay orders", "筛选条件"]
    about = [[cell.value for cell in row] for row in workbook["筛选条件"].iter_rows()]
    assert about == [
        ["导出人", "finance"],
        ["导出时间", datetime(2026, 12, 5, 10, 0)],
        ["park", "南门"],
    ]


def test_without_filters_the_last_sheet_says_every_row():
    with override("en"):
        workbook = book([], about=xlsx.About("finance", ABOUT.at))

    assert workbook["Filters"]["B3"].value == "None: every row"
    assert workbook["Pay orders"].max_row == 1  # the header only


def test_sheet_names_are_made_valid_and_unique():
    tables = [xlsx.Table("a/b:c" + "x" * 40, COLUMNS, [], 0)] * 2
    with xlsx.workbook(tables, ABOUT) as file:
        names = openpyxl.load_workbook(file).sheetnames

    assert names[0] == ("a_b_c" + "x" * 40)[:31]
    assert names[1].endswith(" (2)") and len(names[1]) == 31


def test_more_rows_than_a_sheet_holds_are_refused_before_anything_is_read(monkeypatch):
    monkeypatch.setattr(xlsx, "MAX_ROWS", 3)

    def rows():
        raise AssertionError("read")
        yield

    with override("zh-hans"), pytest.raises(xlsx.TooManyRows) as refused:
        xlsx.workbook([xlsx.Table("t", COLUMNS, rows(), 3)], ABOUT)

    assert "按月" in refused.value.message
    assert "CSV" in refused.value.message


def test_a_count_that_was_too_low_still_never_writes_past_the_limit(monkeypatch):
    monkeypatch.setattr(xlsx, "MAX_ROWS", 3)

    with pytest.raises(xlsx.TooManyRows):
        xlsx.workbook([xlsx.Table("t", COLUMNS, [ROW] * 5, 1)], ABOUT)


def test_control_characters_in_text_do_not_break_the_file():
    sheet = book([{**ROW, "serial": "a\x01b\x1fc_x0041_"}])["Pay orders"]

    assert sheet["A2"].value.startswith("a")
    assert sheet["A2"].value.endswith("_x0041_")


class Recorded(Progress):
    """A progress that keeps what it was told."""

    def __init__(self) -> None:
        self.advances: list[int] = []

    def advance(self, count: int = 1) -> None:
        self.advances.append(count)


def test_the_workbook_tells_a_progress_the_rows_written():
    rows = [ROW] * (PROGRESS_ROWS + 7)
    progress = Recorded()

    with xlsx.workbook(
        [xlsx.Table("Pay orders", COLUMNS, rows, len(rows))], ABOUT, progress=progress
    ) as file:
        sheet = openpyxl.load_workbook(file).worksheets[0]

    assert sheet.max_row == 1 + len(rows)
    assert progress.advances == [PROGRESS_ROWS, 7]
