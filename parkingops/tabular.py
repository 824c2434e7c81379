"""What every spreadsheet-bound file shares: columns described once, formula-safe text cells, the
streamed CSV text and its download. The XLSX twin of each CSV is written from the same columns
by ``parkingops.xlsx``, where each ``Kind`` is a cell type and number format.

The exports' CSVs (``csv_text``) are all written the same way:

- UTF-8 with a BOM, so Excel opens the Chinese correctly; the header row in the active
  language (the msgid of a header is the column's English name, the Chinese comes from the
  translation);
- amounts in yuan with two decimals (plus the raw fen where the format has a fen column);
  times ``YYYY-MM-DD HH:MM:SS`` in Asia/Shanghai; a money column's header names its unit,
  ``(元)`` or ``(分)``;
- text cells that a spreadsheet would run as a formula (starting ``= + - @``, tab, CR, or
  their full-width forms) are prefixed with ``'``; number columns are never touched;
- the integration API's CSV for machines (``…/export/`` without ``?lang=zh``) is written by
  the same writer from its own columns (``fixed``, ``money``): headers fixed in every language
  (the JSON's field names), times ``Kind.INSTANT`` (ISO-8601 with offset), money in fen and in
  yuan side by side; the text cells formula-escaped all the same;
- streamed: rows are read in chunks of CHUNK_ROWS and the text is handed on in pieces of about
  FLUSH_CHARS characters, so memory stays flat for a million rows; a ``progress``
  (``parkingops.jobs.progress``) hears every PROGRESS_ROWS rows written.
"""

import csv
import enum
import io
import itertools
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.http import StreamingHttpResponse
from django.utils import translation
from django.utils.functional import Promise
from django.utils.http import content_disposition_header

from parkingops.formatting import CHINA, china_time, fen_to_yuan
from parkingops.jobs.progress import NO_PROGRESS, Progress

BOM = "\ufeff"
# What makes Excel, LibreOffice or Google Sheets treat a cell as a formula (OWASP "CSV
# injection"), including the full-width forms that Chinese input methods produce.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")

CHUNK_ROWS = 2000  # rows read from the database at a time
FLUSH_CHARS = 64 * 1024  # characters of CSV text handed on at a time
PROGRESS_ROWS = 500  # rows written between two reports to a progress (and cancel checks)


def escape_formula(text: str) -> str:
    """Return ``text`` prefixed with ``'`` when a spreadsheet would run it as a formula."""
    return f"'{text}" if text.startswith(FORMULA_PREFIXES) else text


# --- Columns ---------------------------------------------------------------------------------


class Kind(enum.Enum):
    """What a column holds, which decides how its cells are written (and their unit)."""

    TEXT = "text"  # text, formula-escaped; None is empty
    TIME = "time"  # an aware time, ``YYYY-MM-DD HH:MM:SS`` in China time (text: as it is);
    # None is empty
    INSTANT = "instant"  # an aware time for machines: ISO-8601 with its offset, China time
    # (``2026-11-01T08:30:00+08:00``, as the API's JSON); text as it is; None is empty
    YUAN = "yuan"  # money held in fen, written in 元 with two decimals; None is empty, not 0
    FEN = "fen"  # money in 分, the integer as it is; None is empty
    NUMBER = "number"  # a count or another plain integer, no unit; None is empty


def _text_cell(value: Any) -> str:
    return "" if value is None else escape_formula(str(value))


def _time_cell(value: datetime | str | None) -> str:
    # A time is text to the spreadsheet; escaping leaves ``YYYY-…`` as it is. Text is a time
    # the platform sent in a form we could not read, kept as sent.
    return escape_formula(value if isinstance(value, str) else china_time(value))


def _instant_cell(value: datetime | str | None) -> str:
    if value is None:
        return ""
    return escape_formula(value if isinstance(value, str) else value.astimezone(CHINA).isoformat())


def _yuan_cell(value: int | None) -> str:
    return "" if value is None else fen_to_yuan(value)


def _number_cell(value: int | None) -> str:
    return "" if value is None else str(value)


_CELLS: dict[Kind, Callable[[Any], str]] = {
    Kind.TEXT: _text_cell,
    Kind.TIME: _time_cell,
    Kind.INSTANT: _instant_cell,
    Kind.YUAN: _yuan_cell,
    Kind.FEN: _number_cell,
    Kind.NUMBER: _number_cell,
}


