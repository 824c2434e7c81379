"""Writes to the whitelist, and keeping the platform's copy of it in step.

Used by the admin (and later the API). Bulk changes go through ``bulk_update_with_history``
so django-simple-history records who changed which entry, and ``updated_at`` is set by hand
because ``bulk_update`` skips ``auto_now``.

Every write marks the plates it touches pending (``PlateSync``) inside its transaction and, once
the transaction has committed, tries the platform once, briefly (``request_sync``). A platform
failure never undoes the change: the plate stays pending or failed, and
``python manage.py sync_whitelist`` (cron) sends it again (``sync_due``).
"""

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from parkingops.pcloud.client import (
    PlatformAuthError,
    PlatformClient,
    PlatformError,
    PlatformForbidden,
    PlatformUnavailable,
)
from whitelist import plates as plate_rules
from whitelist import selectors
from whitelist.models import PlateSync, WhitelistEntry

logger = logging.getLogger(__name__)

# The longest extension accepted in one go: ten years, against typos such as 3650 for 365.
MAX_EXTENSION_DAYS = 3660


@dataclass(frozen=True)
class BulkResult:
    """What a bulk change did: ``changed`` entries written, ``unchanged`` left as they were."""

    changed: int
    unchanged: int


def _locked(entries: QuerySet[WhitelistEntry]) -> list[WhitelistEntry]:
    """Re-read ``entries`` locked for update, in pk order (a fixed order avoids deadlocks).

    The lock makes two staff members' simultaneous "extend by 30 days" add 60 days rather than
    one overwriting the other (SQLite serialises writers anyway). The re-read also drops any
    annotations the caller's queryset carries, which FOR UPDATE may not accept.
    """
    return list(
        WhitelistEntry.objects.select_for_update()
        .filter(pk__in=entries.values("pk"))
        .order_by("pk")
    )


def _save(
    entries: list[WhitelistEntry],
    *,
    fields: list[str],
    user: AbstractBaseUser | None,
    reason: str,
) -> None:
    """Write ``fields`` of ``entries`` with one history record each."""
    if not entries:
        return
    now = timezone.now()
    for entry in entries:
        entry.updated_at = now
    bulk_update_with_history(
        entries,
        WhitelistEntry,
        fields=[*fields, "updated_at"],
        batch_size=500,
        default_user=user,
        default_change_reason=reason[:100],
    )
    request_sync(plates={entry.plate for entry in entries})


def set_entries_active(
    *, entries: QuerySet[WhitelistEntry], active: bool, user: AbstractBaseUser | None = None
) -> BulkResult:
    """Enable (``active=True``) or disable the ``entries``; those already so are left alone."""
    with transaction.atomic():
        locked = _locked(entries)
        changing = [entry for entry in locked if entry.is_active != active]
        for entry in changing:
            entry.is_active = active
        reason = _("Bulk enable") if active else _("Bulk disable")
        _save(changing, fields=["is_active"], user=user, reason=reason)
    return BulkResult(changed=len(changing), unchanged=len(locked) - len(changing))


def set_valid_until(
    *,
    entries: QuerySet[WhitelistEntry],
    valid_until: datetime | None,
    user: AbstractBaseUser | None = None,
) -> BulkResult:
    """Set the end of the ``entries``' windows to ``valid_until`` (None: no end).

    All or nothing: when ``valid_until`` is not later than some entry's ``valid_from``, raise
    ValidationError naming those entries and change none.
    """
    with transaction.atomic():
        locked = _locked(entries)
        if valid_until is not None:
            too_early = [entry for entry in locked if valid_until <= entry.valid_from]
            if too_early:
                raise ValidationError(
                    ngettext(
                        "Nothing was changed: the new end is not later than the start of %(count)d "
                        "entry (%(plates)s).",
                        "Nothing was changed: the new end is not later than the start of %(count)d "
                        "entries (%(plates)s).",
                        len(too_early),
                    ),
                    code="empty_window",
                    params={"count": len(too_early), "plates": _describe(too_early)},
                )
        changing = [entry for entry in locked if entry.valid_until != valid_until]
        for entry in changing:
            entry.valid_until = valid_until
        _save(changing, fields=["valid_until"], user=user, reason=_("Bulk set valid until"))
    return BulkResult(changed=len(changing), unchanged=len(locked) - len(changing))


