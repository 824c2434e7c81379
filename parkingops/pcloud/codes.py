"""The platform's numeric code tables a clerk reads: plate colour, car type, vehicle type and
fixed-car (VIP) type, each with its documented labels (docs/platform-pushes.md), in one place.

The platform may send a code no table lists: it is stored and shown as it is. Merchant-coupon
types live with their units in ``orders.coupons``; payment channels are finance's table
(``orders.models.Channel``).
"""

from django.db import models
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


class PlateColour(models.IntegerChoices):
    UNKNOWN = -1, _("unknown")
    BLUE = 1, _("blue")
    YELLOW = 2, _("yellow")
    WHITE = 3, _("white")
    BLACK = 4, _("black")
    GREEN = 5, _("green")
    RED = 6, _("red")
    SILVER = 7, _("silver")
    GREY = 8, _("grey")
    ORANGE = 9, _("orange")


class CarType(models.IntegerChoices):
    UNKNOWN = -1, _("unknown")
    TEMPORARY = 1, _("temporary car")
    MONTHLY = 2, _("monthly car")
    VIP = 3, _("VIP / free car")
    STORED_VALUE = 4, _("stored-value car")


class VehicleType(models.IntegerChoices):
    UNKNOWN = -1, _("unknown")
    SMALL = 1, _("small vehicle")
    LARGE = 2, _("large vehicle")
    EXTRA_LARGE = 3, _("extra-large vehicle")
    MEDIUM = 4, _("medium vehicle")
    ELECTRIC = 5, _("electric vehicle")


class VipType(models.IntegerChoices):
    MONTHLY = 1, _("monthly card")
    STORED_VALUE = 2, _("stored value")
    STORED_VISITS = 3, _("stored visits")
    STORED_DAYS = 4, _("stored days")
    YEARLY = 5, _("yearly card")
    QUARTERLY = 6, _("quarterly card")
    HALF_YEARLY = 7, _("half-yearly card")


# The platform's field names that carry these codes, and what each field is called.
FIELDS: dict[str, tuple[Promise, type[models.IntegerChoices]]] = {
    "plate_color": (_("plate colour"), PlateColour),
    "car_type": (_("car type"), CarType),
    "vehicle_type": (_("vehicle type"), VehicleType),
    "vip_type": (_("fixed-car type"), VipType),
}


def code_label(table: type[models.IntegerChoices], value: object) -> str:
    """Return a code's label, or the value as it is when the table does not list it.

    The platform sends codes as numbers or digit strings (``1``, ``"1"``, ``"-1"``).
    """
    try:
        code = int(str(value).strip())
    except ValueError:
        return "" if value is None else str(value)
    if code in table.values:
        return str(table(code).label)
    return str(value)


def labelled_codes(fields: dict) -> list[tuple[str, str, str]]:
    """Return (field name, code as sent, label) for each coded field among ``fields`` (a pushed
    or listed row's extra fields), in the tables' order."""
    return [
        (str(title), str(fields[name]), code_label(table, fields[name]))
        for name, (title, table) in FIELDS.items()
        if name in fields and fields[name] not in (None, "")
    ]


# --- the platform's answers ----------------------------------------------------------------
# What its answer codes (docs/platform-api.md, "Common rules") and the client's own outcomes
# mean, for people: the one home of these labels. The call log (``pcloud.admin``), the
# whitelist's sync state and warnings and the reconciliation's failures all show an answer
# through ``answer_label`` or ``error_label``.

NETWORK = "network"  # the client's own code: no answer could be read (``client._call_once``)
BAD_PAYLOAD = "bad_payload"  # the client's own code: an answer of an unexpected shape

ANSWERS: dict[str, Promise] = {
    "1001": _("success"),
    "1002": _("no data"),
    "401": _("unknown app or wrong signature"),
    "403": _("interface not authorised for this app"),
    "1500": _("platform internal error"),
    NETWORK: _("the platform could not be reached"),
    BAD_PAYLOAD: _("the platform's answer could not be read"),
}

# The messages the platform sends with its codes, as the fake platform and its documentation
# give them: a known code's label already says all they say.
CANNED_MESSAGES = {"success": "1001", "no data": "1002"}


def answer_label(code: str, message: str = "") -> str:
    """Return what the platform's answer ``code`` (with its ``message``) means, for people.

    A known code is its label, followed by the message when the message says more than the
    label (a 1500's cause, a network error); an unknown code is ``未知代码 <code>: <message>``.
    """
    code, message = (code or "").strip(), (message or "").strip()
    if not code and message in CANNED_MESSAGES:
        code = CANNED_MESSAGES[message]
    if code not in ANSWERS:
        if not code:
            return message
        return gettext("Unknown code %(code)s: %(message)s") % {
            "code": code,
            "message": message or "–",
        }
    label = str(ANSWERS[code])
    if not message or CANNED_MESSAGES.get(message) == code:
        return label
    return gettext("%(label)s (%(message)s)") % {"label": label, "message": message}


def error_label(text: str) -> str:
    """Return a stored platform outcome ``text`` labelled: ``"<code>: <message>"`` (a
    ``PlatformError`` as text), a bare code, or a success's message (``"success"``)."""
    text = (text or "").strip()
    code, separator, message = text.partition(": ")
    if separator and code and " " not in code:
        return answer_label(code, message)
    if text in ANSWERS:
        return answer_label(text)
    return answer_label("", text)
