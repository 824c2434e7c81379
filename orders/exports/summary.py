"""The daily summary's files: the table (``summary_csv``: per China-time day × park × channel,
each day's subtotal after its rows, the subtotals per park, the total) and the pivot
(``pivot_csv``: days × parks, amount paid), each also as an Excel file (``summary_xlsx``). A
``row_kind`` column marks each row (``orders.exports.rowkinds``).

``summary_table`` and ``pivot_table`` give the rows and columns every writer (this CSV, the XLSX
twin) renders; the admin page shows the same rows.
"""

from collections.abc import Iterator, Sequence
from dataclasses import fields
from typing import IO, Any

from django.utils.translation import gettext, pgettext_lazy

from orders import selectors
from orders.exports.rowkinds import ROW_KIND, RowKind
from parkingops import tabular, xlsx
from parkingops.tabular import Column, Kind, fixed, money

SUMMARY_COLUMNS: tuple[Column, ...] = (
    ROW_KIND,
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
    Column(pgettext_lazy("CSV header", "coupon_value_total_fen"), Kind.FEN, "coupon_value"),
    # After the existing columns, so files read by position keep their layout.
    Column(pgettext_lazy("CSV header", "channel_name"), Kind.TEXT, "channel_name"),
)

# The files of the summary's views (``?view=``), the page's table being the same rows.
VIEWS = ("rows", "pivot")

# The table for machines: the JSON's field names, money in fen and yuan; ``date`` is blank in
# the park subtotals and the total (as the JSON's null).
SUMMARY_MACHINE_COLUMNS: tuple[Column, ...] = (
    fixed("row_kind", Kind.TEXT),
    fixed("date", Kind.TEXT),
    fixed("park_uuid", Kind.TEXT),
    fixed("park_name", Kind.TEXT),
    fixed("channel", Kind.TEXT),
    fixed("channel_name", Kind.TEXT),
    fixed("order_count", Kind.NUMBER, "orders"),
    *money("pay_value", "paid"),
    *money("discount_relief", "relief"),
    fixed("coupon_count", Kind.NUMBER, "coupons"),
    *money("coupon_value_total", "coupon_value"),
)


def summary_table(summary: selectors.DailySummary) -> Iterator[dict[str, Any]]:
    """Yield the summary's rows in reading order: each day's groups then that day's subtotal,
    then the subtotal of each park, then the total."""
    days = {row.day: row for row in summary.days}
    previous = None
    for row in summary.rows:
        if previous is not None and row.day != previous:
            yield _summary_row(RowKind.DAY_SUBTOTAL, previous.isoformat(), days[previous])
        yield _summary_row(RowKind.DETAIL, row.day.isoformat(), row)
        previous = row.day
    if previous is not None:
        yield _summary_row(RowKind.DAY_SUBTOTAL, previous.isoformat(), days[previous])
    for row in summary.parks:
        yield _summary_row(RowKind.PARK_SUBTOTAL, "", row)
    yield _summary_row(RowKind.TOTAL, gettext("Total"), summary.total)


def summary_csv(summary: selectors.DailySummary) -> Iterator[str]:
    """Return the summary table as CSV (``summary_table``'s rows)."""
    return tabular.csv_text(SUMMARY_COLUMNS, summary_table(summary))


def _summary_row(kind: RowKind, first: str, row: selectors.SummaryRow) -> dict[str, Any]:
    # The fields one level deep (they are plain values): ``asdict`` copies each one deeply,
    # and a month is thousands of rows.
    values = {name: getattr(row, name) for name in _SUMMARY_FIELDS}
    return {**values, "date": first, "row_kind": kind.value}


_SUMMARY_FIELDS = tuple(f.name for f in fields(selectors.SummaryRow))


# --- Pivot -----------------------------------------------------------------------------------


def pivot_columns(pivot: selectors.Pivot) -> list[Column]:
    """Return the pivot's columns: the day, one per park (amount paid, yuan), the day's total.

    A park's header is its name and uuid (two parks may share a name) with the unit.
    """
    parks = [
        Column(
            gettext("%(park)s [%(uuid)s] (yuan)")
            % {"park": park.park_name, "uuid": park.park_uuid},
            Kind.YUAN,
            f"park_{index}",
        )
        for index, park in enumerate(pivot.parks)
    ]
    return [
        ROW_KIND,
        Column(pgettext_lazy("CSV header", "date"), Kind.TEXT, "date"),
        *parks,
        Column(pgettext_lazy("CSV header", "pay_value_yuan"), Kind.YUAN, "total"),
    ]


def pivot_table(pivot: selectors.Pivot) -> Iterator[dict[str, Any]]:
    """Yield a row per day (every day of the range), then the total per park."""
    for day in pivot.days:
        yield _pivot_row(RowKind.DETAIL, day.day.isoformat(), day.paid, day.total)
    totals = [park.paid for park in pivot.parks]
    yield _pivot_row(RowKind.TOTAL, gettext("Total"), totals, pivot.total)


def pivot_csv(summary: selectors.DailySummary) -> Iterator[str]:
    """Return the pivot (days × parks, amount paid in yuan) as CSV."""
    pivot = summary.pivot
    return tabular.csv_text(pivot_columns(pivot), pivot_table(pivot))


def _pivot_row(kind: RowKind, first: str, paid: Sequence[int], total: int) -> dict[str, Any]:
    row = {f"park_{index}": value for index, value in enumerate(paid)}
    return {**row, "row_kind": kind.value, "date": first, "total": total}


def summary_name(view: str) -> str:
    """Return the start of the file name of ``view`` (one of VIEWS)."""
    return "daily_summary_pivot" if view == "pivot" else "daily_summary"


def summary_file(summary: selectors.DailySummary, view: str) -> tuple[Iterator[str], str]:
    """Return the CSV of ``view`` (one of VIEWS) and the start of its file name."""
    if view == "pivot":
        return pivot_csv(summary), summary_name(view)
    return summary_csv(summary), summary_name(view)


def summary_machine_csv(summary: selectors.DailySummary, view: str) -> Iterator[str]:
    """Return the file for machines of ``view``: the table (``SUMMARY_MACHINE_COLUMNS``), or
    the pivot with a column per park headed by its uuid and the day's ``pay_value_fen``, in
    fen. The total rows' ``date`` is blank."""
    if view == "pivot":
        pivot = summary.pivot
        columns = [
            fixed("row_kind", Kind.TEXT),
            fixed("date", Kind.TEXT),
            *[fixed(park.park_uuid, Kind.FEN, f"park_{i}") for i, park in enumerate(pivot.parks)],
            fixed("pay_value_fen", Kind.FEN, "total"),
        ]
        return tabular.csv_text(columns, _machine(pivot_table(pivot)))
    return tabular.csv_text(SUMMARY_MACHINE_COLUMNS, _machine(summary_table(summary)))


def _machine(rows: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for row in rows:
        yield {**row, "date": "" if row["row_kind"] == RowKind.TOTAL else row["date"]}


def summary_xlsx(
    summary: selectors.DailySummary, view: str, *, about: xlsx.About
) -> tuple[IO[bytes], str]:
    """Return the Excel twin of ``summary_file``: the same view's rows and columns, and the
    start of its file name."""
    if view == "pivot":
        columns, rows = pivot_columns(summary.pivot), list(pivot_table(summary.pivot))
        title, name = gettext("Pivot"), "daily_summary_pivot"
    else:
        columns, rows = SUMMARY_COLUMNS, list(summary_table(summary))
        title, name = gettext("Daily summary"), "daily_summary"
    return xlsx.workbook([xlsx.Table(title, columns, rows, len(rows))], about), name
