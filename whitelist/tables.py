"""Reading an uploaded CSV or XLSX file as a stream of lines of cells, whatever the file holds.

Lines are read one at a time (a CSV reader over a decoding text wrapper, openpyxl in read-only
mode), so a 100,000-row file never sits in memory as 100,000 parsed lines. Every problem of the
file as a whole is a ``FileRefused`` whose message tells the user what is wrong and what to do;
a parser's own exception never reaches the caller. What the cells mean is ``spreadsheet``'s.
"""

import codecs
import csv
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice
from typing import Any

import openpyxl
from django.utils.translation import gettext as _

# The whole file is kept on the server between the preview and the confirmation: a whitelist
# of 100,000 rows is a few MB, so anything far larger is a mistake, refused before it is read.
MAX_FILE_BYTES = 20 * 1024 * 1024
# An XLSX file is a zip archive: one that would unpack to far more than any whitelist needs is
# a zip bomb (or a mistake), refused before a byte is unpacked.
MAX_UNPACKED_BYTES = 200 * 1024 * 1024
# No field of an entry is longer (the longest, the note, has 255 characters): a longer cell is
# an error of its row, and only its first characters are kept, for showing.
MAX_CELL_CHARS = 1000
SHOWN_CHARS = 40

XLSX_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # the old binary .xls (and other Office 97 files)
EXCEL_SUFFIXES = (".xlsx", ".xlsm", ".xls")
# Checked in this order: a UTF-32 BOM begins with UTF-16's.
BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# Without a BOM: UTF-8 first, since GB18030 decodes most UTF-8 bytes too, but into nonsense,
# while Chinese GB18030 (GBK) text is almost never valid UTF-8.
GUESSED_ENCODINGS = ("utf-8", "gb18030")
ENCODING_NAMES = {"utf-8-sig": "UTF-8", "utf-32": "UTF-32", "utf-16": "UTF-16"}
DELIMITERS = (",", "\t", ";")

# A file's cell may be as long as the file itself; our own limit (MAX_CELL_CHARS) then names
# the row and column, where csv's default limit (131,072) would only stop the whole file.
# The setting is the csv module's, process-wide; only raising it is harmless to other readers.
csv.field_size_limit(max(csv.field_size_limit(), MAX_FILE_BYTES))


class FileRefused(ValueError):
    """The file as a whole cannot be read: its message says why, for the user."""


@dataclass(frozen=True)
class LongCell:
    """A cell over ``MAX_CELL_CHARS``: its length and first characters, never its whole text."""

    length: int
    start: str

    def __str__(self) -> str:
        return self.start + "…"


