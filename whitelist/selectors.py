"""Reads of the whitelist."""

import copy
import functools
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from parkingops.iterables import chunked
from parkingops.pcloud.client import STATUS_DISABLE, STATUS_ENABLE
from whitelist.models import Park, PlateSync, Status, Uncovered, WhitelistEntry, status_q


def valid_entries(*, plate: str, park_uuid: str, at: datetime) -> QuerySet[WhitelistEntry]:
    """Return the entries that let ``plate`` pay at ``park_uuid`` at ``at``, best first.

    The protocol's whitelist rule: an active entry (``status_q``) for the plate, scoped to the
    park or to all parks. ``plate`` must already be normalised. An
    entry scoped to the park comes before an all-parks entry, so an order records the most
    specific reason it was let in.
    """
    return WhitelistEntry.objects.filter(
        Q(park_uuid="") | Q(park_uuid=park_uuid),
        status_q(Status.ACTIVE, at=at),
        plate=plate,
    ).order_by("-park_uuid", "valid_from", "pk")


def find_valid_entry(*, plate: str, park_uuid: str, at: datetime) -> WhitelistEntry | None:
    """Return the entry that lets ``plate`` pay at ``park_uuid`` at ``at``, or None."""
    return valid_entries(plate=plate, park_uuid=park_uuid, at=at).first()


def find_valid_entry_id(*, plate: str, park_uuid: str, at: datetime) -> int | None:
    """Return the id of ``find_valid_entry``'s entry: the push's check, no model built."""
    return (
        valid_entries(plate=plate, park_uuid=park_uuid, at=at).values_list("pk", flat=True).first()
    )


# Stand-ins compiled into ``valid_entry_id_sql``'s SQL once, then swapped for a push's values.
_PLATE, _PARK = "\x00plate\x00", "\x00park\x00"
_AT = datetime(1, 1, 2, tzinfo=UTC)


@functools.cache
def _compiled_valid_entry_id(using: str) -> tuple[str, tuple[Any, ...]]:
    query = valid_entries(plate=_PLATE, park_uuid=_PARK, at=_AT).values_list("pk")[:1].query
    return query.get_compiler(using=using).as_sql()


def valid_entry_id_sql(
    *, plate: str, park_uuid: str, at: datetime, using: str = "default"
) -> tuple[str, list[Any]]:
    """Return ``find_valid_entry_id``'s query as SQL and parameters, for a statement to run
    inside its own (the push folds it into its write: ``orders.push.storing``).

    The query is ``valid_entries``'s, compiled once per database; building it with the ORM for
    every push cost more than running it.
    """
    sql, params = _compiled_valid_entry_id(using)
    stand_ins = {_PLATE: plate, _PARK: park_uuid}

    def value(param: Any) -> Any:
        if isinstance(param, datetime):
            return at if param == _AT else param
        return stand_ins.get(param, param) if isinstance(param, str) else param

    return sql, [value(param) for param in params]


@dataclass(frozen=True)
class NotCovered:
    """Why ``valid_entries`` found nothing: the reason and the entry it is about, if any.

    ``date`` is when the entry ended (expired) or starts (not yet valid); ``park_uuid`` the
    park of an entry for another park.
    """

    why: Uncovered
    entry_id: int | None = None
    date: datetime | None = None
    park_uuid: str = ""


# Entries of one plate looked at to explain a refusal; a plate has a handful at most.
_EXPLAINED_ENTRIES = 200


