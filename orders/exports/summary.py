"""The daily summary CSV: one row per China-time day × park × channel, then the total
(``summary_csv``)."""

from collections.abc import Iterator
from dataclasses import asdict
from typing import Any

from django.utils.translation import gettext, pgettext_lazy

from orders import selectors
from parkingops import tabular
from parkingops.tabular import Column, Kind

SUMMARY_COLUMNS: tuple[Column, ...] = (
    Column(pgettext_lazy("CSV header", "date"), Kind.TEXT, "date"),
    Column(pgettext_lazy("CSV header", "park_uuid"), Kind.TEXT, "park_uuid"),
    Column(pgettext_lazy("CSV header", "park_name"), Kind.TEXT, "park_name"),
    Column(pgettext_lazy("CSV header", "channel"), Kind.TEXT, "channel"),
    Column(pgettext_lazy("CSV header", "order_count"), Kind.NUMBER, "orders"),
    Column(pgettext_lazy("CSV header", "pay_value_yuan"), Kind.YUAN, "paid"),
    Column(pgettext_lazy("CSV header", "pay_value_fen"), Kind.FEN, "paid"),
    Column(pgettext_lazy("CSV header", "discount_relief_yuan"), Kind.YUAN, "relief"),
    Column(pgettext_lazy("CSV header", "coupon_count"), Kind.NUMBER, "coupons"),
    # Amount coupons only (fen): the one coupon value that is money (orders.coupons).
    Column(pgettext_lazy("CSV header", "coupon_value_total"), Kind.FEN, "coupon_value"),
    # After the existing columns, so files read by position keep their layout.
    Column(pgettext_lazy("CSV header", "channel_name"), Kind.TEXT, "channel_name"),
)


def summary_csv(summary: selectors.DailySummary) -> Iterator[str]:
    """Return the daily summary as CSV: one row per day × park × channel, then the total."""
    rows = [_summary_row(row.day.isoformat(), row) for row in summary.rows]
    rows.append(_summary_row(gettext("Total"), summary.total))
    return tabular.csv_text(SUMMARY_COLUMNS, rows)


def _summary_row(first: str, row: selectors.SummaryRow) -> dict[str, Any]:
    return {**asdict(row), "date": first}
