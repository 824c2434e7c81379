"""Reads of the whitelist."""

from collections.abc import Iterable
from datetime import datetime

from django.db.models import OuterRef, Q, QuerySet, Subquery

from orders.models import Park
from whitelist.models import WhitelistEntry


def find_valid_entry(*, plate: str, park_uuid: str, at: datetime) -> WhitelistEntry | None:
    """Return the entry that lets ``plate`` pay at ``park_uuid`` at ``at``, or None.

    ``plate`` must already be normalised. An entry scoped to the park wins over an all-parks
    entry, so the order records the most specific reason it was let in.
    """
    return (
        WhitelistEntry.objects.filter(
            Q(park_uuid="") | Q(park_uuid=park_uuid),
            Q(valid_until__isnull=True) | Q(valid_until__gt=at),
            plate=plate,
            is_active=True,
            valid_from__lte=at,
        )
        .order_by("-park_uuid", "valid_from", "pk")
        .first()
    )


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

    The blank uuid (all parks) is included when used. One query.
    """
    rows = with_park_name(
        WhitelistEntry.objects.order_by().values("park_uuid").distinct()
    ).values_list("park_uuid", "park_name")
    return sorted(set(rows), key=lambda row: (row[0] != "", row[1] or "", row[0]))


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
