"""The whitelist's single and bulk writes from the admin and the API.

A change that disables, deletes or shortens entries needs a reason (``reasons``): without one
it raises ``reasons.ReasonRequired`` and writes nothing; the reason is the history's.

Bulk changes go through ``bulk_update_with_history`` so django-simple-history records who
changed which entry, and ``updated_at`` is set by hand because ``bulk_update`` skips
``auto_now``. Every write marks the plates it touches pending inside its transaction and syncs
them once it has committed (``sync.request_sync``).
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from simple_history.utils import bulk_update_with_history

from parkingops.iterables import chunked
from parkingops.jobs.progress import NO_PROGRESS, Progress
from parkingops.timerange import LATEST, moment_in_range, out_of_range_message
from whitelist.models import IDENTITY, IDENTITY_TAKEN, WhitelistEntry, WhitelistTombstone
from whitelist.services.reasons import changed, reason_for
from whitelist.services.sync import request_sync

# The longest extension accepted in one go: ten years, against typos such as 3650 for 365.
MAX_EXTENSION_DAYS = 3660


class IdentityTaken(ValidationError):
    """Another entry already has this entry's plate, park and start (``IDENTITY``)."""

    def __init__(self) -> None:
        super().__init__(IDENTITY_TAKEN, code="identity_taken")


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


def save_with_history(
    entries: list[WhitelistEntry],
    *,
    fields: list[str],
    user: AbstractBaseUser | None,
    reason: str,
    progress: Progress = NO_PROGRESS,
) -> None:
    """Write ``fields`` of ``entries`` with one history record each, a batch at a time
    (``progress`` advances by each)."""
    if not entries:
        return
    now = timezone.now()
    for entry in entries:
        entry.updated_at = now
    for batch in chunked(entries, 500):
        bulk_update_with_history(
            batch,
            WhitelistEntry,
            fields=[*fields, "updated_at"],
            batch_size=500,
            default_user=user,
            default_change_reason=reason[:100],
        )
        progress.advance(len(batch))
    request_sync(plates={entry.plate for entry in entries})


def set_entries_active(
    *,
    entries: QuerySet[WhitelistEntry],
    active: bool,
    user: AbstractBaseUser | None = None,
    reason: str = "",
) -> BulkResult:
    """Enable (``active=True``) or disable the ``entries``; those already so are left alone.

    Disabling needs a ``reason`` (``reasons.ReasonRequired`` otherwise, nothing changed).
    """
    with transaction.atomic():
        locked = _locked(entries)
        changing = [entry for entry in locked if entry.is_active != active]
        given = reason_for(
            [(entry, changed(entry, is_active=active)) for entry in changing], reason
        )
        for entry in changing:
            entry.is_active = active
        default = _("Bulk enable") if active else _("Bulk disable")
        save_with_history(changing, fields=["is_active"], user=user, reason=given or default)
    return BulkResult(changed=len(changing), unchanged=len(locked) - len(changing))


def set_valid_until(
    *,
    entries: QuerySet[WhitelistEntry],
    valid_until: datetime | None,
    user: AbstractBaseUser | None = None,
    reason: str = "",
) -> BulkResult:
    """Set the end of the ``entries``' windows to ``valid_until`` (None: no end).

    An end earlier than some entry's (or an end where it had none) needs a ``reason``
    (``reasons.ReasonRequired`` otherwise, nothing changed).

    All or nothing: when ``valid_until`` is outside ``parkingops.timerange``'s span or not later
    than some entry's ``valid_from``, raise ValidationError (naming those entries) and change
    none.
    """
    if valid_until is not None and not moment_in_range(valid_until):
        raise ValidationError(
            _("“Valid until”: %(error)s") % {"error": out_of_range_message(_china(valid_until))},
            code="out_of_range",
        )
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
        given = reason_for(
            [(entry, changed(entry, valid_until=valid_until)) for entry in changing], reason
        )
        for entry in changing:
            entry.valid_until = valid_until
        save_with_history(
            changing,
            fields=["valid_until"],
            user=user,
            reason=given or _("Bulk set valid until"),
        )
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
        too_late = [
            entry for entry in changing if entry.valid_until + timedelta(days=days) > LATEST
        ]
        if too_late:
            raise ValidationError(
                ngettext(
                    "Nothing was changed: %(days)d more days would take the end of %(count)d "
                    "entry (%(plates)s) past %(last)s.",
                    "Nothing was changed: %(days)d more days would take the end of %(count)d "
                    "entries (%(plates)s) past %(last)s.",
                    len(too_late),
                ),
                code="out_of_range",
                params={
                    "days": days,
                    "count": len(too_late),
                    "plates": _describe(too_late),
                    "last": _china(LATEST),
                },
            )
        for entry in changing:
            entry.valid_until += timedelta(days=days)
        reason = _("Bulk extend by %(days)d days") % {"days": days}
        save_with_history(changing, fields=["valid_until"], user=user, reason=reason)
    return BulkResult(changed=len(changing), unchanged=len(locked) - len(changing))


