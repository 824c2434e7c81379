"""The span of time the product works in: 2000-01-01 … 2099-12-31, China time.

One rule for every date and time that enters the system — a whitelist window typed in the admin,
imported from a file or posted to the API, a time the platform pushes, a day in a query string.
Outside it Python cannot always show the value (year 1 in China time is 1 BC in UTC; year 9999 in
UTC is year 10000 here), so a value outside is refused with this message instead of being stored
and breaking every page that lists it. The database check constraints use the same bounds.

Pure functions, no ORM.
"""

from datetime import date, datetime, time

from django.core.exceptions import ValidationError
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from parkingops.formatting import CHINA

FIRST_DAY = date(2000, 1, 1)
LAST_DAY = date(2099, 12, 31)
EARLIEST = datetime.combine(FIRST_DAY, time.min, tzinfo=CHINA)
LATEST = datetime.combine(LAST_DAY, time.max, tzinfo=CHINA)

OUT_OF_RANGE = _("%(value)s is out of range: use a time between %(first)s and %(last)s.")


def day_in_range(day: date) -> bool:
    """Return whether ``day`` lies in the product's span."""
    return FIRST_DAY <= day <= LAST_DAY


def moment_in_range(moment: datetime) -> bool:
    """Return whether the aware ``moment`` lies in the product's span (naive: read as China)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=CHINA)
    return EARLIEST <= moment <= LATEST


def out_of_range_message(value: object) -> str:
    """Return the message that says ``value`` is outside the span, in the user's language."""
    return gettext(OUT_OF_RANGE) % {
        "value": value,
        "first": FIRST_DAY.isoformat(),
        "last": LAST_DAY.isoformat(),
    }


def validate_moment(moment: datetime | date | None) -> None:
    """Django validator: refuse a date or time outside the span (``None`` passes).

    Attached to model fields, so the admin form, the import (``full_clean``) and the API's
    model serializers all refuse the same values with the same message.
    """
    if moment is None:
        return
    inside = moment_in_range(moment) if isinstance(moment, datetime) else day_in_range(moment)
    if not inside:
        raise ValidationError(out_of_range_message(moment), code="out_of_range")
