"""The order CSV's columns: each described once, for the Python writer (``orders.exports.orders``)
and the PostgreSQL COPY writer (``orders.exports.copy``).

A column's ``source`` is a field of the order (as ``values()`` names it) or one of its totals:
``relief``, ``mobiles`` (``;``-joined, masked unless the reader may see personal data),
``coupons`` and ``coupon_value``, or ``channel_name`` (the name finance gave the channel code,
empty when none). Those carry their ``sql``: the expression over the COPY's per-order discount
(``d``) and coupon (``c``) totals, or its channel names (``ch``); the order's own fields need
none.
"""

from django.utils.translation import pgettext_lazy

from parkingops.tabular import Column, Kind

ORDER_COLUMNS: tuple[Column, ...] = (
    Column(pgettext_lazy("CSV header", "pay_serial"), Kind.TEXT, "pay_serial"),
    Column(pgettext_lazy("CSV header", "parking_serial"), Kind.TEXT, "parking_serial"),
    Column(pgettext_lazy("CSV header", "park_uuid"), Kind.TEXT, "park__park_uuid"),
    Column(pgettext_lazy("CSV header", "park_name"), Kind.TEXT, "park__name"),
    Column(pgettext_lazy("CSV header", "plate"), Kind.TEXT, "plate"),
    Column(pgettext_lazy("CSV header", "pay_time"), Kind.TIME, "pay_time"),
    Column(pgettext_lazy("CSV header", "pay_value_yuan"), Kind.YUAN, "pay_value"),
    Column(pgettext_lazy("CSV header", "pay_value_fen"), Kind.FEN, "pay_value"),
    Column(pgettext_lazy("CSV header", "channel"), Kind.TEXT, "channel"),
    Column(pgettext_lazy("CSV header", "identity"), Kind.TEXT, "identity"),
    Column(
        pgettext_lazy("CSV header", "discount_relief_yuan"),
        Kind.YUAN,
        "relief",
        sql="COALESCE(d.relief, 0)",
    ),
    Column(pgettext_lazy("CSV header", "discount_mobiles"), Kind.TEXT, "mobiles", sql="d.mobiles"),
    Column(
        pgettext_lazy("CSV header", "coupon_count"),
        Kind.NUMBER,
        "coupons",
        sql="COALESCE(c.coupons, 0)",
    ),
    Column(
        pgettext_lazy("CSV header", "coupon_value_total_fen"),
        Kind.FEN,
        "coupon_value",
        sql="COALESCE(c.coupon_value, 0)",
    ),
    Column(pgettext_lazy("CSV header", "received_at"), Kind.TIME, "received_at"),
    # After the existing columns, so files read by position keep their layout.
    Column(pgettext_lazy("CSV header", "channel_name"), Kind.TEXT, "channel_name", sql="ch.name"),
)

# The order's own fields the CSV reads (the totals are computed beside them).
ORDER_FIELDS: tuple[str, ...] = tuple(
    dict.fromkeys(column.source for column in ORDER_COLUMNS if column.sql is None)
)