def extend_valid_until(
    *, entries: QuerySet[WhitelistEntry], days: int, user: AbstractBaseUser | None = None
) -> BulkResult:
    """Move the end of the ``entries``' windows ``days`` days later.

    The days are added to each entry's current end, so an entry that expired long ago may stay
    expired (set the end instead). Entries without an end are valid indefinitely already and
    are left alone (counted as unchanged).
    """
    if not 1 <= days <= MAX_EXTENSION_DAYS:
        raise ValidationError(
            _("Extend by 1 to %(max)d days."), code="days", params={"max": MAX_EXTENSION_DAYS}
        )
    with transaction.atomic():
        locked = _locked(entries)
        changing = [entry for entry in locked if entry.valid_until is not None]
        for entry in changing:
            entry.valid_until += timedelta(days=days)
        reason = _("Bulk extend by %(days)d days") % {"days": days}
        _save(changing, fields=["valid_until"], user=user, reason=reason)
    return BulkResult(changed=len(changing), unchanged=len(locked) - len(changing))


def _describe(entries: list[WhitelistEntry], limit: int = 5) -> str:
    """Return the first few entries' plates for a message, with a count of the rest."""
    shown = ", ".join(entry.plate for entry in entries[:limit])
    if len(entries) > limit:
        shown += " " + _("and %(count)d more") % {"count": len(entries) - limit}
    return shown


# --- single writes -----------------------------------------------------------------------------


def save_entry(*, entry: WhitelistEntry, user: AbstractBaseUser | None = None) -> None:
    """Save an added or changed entry and sync its plate (and its former plate, if changed)."""
    with transaction.atomic():
        previous = None
        if entry.pk is not None:
            previous = (
                WhitelistEntry.objects.filter(pk=entry.pk).values_list("plate", flat=True).first()
            )
        if user is not None:
            entry._history_user = user  # read by django-simple-history
        entry.save()
        request_sync(plates={entry.plate, previous})


def delete_entries(*, entries: QuerySet[WhitelistEntry]) -> int:
    """Delete the ``entries`` (history records each) and sync their plates; return how many."""
    with transaction.atomic():
        locked = _locked(entries)
        WhitelistEntry.objects.filter(pk__in=[entry.pk for entry in locked]).delete()
        request_sync(plates={entry.plate for entry in locked})
    return len(locked)


# --- bulk upsert (the API's whitelist/bulk/) ------------------------------------------------------

MAX_UPSERT_ROWS = 1000
UPSERT_FIELDS = ("plate", "park_uuid", "valid_from", "valid_until", "is_active", "holder", "note")
CREATED, UPDATED, UNCHANGED = "created", "updated", "unchanged"


@dataclass(frozen=True)
class UpsertedRow:
    """What one row did: ``result`` is created, updated or unchanged."""

    number: int
    entry: WhitelistEntry
    result: str


@dataclass(frozen=True)
class UpsertResult:
    rows: list[UpsertedRow]

    def count(self, result: str) -> int:
        return sum(1 for row in self.rows if row.result == result)


