"""Reading the times a push carries (``pay_time``, ``timestamp``, a coupon's ``grant_time``):
ms since epoch, or China-time text for ``grant_time``, and only inside the product's span.

Outside ``parkingops.timerange`` a time is not one: year 9999 in UTC is year 10000 in China
time, which no page, export or API answer can show, so every time that enters through the push
is read here and nowhere else. Pure functions, no ORM.
"""

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from parkingops import timerange
from parkingops.formatting import CHINA

_DIGITS = re.compile(r"[0-9]{1,15}")


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def ms(moment: datetime) -> int:
    """Return an aware time as whole ms since epoch, rounded down (exact: no float)."""
    return (moment - _EPOCH) // timedelta(milliseconds=1)


EARLIEST_MS = ms(timerange.EARLIEST)
LATEST_MS = ms(timerange.LATEST)


def moment_from_ms(value: Any) -> datetime | None:
    """Read ms since epoch (decimal digits or a JSON integer) inside the product's span.

    Return None for anything else: not a whole number, negative, or outside the span.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and _DIGITS.fullmatch(value):
        value = int(value)
    if not isinstance(value, int) or not EARLIEST_MS <= value <= LATEST_MS:
        return None
    return datetime.fromtimestamp(value / 1000, tz=UTC)


def parse_grant_time(raw: str) -> datetime | None:
    """Read a coupon's grant time when it is ms since epoch or China-time text inside the
    product's span, else None (the raw text is kept either way).
    """
    if raw.isascii() and raw.isdigit():
        return moment_from_ms(raw)
    try:
        parsed = datetime.strptime(raw, "%Y-%m-%d %H:%M:%S").replace(tzinfo=CHINA)
    except ValueError:
        return None
    return parsed if timerange.moment_in_range(parsed) else None
