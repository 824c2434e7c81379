"""An import's preview as it is shown: its totals and its rows, a page at a time.

The state (``ShownPreview.state``) is plain data, kept on the server (``parkingops.uploads``)
between the requests that page through it, whether the preview was made in the request
(``admin_import``) or by a job (``jobs``): another page is shown without reading and checking
the file again.
"""

import json
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS
from django.utils import timezone
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from parkingops.uploads import keep_upload, read_upload
from whitelist.services import importing, upsert
from whitelist.spreadsheet import IMPORT_COLUMNS, column_label

NOT_PENDING = gettext_lazy(
    "This import is no longer waiting for confirmation: upload the file again."
)
# The rows were valid when previewed, but the entries changed before the confirmation (an entry
# deleted, another one added).
NO_LONGER_VALID = gettext_lazy(
    "Nothing was imported: some rows are no longer valid. Upload the file again to see which."
)
PAGE_SIZE = 50
# A shown cell is cut to this many characters: the preview is a page to read, not the file.
SHOWN_CELL_CHARS = 60


@dataclass(frozen=True)
class ShownRow:
    """A previewed row for the template: its number, what it does, its cells, its errors."""

    number: int
    import_type: str  # new, update, skip or invalid (the CSS classes of the rows)
    values: list[str]
    error_dict: dict[str, list[str]]

    @property
    def field_specific_errors(self) -> dict[str, list[str]]:
        return {name: items for name, items in self.error_dict.items() if name != NON_FIELD_ERRORS}

    @property
    def non_field_specific_errors(self) -> list[str]:
        return self.error_dict.get(NON_FIELD_ERRORS, [])


IMPORT_TYPES = {upsert.CREATED: "new", upsert.UPDATED: "update", upsert.UNCHANGED: "skip"}


class ShownPreview:
    """The preview as the template shows it: the totals, then its rows a page at a time (the
    invalid ones while there are any, else those that add or change an entry).

    ``state`` is plain data (``of`` makes it from a ``Preview``): it is kept as JSON beside
    the file (``keep``, ``kept``), so another page is shown without reading and checking the
    file again.
    """

    def __init__(self, state: dict[str, Any], page: int = 1) -> None:
        self.state = state
        self.totals, self.valid = state["totals"], state["valid"]
        # Rows that disable or shorten an entry: the confirmation asks one reason for them.
        self.narrowing = state.get("narrowing", 0)
        self.listed, self.shown_total = len(state["rows"]), state["shown_total"]
        self.pages = max(1, -(-self.listed // PAGE_SIZE))
        self.page = min(max(page, 1), self.pages)
        self.previous_page = self.page - 1 if self.page > 1 else None
        self.next_page = self.page + 1 if self.page < self.pages else None
        start = (self.page - 1) * PAGE_SIZE
        self.rows = [ShownRow(**row) for row in state["rows"][start : start + PAGE_SIZE]]

    @classmethod
    def of(cls, preview: importing.Preview) -> "ShownPreview":
        return cls(
            {
                "totals": {
                    IMPORT_TYPES.get(kind, kind): preview.count(kind) for kind in importing.RESULTS
                },
                "valid": preview.valid,
                "narrowing": preview.narrowing,
                "shown_total": preview.shown_total,
                "rows": [asdict(_shown(row)) for row in preview.rows],
            }
        )

    def keep(self) -> str:
        """Store the state on the server; return the key ``kept`` reads it back with."""
        return keep_upload(json.dumps(self.state).encode())

    @classmethod
    def kept(cls, key: str | None, page: int = 1) -> "ShownPreview | None":
        """Return the preview stored under ``key`` at ``page``, or None when it is gone."""
        state = read_upload(key) if key else None
        return None if state is None else cls(json.loads(state), page)


def imported_message(file_name: str, counts: dict[str, int]) -> str:
    """What an import did, in a sentence: ``counts`` by upsert result (``import_counts``)."""
    return _("Imported %(file)s: %(new)d new, %(updated)d updated, %(unchanged)d unchanged.") % {
        "file": file_name,
        "new": counts[upsert.CREATED],
        "updated": counts[upsert.UPDATED],
        "unchanged": counts[upsert.UNCHANGED],
    }


def import_counts(result: upsert.UpsertResult) -> dict[str, int]:
    return {kind: result.count(kind) for kind in (upsert.CREATED, upsert.UPDATED, upsert.UNCHANGED)}


def _shown(previewed: importing.PreviewRow) -> ShownRow:
    if previewed.result == importing.INVALID:
        cells = previewed.row.cells
        return ShownRow(
            number=previewed.number,
            import_type="invalid",
            values=[_cell(cells.get(column)) for column in IMPORT_COLUMNS],
            error_dict={
                (name if name == NON_FIELD_ERRORS else column_label(name)): messages
                for name, messages in previewed.errors.items()
            },
        )
    entry = previewed.entry
    values = {
        "id": entry.pk,
        "plate": entry.plate,
        "park_uuid": entry.park_uuid or _("All parks"),
        "valid_from": entry.valid_from,
        "valid_until": entry.valid_until or _("No end"),
        "is_active": _("Yes") if entry.is_active else _("No"),
        "holder": entry.holder,
        "note": entry.note,
    }
    return ShownRow(
        number=previewed.number,
        import_type=IMPORT_TYPES[previewed.result],
        values=[_cell(values[column]) for column in IMPORT_COLUMNS],
        error_dict={},
    )


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        return value.strftime("%Y-%m-%d %H:%M")
    return Truncator(str(value)).chars(SHOWN_CELL_CHARS)
