"""The one CSV writer for orders, merchant coupons and the daily summary.

Used by the admin's export views, the ``export_orders`` command and (later) the API, so every
export has the same columns and rules:

- UTF-8 with a BOM, so Excel opens the Chinese correctly; the header row in the active
  language (Chinese by default, the English column names for English users);
- amounts in yuan with two decimals (plus the raw fen where the format has a fen column);
  times ``YYYY-MM-DD HH:MM:SS`` in Asia/Shanghai;
- text cells that a spreadsheet would run as a formula (starting ``= + - @``, tab, CR, or
  their full-width forms) are prefixed with ``'``; number columns are never touched;
- discount mobile numbers masked (``138****8000``) unless the caller says the reader may see
  personal data;
- streamed: rows come from a server-side cursor in chunks, discounts and coupons are read once
  per chunk, and text is handed on in ~64 KiB pieces, so memory stays flat for a million rows.
  On PostgreSQL the order CSV's rows come from one COPY instead, the same bytes written by the
  database (see "Orders on PostgreSQL" below).
"""

import csv
import functools
import io
import itertools
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.core.exceptions import EmptyResultSet, FieldDoesNotExist
from django.db import connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import F, OrderBy, QuerySet
from django.utils.functional import Promise
from django.utils.translation import gettext, pgettext_lazy

from orders import reconciliation, selectors
from orders.models import (
    Discount,
    MerchantCoupon,
    PayOrder,
    ReconciliationItem,
    ReconciliationRun,
)
from parkingops.db_routers import on_replica
from parkingops.formatting import CHINA, china_time, fen_to_yuan, mask_mobile
from parkingops.tabular import BOM, FORMULA_PREFIXES, escape_formula

CHUNK_ROWS = 2000
FLUSH_CHARS = 64 * 1024


@dataclass(frozen=True)
class Column:
    """One CSV column: its header and whether its cells are text (escaped) or numbers.

    The header's msgid is the column's English name from the format (``pay_serial``), so
    English users get exactly those names; the Chinese ones come from the translation.
    """

    label: Promise
    text: bool = True


ORDER_COLUMNS: tuple[Column, ...] = (
    Column(pgettext_lazy("CSV header", "pay_serial")),
    Column(pgettext_lazy("CSV header", "parking_serial")),
    Column(pgettext_lazy("CSV header", "park_uuid")),
    Column(pgettext_lazy("CSV header", "park_name")),
    Column(pgettext_lazy("CSV header", "plate")),
    Column(pgettext_lazy("CSV header", "pay_time")),
    Column(pgettext_lazy("CSV header", "pay_value_yuan"), text=False),
    Column(pgettext_lazy("CSV header", "pay_value_fen"), text=False),
    Column(pgettext_lazy("CSV header", "channel")),
    Column(pgettext_lazy("CSV header", "identity")),
    Column(pgettext_lazy("CSV header", "discount_relief_yuan"), text=False),
    Column(pgettext_lazy("CSV header", "discount_mobiles")),
    Column(pgettext_lazy("CSV header", "coupon_count"), text=False),
    Column(pgettext_lazy("CSV header", "coupon_value_total"), text=False),
    Column(pgettext_lazy("CSV header", "received_at")),
)

COUPON_COLUMNS: tuple[Column, ...] = (
    Column(pgettext_lazy("CSV header", "pay_serial")),
    Column(pgettext_lazy("CSV header", "pay_time")),
    Column(pgettext_lazy("CSV header", "park_name")),
    Column(pgettext_lazy("CSV header", "plate")),
    Column(pgettext_lazy("CSV header", "store_code")),
    Column(pgettext_lazy("CSV header", "store_name")),
    Column(pgettext_lazy("CSV header", "coupon_code")),
    Column(pgettext_lazy("CSV header", "coupon_name")),
    Column(pgettext_lazy("CSV header", "coupon_type"), text=False),
    Column(pgettext_lazy("CSV header", "coupon_value"), text=False),
    Column(pgettext_lazy("CSV header", "grant_serial")),
    Column(pgettext_lazy("CSV header", "grant_time")),
)

