"""The platform's numeric code tables a clerk reads: plate colour, car type, vehicle type and
fixed-car (VIP) type, each with its documented labels (docs/platform-pushes.md), in one place.

The platform may send a code no table lists: it is stored and shown as it is. Merchant-coupon
types live with their units in ``orders.coupons``; payment channels are finance's table
(``orders.models.Channel``).
"""

from django.db import models
from django.utils.functional import Promise
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