class UpsertRejected(Exception):
    """Some rows are not valid; nothing was written. ``errors``: one dict per row,
    ``{"row": number, field: [messages], ...}`` (``__all__`` for the row as a whole)."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        self.errors = errors
        super().__init__(f"{len(errors)} row(s) refused")


def upsert_entries(
    *,
    rows: Mapping[int, Mapping[str, Any]],
    user: AbstractBaseUser | None = None,
    reason: str = "",
    dry_run: bool = False,
) -> UpsertResult:
    """Add or update many entries at once, all or nothing; sync their plates after commit.

    ``rows`` maps a row number (the caller's, e.g. the position from 1) to the fields given:
    those of ``UPSERT_FIELDS`` and optionally ``id``. As the import does, a row updates the
    entry with that ``id``, else the entry with the same plate (normalised), park and
    ``valid_from``, else adds one (which needs a plate and ``valid_from``). Fields left out keep
    the entry's value (a new entry's default). Each entry is checked as the admin checks it
    (``clean_fields``). A row equal to its entry is left alone (``unchanged``).

    Raise UpsertRejected, writing nothing, when any row is invalid, names an unknown id, is
    ambiguous, or names the same entry as an earlier row. With ``dry_run`` only check.
    History records each change with ``user`` and ``reason``.
    """
    with transaction.atomic():
        ids = sorted({row["id"] for row in rows.values() if row.get("id") is not None})
        # Locked in pk order (a fixed order avoids deadlocks), as the bulk actions do.
        by_id = {
            entry.pk: entry
            for entry in WhitelistEntry.objects.select_for_update()
            .filter(pk__in=ids)
            .order_by("pk")
        }
        planned: list[UpsertedRow] = []
        previous_plates: set[str] = set()
        errors: list[dict[str, Any]] = []
        claimed: dict[Any, int] = {}
        for number in sorted(rows):
            try:
                entry, result, previous = _plan_row(rows[number], by_id)
                identity = entry.pk or (entry.plate, entry.park_uuid, entry.valid_from)
                if identity in claimed:
                    raise ValidationError(
                        _("This row names the same entry as row %(row)d.")
                        % {"row": claimed[identity]}
                    )
                claimed[identity] = number
            except ValidationError as error:
                messages = error.update_error_dict({})
                errors.append(
                    {
                        "row": number,
                        **{
                            name: ValidationError(items).messages
                            for name, items in messages.items()
                        },
                    }
                )
                continue
            planned.append(UpsertedRow(number=number, entry=entry, result=result))
            if previous:
                previous_plates.add(previous)
        if errors:
            raise UpsertRejected(errors)
        if dry_run:
            return UpsertResult(rows=planned)
        reason = reason[:100]
        new = [row.entry for row in planned if row.result == CREATED]
        changed = [row.entry for row in planned if row.result == UPDATED]
        if new:
            bulk_create_with_history(
                new, WhitelistEntry, batch_size=500, default_user=user, default_change_reason=reason
            )
        if changed:
            now = timezone.now()
            for entry in changed:
                entry.updated_at = now
            bulk_update_with_history(
                changed,
                WhitelistEntry,
                fields=[*UPSERT_FIELDS, "updated_at"],
                batch_size=500,
                default_user=user,
                default_change_reason=reason,
            )
        request_sync(plates={entry.plate for entry in new + changed} | previous_plates)
    return UpsertResult(rows=planned)


def _plan_row(
    row: Mapping[str, Any], by_id: dict[int, WhitelistEntry]
) -> tuple[WhitelistEntry, str, str | None]:
    """Return the row's entry with the row applied, what saving it does, and its former plate
    when the row changes it; raise ValidationError (a dict) when the row cannot be applied."""
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
        entry = _entry_by_identity(data)
    before = None if entry.pk is None else {name: getattr(entry, name) for name in UPSERT_FIELDS}
    for name, value in data.items():
        setattr(entry, name, value)
    entry.full_clean(validate_unique=False, validate_constraints=False)
    if before is None:
        return entry, CREATED, None
    if all(getattr(entry, name) == value for name, value in before.items()):
        return entry, UNCHANGED, None
    return entry, UPDATED, before["plate"] if before["plate"] != entry.plate else None


def _entry_by_identity(data: Mapping[str, Any]) -> WhitelistEntry:
    """Return the entry with the row's plate, park and ``valid_from`` (locked), or a new one."""
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
    matches = list(
        WhitelistEntry.objects.select_for_update()
        .filter(plate=plate, park_uuid=data.get("park_uuid", ""), valid_from=data["valid_from"])
        .order_by("pk")[:2]
    )
    if len(matches) > 1:
        raise ValidationError(
            _(
                "Several entries have this plate, park and “valid from”; give the id of the "
                "one to update."
            )
        )
    return matches[0] if matches else WhitelistEntry()


# --- platform sync -----------------------------------------------------------------------------

ENABLED = PlateSync.PlatformStatus.ENABLED.value
DISABLED = PlateSync.PlatformStatus.DISABLED.value
REMOVED = PlateSync.PlatformStatus.REMOVED.value

