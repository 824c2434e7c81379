"""The stay and renewal exports' columns, each described once (``parkingops.tabular.Column``),
for the admin's CSV and XLSX (``orders.admin.stays``) and any other writer of those files.

A stay row is a stay's fields as ``values()`` names them plus ``paid_by_pushes`` and ``gap``
(``orders.stays.selectors.with_gap``) and ``length`` (the stay's length as text); a renewal row
is a renewal's fields plus ``vip_type_label`` and ``channel_name`` (the name finance gave the
channel code, empty when none). Serials and plates are text (formula-safe, never numbers).
"""

from django.utils.translation import pgettext_lazy

from parkingops.tabular import Column, Kind

STAY_COLUMNS: tuple[Column, ...] = (
    Column(pgettext_lazy("CSV header", "parking_serial"), Kind.TEXT, "parking_serial"),
    Column(pgettext_lazy("CSV header", "park_uuid"), Kind.TEXT, "park__park_uuid"),
    Column(pgettext_lazy("CSV header", "park_name"), Kind.TEXT, "park__name"),
    Column(pgettext_lazy("CSV header", "plate"), Kind.TEXT, "plate"),
    Column(pgettext_lazy("CSV header", "enter_time"), Kind.TIME, "enter_time"),
    Column(pgettext_lazy("CSV header", "leave_time"), Kind.TIME, "leave_time"),
    Column(pgettext_lazy("CSV header", "parking_time_s"), Kind.NUMBER, "parking_time"),
    Column(pgettext_lazy("CSV header", "length"), Kind.TEXT, "length"),
    Column(pgettext_lazy("CSV header", "total_value_yuan"), Kind.YUAN, "total_value"),
    Column(pgettext_lazy("CSV header", "free_value_yuan"), Kind.YUAN, "free_value"),
    Column(pgettext_lazy("CSV header", "autopay_value_yuan"), Kind.YUAN, "autopay_value"),
    Column(pgettext_lazy("CSV header", "paid_by_pushes_yuan"), Kind.YUAN, "paid_by_pushes"),
    Column(pgettext_lazy("CSV header", "gap_yuan"), Kind.YUAN, "gap"),
    Column(pgettext_lazy("CSV header", "needs_review"), Kind.NUMBER, "needs_review"),
)

STAY_FIELDS: tuple[str, ...] = tuple(
    column.source for column in STAY_COLUMNS if column.source not in {"length", "needs_review"}
) + ("needs_review",)

RENEWAL_COLUMNS: tuple[Column, ...] = (
    Column(pgettext_lazy("CSV header", "pay_serial"), Kind.TEXT, "pay_serial"),
    Column(pgettext_lazy("CSV header", "park_uuid"), Kind.TEXT, "park__park_uuid"),
    Column(pgettext_lazy("CSV header", "park_name"), Kind.TEXT, "park__name"),
    Column(pgettext_lazy("CSV header", "plate"), Kind.TEXT, "plate"),
    Column(pgettext_lazy("CSV header", "vip_type"), Kind.NUMBER, "vip_type"),
    Column(pgettext_lazy("CSV header", "vip_type_name"), Kind.TEXT, "vip_type_label"),
    Column(pgettext_lazy("CSV header", "quantity"), Kind.NUMBER, "quantity"),
    Column(pgettext_lazy("CSV header", "start_time"), Kind.TIME, "start_time"),
    Column(pgettext_lazy("CSV header", "end_time"), Kind.TIME, "end_time"),
    Column(pgettext_lazy("CSV header", "pay_value_yuan"), Kind.YUAN, "pay_value"),
    Column(pgettext_lazy("CSV header", "pay_value_fen"), Kind.FEN, "pay_value"),
    Column(pgettext_lazy("CSV header", "pay_time"), Kind.TIME, "pay_time"),
    Column(pgettext_lazy("CSV header", "channel"), Kind.TEXT, "channel"),
    Column(pgettext_lazy("CSV header", "channel_name"), Kind.TEXT, "channel_name"),
)

RENEWAL_FIELDS: tuple[str, ...] = tuple(
    dict.fromkeys(
        column.source
        for column in RENEWAL_COLUMNS
        if column.source not in {"vip_type_label", "channel_name"}
    )
)
