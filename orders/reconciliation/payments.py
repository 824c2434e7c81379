"""The platform's payment list (PLATFORM_API.md): the window of a day, each row read and checked."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.utils.translation import gettext

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


def _pay_time(value: Any) -> datetime | None:
    """Read the listed ``pay_time``: ISO-8601, UTC when it carries no offset."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    moment = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    # Outside the product's span a time cannot be shown (year 9999 UTC is 10000 in China).
    return moment if timerange.moment_in_range(moment) else None


def _fen(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        return int(value.strip())
    return None


def read_payment(row: Any) -> ListedPayment:
    """Check one listed row and return it read, or raise BadPaymentList naming what is wrong."""
    if not isinstance(row, dict):
        raise BadPaymentList(gettext("The platform listed a payment that is not an object."))
    serial = row.get("pay_serial")
    serial = str(serial).strip() if isinstance(serial, str | int) else ""
    if not serial or len(serial) > SERIAL_LENGTH:
        raise BadPaymentList(
            gettext("The platform listed a payment without a usable pay_serial: %(row)s")
            % {"row": str(row)[:300]}
        )
    value = _fen(row.get("pay_value"))
    moment = _pay_time(row.get("pay_time"))
    if value is None or moment is None:
        raise BadPaymentList(
            gettext(
                "The platform listed payment %(serial)s without a readable pay_value (fen) "
                "or pay_time (ISO-8601)."
            )
            % {"serial": serial}
        )
    plate = row.get("plate")
    plate = plates.normalise(plate) if isinstance(plate, str) else ""
    return ListedPayment(pay_serial=serial, plate=plate, pay_value=value, pay_time=moment, row=row)