def why_not_covered(*, plate: str, park_uuid: str, at: datetime) -> NotCovered | None:
    """Return why no entry lets ``plate`` pay at ``park_uuid`` at ``at``; None when one does.

    The refused push's explanation, decided from the rule's own conditions: the park scope of
    ``valid_entries`` and each entry's ``status_at`` (the Python form of ``status_q``). Among
    the plate's entries for the park (or all parks) it names the one nearest to letting the
    plate in: a disabled entry whose window holds ``at`` (enabling it would do), then the one
    that expired last or starts first, then any disabled one. Only without such an entry does
    it name an entry for another park, preferring one active at ``at``.
    """
    entries = list(
        WhitelistEntry.objects.filter(plate=plate).order_by("valid_from", "pk")[:_EXPLAINED_ENTRIES]
    )
    here = [entry for entry in entries if entry.park_uuid in ("", park_uuid)]
    statuses = {entry.pk: entry.status_at(at) for entry in entries}
    if any(statuses[entry.pk] == Status.ACTIVE for entry in here):
        return None  # an entry arrived since the check: nothing to explain
    if here:
        entry = min(here, key=lambda entry: _nearness(entry, statuses[entry.pk], at))
        status = statuses[entry.pk]
        date = {
            Status.EXPIRED: entry.valid_until,
            Status.NOT_YET_VALID: entry.valid_from,
        }.get(status)
        return NotCovered(why=Uncovered(status.value), entry_id=entry.pk, date=date)
    if entries:
        entry = min(entries, key=lambda entry: statuses[entry.pk] != Status.ACTIVE)
        return NotCovered(why=Uncovered.OTHER_PARK, entry_id=entry.pk, park_uuid=entry.park_uuid)
    return NotCovered(why=Uncovered.NO_ENTRY)


def _nearness(entry: WhitelistEntry, status: Status, at: datetime) -> tuple[int, timedelta]:
    """Sort key: how near ``entry`` (not active at ``at``) is to letting the plate in."""
    if status == Status.DISABLED:
        # Would the entry let the plate in if it were enabled? The rule answers, not a copy.
        enabled = copy.copy(entry)
        enabled.is_active = True
        return (0, timedelta(0)) if enabled.status_at(at) == Status.ACTIVE else (2, timedelta(0))
    if status == Status.EXPIRED:
        return 1, at - entry.valid_until
    return 1, entry.valid_from - at


def with_park_name(queryset: QuerySet[WhitelistEntry]) -> QuerySet[WhitelistEntry]:
    """Annotate each entry with ``park_name``: its park's name, or None (unknown or all parks).

    A correlated subquery on the unique ``park_uuid``, so a page of entries costs no extra
    query; there is no foreign key because entries may name parks not seen in a push yet.
    """
    names = Park.objects.filter(park_uuid=OuterRef("park_uuid")).order_by().values("name")[:1]
    return queryset.annotate(park_name=Subquery(names))


def park_names(*, park_uuids: Iterable[str]) -> dict[str, str]:
    """Return ``{park_uuid: name}`` for the known parks among ``park_uuids`` (one query)."""
    wanted = {uuid for uuid in park_uuids if uuid}
    if not wanted:
        return {}
    return dict(Park.objects.filter(park_uuid__in=wanted).values_list("park_uuid", "name"))


def known_parks() -> list[tuple[str, str]]:
    """Return every known park as ``(park_uuid, name)``, by name."""
    return list(Park.objects.order_by("name", "park_uuid").values_list("park_uuid", "name"))


def whitelisted_parks() -> list[tuple[str, str | None]]:
    """Return the distinct ``park_uuid`` values used by entries with the park's name, if known.

    The blank uuid (all parks) is included when used. Two queries: the distinct uuids from
    the park index, then their names (a name looked up for each entry before the DISTINCT
    took half a second at 350,000 entries)."""
    uuids = list(WhitelistEntry.objects.order_by().values_list("park_uuid", flat=True).distinct())
    names = park_names(park_uuids=uuids)
    rows = [(uuid, names.get(uuid)) for uuid in uuids]
    return sorted(rows, key=lambda row: (row[0] != "", row[1] or "", row[0]))


def overlapping_entries(*, entry: WhitelistEntry) -> QuerySet[WhitelistEntry]:
    """Return the other enabled entries for the same plate and park whose windows meet ``entry``'s.

    Disabled entries do not count: they let nothing through. Windows are half-open
    ``[valid_from, valid_until)``, a blank end being open, so back-to-back windows do not overlap.
    """
    overlaps = WhitelistEntry.objects.filter(
        plate=entry.plate, park_uuid=entry.park_uuid, is_active=True
    ).exclude(pk=entry.pk)
    if entry.valid_until is not None:
        overlaps = overlaps.filter(valid_from__lt=entry.valid_until)
    return overlaps.filter(Q(valid_until__isnull=True) | Q(valid_until__gt=entry.valid_from))


