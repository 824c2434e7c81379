"""When a whitelist change must say why, and what a reason may be: the one home of the rule.

A change that takes away what an entry lets through must be explained: disabling it, deleting
it, or shrinking it (its window ends earlier, starts later or gets an end; it moves from all
parks to one park, or to another park; it moves to another plate). The reason is kept in the
entry's history (django-simple-history's ``history_change_reason``) and shown on its history
page. Every way to write the whitelist asks ``needs_reason`` through the services
(``entries``, ``upsert``), which refuse such a change without a reason (``ReasonRequired``),
writing nothing; forms and the API ask for the reason by ``REASON_FIELD``.
"""

import copy
import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from whitelist.models import WhitelistEntry

# simple-history's ``history_change_reason`` column holds this many characters.
REASON_MAX_LENGTH = 100
# The name of the reason wherever it is asked: the admin's forms and the API's payloads.
REASON_FIELD = "reason"
REASON_LABEL = _("change reason")
REASON_HELP = _(
    "Required when the change disables, deletes or shortens an entry (kept in its history)."
)
REASON_REQUIRED = _(
    "Enter a change reason: this change disables, deletes or shortens whitelist entries."
)


class ReasonRequired(ValidationError):
    """The change disables, deletes or shortens entries and no reason was given."""

    def __init__(self) -> None:
        super().__init__(REASON_REQUIRED, code="reason_required")


def needs_reason(old: WhitelistEntry | None, new: WhitelistEntry | None) -> bool:
    """Return whether changing ``old`` (None: adding) into ``new`` (None: deleting) takes
    away something the entry let through, and so needs a reason."""
    if old is None:
        return False
    if new is None:
        return True
    return (
        (old.is_active and not new.is_active)
        or new.plate != old.plate
        # All parks (blank) to one park, or one park to another.
        or (new.park_uuid != old.park_uuid and new.park_uuid != "")
        or new.valid_from > old.valid_from
        or (
            new.valid_until is not None
            and (old.valid_until is None or new.valid_until < old.valid_until)
        )
    )


def changed(entry: WhitelistEntry, **values) -> WhitelistEntry:
    """Return a copy of ``entry`` with ``values`` set: ``needs_reason``'s ``new`` for a bulk
    change, which sets the same values on many entries."""
    new = copy.copy(entry)
    for name, value in values.items():
        setattr(new, name, value)
    return new


def clean_reason(reason: object, *, required: bool) -> str:
    """Return the reason as kept: on one line, without control characters, trimmed.

    Raise ``ReasonRequired`` when ``required`` and nothing is left (whitespace only), and a
    ValidationError when it is longer than the history keeps (``REASON_MAX_LENGTH``).
    """
    # Control characters (a NUL, which PostgreSQL refuses; line breaks) become spaces, and
    # runs of spaces one.
    text = "".join(
        " " if unicodedata.category(char)[0] == "C" else char for char in str(reason or "")
    )
    text = " ".join(text.split())
    if len(text) > REASON_MAX_LENGTH:
        raise ValidationError(
            _("The change reason may be at most %(max)d characters (it has %(count)d)."),
            code="reason_too_long",
            params={"max": REASON_MAX_LENGTH, "count": len(text)},
        )
    if required and not text:
        raise ReasonRequired
    return text


def reason_for(
    entries: list[tuple[WhitelistEntry | None, WhitelistEntry | None]], reason: object
) -> str:
    """Return ``reason`` cleaned, requiring it when any ``(old, new)`` of ``entries`` needs
    one; raise as ``clean_reason``."""
    return clean_reason(reason, required=any(needs_reason(old, new) for old, new in entries))
