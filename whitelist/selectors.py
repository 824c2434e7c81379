"""Reads of the whitelist."""

from datetime import datetime

from django.db.models import Q

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