def describe_overlaps(*, entry: WhitelistEntry, limit: int = 5) -> str:
    """Return the windows of ``entry``'s overlapping entries for a warning, or "" when none.

    The admin's and the API's overlap warnings both show this: the first ``limit`` windows,
    China time, ``…`` when there are more. A disabled entry overlaps nothing.
    """
    if not entry.is_active:
        return ""
    overlaps = list(overlapping_entries(entry=entry).order_by("valid_from")[: limit + 1])
    windows = "; ".join(
        f"{_china_minute(other.valid_from)} – {_china_minute(other.valid_until)}"
        for other in overlaps[:limit]
    )
    return windows + (" …" if len(overlaps) > limit else "")


def _china_minute(value: datetime | None) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else "–"


# --- the platform sync ---------------------------------------------------------------------------


def with_sync_state(queryset: QuerySet[WhitelistEntry]) -> QuerySet[WhitelistEntry]:
    """Annotate each entry with its plate's platform sync.

    ``sync_state`` (pending when the plate was never synced), ``sync_message``,
    ``sync_attempted_at`` and ``sync_synced_at``: correlated subqueries on the unique plate, so a
    page of entries still costs one query.
    """
    syncs = PlateSync.objects.filter(plate=OuterRef("plate")).order_by()
    return queryset.annotate(
        sync_state=Coalesce(
            Subquery(syncs.values("state")[:1]), Value(PlateSync.State.PENDING.value)
        ),
        sync_message=Subquery(syncs.values("message")[:1]),
        sync_attempted_at=Subquery(syncs.values("attempted_at")[:1]),
        sync_synced_at=Subquery(syncs.values("synced_at")[:1]),
    )


def in_sync_state(queryset: QuerySet[WhitelistEntry], *, state: str) -> QuerySet[WhitelistEntry]:
    """Return the entries whose plate is in the sync ``state``; a plate without a row is pending."""
    if state == PlateSync.State.PENDING:
        settled = PlateSync.objects.exclude(state=PlateSync.State.PENDING).values("plate")
        return queryset.exclude(plate__in=settled)
    return queryset.filter(plate__in=PlateSync.objects.filter(state=state).values("plate"))


EXPIRING_DAYS = 7  # "expiring soon": the whitelist list's filter and the home page


def expiring_entries(
    queryset: QuerySet[WhitelistEntry], *, now: datetime, days: int = EXPIRING_DAYS
) -> QuerySet[WhitelistEntry]:
    """Return the entries whose validity ends in the next ``days`` days: not those ended
    already, nor those without an end. Enabled or not: a status filter narrows it."""
    return queryset.filter(valid_until__gt=now, valid_until__lte=now + timedelta(days=days))


def wanted_statuses(*, at: datetime, plates: Iterable[str] | None = None) -> dict[str, int]:
    """Return ``{plate: 1 or 0}``: 1 while the plate has an active entry at ``at``, else 0.

    Only plates that have entries are listed (a plate without any is to be removed). The park
    is ignored: the platform's whitelist has no park scope. One query (per 500 plates given).
    """
    if plates is None:
        chunks: list[list[str] | None] = [None]
    else:
        wanted = sorted(set(plates))
        chunks = list(chunked(wanted))
    statuses: dict[str, int] = {}
    for chunk in chunks:
        entries = WhitelistEntry.objects.order_by()  # no ordering: it would join the GROUP BY
        if chunk is not None:
            entries = entries.filter(plate__in=chunk)
        rows = entries.values("plate").annotate(
            active=Count("pk", filter=status_q(Status.ACTIVE, at=at))
        )
        statuses.update(
            (row["plate"], STATUS_ENABLE if row["active"] else STATUS_DISABLE) for row in rows
        )
    return statuses


def unsynced_plates() -> list[str]:
    """Return the plates that have entries but no sync row yet (never synced). One query."""
    return list(
        WhitelistEntry.objects.order_by()
        .exclude(plate__in=PlateSync.objects.values("plate"))
        .values_list("plate", flat=True)
        .distinct()
    )
