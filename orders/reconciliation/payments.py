"""The platform's payment list (PLATFORM_API.md): the window of a day, each row read and checked."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.utils.translation import gettext

from orders.push.validation import MAX_FEN
from parkingops import timerange
from parkingops.queries import day_start
from whitelist import plates

SERIAL_LENGTH = 64


class BadPaymentList(Exception):
    """A row of the platform's list cannot be read (no serial, no amount, no pay time)."""


@dataclass(frozen=True)
class ListedPayment:
    """One row of the platform's payment list, read and checked."""

    pay_serial: str
    plate: str  # normalised
    pay_value: int  # fen
    pay_time: datetime  # aware
    row: dict[str, Any]


def day_window(day: date) -> tuple[datetime, datetime]:
    """Return the China-time day as the platform's inclusive window: 00:00:00 to 23:59:59."""
    start = day_start(day)
    return start, start + timedelta(days=1, seconds=-1)


def read_listed_time(value: Any) -> datetime | None:
    """Read a listed time (``pay_time``, ``enter_time``): ISO-8601, UTC when it carries no
    offset; None when unreadable or outside the product's span."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    moment = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    # Outside the product's span a time cannot be shown (year 9999 UTC is 10000 in China).
    return moment if timerange.moment_in_range(moment) else None


class Unreadable(ValueError):
    """A listed field is there but cannot be read (an odd type, a negative or huge number)."""


def listed_money(value: Any) -> int:
    """Read a listed amount in fen: an integer or decimal digits, 0 … ``MAX_FEN`` (the push's
    own bound); raise Unreadable otherwise (``1.5``, ``-5``, ``True``, 10^30)."""
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        # Past 11 digits it is over the bound anyway; int() of a huge text is slow or refused.
        value = int(value.strip()) if len(value.strip()) <= 11 else None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_FEN:
        raise Unreadable(value)
    return value


def listed_text(value: Any) -> str:
    """Read a listed text field (a JSON string or integer); raise Unreadable otherwise."""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise Unreadable(value)


def is_listed(row: dict[str, Any], key: str) -> bool:
    """Whether the row lists ``key`` at all: absent, ``null`` or ``""`` is not listed."""
    return row.get(key) not in (None, "")


def read_payment(row: Any) -> ListedPayment:
    """Check one listed row and return it read, or raise BadPaymentList naming what is wrong."""
    if not isinstance(row, dict):
        raise BadPaymentList(gettext("The platform listed a payment that is not an object."))
    try:
        serial = listed_text(row.get("pay_serial"))
    except Unreadable:
        serial = ""
    if not serial or len(serial) > SERIAL_LENGTH:
        raise BadPaymentList(
            gettext("The platform listed a payment without a usable pay_serial: %(row)s")
            % {"row": str(row)[:300]}
        )
    try:
        value = listed_money(row.get("pay_value"))
    except Unreadable:
        value = None
    moment = read_listed_time(row.get("pay_time"))
    if value is None or moment is None:
        raise BadPaymentList(
            gettext(
                "The platform listed payment %(serial)s without a readable pay_value (fen, "
                "0 to %(max)d) or pay_time (ISO-8601, %(first)s to %(last)s)."
            )
            % {
                "serial": serial,
                "max": MAX_FEN,
                "first": timerange.FIRST_DAY.isoformat(),
                "last": timerange.LAST_DAY.isoformat(),
            }
        )
    plate = row.get("plate")
    plate = plates.normalise(plate) if isinstance(plate, str) else ""
    return ListedPayment(pay_serial=serial, plate=plate, pay_value=value, pay_time=moment, row=row)
