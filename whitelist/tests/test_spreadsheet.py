"""whitelist.spreadsheet: reading the cells and rows of an imported file."""

from datetime import date, datetime

import pytest
from django.utils import timezone, translation

from whitelist.spreadsheet import (
    FileRefused,
    iter_rows,
    read_datetime,
    read_id,
    read_park,
    read_text,
    read_yes_no,
)


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def china(text: str) -> datetime:
    return timezone.make_aware(datetime.fromisoformat(text), timezone.get_default_timezone())


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("2026-01-31 08:00", china("2026-01-31T08:00")),
        ("2026/1/31 8:00", china("2026-01-31T08:00")),
        ("2026年1月31日", china("2026-01-31T00:00")),
        (date(2026, 1, 31), china("2026-01-31T00:00")),
        ("", None),
    ],
)
def test_read_datetime_takes_china_time_in_the_usual_spellings(cell, expected):
    assert read_datetime(cell) == expected


def test_read_datetime_names_a_cell_it_cannot_read():
    with pytest.raises(ValueError, match="“soon” is not a date and time"):
        read_datetime("soon")


def test_yes_no_ids_parks_and_text():
    assert (read_yes_no("是"), read_yes_no(0.0), read_yes_no(" ")) == (True, False, None)
    assert (read_id("12"), read_id(12.0), read_id("")) == (12, 12, None)
    with pytest.raises(ValueError, match="is not an id"):
        read_id("1.5")
    assert (read_park("全部车场"), read_park(" park-1 ")) == ("", "park-1")
    assert (read_text("'=1+1"), read_text(1234.0)) == ("=1+1", "1234")


def read_file(data: bytes, name: str = "whitelist.csv"):
    return list(iter_rows(data, name=name))


def test_read_file_maps_headers_keeps_row_numbers_and_skips_blank_rows():
    rows = read_file("车牌,备注,车场名称\r\n川a660p1,x,ignored\r\n,,\r\n粤B12345,,\r\n".encode())

    assert [row.number for row in rows] == [1, 3]
    assert rows[0].values == {"plate": "川A660P1", "note": "x"}
    assert rows[0].errors == {"valid_from": ["Enter “valid from” for a new entry."]}


def test_read_file_refuses_a_column_given_twice():
    with pytest.raises(FileRefused, match="Two columns of the file mean"):
        read_file("车牌,plate\r\n川A660P1,川A660P1\r\n".encode())


def test_a_cell_over_the_limit_is_an_error_of_its_row_and_column_and_is_not_kept():
    huge = "x" * (5 * 1024 * 1024)
    rows = read_file(f"车牌,备注\r\n川A660P1,ok\r\n川A660P2,{huge}\r\n".encode())

    assert rows[1].number == 2
    assert rows[1].errors["note"] == ["The cell has 5242880 characters; at most 1000 are allowed."]
    assert "note" not in rows[1].values
    assert len(str(rows[1].cells["note"])) < 100  # only its beginning is kept
