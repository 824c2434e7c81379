"""Plate numbers: the protocol's normalisation and the mainland formats the admin accepts.

Pure functions, no ORM. The push only normalises (a paid order is never refused for an odd
plate); the admin and the API validate what staff type.
"""

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

MAX_LENGTH = 16

# Full-width ASCII (U+FF01..U+FF5E) maps onto half-width by a fixed offset; U+3000 is the
# ideographic space. Separators are dropped after the width mapping, so "－" goes too.
_FULL_TO_HALF = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}
_FULL_TO_HALF[0x3000] = 0x20
_SEPARATORS = re.compile(r"[\s·•\-]+")
_LOWER_TO_UPPER = {code: code - 32 for code in range(ord("a"), ord("z") + 1)}

PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
# Serial characters: letters without I and O (they read as 1 and 0), and digits.
_SERIAL = "[A-HJ-NP-Z0-9]"
_ENERGY = "[A-HJK]"
_P = f"[{PROVINCES}]"

_D = "[0-9]"  # not \d, which also matches full-width and other Unicode digits

PLATE_FORMATS = [
    # 7 characters: province, region letter, 5 serial characters.
    re.compile(rf"{_P}[A-Z]{_SERIAL}{{5}}"),
    # 8 characters, new energy: an energy letter first (small cars) or last (large ones).
    re.compile(rf"{_P}[A-Z](?:{_ENERGY}{_SERIAL}{_D}{{4}}|{_D}{{5}}{_ENERGY})"),
    # Trailer, coach, police, Hong Kong, Macao, consulate: 4 serial characters and a suffix.
    re.compile(rf"{_P}[A-Z]{_SERIAL}{{4}}[挂学警港澳领]"),
    # Embassy.
    re.compile(rf"使{_D}{{6}}|{_D}{{6}}使"),
]


def normalise(raw: str) -> str:
    """Return the plate in its stored form: ``川a 660p1`` and ``川Ａ·660P1`` become ``川A660P1``.

    Whitespace and the ``·``/``•``/``-`` separators are removed, full-width letters and digits
    become half-width and Latin letters upper-case; Chinese characters are kept as they are.
    """
    text = raw.translate(_FULL_TO_HALF)
    text = _SEPARATORS.sub("", text)
    return text.translate(_LOWER_TO_UPPER)


def validate(raw: str) -> str:
    """Normalise ``raw`` and check it is a mainland plate; return it or raise ValidationError."""
    plate = normalise(raw)
    if not plate:
        raise ValidationError(_("Enter a plate number."), code="empty")
    if len(plate) > MAX_LENGTH:
        raise ValidationError(
            _("A plate has at most %(max)d characters; “%(plate)s” has %(length)d."),
            code="too_long",
            params={"max": MAX_LENGTH, "plate": plate, "length": len(plate)},
        )
    if any(pattern.fullmatch(plate) for pattern in PLATE_FORMATS):
        return plate
    if plate[0] not in PROVINCES and not plate.startswith("使") and not plate.endswith("使"):
        message = _("“%(plate)s” does not start with a province abbreviation such as 京, 沪 or 粤.")
    elif len(plate) not in (7, 8):
        message = _(
            "“%(plate)s” has %(length)d characters; a plate has 7 (standard) or 8 (new energy)."
        )
    else:
        message = _(
            "“%(plate)s” is not a valid plate: after the province comes a letter, then 5 letters "
            "or digits (no I or O), or 6 for new-energy plates, or 4 and one of 挂学警港澳领."
        )
    raise ValidationError(message, code="invalid", params={"plate": plate, "length": len(plate)})
