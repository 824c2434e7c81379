"""The whitelist's spreadsheet: its columns, and reading a CSV or XLSX file into rows.

Columns may be headed by their field name or their Chinese name (see ``COLUMNS``). The file
itself (CSV in UTF-8, UTF-16 or GB18030, or XLSX; its limits) is read by ``tables``, a line at
a time. Each cell is read into the value ``upsert_entries`` takes, or
an error naming the cell's problem; what a row means (which entry it updates) is the upsert's.
"""

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from itertools import islice
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.utils import timezone
from django.utils.translation import gettext as _

from parkingops.tabular import FORMULA_PREFIXES
from whitelist import plates
from whitelist.models import WhitelistEntry
from whitelist.tables import MAX_CELL_CHARS, FileRefused, LongCell, Table

__all__ = ["FileRefused"]  # re-exported: the readers' callers catch it from here

# column: (Chinese header, other accepted headers). Exports head the columns with the Chinese
# name for Chinese users and the column name otherwise; imports accept any of them, whatever
# the language. They are a file format, so fixed here rather than translated.
COLUMNS: dict[str, tuple[str, tuple[str, ...]]] = {
    "id": ("编号", ("ID",)),
    "plate": ("车牌", ("车牌号", "车牌号码")),
    "park_uuid": ("车场编号", ("park", "车场UUID")),
    "park_name": ("车场名称", ()),
    "valid_from": ("生效时间", ("valid from", "开始时间", "生效日期")),
    "valid_until": ("失效时间", ("valid until", "结束时间", "到期时间", "失效日期", "到期日期")),
    "is_active": ("启用", ("active", "是否启用")),
    "status": ("状态", ()),
    "holder": ("持有人", ("车主",)),
    "note": ("备注", ()),
}
# Written on export for information, ignored on import.
EXPORT_ONLY = ("park_name", "status")
IMPORT_COLUMNS = tuple(column for column in COLUMNS if column not in EXPORT_ONLY)
# Every header an import accepts, folded, mapped onto its column.
_HEADERS = {
    header.strip().casefold(): column
    for column, (chinese, others) in COLUMNS.items()
    for header in (column, chinese, *others)
}

# The park column's spellings of "all parks", besides a blank cell.
ALL_PARKS = {"*", "全部车场", "全部", "all", "all parks"}
DATETIME_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y/%m/%d",
    "%Y年%m月%d日 %H:%M:%S",
    "%Y年%m月%d日 %H:%M",
    "%Y年%m月%d日",
)
TRUE_VALUES = {"1", "true", "yes", "y", "是", "启用", "有效", "√"}
FALSE_VALUES = {"0", "false", "no", "n", "否", "停用", "禁用", "无效", "×"}


@dataclass
class Row:
    """One data row: its ``number`` (from 1, the header not counted), its ``cells`` by column,
    the ``values`` read from them for ``upsert_entries``, and the cells' ``errors``."""

    number: int
    cells: dict[str, Any]
    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)


def column_label(column: str) -> str:
    """Return how a column is named to the user: the field's verbose name, or the column."""
    try:
        return str(WhitelistEntry._meta.get_field(column).verbose_name)
    except FieldDoesNotExist:  # the export-only columns, and "__all__"
        return column


def unescape_formula(value: str) -> str:
    """Undo ``parkingops.tabular.escape_formula``, so an exported file imports back unchanged."""
    if value.startswith("'") and value[1:].startswith(FORMULA_PREFIXES):
        return value[1:]
    return value


