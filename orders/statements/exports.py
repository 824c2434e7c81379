"""The statement's file: per holder, each plate's orders then that plate's subtotal, then the
holder's subtotal; the total last. A ``row_kind`` column (``orders.exports.rowkinds``) says
which row is which: a system keeps the ``order`` rows, a clerk filters.

``STATEMENT_COLUMNS`` and ``statement_table`` are what every writer renders (this CSV, the XLSX
twin ``statement_xlsx``). Money in yuan (and the amount paid in fen too), the unit in each
header. The orders come from a server-side cursor in chunks, their discounts and coupons read
once per chunk; the subtotals are the database's (``selectors.statement``), so memory stays
flat for a big month.
"""

from collections.abc import Iterator
from typing import IO, Any

from django.utils.translation import gettext, pgettext_lazy

from orders import selectors as order_selectors
from orders.exports.rowkinds import ROW_KIND, RowKind
from orders.statements import selectors
from parkingops import tabular, xlsx
from parkingops.db_routers import on_replica
from parkingops.tabular import Column, Kind, fixed, money

STATEMENT_COLUMNS: tuple[Column, ...] = (
    ROW_KIND,
    Column(pgettext_lazy("CSV header", "holder"), Kind.TEXT, "holder"),
    Column(pgettext_lazy("CSV header", "plate"), Kind.TEXT, "plate"),
    Column(pgettext_lazy("CSV header", "pay_serial"), Kind.TEXT, "pay_serial"),
    Column(pgettext_lazy("CSV header", "parking_serial"), Kind.TEXT, "parking_serial"),
    Column(pgettext_lazy("CSV header", "park_uuid"), Kind.TEXT, "park__park_uuid"),
    Column(pgettext_lazy("CSV header", "park_name"), Kind.TEXT, "park__name"),
    Column(pgettext_lazy("CSV header", "pay_time"), Kind.TIME, "pay_time"),
    Column(pgettext_lazy("CSV header", "order_count"), Kind.NUMBER, "orders"),
    Column(pgettext_lazy("CSV header", "pay_value_yuan"), Kind.YUAN, "paid"),
    Column(pgettext_lazy("CSV header", "pay_value_fen"), Kind.FEN, "paid"),
    Column(pgettext_lazy("CSV header", "discount_relief_yuan"), Kind.YUAN, "relief"),
    Column(pgettext_lazy("CSV header", "coupon_money_yuan"), Kind.YUAN, "coupon_value"),
    # The renewals and stays of the subtotal lines (blank in order rows), after the orders'
    # columns so files read by position keep their layout; each unit its own column.
    Column(pgettext_lazy("CSV header", "renewal_count"), Kind.NUMBER, "renewals"),
    Column(pgettext_lazy("CSV header", "renewal_value_yuan"), Kind.YUAN, "renewal_value"),
    Column(pgettext_lazy("CSV header", "stay_count"), Kind.NUMBER, "stays"),
    Column(pgettext_lazy("CSV header", "stay_minutes"), Kind.NUMBER, "stay_minutes"),
    Column(pgettext_lazy("CSV header", "stay_gap_yuan"), Kind.YUAN, "stay_gap"),
)
# The statement for machines: the same rows, the JSON's field names, ISO-8601 times, money in
# fen and yuan; the total row's holder is blank.
STATEMENT_MACHINE_COLUMNS: tuple[Column, ...] = (
    fixed("row_kind", Kind.TEXT),
    fixed("holder", Kind.TEXT),
    fixed("plate", Kind.TEXT),
    fixed("pay_serial", Kind.TEXT),
    fixed("parking_serial", Kind.TEXT),
    fixed("park_uuid", Kind.TEXT, "park__park_uuid"),
    fixed("park_name", Kind.TEXT, "park__name"),
    fixed("pay_time", Kind.INSTANT),
    fixed("order_count", Kind.NUMBER, "orders"),
    *money("pay_value", "paid"),
    *money("discount_relief", "relief"),
    *money("coupon_value", "coupon_value"),
    fixed("renewal_count", Kind.NUMBER, "renewals"),
    *money("renewal_value"),
    fixed("stay_count", Kind.NUMBER, "stays"),
    fixed("stay_minutes", Kind.NUMBER),
    *money("stay_gap"),
)
_LINE_ONLY = ("renewals", "renewal_value", "stays", "stay_minutes", "stay_gap")
# The order's own fields a row reads (the rest are its totals, or the subtotal lines').
_ORDER_FIELDS = (
    "pk",
    "whitelist_entry__holder",
    "plate",
    "pay_serial",
    "parking_serial",
    "park__park_uuid",
    "park__name",
    "pay_time",
    "pay_value",
)
_BLANK_ORDER = {name: None for name in _ORDER_FIELDS if name not in ("plate",)}