SUMMARY_COLUMNS: tuple[Column, ...] = (
    Column(pgettext_lazy("CSV header", "date")),
    Column(pgettext_lazy("CSV header", "park_uuid")),
    Column(pgettext_lazy("CSV header", "park_name")),
    Column(pgettext_lazy("CSV header", "channel")),
    Column(pgettext_lazy("CSV header", "order_count"), text=False),
    Column(pgettext_lazy("CSV header", "pay_value_yuan"), text=False),
    Column(pgettext_lazy("CSV header", "pay_value_fen"), text=False),
    Column(pgettext_lazy("CSV header", "discount_relief_yuan"), text=False),
    Column(pgettext_lazy("CSV header", "coupon_count"), text=False),
    Column(pgettext_lazy("CSV header", "coupon_value_total"), text=False),
)


def _csv_head(header: list[str]) -> str:
    """Return the BOM and the header row, as every CSV here starts."""
    buffer = io.StringIO()
    buffer.write(BOM)
    csv.writer(buffer).writerow(escape_formula(name) for name in header)
    return buffer.getvalue()


def _csv_text(
    columns: Sequence[Column], header: list[str], rows: Iterable[Sequence[str]]
) -> Iterator[str]:
    """Yield the CSV (BOM, header, rows) in pieces of about FLUSH_CHARS characters."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write(_csv_head(header))
    text_columns = [column.text for column in columns]
    for row in rows:
        writer.writerow(
            escape_formula(cell) if is_text else cell
            for cell, is_text in zip(row, text_columns, strict=True)
        )
        if buffer.tell() >= FLUSH_CHARS:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def _batched(rows: Iterator[Any], size: int) -> Iterator[list[Any]]:
    while batch := list(itertools.islice(rows, size)):
        yield batch


# --- Orders ----------------------------------------------------------------------------------

_ORDER_FIELDS = (
    "pk",
    "pay_serial",
    "parking_serial",
    "park__park_uuid",
    "park__name",
    "plate",
    "pay_time",
    "pay_value",
    "channel",
    "identity",
    "received_at",
)


def _order_rows(orders: QuerySet[PayOrder], *, unmask: bool) -> Iterator[list[str]]:
    rows = orders.values_list(*_ORDER_FIELDS).iterator(chunk_size=CHUNK_ROWS)
    for batch in _batched(rows, CHUNK_ROWS):
        extras = selectors.order_extras(order_ids=[row[0] for row in batch])
        for (
            pk,
            pay_serial,
            parking_serial,
            park_uuid,
            park_name,
            plate,
            pay_time,
            pay_value,
            channel,
            identity,
            received_at,
        ) in batch:
            extra = extras[pk]
            mobiles = extra.mobiles if unmask else [mask_mobile(m) for m in extra.mobiles]
            yield [
                pay_serial,
                parking_serial,
                park_uuid,
                park_name,
                plate,
                china_time(pay_time),
                fen_to_yuan(pay_value),
                str(pay_value),
                channel,
                identity,
                fen_to_yuan(extra.relief),
                ";".join(mobiles),
                str(extra.coupons),
                str(extra.coupon_value),
                china_time(received_at),
            ]


def orders_csv(orders: QuerySet[PayOrder], *, unmask: bool = False) -> Iterator[str]:
    """Return the order CSV of ``orders`` (in their order) as an iterator of text pieces.

    The header is translated now, in the caller's active language, not when streamed.
    ``unmask`` shows discount mobiles whole: only for holders of ``orders.view_personal_data``.
    On PostgreSQL the rows come from one COPY (see ``order_copy_sql``), elsewhere from the
    Python writer; both give the same bytes.
    """
    header = [str(column.label) for column in ORDER_COLUMNS]
    return _order_pieces(orders, header, unmask=unmask)


@on_replica
def _order_pieces(orders: QuerySet[PayOrder], header: list[str], *, unmask: bool) -> Iterator[str]:
    # Decided while streaming, not when the response is built: the database a read goes to
    # (a replica, for heavy reads) is chosen when the read happens.
    statement = order_copy_sql(orders, unmask=unmask)
    if statement is None:
        yield from _csv_text(ORDER_COLUMNS, header, _order_rows(orders, unmask=unmask))
    else:
        yield _csv_head(header)
        yield from _copy_text(connections[orders.db], statement)


# --- Orders on PostgreSQL: one COPY ----------------------------------------------------------
#
# The database writes the rows: ``COPY (SELECT …) TO STDOUT WITH (FORMAT csv)`` joins the park,
# totals the discounts and coupons, formats yuan and China time, masks the mobiles and escapes
# formulas, and its output is handed on in ~64 KiB pieces. Python only gathers COPY's messages
# (one per row, as PostgreSQL sends them) and never looks inside a row, so the export runs near
# the speed of COPY itself. The Python writer above is the reference; the tests hold
# the two to the same bytes. Where COPY and the csv module differ, the SQL or the hand-on makes
# up for it:
# - COPY writes an empty string as ``""`` and NULL as nothing, the csv module writes an empty
#   string as nothing: every text cell goes through NULLIF(…, '');
# - COPY ends rows with LF, the csv module with CRLF: ``_crlf`` rewrites the row ends (and only
#   them, not a line feed inside a quoted cell);
# - times are printed in the TimeZone and DateStyle the export's transaction sets (China's, ISO).

# False sends every order export through the Python writer (PostgreSQL included).
COPY_ON_POSTGRESQL = True

# The fields of an exported order row, as (column in the COPY's subquery, queryset field).
_COPY_FIELDS = (
    ("id", "pk"),
    ("pay_serial", "pay_serial"),
    ("parking_serial", "parking_serial"),
    ("park_uuid", "park__park_uuid"),
    ("park_name", "park__name"),
    ("plate", "plate"),
    ("pay_time", "pay_time"),
    ("pay_value", "pay_value"),
    ("channel", "channel"),
    ("identity", "identity"),
    ("received_at", "received_at"),
)


def order_copy_sql(orders: QuerySet[PayOrder], *, unmask: bool = False) -> str | None:
    """Return the ``COPY … TO STDOUT`` statement that writes the rows of the order CSV of
    ``orders``, or None where the Python writer does it (not PostgreSQL, COPY turned off, or
    a queryset COPY cannot reproduce exactly: sliced, grouped, a union, or ordered by anything
    but the order's own columns).

    The queryset's filters, search and ordering drive the statement: its SQL is compiled by
    Django and its parameters inlined as literals by the driver (COPY takes no parameters).
    """
    connection = connections[orders.db]
    if not COPY_ON_POSTGRESQL or connection.vendor != "postgresql":
        return None
    query = orders.query
    if query.is_sliced or query.combinator or query.group_by is not None or query.distinct_fields:
        return None
    ordering = _copy_ordering(orders)
    if ordering is None:
        return None
    connection.ensure_connection()
    if connection.connection.info.parameter_status("server_encoding") != "UTF8":
        return None  # the masking counts characters, as Python does only in UTF-8 here

    columns = [column for column, _field in _COPY_FIELDS]
    fields = [field for _column, field in _COPY_FIELDS]
    for name, _direction in ordering:
        if name not in columns:  # a column of the order not in the CSV
            columns.append(name)
            fields.append(name)
    try:
        rows = orders.order_by().values_list(*fields)
        rows_sql, rows_params = rows.query.get_compiler(connection=connection).as_sql()
        if query.has_filters():
            # Total only the discounts and coupons of the exported orders.
            ids = orders.order_by().values("pk")
            ids_sql, ids_params = ids.query.get_compiler(connection=connection).as_sql()
        else:
            ids_sql, ids_params = "", ()
    except EmptyResultSet:
        return None  # nothing to export; the Python writer does that without a query

    quote = connection.ops.quote_name
    o = {column: f"o.{quote(column)}" for column in columns}
    discounts_sql, discounts_params = _copy_discounts(quote, ids_sql, ids_params, unmask=unmask)
    coupons_sql, coupons_params = _copy_coupons(quote, ids_sql, ids_params)
    cells = [
        _sql_escape_formula(o["pay_serial"]),
        _sql_escape_formula(o["parking_serial"]),
        _sql_escape_formula(o["park_uuid"]),
        _sql_escape_formula(o["park_name"]),
        _sql_escape_formula(o["plate"]),
        _sql_china_time(o["pay_time"]),
        _sql_yuan(o["pay_value"]),
        o["pay_value"],
        _sql_escape_formula(o["channel"]),
        _sql_escape_formula(o["identity"]),
        _sql_yuan("COALESCE(d.relief, 0)"),
        _sql_escape_formula("d.mobiles"),
        "COALESCE(c.coupons, 0)",
        "COALESCE(c.coupon_value, 0)",
        _sql_china_time(o["received_at"]),
    ]
    order_by = ", ".join(f"{o[name]} {direction}" for name, direction in ordering)
    sql = (
        f"COPY (SELECT {', '.join(cells)}"  # noqa: S608 (model names; values inlined by the driver)
        f" FROM ({rows_sql}) AS o ({', '.join(quote(column) for column in columns)})"
        f" LEFT JOIN ({discounts_sql}) AS d ON d.order_id = o.id"
        f" LEFT JOIN ({coupons_sql}) AS c ON c.order_id = o.id"
        f"{' ORDER BY ' + order_by if order_by else ''}"
        f") TO STDOUT WITH (FORMAT csv)"
    )
    params = [*rows_params, *discounts_params, *coupons_params]
    return connection.ops.compose_sql(sql, params)


def _copy_ordering(orders: QuerySet[PayOrder]) -> list[tuple[str, str]] | None:
    """Return the queryset's ordering as (PayOrder field, ``ASC``/``DESC`` [NULLS …]) pairs,
    or None when it orders by anything else (a relation, an annotation, an expression).

    Picks the ordering as Django does: an explicit ``order_by()``, else the model's.
    """
    query = orders.query
    if query.extra_order_by:
        return None
    if query.order_by:
        ordering = query.order_by
    elif query.default_ordering:
        ordering = query.get_meta().ordering
    else:
        ordering = ()
    meta = query.get_meta()
    pairs = []
    for item in ordering:
        nulls = ""
        if isinstance(item, str):
            name, descending = item.removeprefix("-"), item.startswith("-")
        elif isinstance(item, OrderBy) and isinstance(item.expression, F):
            name, descending = item.expression.name, item.descending
            nulls = " NULLS FIRST" if item.nulls_first else " NULLS LAST" if item.nulls_last else ""
        elif isinstance(item, F):
            name, descending = item.name, False
        else:
            return None
        if name in query.annotations:
            return None
        if name == "pk":
            name = meta.pk.name
        try:
            field = meta.get_field(name)
        except FieldDoesNotExist:
            return None
        if field.is_relation or not field.concrete or field.name != name:
            return None
        pairs.append((field.name, ("DESC" if descending else "ASC") + nulls))
    return pairs


def _sql_escape_formula(cell: str) -> str:
    """Return SQL for ``escape_formula(cell)``, with an empty (or NULL) cell as NULL."""
    codes = ", ".join(str(ord(prefix)) for prefix in FORMULA_PREFIXES)
    return f"CASE WHEN ascii({cell}) IN ({codes}) THEN '''' || {cell} ELSE NULLIF({cell}, '') END"


def _sql_yuan(fen: str) -> str:
    """Return SQL for ``fen_to_yuan(fen)``: a bigint times 0.01 is a numeric of scale 2."""
    return f"({fen} * 0.01)"


def _sql_china_time(moment: str) -> str:
    """Return SQL for ``china_time(moment)``: cast to a local time in the transaction's time
    zone (China's), printed by the ISO DateStyle."""
    return f"date_trunc('second', {moment}::timestamp)"


@functools.cache
def _python_whitespace() -> str:
    """Return every character ``str.strip()`` removes, as ``mask_mobile`` strips a number."""
    return "".join(char for char in map(chr, range(sys.maxunicode + 1)) if char.isspace())


def _sql_mask_mobile(mobile: str) -> tuple[str, list[str]]:
    """Return SQL (and its parameters) for ``mask_mobile(mobile)``.

    The number is stripped as Python strips it; btrim runs only for the rare number that
    starts or ends with white space.
    """
    spaces = ", ".join(str(ord(char)) for char in _python_whitespace())
    text = (
        f"(CASE WHEN ascii({mobile}) IN ({spaces}) OR ascii(right({mobile}, 1)) IN ({spaces})"
        f" THEN btrim({mobile}, %s) ELSE {mobile} END)"
    )
    sql = (
        f"CASE WHEN length({text}) >= 8 THEN left({text}, 3) || '****' || right({text}, 4)"
        f" WHEN length({text}) >= 3"
        f" THEN left({text}, 1) || repeat('*', length({text}) - 2) || right({text}, 1)"
        f" ELSE repeat('*', length({text})) END"
    )
    return sql, [_python_whitespace()] * sql.count("%s")


def _copy_discounts(
    quote: Callable[[str], str], ids_sql: str, ids_params: Sequence[Any], *, unmask: bool
) -> tuple[str, list[Any]]:
    """Return SQL for each order's discount relief and mobiles (``;``-joined in discount order,
    empty ones left out); only for the orders ``ids_sql`` selects, when given."""
    table = quote(Discount._meta.db_table)
    mobile, mobile_params = ("mobile", []) if unmask else _sql_mask_mobile("mobile")
    sql = (
        f"SELECT order_id, SUM(relief_value) AS relief,"  # noqa: S608 (names from the model)
        f" string_agg({mobile}, ';' ORDER BY id) FILTER (WHERE mobile <> '') AS mobiles"
        f" FROM {table}{' WHERE order_id IN (' + ids_sql + ')' if ids_sql else ''}"
        f" GROUP BY order_id"
    )
    return sql, [*mobile_params, *ids_params]


def _copy_coupons(
    quote: Callable[[str], str], ids_sql: str, ids_params: Sequence[Any]
) -> tuple[str, list[Any]]:
    """Return SQL for each order's coupon count and face-value total (amount coupons, fen),
    as ``selectors.AMOUNT_COUPON_VALUE``."""
    table = quote(MerchantCoupon._meta.db_table)
    sql = (
        f"SELECT order_id, COUNT(*) AS coupons, SUM(coupon_value) FILTER"  # noqa: S608
        f" (WHERE coupon_type = {int(MerchantCoupon.CouponType.AMOUNT)}) AS coupon_value"
        f" FROM {table}{' WHERE order_id IN (' + ids_sql + ')' if ids_sql else ''}"
        f" GROUP BY order_id"
    )
    return sql, list(ids_params)


def _copy_text(connection: BaseDatabaseWrapper, statement: str) -> Iterator[str]:
    """Run a ``COPY … TO STDOUT`` and yield its output in pieces of about FLUSH_CHARS bytes,
    rows ending CRLF. Closing the iterator early cancels the COPY."""
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        # Times are cast to China's local time and printed by the DateStyle: ISO is
        # ``YYYY-MM-DD HH:MM:SS``. (The session's time zone is cheaper than AT TIME ZONE, which
        # looks the zone up by name for every value; the statement's own times are literals
        # with their offset, so they do not depend on it.) JIT-compiling the formatting costs
        # more than it saves, even for a million rows. In a parallel plan the leader only
        # merges and sends: when it also runs the plan, it builds its own copy of the totals
        # and holds the stream up meanwhile (measured: ~8 % slower at a million rows).
        cursor.execute(
            "SELECT set_config('TimeZone', %s, true), set_config('DateStyle', 'ISO', true),"
            " set_config('jit', 'off', true),"
            " set_config('parallel_leader_participation', 'off', true)",
            [CHINA.key],
        )
        with cursor.cursor.copy(statement) as copy:
            rows: list[Any] = []
            size = 0
            for row in copy:  # PostgreSQL sends one message per row
                rows.append(row)
                size += len(row)
                if size >= FLUSH_CHARS:
                    yield _crlf(b"".join(rows)).decode()
                    rows, size = [], 0
            if rows:
                yield _crlf(b"".join(rows)).decode()
        # The export writes nothing; rolling its transaction (or savepoint) back also undoes
        # the settings, which Django's own reads of times must not see.
        transaction.set_rollback(True, using=connection.alias)


def _crlf(text: bytes) -> bytes:
    """End the CSV rows in ``text`` with CRLF instead of LF, leaving a line feed inside a
    quoted cell as it is.

    A cell is quoted when it holds a comma, a quote, CR or LF, and a quote inside it is
    doubled, so a line feed ends a row exactly when an even number of quotes come before it:
    it is in an even piece of a split at the quotes.
    """
    if b'"' not in text:
        return text.replace(b"\n", b"\r\n")
    pieces = text.split(b'"')
    pieces[::2] = [piece.replace(b"\n", b"\r\n") for piece in pieces[::2]]
    return b'"'.join(pieces)


# --- Merchant coupons ------------------------------------------------------------------------

_COUPON_FIELDS = (
    "order__pay_serial",
    "order__pay_time",
    "order__park__name",
    "order__plate",
    "store_code",
    "store_name",
    "coupon_code",
    "coupon_name",
    "coupon_type",
    "coupon_value",
    "grant_serial",
    "grant_time",
    "grant_time_raw",
)


@on_replica
def _coupon_rows(coupons: QuerySet[MerchantCoupon]) -> Iterator[list[str]]:
    rows = coupons.values_list(*_COUPON_FIELDS).iterator(chunk_size=CHUNK_ROWS)
    for (
        pay_serial,
        pay_time,
        park_name,
        plate,
        store_code,
        store_name,
        coupon_code,
        coupon_name,
        coupon_type,
        coupon_value,
        grant_serial,
        grant_time,
        grant_time_raw,
    ) in rows:
        yield [
            pay_serial,
            china_time(pay_time),
            park_name,
            plate,
            store_code,
            store_name,
            coupon_code,
            coupon_name,
            "" if coupon_type is None else str(coupon_type),
            str(coupon_value),
            grant_serial,
            # A grant time the platform sent in a form we could not read is kept as sent.
            china_time(grant_time) if grant_time else grant_time_raw,
        ]


def coupons_csv(coupons: QuerySet[MerchantCoupon]) -> Iterator[str]:
    """Return the merchant-coupon CSV of ``coupons`` as an iterator of text pieces."""
    header = [str(column.label) for column in COUPON_COLUMNS]
    return _csv_text(COUPON_COLUMNS, header, _coupon_rows(coupons))


# --- Daily summary ---------------------------------------------------------------------------


def _summary_row(first: str, row: selectors.SummaryRow) -> list[str]:
    return [
        first,
        row.park_uuid,
        row.park_name,
        row.channel,
        str(row.orders),
        fen_to_yuan(row.paid),
        str(row.paid),
        fen_to_yuan(row.relief),
        str(row.coupons),
        str(row.coupon_value),
    ]


def summary_csv(summary: selectors.DailySummary) -> Iterator[str]:
    """Return the daily summary as CSV: one row per day × park × channel, then the total."""
    header = [str(column.label) for column in SUMMARY_COLUMNS]
    rows = [_summary_row(row.day.isoformat(), row) for row in summary.rows]
    rows.append(_summary_row(gettext("Total"), summary.total))
    return _csv_text(SUMMARY_COLUMNS, header, rows)


# --- Reconciliation --------------------------------------------------------------------------

RUN_COLUMNS: tuple[Column, ...] = (
    Column(pgettext_lazy("CSV header", "date")),
    Column(pgettext_lazy("CSV header", "park_uuid")),
    Column(pgettext_lazy("CSV header", "park_name")),
    Column(pgettext_lazy("CSV header", "status")),
    Column(pgettext_lazy("CSV header", "message")),
    Column(pgettext_lazy("CSV header", "platform_count"), text=False),
    Column(pgettext_lazy("CSV header", "platform_value_yuan"), text=False),
    Column(pgettext_lazy("CSV header", "platform_value_fen"), text=False),
    Column(pgettext_lazy("CSV header", "our_count"), text=False),
    Column(pgettext_lazy("CSV header", "our_value_yuan"), text=False),
    Column(pgettext_lazy("CSV header", "our_value_fen"), text=False),
    Column(pgettext_lazy("CSV header", "matched_count"), text=False),
    Column(pgettext_lazy("CSV header", "matched_value_yuan"), text=False),
    Column(pgettext_lazy("CSV header", "matched_value_fen"), text=False),
    Column(pgettext_lazy("CSV header", "missing_here_count"), text=False),
    Column(pgettext_lazy("CSV header", "missing_at_platform_count"), text=False),
    Column(pgettext_lazy("CSV header", "amount_differs_count"), text=False),
    Column(pgettext_lazy("CSV header", "not_whitelisted_count"), text=False),
    Column(pgettext_lazy("CSV header", "not_whitelisted_value_yuan"), text=False),
    Column(pgettext_lazy("CSV header", "not_whitelisted_value_fen"), text=False),
    Column(pgettext_lazy("CSV header", "started_at")),
    Column(pgettext_lazy("CSV header", "finished_at")),
)

ITEM_COLUMNS: tuple[Column, ...] = (
    Column(pgettext_lazy("CSV header", "date")),
    Column(pgettext_lazy("CSV header", "park_uuid")),
    Column(pgettext_lazy("CSV header", "park_name")),
    Column(pgettext_lazy("CSV header", "category")),
    Column(pgettext_lazy("CSV header", "pay_serial")),
    Column(pgettext_lazy("CSV header", "plate")),
    Column(pgettext_lazy("CSV header", "pay_time")),
    Column(pgettext_lazy("CSV header", "platform_value_yuan"), text=False),
    Column(pgettext_lazy("CSV header", "platform_value_fen"), text=False),
    Column(pgettext_lazy("CSV header", "our_value_yuan"), text=False),
    Column(pgettext_lazy("CSV header", "our_value_fen"), text=False),
    Column(pgettext_lazy("CSV header", "parking_serial")),
    Column(pgettext_lazy("CSV header", "channel")),
    Column(pgettext_lazy("CSV header", "resolved_at")),
)


def _money(fen: int | None) -> tuple[str, str]:
    """Return (yuan, fen) cells; a value that does not apply stays empty, not 0."""
    if fen is None:
        return "", ""
    return fen_to_yuan(fen), str(fen)


def _choice_labels(choices: Any) -> dict[str, str]:
    """Translate a TextChoices' labels now, in the caller's language, not while streaming."""
    return {value: str(label) for value, label in choices.choices}


_RUN_FIELDS = (
    "date",
    "park__park_uuid",
    "park__name",
    "status",
    "message",
    "platform_count",
    "platform_value",
    "ours_count",
    "ours_value",
    "matched_count",
    "matched_value",
    "missing_here",
    "missing_at_platform",
    "amount_differs",
    "not_whitelisted_count",
    "not_whitelisted_value",
    "started_at",
    "finished_at",
)


@on_replica
def _run_rows(runs: QuerySet[ReconciliationRun], statuses: dict[str, str]) -> Iterator[list[str]]:
    rows = reconciliation.with_category_counts(runs).values_list(*_RUN_FIELDS)
    for (
        day,
        park_uuid,
        park_name,
        status,
        message,
        platform_count,
        platform_value,
        ours_count,
        ours_value,
        matched_count,
        matched_value,
        missing_here,
        missing_at_platform,
        amount_differs,
        not_whitelisted_count,
        not_whitelisted_value,
        started_at,
        finished_at,
    ) in rows.iterator(chunk_size=CHUNK_ROWS):
        yield [
            day.isoformat(),
            park_uuid,
            park_name,
            statuses.get(status, status),
            message,
            str(platform_count),
            *_money(platform_value),
            str(ours_count),
            *_money(ours_value),
            str(matched_count),
            *_money(matched_value),
            str(missing_here),
            str(missing_at_platform),
            str(amount_differs),
            str(not_whitelisted_count),
            *_money(not_whitelisted_value),
            china_time(started_at),
            china_time(finished_at),
        ]


def runs_csv(runs: QuerySet[ReconciliationRun]) -> Iterator[str]:
    """Return the reconciliation-run CSV of ``runs``: one row per park and day, with the
    counts and amounts of each category."""
    header = [str(column.label) for column in RUN_COLUMNS]
    statuses = _choice_labels(ReconciliationRun.Status)
    return _csv_text(RUN_COLUMNS, header, _run_rows(runs, statuses))


_ITEM_FIELDS = (
    "run__date",
    "run__park__park_uuid",
    "run__park__name",
    "category",
    "pay_serial",
    "plate",
    "pay_time",
    "platform_value",
    "our_value",
    "payment",
    "order__parking_serial",
    "order__channel",
    "resolved_at",
)


@on_replica
def _item_rows(
    items: QuerySet[ReconciliationItem], categories: dict[str, str]
) -> Iterator[list[str]]:
    rows = items.values_list(*_ITEM_FIELDS).iterator(chunk_size=CHUNK_ROWS)
    for (
        day,
        park_uuid,
        park_name,
        category,
        pay_serial,
        plate,
        pay_time,
        platform_value,
        our_value,
        payment,
        order_parking_serial,
        order_channel,
        resolved_at,
    ) in rows:
        # The listed payment's parking serial and channel, or our order's when not listed.
        listed = payment if isinstance(payment, dict) else {}
        parking_serial = listed.get("parking_serial", order_parking_serial)
        channel = listed.get("channel", order_channel)
        yield [
            day.isoformat(),
            park_uuid,
            park_name,
            categories.get(category, category),
            pay_serial,
            plate,
            china_time(pay_time),
            *_money(platform_value),
            *_money(our_value),
            "" if parking_serial is None else str(parking_serial),
            "" if channel is None else str(channel),
            china_time(resolved_at),
        ]


def items_csv(items: QuerySet[ReconciliationItem]) -> Iterator[str]:
    """Return the reconciliation-difference CSV of ``items``: one row per difference."""
    header = [str(column.label) for column in ITEM_COLUMNS]
    categories = _choice_labels(ReconciliationItem.Category)
    return _csv_text(ITEM_COLUMNS, header, _item_rows(items, categories))


# --- Delivery --------------------------------------------------------------------------------


def export_filename(
    kind: str, date_from: date | None, date_to: date | None, *, now: datetime | None = None
) -> str:
    """Return a file name carrying the date range: ``orders_2026-11-01_2026-11-26.csv``.

    An open start reads ``all``; an open end is today (China time), the day of the export.
    """
    today = (now or datetime.now(tz=CHINA)).astimezone(CHINA).date()
    start = date_from.isoformat() if date_from else "all"
    end = (date_to or today).isoformat()
    return f"{kind}_{start}_{end}.csv"
