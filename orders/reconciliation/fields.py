"""Comparing one listed payment with our order of the same ``pay_serial``, field by field.

Which listed field corresponds to what we hold (platform-api.md's payment list, the push
contract in push-protocol.md):

- ``pay_value`` ↔ the order's ``pay_value`` (fen);
- ``free_value`` (the platform's discount) ↔ the sum of the pushed ``discounts[].relief_value``;
- ``discount_value`` (the park's merchant discount) ↔ the sum of the pushed merchant coupons'
  ``coupon_value``, compared only when every coupon is an amount coupon (type 1): the others
  carry no money (minutes, a percentage), so their worth in fen is unknown here;
- ``value`` (the order's total) ↔ ``pay_value`` + discounts + amount coupons, under the same
  condition;
- ``plate`` (normalised both sides), ``parking_serial`` and ``channel`` ↔ the order's, as text;
- ``pay_time`` ↔ the order's, to the second.

A field the platform does not list (absent, ``null``, ``""``) is not compared. A listed field
that cannot be read (an odd type, a negative or huge amount) is a ``field_unreadable``
difference showing what was listed. ``reduce_value``, ``enter_time``, ``merchant`` and the rest
have nothing of ours to compare with.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import QuerySet

from orders import channels
from orders.reconciliation.models import ReconciliationItem
from orders.reconciliation.payments import (
    ListedPayment,
    Unreadable,
    is_listed,
    listed_money,
    listed_text,
    read_listed_time,
)
from parkingops.formatting import china_time, yuan
from whitelist import plates

Category = ReconciliationItem.Category

TEXT_LENGTH = 255  # platform_text / our_text

# Categories whose two values are money (platform_value / our_value, fen).
MONEY_CATEGORIES = frozenset(
    {
        Category.MISSING_HERE,
        Category.MISSING_AT_PLATFORM,
        Category.AMOUNT_DIFFERS,
        Category.ORDER_VALUE_DIFFERS,
        Category.FREE_VALUE_DIFFERS,
        Category.DISCOUNT_VALUE_DIFFERS,
        # Due through pay orders (the stay's fee less discounts and autopay) / paid by them.
        Category.STAY_GAP,
        Category.ORDER_WITHOUT_STAY,
    }
)

# Money categories with our side only: the platform's is not applicable (None, not 0).
OURS_ONLY = frozenset({Category.MISSING_AT_PLATFORM, Category.ORDER_WITHOUT_STAY})


@dataclass(frozen=True)
class OurOrder:
    """What we hold of one order, for the comparison (money in fen)."""

    pk: int
    pay_value: int
    pay_time: datetime
    plate: str
    parking_serial: str
    channel: str
    discount_total: int  # Σ discounts.relief_value
    coupon_total: int  # Σ coupon_value of amount coupons (type 1)
    has_other_coupons: bool  # a coupon of another (or no) type: no money value known


@dataclass(frozen=True)
class Difference:
    """One differing field: its category, the listed field, and both values."""

    category: str
    field: str
    platform_value: int | None = None
    our_value: int | None = None
    platform_text: str = ""
    our_text: str = ""


def _clip(text: str) -> str:
    return text if len(text) <= TEXT_LENGTH else text[: TEXT_LENGTH - 1] + "…"


def _as_listed(value: Any) -> str:
    """The listed value as it came, for a field that cannot be read."""
    try:
        return _clip(json.dumps(value, ensure_ascii=False, default=str))
    except ValueError:  # an integer too long to print
        return type(value).__name__


def _unreadable(field: str, value: Any, ours: str) -> Difference:
    return Difference(
        Category.FIELD_UNREADABLE, field, platform_text=_as_listed(value), our_text=_clip(ours)
    )


def _money(row: dict[str, Any], field: str, category: str, ours: int | None) -> Difference | None:
    """Compare a listed amount with ours (None: we cannot know ours, so not compared)."""
    if ours is None or not is_listed(row, field):
        return None
    try:
        listed = listed_money(row[field])
    except Unreadable:
        return _unreadable(field, row[field], yuan(ours))
    if listed == ours:
        return None
    return Difference(category, field, platform_value=listed, our_value=ours)


def _text(
    row: dict[str, Any],
    field: str,
    category: str,
    ours: str,
    normalise: Callable[[str], str] = str,
) -> Difference | None:
    if not is_listed(row, field):
        return None
    try:
        listed = normalise(listed_text(row[field]))
    except Unreadable:
        return _unreadable(field, row[field], ours)
    if listed == ours:
        return None
    return Difference(category, field, platform_text=_clip(listed), our_text=_clip(ours))


def _pay_time(payment: ListedPayment, ours: OurOrder) -> Difference | None:
    # To the second: the list has no milliseconds, a push has.
    if int(payment.pay_time.timestamp()) == int(ours.pay_time.timestamp()):
        return None
    return Difference(
        Category.PAY_TIME_DIFFERS,
        "pay_time",
        platform_text=china_time(payment.pay_time),
        our_text=china_time(ours.pay_time),
    )


def differences(payment: ListedPayment, ours: OurOrder) -> list[Difference]:
    """Return every field of ``payment`` that differs from ``ours``, in the list's order."""
    row = payment.row
    comparable = not ours.has_other_coupons
    total = ours.pay_value + ours.discount_total + ours.coupon_total
    found = [
        _money(row, "pay_value", Category.AMOUNT_DIFFERS, ours.pay_value),
        _money(row, "value", Category.ORDER_VALUE_DIFFERS, total if comparable else None),
        _money(row, "free_value", Category.FREE_VALUE_DIFFERS, ours.discount_total),
        _money(
            row,
            "discount_value",
            Category.DISCOUNT_VALUE_DIFFERS,
            ours.coupon_total if comparable else None,
        ),
        _text(row, "plate", Category.PLATE_DIFFERS, ours.plate, plates.normalise),
        _text(row, "parking_serial", Category.PARKING_SERIAL_DIFFERS, ours.parking_serial),
        _text(row, "channel", Category.CHANNEL_DIFFERS, ours.channel),
        _pay_time(payment, ours),
    ]
    return [difference for difference in found if difference is not None]


