"""The whitelist's export files: CSV (``whitelist_csv``) and its XLSX twin (``whitelist_xlsx``),
in the columns of ``spreadsheet``, described once (``WHITELIST_COLUMNS``) for both writers.

The headers are the import's own (``spreadsheet.COLUMNS``: the Chinese name for Chinese users,
the column name otherwise), so an exported file imports back unchanged; importing reads the
file itself (``whitelist.spreadsheet``) and writes through the upsert service.
"""

from collections.abc import Iterator
from typing import IO, Any

from django.db.models import QuerySet
from django.utils import timezone, translation
from django.utils.functional import lazy
from django.utils.translation import gettext

from parkingops import tabular, xlsx
from parkingops.db_routers import on_replica
from parkingops.jobs.progress import NO_PROGRESS, Progress
from parkingops.tabular import Column, Kind, fixed
from whitelist import selectors
from whitelist.models import PlateSync, Status, WhitelistEntry
from whitelist.spreadsheet import COLUMNS, IMPORT_COLUMNS


def _header(column: str) -> str:
    # A file format, not a translation: fixed names, Chinese for Chinese users.
    chinese = (translation.get_language() or "").startswith("zh")
    return COLUMNS[column][0] if chinese else column


_label = lazy(_header, str)

_KINDS = {
    "id": Kind.NUMBER,
    "valid_from": Kind.TIME,
    "valid_until": Kind.TIME,
    "is_active": Kind.NUMBER,  # 1 or 0
}
WHITELIST_COLUMNS: tuple[Column, ...] = tuple(
    Column(_label(column), _KINDS.get(column, Kind.TEXT), column) for column in COLUMNS
)
# The file for machines (the API's CSV without ``?lang=zh``): the JSON's field names, ISO-8601
# times, the status and sync state as codes, a blank park for the entries of all parks.
WHITELIST_MACHINE_COLUMNS: tuple[Column, ...] = (
    fixed("id", Kind.NUMBER),
    fixed("plate", Kind.TEXT),
    fixed("park_uuid", Kind.TEXT),
    fixed("park_name", Kind.TEXT),
    fixed("valid_from", Kind.INSTANT),
    fixed("valid_until", Kind.INSTANT),
    fixed("is_active", Kind.NUMBER),  # 1 or 0
    fixed("holder", Kind.TEXT),
    fixed("note", Kind.TEXT),
    fixed("status", Kind.TEXT),
    fixed("sync_state", Kind.TEXT),
    fixed("created_at", Kind.INSTANT),
    fixed("updated_at", Kind.INSTANT),
)


def whitelist_csv(
    entries: QuerySet[WhitelistEntry], *, progress: Progress = NO_PROGRESS
) -> Iterator[str]:
    """Return the whitelist CSV of ``entries`` (in their order) as text pieces."""
    return tabular.csv_text(WHITELIST_COLUMNS, _entry_rows(entries, **_words()), progress=progress)


def whitelist_machine_csv(entries: QuerySet[WhitelistEntry]) -> Iterator[str]:
    """Return the whitelist file for machines (``WHITELIST_MACHINE_COLUMNS``) as text pieces;
    ``entries`` carry their sync state (``selectors.with_sync_state``)."""
    codes = {value: value for value in Status.values}
    rows = _entry_rows(entries, all_parks="", statuses=codes)
    return tabular.csv_text(WHITELIST_MACHINE_COLUMNS, rows)


@on_replica
def whitelist_xlsx(
    entries: QuerySet[WhitelistEntry], *, about: xlsx.About, progress: Progress = NO_PROGRESS
) -> IO[bytes]:
    """Return the XLSX twin of the whitelist CSV of ``entries`` (see ``xlsx.workbook``)."""
    rows = _entry_rows(entries, **_words())
    table = xlsx.queryset_table(entries, WHITELIST_COLUMNS, rows)
    return xlsx.workbook([table], about, progress=progress)


def whitelist_filename(extension: str = "csv") -> str:
    return f"whitelist-{timezone.localdate():%Y-%m-%d}.{extension}"


def _words() -> dict[str, Any]:
    """Translate the rows' words now, in the caller's language, not while streaming."""
    return {
        "all_parks": gettext("All parks"),
        "statuses": {value: str(label) for value, label in Status.choices},
    }


@on_replica
def _entry_rows(
    entries: QuerySet[WhitelistEntry], *, all_parks: str, statuses: dict[str, str]
) -> Iterator[dict[str, Any]]:
    uuids = entries.order_by().values_list("park_uuid", flat=True).distinct()
    names = selectors.park_names(park_uuids=uuids)
    now = timezone.now()
    for entry in entries.iterator(chunk_size=tabular.CHUNK_ROWS):
        if entry.park_uuid:
            park_name = getattr(entry, "park_name", None) or names.get(entry.park_uuid, "")
        else:
            park_name = all_parks
        yield {
            "id": entry.pk,
            "plate": entry.plate,
            "park_uuid": entry.park_uuid,
            "park_name": park_name,
            "valid_from": entry.valid_from,
            "valid_until": entry.valid_until,
            "is_active": int(entry.is_active),
            "status": statuses[entry.status_at(now)],
            "holder": entry.holder,
            "note": entry.note,
            "sync_state": getattr(entry, "sync_state", PlateSync.State.PENDING.value),
            "created_at": entry.created_at,
            "updated_at": entry.updated_at,
        }


def import_template_xlsx(*, about: xlsx.About) -> IO[bytes]:
    """Return the import's template: the columns an import reads, headed by their Chinese
    names (accepted whatever the user's language), and one example row that imports as it is:
    a plate for all parks, valid from today with no end, enabled."""
    columns = [column for column in WHITELIST_COLUMNS if column.source in IMPORT_COLUMNS]
    today = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    example = {
        "id": None,  # blank: a new entry
        "plate": "川A660P1",
        "park_uuid": "全部车场",
        "valid_from": today,
        "valid_until": None,  # blank: no end
        "is_active": "是",
        "holder": "张三",
        "note": gettext("Example row: replace it with your own"),
    }
    table = xlsx.Table(
        gettext("Whitelist import template"),
        columns,
        [example],
        1,
        names=[COLUMNS[column.source][0] for column in columns],
    )
    return xlsx.workbook([table], about)
