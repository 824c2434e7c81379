"""The exports' Excel files (XLSX), written from the same column descriptions as their CSVs
(``parkingops.tabular.Column``): each ``Kind`` decides the cell's type and number format.

- text (serials, codes, plates, identities) is a text cell written with ``write_string``: no
  digit is lost, nothing turns into scientific notation, and text that looks like a formula
  stays text (a string cell is never evaluated), so it is written as it is, without the CSV's
  ``'``;
- money held in fen is a number of yuan with the format ``#,##0.00`` (``Kind.YUAN``), or the
  integer fen (``Kind.FEN``); counts are integers;
- times are date-time cells of China time (spreadsheets have no time zones), formatted
  ``yyyy-mm-dd hh:mm:ss``;
- the header row is frozen with an autofilter over the table; the widths fit the header and
  the first SAMPLE_ROWS rows (not every row); one sheet per table, then a sheet that says who
  exported what, when, with which filters.

Written with XlsxWriter in ``constant_memory`` mode (a row is flushed to disk as soon as the
next begins) into a temporary file, handed on by a ``FileResponse``: memory stays flat however
many rows. A table above Excel's limit (MAX_ROWS, the header included) is refused before
anything is written (``TooManyRows``). A ``progress`` (``parkingops.jobs.progress``) hears the
rows written.
"""

import tempfile
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import IO, Any

import xlsxwriter
from django.db.models import QuerySet
from django.http import FileResponse
from django.utils.text import capfirst
from django.utils.translation import gettext
from xlsxwriter.worksheet import Worksheet

from parkingops.formatting import CHINA
from parkingops.jobs.progress import NO_PROGRESS, Progress
from parkingops.tabular import PROGRESS_ROWS, Column, Kind, header

MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_ROWS = 1_048_576  # rows of an Excel sheet, the header included
SAMPLE_ROWS = 100  # rows read to fit the column widths
MAX_WIDTH = 60  # characters; longer text wraps in nobody's favour
SHEET_NAME_CHARS = 31  # Excel's limit
TIME_FORMAT = "yyyy-mm-dd hh:mm:ss"

# The number format of each kind's cells (text cells are "@": typed over, they stay text).
_FORMATS: dict[Kind, str] = {
    Kind.TEXT: "@",
    Kind.TIME: TIME_FORMAT,
    Kind.INSTANT: TIME_FORMAT,
    Kind.YUAN: "#,##0.00",
    Kind.FEN: "0",
    Kind.NUMBER: "0",
}


class TooManyRows(ValueError):
    """A table has more rows than a sheet holds: the export is refused with ``message``."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.message = gettext(
            "%(count)s rows do not fit in an Excel sheet (at most %(limit)s): export a shorter "
            "period (one month at a time, say) or use CSV."
        ) % {"count": f"{count:,}", "limit": f"{MAX_ROWS - 1:,}"}
        super().__init__(self.message)


@dataclass(frozen=True)
class Table:
    """One sheet: its title, columns, rows (mappings, as the CSV reads them) and their count.

    ``count`` is the number of rows, known before writing (a COUNT of the query), so a table
    that does not fit is refused before the first row is read.
    """

    title: str
    columns: Sequence[Column]
    rows: Iterable[Mapping[str, Any]]
    count: int
    names: Sequence[str] | None = None  # the header, when translated earlier


@dataclass(frozen=True)
class About:
    """What the last sheet says: who exported, when, and the filters in words."""

    user: str
    at: datetime
    filters: Sequence[tuple[str, str]] = field(default_factory=tuple)


def queryset_table(
    queryset: QuerySet, columns: Sequence[Column], rows: Iterable[Mapping[str, Any]]
) -> Table:
    """Return the table of ``queryset``'s ``rows``: titled with its model's plural name,
    counted by one COUNT of the query."""
    title = capfirst(queryset.model._meta.verbose_name_plural)
    return Table(title, columns, rows, queryset.count())


def check_rows(count: int) -> None:
    """Raise TooManyRows when ``count`` rows and a header do not fit in a sheet."""
    if count + 1 > MAX_ROWS:
        raise TooManyRows(count)


def workbook(
    tables: Sequence[Table], about: About, *, progress: Progress = NO_PROGRESS
) -> IO[bytes]:
    """Write ``tables`` (and the sheet ``about``) to a temporary file and return it, open at
    its start; it is deleted when closed. Raises TooManyRows before writing anything.
    ``progress`` advances by the rows written."""
    for table in tables:
        check_rows(table.count)
    file = tempfile.TemporaryFile(suffix=".xlsx")  # noqa: SIM115 (handed on, closed by its reader)
    try:
        book = xlsxwriter.Workbook(file, {"constant_memory": True})
        styles = _Styles(book)
        used: set[str] = set()
        for table in tables:
            sheet = book.add_worksheet(_sheet_name(table.title, used))
            _write_table(sheet, styles, table, progress)
        _write_about(book.add_worksheet(_sheet_name(gettext("Filters"), used)), styles, about)
        book.close()
        file.seek(0)
    except BaseException:
        file.close()
        raise
    return file


def xlsx_response(file: IO[bytes], filename: str) -> FileResponse:
    """Hand ``file`` on as a download (RFC 6266/5987 file name, never cached)."""
    response = FileResponse(file, as_attachment=True, filename=filename, content_type=MEDIA_TYPE)
    response["Cache-Control"] = "private, no-store"
    return response


def xlsx_filename(csv_filename: str) -> str:
    """Return the CSV's file name (``tabular.export_filename``) for the XLSX twin."""
    return csv_filename.removesuffix(".csv") + ".xlsx"