@dataclass(frozen=True)
class Column:
    """One CSV column, described once for every writer of its file.

    ``label`` is the header: its msgid is the column's English name from the format
    (``pay_serial``), so English users get exactly those names; the Chinese ones come from the
    translation. ``kind`` says how a value is written (and in which unit). ``source`` is the
    key of the value in a row (rows are mappings). ``sql``, for a file the database can also
    write, is the value's SQL expression where it is not simply the column ``source`` of the
    rows the statement reads.
    """

    label: Promise | str
    kind: Kind
    source: str
    sql: str | None = None


def fixed(name: str, kind: Kind, source: str | None = None) -> Column:
    """Return a column of a file for machines: its header is ``name`` in every language (the
    field's name in the API's JSON), its value the row's ``source`` (default ``name``)."""
    return Column(name, kind, source or name)


def money(name: str, source: str | None = None) -> tuple[Column, Column]:
    """Return the two fixed columns of an amount held in fen: ``<name>_fen`` (the integer) and
    ``<name>_yuan`` (two decimals)."""
    return fixed(f"{name}_fen", Kind.FEN, source or name), fixed(
        f"{name}_yuan", Kind.YUAN, source or name
    )


def header(columns: Sequence[Column]) -> list[str]:
    """Return the header row in the active language (translate it now, not while streaming)."""
    return [str(column.label) for column in columns]


def csv_head(names: Sequence[str]) -> str:
    """Return the BOM and the header row, as every export's CSV starts."""
    buffer = io.StringIO()
    buffer.write(BOM)
    csv.writer(buffer).writerow(escape_formula(name) for name in names)
    return buffer.getvalue()


def csv_text(
    columns: Sequence[Column],
    rows: Iterable[Mapping[str, Any]],
    *,
    names: Sequence[str] | None = None,
    progress: Progress = NO_PROGRESS,
) -> Iterator[str]:
    """Return the CSV of ``rows`` (BOM, header, one line per row) as an iterator of text pieces
    of about FLUSH_CHARS characters; ``progress`` advances by the rows written.

    The header is ``names`` when given (translated earlier by ``header()``), else translated
    now, in the caller's language, not while streaming.
    """
    return _csv_pieces(columns, header(columns) if names is None else names, rows, progress)


def _csv_pieces(
    columns: Sequence[Column],
    names: Sequence[str],
    rows: Iterable[Mapping[str, Any]],
    progress: Progress,
) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write(csv_head(names))
    cells = [(_CELLS[column.kind], column.source) for column in columns]
    for row in progress.iterate(rows, every=PROGRESS_ROWS):
        writer.writerow([cell(row[source]) for cell, source in cells])
        if buffer.tell() >= FLUSH_CHARS:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def in_language(pieces: Iterable[str], language: str) -> Iterator[str]:
    """Return ``pieces`` read with ``language`` active: the words a streamed file writes while
    it is read (a total row's "Total") stay in the language it was asked in."""
    iterator = iter(pieces)
    while True:
        with translation.override(language):
            piece = next(iterator, None)
        if piece is None:
            return
        yield piece


def batched(rows: Iterator[Any], size: int) -> Iterator[list[Any]]:
    """Yield ``rows`` in lists of ``size`` (the last one shorter)."""
    while batch := list(itertools.islice(rows, size)):
        yield batch


# --- Delivery --------------------------------------------------------------------------------


def export_filename(
    kind: str, date_from: date | None, date_to: date | None, *, now: datetime | None = None
) -> str:
    """Return a file name carrying the date range: ``orders_2026-11-01_2026-11-26.csv``.

    An open start reads ``all``; an open end is today (China time), the day of the export.
    """
    today = (now or datetime.now(tz=CHINA)).astimezone(CHINA).date()
    start = date_from.isoformat() if date_from else "all"
    end = (date_to or today).isoformat()
    return f"{kind}_{start}_{end}.csv"


def csv_response(pieces: Iterator[str], filename: str) -> StreamingHttpResponse:
    """Stream CSV text as a download (RFC 6266/5987 file name, never cached)."""
    response = StreamingHttpResponse(pieces, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(True, filename)
    response["Cache-Control"] = "private, no-store"
    return response
