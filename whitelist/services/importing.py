"""Importing a spreadsheet of whitelist entries: a preview, then the import itself.

Both read the file with ``whitelist.spreadsheet`` and go through the upsert the API's bulk
endpoint uses: the preview asks ``upsert.plan_upsert`` what each row would do (and writes
nothing), the import calls ``upsert.upsert_entries``, all or nothing.
"""

from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils.translation import gettext as _

from whitelist.services import upsert
from whitelist.spreadsheet import Row, read_file


@dataclass(frozen=True)
class PreviewRow:
    """A row as the preview shows it: ``result`` (created, updated, unchanged or invalid),
    the ``entry`` it would write (valid rows), its ``errors`` by column (invalid rows)."""

    row: Row
    result: str
    entry: Any = None
    errors: dict[str, list[str]] = field(default_factory=dict)


INVALID = "invalid"


@dataclass(frozen=True)
class Preview:
    rows: list[PreviewRow]

    def count(self, result: str) -> int:
        return sum(1 for row in self.rows if row.result == result)

    @property
    def valid(self) -> bool:
        return self.count(INVALID) == 0


def preview_import(*, data: bytes) -> Preview:
    """Return what importing the file ``data`` would do, row by row; write nothing.

    Raise ``spreadsheet.FileRefused`` when the file cannot be read at all. A row whose cells
    cannot be read is invalid; it is still checked as far as its readable cells go, so one
    preview lists each of its problems.
    """
    rows = read_file(data)
    with transaction.atomic():
        plan = upsert.plan_upsert(rows={row.number: row.values for row in rows})
    planned = {item.number: item for item in plan.rows}
    plan_errors = {error["row"]: error for error in plan.errors}
    previewed = []
    for row in rows:
        errors = dict(row.errors)
        for name, messages in plan_errors.get(row.number, {}).items():
            if name != "row" and name not in errors:
                errors[name] = messages
        if errors:
            previewed.append(PreviewRow(row=row, result=INVALID, errors=errors))
        else:
            item = planned[row.number]
            previewed.append(PreviewRow(row=row, result=item.result, entry=item.entry))
    return Preview(rows=previewed)


def import_file(
    *, data: bytes, file_name: str, user: AbstractBaseUser | None = None
) -> upsert.UpsertResult:
    """Import the file ``data``: every row or none; sync the plates after commit.

    Raise ``spreadsheet.FileRefused`` for a file that cannot be read and
    ``upsert.UpsertRejected`` when any row is invalid (nothing is written).
    """
    rows = read_file(data)
    unreadable = [{"row": row.number, **row.errors} for row in rows if row.errors]
    if unreadable:
        raise upsert.UpsertRejected(unreadable)
    return upsert.upsert_entries(
        rows={row.number: row.values for row in rows},
        user=user,
        reason=_("Imported from %(file)s") % {"file": file_name},
    )