# --- Writing ---------------------------------------------------------------------------------


class _Styles:
    """The workbook's cell formats, made once."""

    def __init__(self, book: xlsxwriter.Workbook) -> None:
        self.header = book.add_format({"bold": True, "num_format": "@"})
        self.kinds = {kind: book.add_format({"num_format": fmt}) for kind, fmt in _FORMATS.items()}


def _text(sheet: Worksheet, row: int, col: int, value: Any, style: Any) -> None:
    if value is not None and value != "":
        sheet.write_string(row, col, value if isinstance(value, str) else str(value), style)


def _number(sheet: Worksheet, row: int, col: int, value: Any, style: Any) -> None:
    if value is None or value == "":
        return
    if isinstance(value, int | float):
        sheet.write_number(row, col, value, style)
    else:  # a total row's label, say: text, never a formula
        sheet.write_string(row, col, str(value), style)


def _yuan(sheet: Worksheet, row: int, col: int, value: Any, style: Any) -> None:
    _number(sheet, row, col, value / 100 if isinstance(value, int) else value, style)


def _time(sheet: Worksheet, row: int, col: int, value: Any, style: Any) -> None:
    if isinstance(value, datetime):
        local = value.astimezone(CHINA).replace(tzinfo=None) if value.tzinfo else value
        sheet.write_datetime(row, col, local, style)
    else:  # a time the platform sent in a form we could not read, kept as sent
        _text(sheet, row, col, value, style)


_WRITERS: dict[Kind, Callable[[Worksheet, int, int, Any, Any], None]] = {
    Kind.TEXT: _text,
    Kind.TIME: _time,
    Kind.INSTANT: _time,
    Kind.YUAN: _yuan,
    Kind.FEN: _number,
    Kind.NUMBER: _number,
}


def _write_table(sheet: Worksheet, styles: _Styles, table: Table, progress: Progress) -> None:
    names = list(table.names) if table.names is not None else header(table.columns)
    columns = list(table.columns)
    cells = [
        (index, column.source, _WRITERS[column.kind], styles.kinds[column.kind])
        for index, column in enumerate(columns)
    ]
    widths = [_width(name) for name in names]
    for index, name in enumerate(names):
        sheet.write_string(0, index, name, styles.header)
    number = 0
    rows = progress.iterate(table.rows, every=PROGRESS_ROWS)
    for number, row in enumerate(rows, start=1):
        if number <= SAMPLE_ROWS:
            for index, column in enumerate(columns):
                widths[index] = max(widths[index], _cell_width(column.kind, row[column.source]))
        if number > MAX_ROWS - 1:  # the count was out of date: never a corrupt file
            raise TooManyRows(number)
        for index, source, write, style in cells:
            write(sheet, number, index, row[source], style)
    for index, width in enumerate(widths):
        sheet.set_column(index, index, min(width, MAX_WIDTH) + 2)
    sheet.freeze_panes(1, 0)
    sheet.autofilter(0, 0, number, max(len(columns) - 1, 0))
    # Printed for an accountant: landscape, every column on the page's width, the header on
    # every page.
    sheet.set_landscape()
    sheet.fit_to_pages(1, 0)
    sheet.repeat_rows(0)


def _write_about(sheet: Worksheet, styles: _Styles, about: About) -> None:
    lines: list[tuple[str, Any]] = [
        (gettext("Exported by"), about.user),
        (gettext("Exported at"), about.at),
        *about.filters,
    ]
    if not about.filters:
        lines.append((gettext("Filters"), gettext("None: every row")))
    for number, (label, value) in enumerate(lines):
        sheet.write_string(number, 0, label, styles.header)
        if isinstance(value, datetime):
            _time(sheet, number, 1, value, styles.kinds[Kind.TIME])
        else:
            _text(sheet, number, 1, value, styles.kinds[Kind.TEXT])
    sheet.set_column(0, 0, max(_width(label) for label, _value in lines) + 2)
    sheet.set_column(1, 1, MAX_WIDTH)


def _sheet_name(title: str, used: set[str]) -> str:
    """Return ``title`` as a sheet name Excel takes: no ``[]:*?/\\``, at most 31 characters,
    not starting or ending with ``'``, unique in the workbook."""
    name = "".join("_" if char in "[]:*?/\\" else char for char in title).strip("'")
    name = name[:SHEET_NAME_CHARS] or "Sheet"
    base, number = name, 1
    while name.casefold() in used:
        number += 1
        suffix = f" ({number})"
        name = base[: SHEET_NAME_CHARS - len(suffix)] + suffix
    used.add(name.casefold())
    return name


def _width(text: str) -> int:
    """Return the columns ``text`` takes: a wide (Chinese) character counts two."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def _cell_width(kind: Kind, value: Any) -> int:
    if value is None:
        return 0
    if kind is Kind.TIME and isinstance(value, datetime):
        return len("yyyy-mm-dd hh:mm:ss")
    if kind is Kind.YUAN and isinstance(value, int):
        return len(f"{value / 100:,.2f}")
    if isinstance(value, date):
        return len(value.isoformat())
    return _width(str(value))
