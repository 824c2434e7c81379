"""How an entry's values are shown to people, one function per kind of value: the whitelist
list's columns and its history page (``admin_history``) both show them through these."""

from django.utils import timezone
from django.utils.translation import gettext as _

from parkingops.pcloud import codes
from whitelist import selectors


def moment(value) -> str:
    """Return an aware time as China time ``YYYY-MM-DD HH:MM``; none as ``–``."""
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else "–"


def valid_until(value) -> str:
    """Return the end of a validity: a time, or 长期有效 (no end) when open."""
    return moment(value) if value else _("No end")


def park(park_uuid: str, name: str | None) -> str:
    """Return a park by its name when known, by its uuid otherwise; blank is 全部车场."""
    if not park_uuid:
        return _("All parks")
    return name or park_uuid


def park_by_uuid(park_uuid: str) -> str:
    """Return ``park`` for a uuid alone, looking its name up (one query)."""
    return park(park_uuid, selectors.park_names(park_uuids=[park_uuid]).get(park_uuid))


def yes_no(value) -> str:
    """Return a boolean as 是/否."""
    return _("Yes") if value else _("No")


def platform_message(text: str | None) -> str:
    """Return what the platform answered (as ``PlateSync.message`` or a sync report keeps it:
    ``"<code>: <message>"`` or a success's message) by its meaning, ``codes.error_label``."""
    return codes.error_label(text or "")