# An admin request tries the platform once, briefly, and for a limited number of plates: a
# long retry loop would hold the page. Whatever is left is sent by ``sync_whitelist``.
INLINE_TIMEOUT = 3
INLINE_LIMIT = 50

# The ``reason`` sent with each call: protocol text, not translated.
REASONS = {
    ENABLED: "ParkingOps: the plate has an active whitelist entry",
    DISABLED: "ParkingOps: no active whitelist entry",
    REMOVED: "ParkingOps: the plate's last whitelist entry was deleted",
}
_CHUNK = 500


class PlatformNotConfigured(Exception):
    """PLATFORM_API_BASE (or the app secret) is not set: nothing can be sent."""


@dataclass
class SyncReport:
    """What a sync did: plates ``synced``, ``failed`` (with the platform's message), and ``left``
    untried (the platform was unreachable or refused us, or over the inline limit)."""

    checked: int = 0
    synced: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    left: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failed and not self.left


def _chunks(items: list[str]) -> Iterable[list[str]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


def _plates(plates: Iterable[str | None]) -> list[str]:
    return sorted({plate for plate in plates if plate})


def _ensure_rows(plates: list[str]) -> None:
    for chunk in _chunks(plates):
        PlateSync.objects.bulk_create(
            [PlateSync(plate=plate) for plate in chunk], ignore_conflicts=True
        )


def mark_pending(*, plates: Iterable[str | None], at: datetime | None = None) -> None:
    """Mark ``plates`` pending with the status they should now have; count the change.

    Call inside the transaction making the change, so the mark commits (or not) with it.
    """
    at = at or timezone.now()
    for chunk in _chunks(_plates(plates)):
        _ensure_rows(chunk)
        wanted = selectors.wanted_statuses(at=at, plates=chunk)
        groups: dict[int, list[str]] = {}
        for plate in chunk:
            groups.setdefault(wanted.get(plate, REMOVED), []).append(plate)
        for status, group in groups.items():
            PlateSync.objects.filter(plate__in=group).update(
                wanted_status=status, state=PlateSync.State.PENDING, version=F("version") + 1
            )


def request_sync(*, plates: Iterable[str | None]) -> None:
    """Mark ``plates`` pending now and try the platform once the transaction has committed."""
    plates = _plates(plates)
    if not plates:
        return
    mark_pending(plates=plates)
    # robust: nothing that goes wrong talking to the platform may turn a saved change into an
    # error page; the plate simply stays pending.
    transaction.on_commit(lambda: _sync_after_commit(plates), robust=True)


def inline_client() -> PlatformClient | None:
    """Return a client for one short attempt inside a request, or None when not configured."""
    if not settings.PLATFORM_API_BASE or not settings.PLATFORM_APP_SECRET:
        return None
    return PlatformClient.from_settings(
        retries=0, timeout=min(settings.PLATFORM_API_TIMEOUT, INLINE_TIMEOUT)
    )


def _sync_after_commit(plates: list[str]) -> None:
    client = inline_client()
    if client is None:
        logger.warning(
            "platform sync skipped: PLATFORM_API_BASE is not set; %d plate(s) stay pending",
            len(plates),
        )
        return
    report = sync_plates(plates=plates, client=client, limit=INLINE_LIMIT)
    if report.left:
        logger.info("platform sync: %d plate(s) left pending for sync_whitelist", len(report.left))


def sync_now(*, plates: Iterable[str | None], limit: int = INLINE_LIMIT) -> SyncReport:
    """Mark ``plates`` pending and send them now (the first ``limit``; the rest wait for cron).

    Raise PlatformNotConfigured (after marking) when the platform is not configured.
    """
    plates = _plates(plates)
    with transaction.atomic():
        mark_pending(plates=plates)
    client = inline_client()
    if client is None:
        raise PlatformNotConfigured
    return sync_plates(plates=plates, client=client, limit=limit)


def sync_plates(
    *,
    plates: Iterable[str | None],
    client: PlatformClient,
    now: datetime | None = None,
    limit: int | None = None,
) -> SyncReport:
    """Send each of ``plates`` its wanted status at ``now`` (default: now), whatever its state.

    At most ``limit`` plates are tried; the others are reported as left.
    """
    plates = _plates(plates)
    tried, rest = (plates, []) if limit is None else (plates[:limit], plates[limit:])
    _ensure_rows(tried)
    # The versions are read before the wanted statuses: a change committed in between bumps
    # the version, so this sync will not mark the plate synced with a stale status.
    versions: dict[str, int] = {}
    for chunk in _chunks(tried):
        versions.update(PlateSync.objects.filter(plate__in=chunk).values_list("plate", "version"))
    wanted = selectors.wanted_statuses(at=now or timezone.now(), plates=tried)
    # A row gone meanwhile (its removal confirmed by another sync) records nothing: version -1.
    plan = [(plate, wanted.get(plate, REMOVED), versions.get(plate, -1)) for plate in tried]
    report = _send(plan, client)
    report.checked = len(plates)
    report.left += rest
    return report


def sync_due(
    *, client: PlatformClient, now: datetime | None = None, everything: bool = False
) -> SyncReport:
    """Send every plate whose platform status is not known to be what it should be at ``now``.

    That is each plate pending or failed, never synced, or whose wanted status changed since
    the platform confirmed it (a window began or ended); with ``everything``, every plate. The
    plates are found in a few queries whatever their number.
    """
    _ensure_rows(selectors.unsynced_plates())
    rows = list(PlateSync.objects.values_list("plate", "state", "confirmed_status", "version"))
    wanted = selectors.wanted_statuses(at=now or timezone.now())
    plan = []
    for plate, state, confirmed, version in rows:
        status = wanted.get(plate, REMOVED)
        if everything or state != PlateSync.State.SYNCED or confirmed != status:
            plan.append((plate, status, version))
    report = _send(plan, client)
    report.checked = len(rows)
    return report


def _send(plan: list[tuple[str, int, int]], client: PlatformClient) -> SyncReport:
    """Send each ``(plate, status, version)``; record what the platform answered."""
    report = SyncReport()
    stopped = False
    for plate, status, version in plan:
        if stopped:
            report.left.append(plate)
            continue
        try:
            if status == REMOVED:
                answer = client.delete_whitelist(plate=plate, reason=REASONS[status])
            else:
                answer = client.set_whitelist(plate=plate, status=status, reason=REASONS[status])
        except PlatformError as error:
            message = redact(str(error))
            _record_failure(plate=plate, version=version, message=message)
            report.failed[plate] = message
            logger.warning("platform sync of %s failed: %s", plate, message)
            # Unreachable, or our app refused: every other plate would fail the same way.
            stopped = isinstance(error, PlatformAuthError | PlatformForbidden) or (
                isinstance(error, PlatformUnavailable) and error.code == "network"
            )
            continue
        message = redact(str(answer.get("message", "")))
        _record_success(plate=plate, version=version, status=status, message=message)
        report.synced.append(plate)
        logger.info("platform sync of %s: status %d confirmed", plate, status)
    return report


def _record_success(*, plate: str, version: int, status: int, message: str) -> None:
    now = timezone.now()
    # Only when no change came in meanwhile is the plate settled; otherwise it stays pending
    # (that change's own sync, or the next run, sends the newer status).
    current = PlateSync.objects.filter(plate=plate, version=version)
    if status == REMOVED:
        # The platform no longer holds the plate: nothing is left to track.
        if current.delete()[0]:
            return
    elif current.update(
        state=PlateSync.State.SYNCED,
        wanted_status=status,
        confirmed_status=status,
        message=message[:500],
        attempted_at=now,
        synced_at=now,
    ):
        return
    PlateSync.objects.filter(plate=plate).update(
        confirmed_status=status, message=message[:500], attempted_at=now, synced_at=now
    )


def _record_failure(*, plate: str, version: int, message: str) -> None:
    now = timezone.now()
    if PlateSync.objects.filter(plate=plate, version=version).update(
        state=PlateSync.State.FAILED, message=message[:500], attempted_at=now
    ):
        return
    PlateSync.objects.filter(plate=plate).update(message=message[:500], attempted_at=now)


def redact(text: str) -> str:
    """Return ``text`` with any of our app secrets blanked out, should the platform echo one."""
    for secret in settings.PLATFORM_APP_SECRET:
        if secret:
            text = text.replace(secret, "***")
    return text
