"""Adding or updating many entries at once, by id or by their identity.

The API's ``whitelist/bulk/`` and the admin's file import both go through ``upsert_entries``;
the import's preview asks ``plan_upsert`` what the rows would do.
"""

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from simple_history.utils import bulk_create_with_history

from parkingops.iterables import chunked
from parkingops.jobs.progress import NO_PROGRESS, Progress
from whitelist import plates as plate_rules
from whitelist.models import IDENTITY, IDENTITY_TAKEN, WhitelistEntry
from whitelist.services.entries import save_with_history
from whitelist.services.reasons import REASON_MAX_LENGTH, clean_reason, needs_reason
from whitelist.services.sync import request_sync

MAX_UPSERT_ROWS = 1000
# Progress is reported once per this many rows: per row, its own cost would show.
PROGRESS_EVERY = 500
UPSERT_FIELDS = ("plate", "park_uuid", "valid_from", "valid_until", "is_active", "holder", "note")
# A row without an id names the entry with the same plate (normalised), park and start: the
# model's IDENTITY, which its unique constraint holds in the database.
CREATED, UPDATED, UNCHANGED = "created", "updated", "unchanged"


def identity(entry: WhitelistEntry) -> tuple:
    """Return the ``IDENTITY`` of ``entry``: what a row without an id is matched on."""
    return tuple(getattr(entry, name) for name in IDENTITY)


@dataclass(frozen=True)
class UpsertedRow:
    """What one row did: ``result`` is created, updated or unchanged."""

    number: int
    entry: WhitelistEntry
    result: str
    # The row disables or shortens its entry: the upsert needs a reason (``reasons``).
    narrows: bool = False


@dataclass(frozen=True)
class UpsertResult:
    rows: list[UpsertedRow]

    def count(self, result: str) -> int:
        return sum(1 for row in self.rows if row.result == result)

    @property
    def narrowing(self) -> int:
        """How many rows disable or shorten their entry (and so need a reason)."""
        return sum(1 for row in self.rows if row.narrows)


@dataclass
class UpsertPlan:
    """What the rows would do: the valid ``rows`` and, per invalid row, its ``errors``
    (``{"row": number, field: [messages], ...}``, ``__all__`` for the row as a whole)."""

    rows: list[UpsertedRow] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)

    @property
    def narrowing(self) -> int:
        """How many rows disable or shorten their entry (and so need a reason)."""
        return sum(1 for row in self.rows if row.narrows)

    # Plates that rows change away from: the platform must hear of them too.
    previous_plates: set[str] = field(default_factory=set)


# The advisory lock key of whitelist upserts ("WLUP" as an integer): any constant unique to them.
UPSERT_LOCK = int.from_bytes(b"WLUP", "big")