def iter_cells(data: bytes, *, name: str = "") -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield the number (from 1, the header not counted) and the cells by column of each
    non-blank row of a CSV or XLSX file, streaming (``tables.Table``).

    Raise FileRefused when the file cannot be read, a header appears twice or the plate column
    is missing; unknown columns (and export-only ones such as 车场名称) are ignored.
    """
    table = Table(data, name=name)
    columns = _columns(table.header)
    width = max(columns) + 1
    for number, line in enumerate(table.lines(width), start=1):
        if all(_blank(cell) for cell in line):
            continue
        yield number, {column: line[index] for index, column in columns.items()}


def has_more_rows_than(data: bytes, limit: int, *, name: str = "") -> bool:
    """Return whether the file has more than ``limit`` non-blank rows, reading no further
    (the cells only, not what they mean): cheap for a file of any size. Raise FileRefused as
    ``iter_cells`` does."""
    return next(islice(iter_cells(data, name=name), limit, None), None) is not None


def iter_rows(data: bytes, *, name: str = "") -> Iterator[Row]:
    """Yield each non-blank row of the file (``iter_cells``), read (``read_row``)."""
    for number, cells in iter_cells(data, name=name):
        yield read_row(number, cells)


def read_row(number: int, cells: dict[str, Any]) -> Row:
    """Read one row's cells into the fields ``upsert_entries`` takes.

    A blank "valid from" or "active" keeps the entry's value, a blank "valid until" means no
    end, a blank park all parks; a column the file lacks keeps the entry's value.
    """
    row = Row(number=number, cells=cells)
    for column, read in _READERS.items():
        if column not in cells:
            continue
        if isinstance(cells[column], LongCell):
            row.errors[column] = [
                _("The cell has %(length)s characters; at most %(max)s are allowed.")
                % {"length": cells[column].length, "max": MAX_CELL_CHARS}
            ]
            continue
        try:
            value = read(cells[column])
        except ValueError as error:
            row.errors[column] = [str(error)]
            continue
        if value is not None or column == "valid_until":
            row.values[column] = value
    # Without an id a row is matched on its "valid from" too (``upsert.IDENTITY``), so a row
    # with neither can only be a new entry.
    if not ({"id", "valid_from"} & (set(row.values) | set(row.errors))):
        row.errors["valid_from"] = [_("Enter “valid from” for a new entry.")]
    return row


def _columns(header: list) -> dict[int, str]:
    """Map the header's positions onto columns; raise FileRefused as ``iter_cells`` says."""
    columns: dict[int, str] = {}
    for index, title in enumerate(header):
        column = _HEADERS.get(str(title or "").strip().casefold())
        if column is None or column in EXPORT_ONLY:
            continue
        if column in columns.values():
            raise FileRefused(
                _("Two columns of the file mean “%(column)s”; keep one.")
                % {"column": column_label(column)}
            )
        columns[index] = column
    if "plate" not in columns.values():
        found = [str(title) for title in header if not _blank(title)]
        raise FileRefused(
            _("The file has no plate column: head it “车牌” or “plate”. Columns found: %(found)s")
            % {"found": ", ".join(found[:20]) + (" …" if len(found) > 20 else "") or "-"}
        )
    return columns


# --- cells ----------------------------------------------------------------------------------


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def read_text(value: Any) -> str:
    """Trimmed text, formula-escaping undone; a whole number typed into Excel as its digits."""
    if _blank(value):
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # e.g. a holder's staff number
    return unescape_formula(str(value).strip())


def read_plate(value: Any) -> str:
    """A plate, normalised; whether it is valid is the model's check, reported per row."""
    return plates.normalise(read_text(value))


def read_park(value: Any) -> str:
    """A park uuid; blank (or ``*``, ``全部车场``) means all parks."""
    text = read_text(value)
    return "" if text.casefold() in ALL_PARKS else text


def read_datetime(value: Any) -> datetime | None:
    """A time in China: ``2026-01-31 08:00``, ``2026/1/31 8:00``, a date (00:00) or a cell."""
    if _blank(value):
        return None
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        parsed = datetime.combine(value, time())
    else:
        parsed = _parse_datetime(str(value).strip())
    if timezone.is_naive(parsed):
        return timezone.make_aware(parsed, timezone.get_default_timezone())
    return parsed


def _parse_datetime(text: str) -> datetime:
    # ISO first: it is what exports write, and far faster than strptime over 100,000 rows.
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        pass
    for fmt in DATETIME_FORMATS:
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    raise ValueError(
        _("“%(value)s” is not a date and time such as 2026-01-31 08:00.") % {"value": text}
    )


def read_yes_no(value: Any) -> bool | None:
    """1/0, true/false, yes/no, 是/否, 启用/停用; blank (None) keeps the entry's state."""
    if _blank(value):
        return None
    if isinstance(value, bool):
        return value
    text = str(int(value) if isinstance(value, float) else value).strip().casefold()
    if text in TRUE_VALUES:
        return True
    if text in FALSE_VALUES:
        return False
    raise ValueError(_("“%(value)s” is not yes or no; write 1 or 0.") % {"value": value})


def read_id(value: Any) -> int | None:
    """An entry's id, as exported; blank (None) for none."""
    if _blank(value):
        return None
    try:
        number = float(value) if isinstance(value, float) else int(str(value).strip())
    except ValueError:
        raise ValueError(_("“%(value)s” is not an id.") % {"value": value}) from None
    if number != int(number) or number < 1:
        raise ValueError(_("“%(value)s” is not an id.") % {"value": value})
    return int(number)


_READERS = {
    "id": read_id,
    "plate": read_plate,
    "park_uuid": read_park,
    "valid_from": read_datetime,
    "valid_until": read_datetime,
    "is_active": read_yes_no,
    "holder": read_text,
    "note": read_text,
}
