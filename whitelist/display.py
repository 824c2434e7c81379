"""How an entry's values are shown to people, one function per kind of value: the whitelist
list's columns and its history page (``admin_history``) both show them through these."""

from django.utils import timezone
from django.utils.translation import gettext as _

from parkingops.pcloud import codes
from whitelist import selectors
from whitelist.models import Uncovered


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


def not_covered(*, why: str, date, park_uuid: str, park_name: str | None = None) -> str:
    """Return why no entry let a plate in (``selectors.why_not_covered``), as a sentence.

    ``why`` is an ``Uncovered`` value (a refused push's log row stores it); "" for a row
    logged before the reason was kept, which says nothing more than its outcome. The park of
    another park's entry is named by ``park_name`` when the caller read it with its rows,
    else looked up.
    """
    if why == Uncovered.NO_ENTRY:
        return _("No whitelist entry for this plate.")
    if why == Uncovered.DISABLED:
        return _("The whitelist entry was disabled.")
    if why == Uncovered.EXPIRED:
        return _("The whitelist entry expired on %(date)s.") % {"date": moment(date)}
    if why == Uncovered.NOT_YET_VALID:
        return _("The whitelist entry starts on %(date)s.") % {"date": moment(date)}
    if why == Uncovered.OTHER_PARK:
        name = park(park_uuid, park_name) if park_name else park_by_uuid(park_uuid)
        return _("The whitelist entry is for park %(park)s only.") % {"park": name}
    return ""


def platform_message(text: str | None) -> str:
    """Return what the platform answered (as ``PlateSync.message`` or a sync report keeps it:
    ``"<code>: <message>"`` or a success's message) by its meaning, ``codes.error_label``."""
    return codes.error_label(text or "")
