"""Importing a spreadsheet of whitelist entries: a preview, then the import itself.

Both read the file with ``whitelist.spreadsheet``, a row at a time, and go through the upsert
the API's bulk endpoint uses: the preview asks ``upsert.plan_upsert`` what the rows would do
(and writes nothing), the import calls ``upsert.upsert_entries``, all or nothing.

The preview returns counts and the first rows worth showing, never every row: of a
100,000-row file it keeps each row's values only while the upsert plans them.
"""

from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.utils.translation import gettext as _

from parkingops.jobs.progress import NO_PROGRESS, Progress
from whitelist.services import upsert
from whitelist.spreadsheet import FileRefused, Row, iter_cells, iter_rows, read_row

INVALID = "invalid"
RESULTS = (upsert.CREATED, upsert.UPDATED, upsert.UNCHANGED, INVALID)
# A preview lists at most this many rows: enough to fix a file by, small enough to show.
MAX_SHOWN_ROWS = 1000


@dataclass(frozen=True)
class PreviewRow:
    """A row as the preview shows it: ``result`` (created, updated, unchanged or invalid),
    its ``row`` as read (invalid rows: the cells to show), the ``entry`` it would write (valid
    rows), its ``errors`` by column (invalid rows)."""

    number: int
    result: str
    row: Row | None = None
    entry: Any = None
    errors: dict[str, list[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Preview:
    """What importing a file would do: ``counts`` by result, and the first ``rows`` to show:
    the invalid ones when there are any (nothing is imported then), else those that add or
    change an entry; ``shown_total`` is how many such rows there are in all."""

    counts: dict[str, int]
    rows: list[PreviewRow]
    # Valid rows that disable or shorten their entry: the confirmation asks one reason for them.
    narrowing: int = 0

    def count(self, result: str) -> int:
        return self.counts[result]

    @property
    def valid(self) -> bool:
        return self.counts[INVALID] == 0

    @property
    def shown_total(self) -> int:
        if not self.valid:
            return self.counts[INVALID]
        return self.counts[upsert.CREATED] + self.counts[upsert.UPDATED]


def preview_import(
    *, data: bytes, name: str = "", limit: int | None = None, progress: Progress = NO_PROGRESS
) -> Preview:
    """Return what importing the file ``data`` would do: the counts, and the first ``limit``
    (``MAX_SHOWN_ROWS``) rows to show (``Preview``); write nothing. ``progress`` hears of the
    stages "Reading the file" and "Checking".

    Raise ``spreadsheet.FileRefused`` when the file cannot be read at all. A row whose cells
    cannot be read is invalid; it is still checked as far as its readable cells go, so one
    preview lists each of its problems.
    """
    limit = MAX_SHOWN_ROWS if limit is None else limit
    values, unreadable = _read(data, name, progress)
    plan = upsert.plan_upsert(rows=values, progress=progress, lock=False)
    del values
    plan_errors = {error.pop("row"): error for error in plan.errors}
    invalid = sorted(unreadable.keys() | plan_errors.keys())
    counts = dict.fromkeys(RESULTS, 0)
    counts[INVALID] = len(invalid)
    narrowing = 0
    changed = []
    for item in plan.rows:
        if item.number not in unreadable:
            counts[item.result] += 1
            narrowing += item.narrows
            if item.result != upsert.UNCHANGED and len(changed) < limit:
                changed.append(item)
    if invalid:
        del plan, changed  # the rows to show are read again from the file, below
        rows = _invalid_rows(data, name, invalid[:limit], plan_errors)
    else:
        rows = [
            PreviewRow(number=item.number, result=item.result, entry=item.entry) for item in changed
        ]
    return Preview(counts=counts, rows=rows, narrowing=narrowing)


def import_file(
    *,
    data: bytes,
    file_name: str,
    user: AbstractBaseUser | None = None,
    change_reason: str = "",
    dry_run: bool = False,
    progress: Progress = NO_PROGRESS,
) -> upsert.UpsertResult:
    """Import the file ``data``: every row or none; sync the plates after commit. With
    ``dry_run`` only check it. Rows that disable or shorten an entry need ``change_reason``
    (``reasons.ReasonRequired`` otherwise, nothing written).

    Raise ``spreadsheet.FileRefused`` for a file that cannot be read and
    ``upsert.UpsertRejected`` when any row is invalid (nothing is written). ``progress`` hears
    of the stages "Reading the file", "Checking" and "Writing" (``upsert.upsert_entries``).
    """
    values, unreadable = _read(data, file_name, progress)
    if unreadable:
        raise upsert.UpsertRejected(
            [{"row": number, **errors} for number, errors in sorted(unreadable.items())]
        )
    return upsert.upsert_entries(
        rows=values,
        user=user,
        reason=_("Imported from %(file)s") % {"file": file_name},
        change_reason=change_reason,
        dry_run=dry_run,
        progress=progress,
    )


def _read(
    data: bytes, name: str, progress: Progress
) -> tuple[dict[int, dict[str, Any]], dict[int, dict[str, list[str]]]]:
    """Return the values of each row of the file by number, and the errors of the rows with a
    cell that cannot be read; raise FileRefused for a file without rows."""
    values: dict[int, dict[str, Any]] = {}
    unreadable: dict[int, dict[str, list[str]]] = {}
    # How many rows there are is known only once they are read.
    progress.stage(_("Reading the file"))
    for row in progress.iterate(iter_rows(data, name=name), every=upsert.PROGRESS_EVERY):
        values[row.number] = row.values
        if row.errors:
            unreadable[row.number] = row.errors
    if not values:
        raise FileRefused(_("The file has a header row but no entries below it."))
    return values, unreadable


def _invalid_rows(
    data: bytes, name: str, numbers: list[int], plan_errors: dict[int, dict[str, list[str]]]
) -> list[PreviewRow]:
    """Return the rows ``numbers`` of the file with their errors: the cells' own, then the
    upsert's for the fields whose cells were readable."""
    wanted = set(numbers)
    rows = []
    for number, cells in iter_cells(data, name=name):
        if number in wanted:
            row = read_row(number, cells)
            errors = dict(row.errors)
            for column, messages in plan_errors.get(number, {}).items():
                errors.setdefault(column, messages)
            rows.append(PreviewRow(number=number, result=INVALID, row=row, errors=errors))
            if len(rows) == len(wanted):
                break
    return rows