def display_pair(
    *,
    category: str,
    platform_value: int | None,
    our_value: int | None,
    platform_text: str,
    our_text: str,
    platform_name: str = "",
    our_name: str = "",
) -> tuple[str, str]:
    """Return ``(ours, the platform's)`` as people read them: money in yuan, times in China
    time (as stored), a channel by its name with the code (``*_name``: ``with_channel_names``),
    "—" where a side has no value."""
    if category in MONEY_CATEGORIES:
        return (
            "—" if our_value is None else yuan(our_value),
            "—" if platform_value is None else yuan(platform_value),
        )
    if category == ReconciliationItem.Category.CHANNEL_DIFFERS:
        our_text, platform_text = _named(our_text, our_name), _named(platform_text, platform_name)
    return our_text or "—", platform_text or "—"


def _named(code: str, name: str) -> str:
    return f"{name} ({code})" if code and name else code


def with_channel_names(items: QuerySet[ReconciliationItem]) -> QuerySet[ReconciliationItem]:
    """Annotate ``items`` with ``our_name`` and ``platform_name``: the names of the channels a
    channel difference holds as text (a subquery per row read; "" for any other difference)."""
    items = channels.with_channel_name(items, field="our_text", name="our_name")
    return channels.with_channel_name(items, field="platform_text", name="platform_name")


def values_display(item: ReconciliationItem) -> tuple[str, str]:
    """``display_pair`` of a difference (read through ``with_channel_names`` for the names)."""
    return display_pair(
        category=item.category,
        platform_value=item.platform_value,
        our_value=item.our_value,
        platform_text=item.platform_text,
        our_text=item.our_text,
        platform_name=getattr(item, "platform_name", ""),
        our_name=getattr(item, "our_name", ""),
    )


# The listed row's times (ISO-8601, UTC "…Z"): shown in China time on a difference's page.
LISTED_TIMES = ("pay_time", "enter_time")


def listed_row_display(row: Any) -> Any:
    """Return the listed row with its readable times in China time (``2026-11-01 09:00:00``),
    the rest as listed: a clerk never reads the platform's ``…Z``."""
    if not isinstance(row, dict):
        return row
    shown = dict(row)
    for key in LISTED_TIMES:
        moment = read_listed_time(row.get(key))
        if moment is not None:
            shown[key] = china_time(moment)
    return shown