class Table:
    """An uploaded file's first sheet: its ``header`` (a list of cells), then ``lines()``.

    ``name`` (the uploaded file's name) only makes the messages clearer: whether a file is CSV
    or XLSX is told from its content.
    """

    def __init__(self, data: bytes, *, name: str = "") -> None:
        self.data = data
        if not data.strip():
            raise FileRefused(_("The file is empty."))
        if data.startswith(XLSX_MAGIC):
            self._open = self._xlsx_lines
        elif data.startswith(OLE_MAGIC):
            raise FileRefused(
                _(
                    "The file is an old Excel 97–2003 workbook (.xls). In Excel, save it as an "
                    "Excel workbook (.xlsx) or as “CSV UTF-8”."
                )
            )
        elif name.lower().endswith(EXCEL_SUFFIXES):
            raise FileRefused(_("The file is not an Excel workbook (.xlsx) that can be read."))
        else:
            self.encoding = _encoding(data)
            self._open = self._csv_lines
        lines = self._open(None)
        header = next(lines, None)
        lines.close()  # the workbook too
        if header is None or all(cell is None or cell == "" for cell in header):
            raise FileRefused(_("The file's first row is empty: it must hold the column headers."))
        self.header = [_capped(cell) for cell in header]

    def lines(self, width: int) -> Iterator[list[Any]]:
        """Yield the lines below the header, each cut or padded to ``width`` cells."""
        lines = self._open(width)
        next(lines, None)  # the header
        for line in lines:
            cells = [_capped(cell) for cell in islice(line, width)]
            yield cells + [None] * (width - len(cells))

    def _csv_lines(self, width: int | None) -> Iterator[list[str]]:
        text = io.TextIOWrapper(io.BytesIO(self.data), encoding=self.encoding, newline="")
        first = text.readline()
        text.seek(0)
        # Excel's "Unicode text" is tab-separated, and in some locales its CSV semicolon-
        # separated: the header line tells.
        delimiter = max(DELIMITERS, key=first.count)
        reader = csv.reader(text, delimiter=delimiter)
        try:
            yield from reader
        except csv.Error as error:
            raise FileRefused(
                _("Line %(line)d of the file cannot be read as CSV (%(error)s).")
                % {"line": reader.line_num, "error": error}
            ) from None

    def _xlsx_lines(self, width: int | None) -> Iterator[tuple]:
        # openpyxl raises whatever its zip, XML and value parsers raise on a damaged or hostile
        # file (BadZipFile, KeyError, ValueError, ParseError, TypeError …): every one of them
        # means the same to the user.
        try:
            archive = zipfile.ZipFile(io.BytesIO(self.data))
            unpacked = sum(info.file_size for info in archive.infolist())
        except (zipfile.BadZipFile, OSError, ValueError):
            raise FileRefused(
                _("The file is not an Excel workbook (.xlsx) that can be read.")
            ) from None
        if unpacked > MAX_UNPACKED_BYTES:
            raise FileRefused(
                _(
                    "The workbook would unpack to more than %(max)d MB: save only the whitelist "
                    "in it, or save it as CSV."
                )
                % {"max": MAX_UNPACKED_BYTES // (1024 * 1024)}
            )
        try:
            book = openpyxl.load_workbook(io.BytesIO(self.data), read_only=True, data_only=True)
            try:
                sheet = book.worksheets[0]
                # The size a sheet declares may be wrong or absurd (A1:XFD1048576): ignore it,
                # and read only the columns asked for.
                sheet.reset_dimensions()
                yield from sheet.iter_rows(max_col=width, values_only=True)
            finally:
                book.close()
        except Exception:  # see above
            raise FileRefused(
                _("The file is not an Excel workbook (.xlsx) that can be read.")
            ) from None


def _encoding(data: bytes) -> str:
    """Return the encoding of a text file, or raise FileRefused naming the problem.

    A BOM decides (UTF-8, UTF-16, UTF-32); without one, UTF-8, then GB18030 (which includes
    GBK and GB2312: Excel's "CSV" on Chinese Windows). The whole file is checked, a chunk at a
    time, so a bad byte on the last line is reported now, with its line, not half-way through.
    """
    for bom, encoding in BOMS:
        if data.startswith(bom):
            candidates = (encoding,)
            break
    else:
        if b"\x00" in data:
            raise FileRefused(
                _(
                    "The file is not text (it holds NUL bytes): save it as CSV (UTF-8, or "
                    "GB18030/GBK) or as an Excel workbook (.xlsx)."
                )
            )
        candidates = GUESSED_ENCODINGS
    bad = 0
    for encoding in candidates:
        offset = _first_bad_byte(data, encoding)
        if offset is None:
            return encoding
        bad = max(bad, offset)
    line = data.count(b"\n", 0, bad) + 1
    if len(candidates) == 1:
        raise FileRefused(
            _(
                "The file begins like %(encoding)s text, but line %(line)d is not "
                "%(encoding)s. Save it again as “CSV UTF-8”."
            )
            % {"encoding": ENCODING_NAMES[candidates[0]], "line": line}
        )
    raise FileRefused(
        _(
            "The file's text encoding is not supported: it is neither UTF-8 nor GB18030/GBK "
            "(line %(line)d). In Excel, save it as “CSV UTF-8” or as an Excel workbook (.xlsx)."
        )
        % {"line": line}
    )


def _first_bad_byte(data: bytes, encoding: str, chunk: int = 1 << 20) -> int | None:
    """Return the offset of the first byte ``data`` cannot be decoded at, or None."""
    # utf-8-sig would count offsets after its BOM; the BOM itself is valid UTF-8.
    decoder = codecs.getincrementaldecoder("utf-8" if encoding == "utf-8-sig" else encoding)()
    for start in range(0, len(data), chunk):
        try:
            decoder.decode(data[start : start + chunk], final=start + chunk >= len(data))
        except UnicodeDecodeError as error:
            return start + error.start if error.start >= 0 else start
    return None


def _capped(cell: Any) -> Any:
    if isinstance(cell, str) and len(cell) > MAX_CELL_CHARS:
        return LongCell(length=len(cell), start=cell[:SHOWN_CHARS])
    return cell