def statement_table(statement: selectors.Statement) -> Iterator[dict[str, Any]]:
    """Yield the statement's rows in reading order: per holder, each plate's orders and the
    plate's subtotal, then the holder's subtotal; the total last.

    A plate with renewals or stays but no order in the period has its subtotal only, after the
    holder's plates with orders; a holder without any order comes after those with orders.
    """
    lines = {
        (line.holder, line.plate): line for entry in statement.holders for line in entry.plates
    }
    holders = {entry.holder: entry.total for entry in statement.holders}
    plates_of: dict[str, list[str]] = {}
    for holder, plate in lines:
        plates_of.setdefault(holder, []).append(plate)
    shown: set[tuple[str, str]] = set()

    def plate_line(holder: str, plate: str) -> dict[str, Any]:
        # An order paid after the subtotals were read (a month still running) has none.
        line = lines.get((holder, plate)) or selectors.StatementLine(holder=holder, plate=plate)
        return _line_row(RowKind.PLATE_SUBTOTAL, line)

    def holder_lines(holder: str) -> Iterator[dict[str, Any]]:
        # The holder's plates without orders, then the holder's subtotal.
        for plate in plates_of.get(holder, []):
            if (holder, plate) not in shown:
                shown.add((holder, plate))
                yield plate_line(holder, plate)
        line = holders.get(holder) or selectors.StatementLine(holder=holder, plate="")
        yield _line_row(RowKind.HOLDER_SUBTOTAL, line)

    previous: tuple[str, str] | None = None
    done: set[str] = set()
    for row in _order_rows(statement.query):
        key = (row["holder"], row["plate"])
        if previous is not None and key != previous:
            shown.add(previous)
            yield plate_line(*previous)
            if key[0] != previous[0]:
                done.add(previous[0])
                yield from holder_lines(previous[0])
        yield row
        previous = key
    if previous is not None:
        shown.add(previous)
        yield plate_line(*previous)
        done.add(previous[0])
        yield from holder_lines(previous[0])
    for entry in statement.holders:
        if entry.holder not in done:
            yield from holder_lines(entry.holder)
    yield {**_line_row(RowKind.TOTAL, statement.total), "holder": gettext("Total")}


def statement_csv(statement: selectors.Statement) -> Iterator[str]:
    """Return the statement as CSV (``statement_table``'s rows)."""
    return tabular.csv_text(STATEMENT_COLUMNS, statement_table(statement))


def statement_machine_csv(statement: selectors.Statement) -> Iterator[str]:
    """Return the statement for machines (``STATEMENT_MACHINE_COLUMNS``): the CSV's rows."""
    rows = (
        {**row, "holder": ""} if row["row_kind"] == RowKind.TOTAL else row
        for row in statement_table(statement)
    )
    return tabular.csv_text(STATEMENT_MACHINE_COLUMNS, rows)


def statement_xlsx(statement: selectors.Statement, *, about: xlsx.About) -> IO[bytes]:
    """Return the statement's Excel twin: one sheet with the same rows as the CSV, subtotals
    among the orders (not a sheet per holder: holder names make poor sheet names — 31
    characters, forbidden characters, hundreds of sheets — while the autofilter on ``holder``
    and ``row_kind`` gives each holder's view)."""
    subtotals = sum(len(entry.plates) + 1 for entry in statement.holders) + 1
    count = selectors.statement_orders(query=statement.query).count() + subtotals
    table = xlsx.Table(gettext("Statement"), STATEMENT_COLUMNS, statement_table(statement), count)
    return xlsx.workbook([table], about)


@on_replica
def _order_rows(query: selectors.StatementQuery) -> Iterator[dict[str, Any]]:
    orders = selectors.statement_orders(query=query).values(*_ORDER_FIELDS)
    rows = orders.iterator(chunk_size=tabular.CHUNK_ROWS)
    for batch in tabular.batched(rows, tabular.CHUNK_ROWS):
        extras = order_selectors.order_extras(order_ids=[row["pk"] for row in batch])
        for row in batch:
            extra = extras[row["pk"]]
            yield {
                **row,
                "row_kind": RowKind.ORDER.value,
                "holder": row["whitelist_entry__holder"],
                "orders": None,
                "paid": row["pay_value"],
                "relief": extra.relief,
                "coupon_value": extra.coupon_value,
                **dict.fromkeys(_LINE_ONLY),
            }


def _line_row(kind: RowKind, line: selectors.StatementLine) -> dict[str, Any]:
    return {
        **_BLANK_ORDER,
        "row_kind": kind.value,
        "holder": line.holder,
        "plate": line.plate or None,
        "orders": line.orders,
        "paid": line.paid,
        "relief": line.relief,
        "coupon_value": line.coupon_value,
        "renewals": line.renewals,
        "renewal_value": line.renewal_value,
        "stays": line.stays,
        "stay_minutes": line.stay_minutes,
        "stay_gap": line.stay_gap,
    }
