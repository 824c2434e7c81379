"""Merchant-coupon types and their units: the one home of what a coupon's value means and which
values may be added up.

The platform's ``coupon_type`` (its DiscountType, docs/platform-api.md): only type 1 (amount)
is money, its value in fen. A time coupon's value is minutes (the reading the contract gives,
and what the platform's demo coupons of 60 and 120 are). A percentage coupon's value is a rate:
adding rates means nothing, so they are counted, never summed. Free-of-charge, different-pricing
and long-term coupons, and a type the contract does not name, have no unit the contract defines:
their value is shown as sent and counted, never summed. Every page, the API and every export
read these functions, so no screen or file adds unlike units.
"""

from django.db import models
from django.db.models import Q, Sum
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from parkingops.formatting import yuan


class CouponType(models.IntegerChoices):
    """The platform's merchant-coupon types (DiscountType)."""

    AMOUNT = 1, _("amount")
    TIME = 2, _("time")
    FREE = 3, _("free of charge")
    PRICING = 4, _("different pricing")
    LONG_TERM = 5, _("long-term coupon")
    PERCENTAGE = 6, _("percentage")


class Unit(models.TextChoices):
    """What a coupon's value counts."""

    FEN = "fen", _("fen (shown in yuan)")
    MINUTES = "minutes", _("minutes")
    PERCENT = "percent", _("percent (a rate, never summed)")
    AS_SENT = "as_sent", _("as sent (no unit defined, never summed)")


UNITS: dict[int, Unit] = {
    CouponType.AMOUNT: Unit.FEN,
    CouponType.TIME: Unit.MINUTES,
    CouponType.PERCENTAGE: Unit.PERCENT,
}
# The units whose values add up into a meaningful total (money; minutes of parking).
SUMMED_UNITS = (Unit.FEN, Unit.MINUTES)
SUMMED_TYPES = tuple(sorted(code for code, unit in UNITS.items() if unit in SUMMED_UNITS))

# Money from coupons: the face value of amount coupons alone (fen).
AMOUNT_VALUE = Sum("coupon_value", filter=Q(coupon_type=CouponType.AMOUNT))
# What a group of coupons of one type adds up to: NULL for a type that is never summed.
SUMMED_VALUE = Sum("coupon_value", filter=Q(coupon_type__in=SUMMED_TYPES))


def unit_of(coupon_type: int | None) -> Unit:
    """Return the unit of a coupon type's values."""
    return UNITS.get(coupon_type, Unit.AS_SENT)


def is_summed(coupon_type: int | None) -> bool:
    """Whether the values of this type add up (money or minutes) or are only counted."""
    return unit_of(coupon_type) in SUMMED_UNITS


def type_label(coupon_type: int | None) -> str:
    """Return the documented name of a type, an unknown type's number, or "" for none."""
    if coupon_type in CouponType.values:
        return str(CouponType(coupon_type).label)
    return "" if coupon_type is None else str(coupon_type)


def unit_label(coupon_type: int | None) -> str:
    """Return the short unit a type's value is written in: 元, 分钟, %, or "" when undefined."""
    return {
        Unit.FEN: gettext("yuan"),
        Unit.MINUTES: gettext("minutes"),
        Unit.PERCENT: "%",
    }.get(unit_of(coupon_type), "")


def value_text(coupon_type: int | None, value: int | None) -> str:
    """Return a value as a clerk reads it: ``¥5.00``, ``120 分钟``, ``80%``, or the number."""
    if value is None:
        return ""
    unit = unit_of(coupon_type)
    if unit == Unit.FEN:
        return yuan(value)
    if unit == Unit.MINUTES:
        return gettext("%(value)s minutes") % {"value": value}
    if unit == Unit.PERCENT:
        return f"{value}%"
    return str(value)
