"""The daily summary CSV (``summary_csv``) and its XLSX twin (``summary_xlsx``): one row per
China-time day × park × channel, then the total."""

from collections.abc import Iterator
from dataclasses import asdict
from typing import IO, Any

from django.utils.translation import gettext, pgettext_lazy

from orders import selectors
from parkingops import tabular, xlsx
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
    Column(pgettext_lazy("CSV header", "coupon_value_total_fen"), Kind.FEN, "coupon_value"),
)


def summary_csv(summary: selectors.DailySummary) -> Iterator[str]:
    """Return the daily summary as CSV: one row per day × park × channel, then the total."""
    return tabular.csv_text(SUMMARY_COLUMNS, _summary_rows(summary))


def summary_xlsx(summary: selectors.DailySummary, *, about: xlsx.About) -> IO[bytes]:
    """Return the XLSX twin of the summary CSV (see ``xlsx.workbook``)."""
    rows = _summary_rows(summary)
    table = xlsx.Table(gettext("Daily summary"), SUMMARY_COLUMNS, rows, len(rows))
    return xlsx.workbook([table], about)


def _summary_rows(summary: selectors.DailySummary) -> list[dict[str, Any]]:
    rows = [_summary_row(row.day.isoformat(), row) for row in summary.rows]
    rows.append(_summary_row(gettext("Total"), summary.total))
    return rows


def _summary_row(first: str, row: selectors.SummaryRow) -> dict[str, Any]:
    return {**asdict(row), "date": first}
