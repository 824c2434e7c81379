"""The shared CSV pieces: cells by kind, the streamed text, batching, file names, the download."""

import csv
import io
from datetime import UTC, date, datetime

import pytest
from django.utils import translation
from django.utils.translation import gettext_lazy

from parkingops import tabular
from parkingops.jobs.progress import Progress
from parkingops.tabular import BOM, Column, Kind

COLUMNS = (
    Column(gettext_lazy("name"), Kind.TEXT, "name"),
    Column(gettext_lazy("at"), Kind.TIME, "at"),
    Column(gettext_lazy("paid_yuan"), Kind.YUAN, "paid"),
    Column(gettext_lazy("paid_fen"), Kind.FEN, "paid"),
    Column(gettext_lazy("count"), Kind.NUMBER, "count"),
)


@pytest.fixture(autouse=True)
def english():
    """The headers' English msgids, as written."""
    with translation.override("en"):
        yield


def rows_of(text: str) -> list[list[str]]:
    assert text.startswith(BOM)
    return list(csv.reader(io.StringIO(text[1:], newline="")))


def test_each_kind_writes_its_cells_and_none_as_empty():
    rows = [
        {"name": "=1+1", "at": datetime(2026, 11, 1, 1, 30, tzinfo=UTC), "paid": 1250, "count": 3},
        {"name": None, "at": None, "paid": None, "count": None},
        {"name": 42, "at": None, "paid": -5, "count": 0},
    ]

    text = "".join(tabular.csv_text(COLUMNS, rows))

    assert rows_of(text) == [
        ["name", "at", "paid_yuan", "paid_fen", "count"],
        ["'=1+1", "2026-11-01 09:30:00", "12.50", "1250", "3"],
        ["", "", "", "", ""],
        ["42", "", "-0.05", "-5", "0"],
    ]
    assert text.endswith("\r\n")


def test_numbers_are_never_escaped_but_a_header_is():
    columns = (Column(gettext_lazy("-minus"), Kind.FEN, "value"),)

    assert rows_of("".join(tabular.csv_text(columns, [{"value": -1}]))) == [["'-minus"], ["-1"]]


def test_the_header_given_is_used_as_it_is():
    text = "".join(tabular.csv_text(COLUMNS[:1], [], names=["名称"]))

    assert text == BOM + "名称\r\n"


def test_csv_text_streams_in_pieces_of_about_flush_chars(monkeypatch):
    monkeypatch.setattr(tabular, "FLUSH_CHARS", 100)
    rows = [{"name": "x" * 30, "at": None, "paid": 1, "count": 1} for _ in range(20)]

    pieces = list(tabular.csv_text(COLUMNS, rows))

    assert len(pieces) > 5
    assert all(len(piece) < 100 + 60 for piece in pieces)
    assert len(rows_of("".join(pieces))) == 21


def test_batched_yields_lists_of_the_size_and_a_shorter_last_one():
    assert list(tabular.batched(iter(range(5)), 2)) == [[0, 1], [2, 3], [4]]
    assert list(tabular.batched(iter([]), 2)) == []


def test_export_filename_carries_the_date_range():
    now = datetime(2026, 11, 26, 20, 0, tzinfo=UTC)  # already the 27th in China

    assert tabular.export_filename("orders", date(2026, 11, 1), date(2026, 11, 26), now=now) == (
        "orders_2026-11-01_2026-11-26.csv"
    )
    assert tabular.export_filename("coupons", None, None, now=now) == "coupons_all_2026-11-27.csv"


def test_export_file_name_with_non_ascii_is_rfc_5987_encoded():
    response = tabular.csv_response(iter(["x"]), "订单_2026-11-01.csv")

    assert response["Content-Disposition"] == (
        "attachment; filename*=utf-8''%E8%AE%A2%E5%8D%95_2026-11-01.csv"
    )


class Recorded(Progress):
    """A progress that keeps what it was told."""

    def __init__(self) -> None:
        self.advances: list[int] = []

    def advance(self, count: int = 1) -> None:
        self.advances.append(count)


def test_the_csv_tells_a_progress_the_rows_written_every_progress_rows():
    rows = [{"name": "x", "at": None, "paid": 1, "count": 2}] * (2 * tabular.PROGRESS_ROWS + 3)
    progress = Recorded()

    text = "".join(tabular.csv_text(COLUMNS, iter(rows), progress=progress))

    assert len(rows_of(text)) == 1 + len(rows)
    assert progress.advances == [tabular.PROGRESS_ROWS, tabular.PROGRESS_ROWS, 3]
