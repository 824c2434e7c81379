"""How money, times and mobile numbers are shown, and days read: one implementation each,
for the admin, the CSV exports and the command.

Pure functions, no ORM. Money is integer fen everywhere else; it becomes yuan text only here.
"""

import json
from datetime import date, datetime
from typing import Any
from urllib.parse import parse_qsl

from django.utils import timezone
from django.utils.translation import gettext

# China time, the one zone of the whole product: Django's default time zone (TIME_ZONE, fixed at
# Asia/Shanghai in the settings), which is also the zone of every time the platform sends.
CHINA = timezone.get_default_timezone()
DATE_FORMAT = "%Y-%m-%d"
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"


def fen_to_yuan(fen: int | None, *, grouping: bool = False) -> str:
    """Return fen as yuan with two decimals: ``1250`` → ``12.50`` (``1,234.50`` when grouping).

    Integer arithmetic only, so no float ever rounds a cent away; ``None`` counts as 0.
    """
    fen = fen or 0
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), 100)
    whole_text = f"{whole:,}" if grouping else str(whole)
    return f"{sign}{whole_text}.{cents:02d}"


def yuan(fen: int | None) -> str:
    """Return fen for people to read: ``1250`` → ``¥12.50``, ``123450`` → ``¥1,234.50``."""
    return f"¥{fen_to_yuan(fen, grouping=True)}"


def china_time(moment: datetime | None) -> str:
    """Return an aware time as ``YYYY-MM-DD HH:MM:SS`` in Asia/Shanghai; ``None`` → ``""``."""
    if moment is None:
        return ""
    return moment.astimezone(CHINA).strftime(TIME_FORMAT)


def mask_mobile(mobile: str | None) -> str:
    """Hide the middle of a mobile number: ``13800138000`` → ``138****8000``.

    Numbers of 8 characters or more keep their first 3 and last 4; shorter ones keep only the
    first and last character, so a short or odd value never comes out whole.
    """
    text = (mobile or "").strip()
    if len(text) >= 8:
        return f"{text[:3]}****{text[-4:]}"
    if len(text) >= 3:
        return f"{text[0]}{'*' * (len(text) - 2)}{text[-1]}"
    return "*" * len(text)


def parse_day(text: str) -> date:
    """Read a ``YYYY-MM-DD`` day as typed in a query string or on the command line.

    Raise ValueError whose message tells the user what was wrong and what is expected: a day
    outside the product's span (``parkingops.timerange``) is refused like a typo.
    """
    # Imported here: timerange reads CHINA from this module.
    from parkingops.timerange import FIRST_DAY, LAST_DAY, day_in_range

    try:
        day = datetime.strptime(text.strip(), DATE_FORMAT).date()
    except ValueError:
        raise ValueError(
            gettext("“%(value)s” is not a date: use YYYY-MM-DD, for example 2026-11-01.")
            % {"value": text}
        ) from None
    if not day_in_range(day):
        raise ValueError(
            gettext("“%(value)s” is out of range: use a day between %(first)s and %(last)s.")
            % {"value": text, "first": FIRST_DAY.isoformat(), "last": LAST_DAY.isoformat()}
        )
    return day


def _mask_mobiles(value: Any) -> Any:
    """Return ``value`` (decoded JSON) with every ``mobile`` entry masked, at any depth."""
    if isinstance(value, dict):
        return {
            key: mask_mobile(item)
            if key == "mobile" and isinstance(item, str | int)
            else _mask_mobiles(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_mask_mobiles(item) for item in value]
    return value


def _pretty_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2)


def pretty_push_body(body: str, content_type: str, *, mask: bool = True) -> str:
    """Return a logged push body for people to read, mobile numbers masked unless ``mask`` is
    False: a JSON body indented; a form body as ``key = value`` lines, URL-decoded, with the
    JSON inside ``discounts``/``mcoupons`` indented too. Anything unreadable is returned as is.
    """
    media_type = content_type.split(";", 1)[0].strip().lower()
    if media_type == "application/json":
        try:
            data = json.loads(body)
        except ValueError:
            return body
        return _pretty_json(_mask_mobiles(data) if mask else data)
    if media_type == "application/x-www-form-urlencoded":
        lines = []
        for key, value in parse_qsl(body, keep_blank_values=True):
            shown = mask_mobile(value) if mask and key == "mobile" else value
            if value[:1] in ("[", "{"):
                try:
                    data = json.loads(value)
                except ValueError:
                    pass
                else:
                    shown = _pretty_json(_mask_mobiles(data) if mask else data)
            lines.append(f"{key} = {shown}")
        return "\n".join(lines)
    return body