def _describe(entries: list[WhitelistEntry], limit: int = 5) -> str:
    """Return the first few entries' plates for a message, with a count of the rest."""
    shown = ", ".join(entry.plate for entry in entries[:limit])
    if len(entries) > limit:
        shown += " " + _("and %(count)d more") % {"count": len(entries) - limit}
    return shown


def _china(moment: datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


def save_entry(
    *, entry: WhitelistEntry, user: AbstractBaseUser | None = None, reason: str = ""
) -> None:
    """Save an added or changed entry and sync its plate (and its former plate, if changed).

    Raise ``IdentityTaken``, saving nothing, when another entry has the same ``IDENTITY``, and
    ``reasons.ReasonRequired`` when the change disables or shortens the entry without a
    ``reason``. A reason given is the history's (else the one the caller set, if any).
    """
    adding = entry._state.adding
    try:
        with transaction.atomic():
            old = None
            if entry.pk is not None:
                # Locked: the rule compares with what is stored, which may not change meanwhile.
                old = WhitelistEntry.objects.select_for_update().filter(pk=entry.pk).first()
            given = reason_for([(old, entry)], reason)
            if given:
                entry._change_reason = given  # read by django-simple-history
            if user is not None:
                entry._history_user = user  # read by django-simple-history
            entry.save()
            request_sync(plates={entry.plate, old.plate if old else None})
    except IntegrityError:
        # The race of two saves of the same entry (a form submitted twice, two staff adding
        # the same plate at once): both passed the form's check that the identity is free, and
        # the unique constraint let only the first one in. Re-read to tell that from any other
        # refusal, which is not ours to explain.
        if adding:
            entry.pk = None
        others = WhitelistEntry.objects.filter(**{name: getattr(entry, name) for name in IDENTITY})
        if not others.exclude(pk=entry.pk).exists():
            raise
        raise IdentityTaken from None


def delete_entries(
    *, entries: QuerySet[WhitelistEntry], user: AbstractBaseUser | None = None, reason: str = ""
) -> int:
    """Delete the ``entries`` (history records each, with ``reason``; a tombstone each, for
    the systems mirroring the whitelist) and sync their plates; return how many. Deleting
    needs a ``reason`` (``reasons.ReasonRequired`` otherwise)."""
    with transaction.atomic():
        locked = _locked(entries)
        given = reason_for([(entry, None) for entry in locked], reason)
        now = timezone.now()
        WhitelistTombstone.objects.bulk_create(
            WhitelistTombstone(
                entry_id=entry.pk,
                plate=entry.plate,
                park_uuid=entry.park_uuid,
                valid_from=entry.valid_from,
                valid_until=entry.valid_until,
                holder=entry.holder,
                deleted_at=now,
            )
            for entry in locked
        )
        # One by one: simple-history's "deleted" record takes its reason (and user) from the
        # instance deleted, which a queryset's delete does not hand it.
        for entry in locked:
            entry._change_reason = given
            if user is not None:
                entry._history_user = user
            entry.delete()
        request_sync(plates={entry.plate for entry in locked})
    return len(locked)


def prune_tombstones(*, now: datetime | None = None) -> int:
    """Remove the tombstones of entries deleted more than ``WHITELIST_TOMBSTONE_DAYS`` ago;
    return how many. A mirror that has not synced for longer must read the whole list again."""
    now = now or timezone.now()
    keep_from = now - timedelta(days=settings.WHITELIST_TOMBSTONE_DAYS)
    return WhitelistTombstone.objects.filter(deleted_at__lt=keep_from).delete()[0]
