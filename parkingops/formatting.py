"""How money, times and mobile numbers are shown, and days read: one implementation each,
for the admin, the CSV exports and the command.

Pure functions, no ORM. Money is integer fen everywhere else; it becomes yuan text only here.
"""

import json
import re
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


def hours_minutes(seconds: int | None) -> str:
    """Return a length of time for people to read: ``7500`` → ``2 小时 05 分`` (in Chinese);
    ``None`` → ``""``. Seconds are dropped, never rounded up."""
    if seconds is None:
        return ""
    hours, minutes = divmod(max(seconds, 0) // 60, 60)
    return gettext("%(hours)d h %(minutes)02d min") % {"hours": hours, "minutes": minutes}


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


# A mobile number inside any text: 11 digits 13x … 19x, maybe after +86 or 86 and grouped 3-4-4
# by spaces or hyphens, never part of a longer run of digits (a serial, a time in ms). Digits
# may follow a percent escape directly (``%2213800138000`` in a raw form body).
_MOBILE_NUMBER = re.compile(
    r"(?:(?<=%[0-9A-Fa-f]{2})|(?<![0-9]))"
    r"(?:(?:\+|%2B)?86[ -]?)?1[3-9][0-9](?:[ -]?[0-9]{4}){2}"
    r"(?![0-9])"
)
# Whatever stands under a ``mobile`` key, in any shape the push log holds text: JSON
# (``"mobile": "…"``), JSON inside a JSON string (``\"mobile\":\"…\"``), a form or its shown
# lines (``mobile=…``, ``mobile = …``), percent-encoded (``mobile%22%3A%22…``).
_QUOTE = r"(?:\\*[\"']|%22|%27|[ \t+])*"
_MOBILE_ENTRY = re.compile(
    rf"(?<![A-Za-z_])(?P<key>mobile{_QUOTE}(?:[:=]|%3A|%3D){_QUOTE})"
    r"(?P<value>(?:(?!%2[267Cc]|%5[CcDd]|%7[Dd])[^\"'\\&,}\]\r\n])*)",
    re.IGNORECASE,
)
_NOT_A_NUMBER = {"", "null", "true", "false"}


def _mask_entry(match: re.Match) -> str:
    value = match["value"]
    if value.strip().lower() in _NOT_A_NUMBER:
        return match[0]
    return match["key"] + mask_mobile(value)


def mask_mobiles_in_text(text: str) -> str:
    """Return ``text`` with every mobile number masked, whatever its shape: the value under
    any ``mobile`` key, and every mobile-number-like run of digits. Works on text that no
    longer parses (a body cut at 64 KiB), so it is the last pass over anything shown.
    """
    text = _MOBILE_ENTRY.sub(_mask_entry, text)
    return _MOBILE_NUMBER.sub(lambda match: mask_mobile(match[0]), text)


def mask_mobiles(value: Any) -> Any:
    """Return ``value`` (decoded JSON) with every mobile number masked, at any depth: every
    ``mobile`` entry, and mobile numbers inside any other text or number.
    """
    if isinstance(value, dict):
        return {
            key: mask_mobile(str(item))
            if str(key).lower() == "mobile" and isinstance(item, str | int)
            else mask_mobiles(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [mask_mobiles(item) for item in value]
    if isinstance(value, str):
        return mask_mobiles_in_text(value)
    if isinstance(value, int) and not isinstance(value, bool):
        text = str(value)
        return mask_mobile(text) if _MOBILE_NUMBER.fullmatch(text) else value
    return value


def _pretty_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2)


def _embedded_json(text: str) -> Any:
    """Return the array or object a JSON-encoded string holds (``"[{…}]"``), else None."""
    if text.strip()[:1] not in ("[", "{"):
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


def _unfold(value: Any) -> Any:
    """Return decoded JSON with JSON-encoded strings inside it decoded too, for reading."""
    if isinstance(value, dict):
        return {key: _unfold(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_unfold(item) for item in value]
    if isinstance(value, str) and (inner := _embedded_json(value)) is not None:
        return _unfold(inner)
    return value


def _readable_body(body: str, media_type: str) -> str:
    if media_type == "application/json":
        try:
            return _pretty_json(_unfold(json.loads(body)))
        except ValueError:
            return body
    if media_type == "application/x-www-form-urlencoded":
        lines = []
        for key, value in parse_qsl(body, keep_blank_values=True):
            inner = _embedded_json(value)
            lines.append(f"{key} = {value if inner is None else _pretty_json(_unfold(inner))}")
        return "\n".join(lines)
    return body


def pretty_push_body(body: str, content_type: str, *, mask: bool = True) -> str:
    """Return a logged push body for people to read, mobile numbers masked unless ``mask`` is
    False: a JSON body indented; a form body as ``key = value`` lines, URL-decoded; JSON
    inside values (``discounts``, ``mcoupons``) decoded and indented too. Anything unreadable
    (another content type, a body cut at 64 KiB) is shown as is. Masking goes by content, over
    the final text, so no shape of body shows a mobile number whole.
    """
    media_type = content_type.split(";", 1)[0].strip().lower()
    shown = _readable_body(body, media_type)
    return mask_mobiles_in_text(shown) if mask else shown