class UpsertRejected(Exception):
    """Some rows are not valid; nothing was written. ``errors``: one dict per row,
    ``{"row": number, field: [messages], ...}`` (``__all__`` for the row as a whole)."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        self.errors = errors
        super().__init__(f"{len(errors)} row(s) refused")


def plan_upsert(
    *,
    rows: Mapping[int, Mapping[str, Any]],
    progress: Progress = NO_PROGRESS,
    lock: bool = True,
) -> UpsertPlan:
    """Return what ``upsert_entries`` would do with ``rows``, writing nothing.

    With ``lock`` (the write's own plan), call inside a transaction: the entries the rows name
    are read locked (in pk order, a fixed order avoiding deadlocks, as the bulk actions do), so
    they cannot change before the write. Without (an import's preview, which the confirmation
    plans again), call outside one: nothing is locked, and on SQLite no transaction holds the
    database's write lock through the whole check, so the job's progress can be written.
    ``progress`` hears of the stage "Checking", a batch of rows at a time.
    """
    entries = WhitelistEntry.objects.select_for_update() if lock else WhitelistEntry.objects.all()
    ids = sorted({row["id"] for row in rows.values() if row.get("id") is not None})
    by_id = {entry.pk: entry for entry in entries.filter(pk__in=ids).order_by("pk")}
    by_identity = _entries_by_identity(rows, by_id, entries)
    plan = UpsertPlan()
    # Each entry, and each identity an entry ends up with, may be written by one row only.
    claimed: dict[Any, int] = {}
    progress.stage(_("Checking"), len(rows))
    for number in progress.iterate(sorted(rows), every=PROGRESS_EVERY):
        try:
            entry, result, previous, narrows = _plan_row(rows[number], by_id, by_identity)
            keys = {identity(entry)} | ({entry.pk} if entry.pk else set())
            for key in keys & claimed.keys():
                raise ValidationError(
                    _("This row names the same entry as row %(row)d.") % {"row": claimed[key]}
                )
            claimed.update(dict.fromkeys(keys, number))
        except ValidationError as error:
            plan.errors.append(_row_errors(number, error))
            continue
        plan.rows.append(UpsertedRow(number=number, entry=entry, result=result, narrows=narrows))
        if previous:
            plan.previous_plates.add(previous)
    _refuse_taken_identities(plan, by_identity)
    return plan


def _row_errors(number: int, error: ValidationError) -> dict[str, Any]:
    messages = error.update_error_dict({})
    return {
        "row": number,
        **{name: ValidationError(items).messages for name, items in messages.items()},
    }


def _refuse_taken_identities(plan: UpsertPlan, by_identity: dict[tuple, WhitelistEntry]) -> None:
    """Move to ``plan.errors`` the rows that give an entry the identity of an entry they leave
    alone (a row with an id changing its plate, park or start onto another entry's)."""
    planned = {row.entry.pk for row in plan.rows if row.entry.pk}
    kept = []
    for row in plan.rows:
        holder = by_identity.get(identity(row.entry))
        if holder is not None and holder.pk != row.entry.pk and holder.pk not in planned:
            plan.errors.append(_row_errors(row.number, ValidationError(IDENTITY_TAKEN)))
        else:
            kept.append(row)
    plan.rows = kept
    plan.errors.sort(key=lambda error: error["row"])


def upsert_entries(
    *,
    rows: Mapping[int, Mapping[str, Any]],
    user: AbstractBaseUser | None = None,
    reason: str = "",
    change_reason: str = "",
    dry_run: bool = False,
    progress: Progress = NO_PROGRESS,
) -> UpsertResult:
    """Add or update many entries at once, all or nothing; sync their plates after commit.

    ``rows`` maps a row number (the caller's, e.g. the position from 1) to the fields given:
    those of ``UPSERT_FIELDS`` and optionally ``id``. A row updates the entry with that ``id``,
    else the entry with the same ``IDENTITY`` (plate normalised), else adds one (which needs a
    plate and ``valid_from``). Fields left out keep the entry's value (a new entry's default).
    Each entry is checked as the admin checks it (``clean_fields``). A row equal to its entry
    is left alone (``unchanged``).

    Raise UpsertRejected, writing nothing, when any row is invalid, names an unknown id, names
    the same entry as an earlier row or gives an entry another entry's identity. With
    ``dry_run`` only check. History records each change with ``user`` and ``reason``.
    Rows that disable or shorten their entry (``reasons.needs_reason``) need the person's
    ``change_reason``, which their history records instead: without one, raise
    ``reasons.ReasonRequired`` once the rows are otherwise valid, writing nothing.
    ``progress`` hears of the stages "Checking" and "Writing"; when it raises (a job cancelled,
    ``JobCancelled``) the transaction rolls back and nothing is written.
    Simultaneous upserts of the same rows leave one entry per identity: the later ones find it
    and report it updated or unchanged.
    """
    for retry in (False, True):
        try:
            with transaction.atomic():
                if not dry_run:
                    _one_upsert_at_a_time()
                plan = plan_upsert(rows=rows, progress=progress)
                if plan.errors:
                    raise UpsertRejected(plan.errors)
                given = clean_reason(change_reason, required=bool(plan.narrowing))
                if not dry_run:
                    _write(
                        plan,
                        user=user,
                        reason=reason[:REASON_MAX_LENGTH],
                        change_reason=given,
                        progress=progress,
                    )
            return UpsertResult(rows=plan.rows)
        except IntegrityError:
            # The race left between an upsert and a single save (the admin's form, the API's
            # POST), which take no upsert lock: both planned to add the same entry. The unique
            # IDENTITY let the first in and refused this upsert, whose transaction rolled back
            # whole; planned again, it finds that entry and updates it or leaves it unchanged.
            if retry:
                # Planned again after the other had committed, only the rows themselves can
                # clash: entries trading identities.
                moved = [row.number for row in plan.rows if row.result == UPDATED]
                if not moved:
                    raise
                swapped = ValidationError(
                    _(
                        "Nothing was written: these rows give entries each other's plate, park "
                        "and “valid from”. Change them in two steps."
                    )
                )
                raise UpsertRejected([_row_errors(number, swapped) for number in moved]) from None
    raise AssertionError("unreachable")


def _one_upsert_at_a_time() -> None:
    """Make simultaneous upserts take turns until this transaction ends.

    The race of simultaneous upserts (the same file posted five times at once, two
    confirmations of one import, overlapping files): no row can be locked before it exists, so
    each would plan to add the same entries. On PostgreSQL a transaction-level advisory lock
    lets one plan and write at a time; the next plans after it committed and finds its entries.
    It is taken before any row lock and by upserts only, so it never closes a cycle with the row
    locks of a single save (a table lock taken later did: a deadlock). SQLite needs nothing,
    its writers already take turns (``transaction_mode=IMMEDIATE``).
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [UPSERT_LOCK])


def _write(
    plan: UpsertPlan,
    *,
    user: AbstractBaseUser | None,
    reason: str,
    change_reason: str,
    progress: Progress,
) -> None:
    """Write the planned changes with their history, a batch at a time; sync the plates after
    commit. The rows that disable or shorten their entry are recorded with ``change_reason``,
    the others with ``reason``."""
    # Inserted in identity order, whoever sends them: two upserts adding the same entries
    # then wait for each other in the same order, never in a cycle (a deadlock).
    new = sorted((row.entry for row in plan.rows if row.result == CREATED), key=identity)
    changed = [row.entry for row in plan.rows if row.result == UPDATED and not row.narrows]
    narrowed = [row.entry for row in plan.rows if row.narrows]
    progress.stage(_("Writing"), len(new) + len(changed) + len(narrowed))
    for batch in chunked(new, PROGRESS_EVERY):
        bulk_create_with_history(
            batch, WhitelistEntry, batch_size=500, default_user=user, default_change_reason=reason
        )
        progress.advance(len(batch))
    save_with_history(changed, fields=UPSERT_FIELDS, user=user, reason=reason, progress=progress)
    save_with_history(
        narrowed,
        fields=UPSERT_FIELDS,
        user=user,
        reason=change_reason or reason,
        progress=progress,
    )
    request_sync(plates={entry.plate for entry in new + changed + narrowed} | plan.previous_plates)


def _entries_by_identity(
    rows: Mapping[int, Mapping[str, Any]],
    by_id: Mapping[int, WhitelistEntry],
    entries: QuerySet,
) -> dict[tuple, WhitelistEntry]:
    """Return, read from ``entries`` (locked, for a write) and by ``identity``, the entries
    whose identity a row may name or take:
    every entry of the plate of a row without an id, or of a row that may move its entry.

    Read by plate a chunk at a time, so a large import costs a few queries, not one a row (and
    an exported file imported back, its ids and identities unchanged, reads none).
    """
    wanted = set()
    for row in rows.values():
        entry = by_id.get(row.get("id"))
        plate = plate_rules.normalise(str(row.get("plate") or ""))
        if row.get("id") is None:
            wanted.add(plate)
        elif entry is not None and _may_move(row, entry, plate):
            wanted.add(plate or entry.plate)
    wanted.discard("")
    found: dict[tuple, WhitelistEntry] = {}
    for chunk in chunked(sorted(wanted)):
        for entry in entries.filter(plate__in=chunk).order_by("pk"):
            found[identity(entry)] = entry
    return found


def _may_move(row: Mapping[str, Any], entry: WhitelistEntry, plate: str) -> bool:
    """Return whether ``row`` may give ``entry`` another ``IDENTITY`` (``plate``: normalised)."""
    return (
        bool(plate and plate != entry.plate)
        or ("park_uuid" in row and (row["park_uuid"] or "").strip() != entry.park_uuid)
        or (row.get("valid_from") is not None and row["valid_from"] != entry.valid_from)
    )


def _plan_row(
    row: Mapping[str, Any],
    by_id: dict[int, WhitelistEntry],
    by_identity: dict[tuple, WhitelistEntry],
) -> tuple[WhitelistEntry, str, str | None, bool]:
    """Return the row's entry with the row applied, what saving it does, its former plate
    when the row changes it, and whether the change needs a reason (``reasons.needs_reason``);
    raise ValidationError (a dict) when the row cannot be applied."""
    data = {name: row[name] for name in UPSERT_FIELDS if name in row}
    if "park_uuid" in data:
        data["park_uuid"] = (data["park_uuid"] or "").strip()
    if row.get("id") is not None:
        entry = by_id.get(row["id"])
        if entry is None:
            raise ValidationError(
                {"id": _("No whitelist entry has the id %(id)s.") % {"id": row["id"]}}
            )
    else:
        entry = _entry_by_identity(data, by_identity)
    before = None if entry.pk is None else {name: getattr(entry, name) for name in UPSERT_FIELDS}
    old = None if entry.pk is None else copy.copy(entry)
    for name, value in data.items():
        setattr(entry, name, value)
    entry.full_clean(validate_unique=False, validate_constraints=False)
    if before is None:
        return entry, CREATED, None, False
    if all(getattr(entry, name) == value for name, value in before.items()):
        return entry, UNCHANGED, None, False
    previous = before["plate"] if before["plate"] != entry.plate else None
    return entry, UPDATED, previous, needs_reason(old, entry)


def _entry_by_identity(
    data: Mapping[str, Any], by_identity: dict[tuple, WhitelistEntry]
) -> WhitelistEntry:
    """Return the entry with the row's ``IDENTITY`` (read by ``_entries_by_identity``), or a
    new one."""
    errors: dict[str, list[str]] = {}
    plate = None
    try:
        plate = plate_rules.validate(data.get("plate") or "")
    except ValidationError as error:
        errors["plate"] = error.messages
    if data.get("valid_from") is None:
        errors["valid_from"] = [
            _(
                "Enter “valid from” (or the entry's id): with the plate and park it identifies "
                "the entry."
            )
        ]
    if errors:
        raise ValidationError(errors)
    found = by_identity.get((plate, data.get("park_uuid", ""), data["valid_from"]))
    return found or WhitelistEntry()
