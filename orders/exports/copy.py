"""The order CSV's rows on PostgreSQL, written by one COPY (``order_copy_sql``, ``copy_text``).

The database writes the rows: ``COPY (SELECT …) TO STDOUT WITH (FORMAT csv)`` joins the park,
totals the discounts and coupons, formats yuan and China time, masks the mobiles and escapes
formulas, and its output is handed on in ~64 KiB pieces. Python only gathers COPY's messages
(one per row, as PostgreSQL sends them) and never looks inside a row, so the export runs near
the speed of COPY itself. The statement's cells are built from the same column descriptions as
the Python writer (``orders.exports.columns``), which is the reference; the tests hold the two
to the same bytes. Where COPY and the csv module differ, the SQL or the hand-on makes up for it:

- COPY writes an empty string as ``""`` and NULL as nothing, the csv module writes an empty
  string as nothing: every text cell goes through NULLIF(…, '');
- COPY ends rows with LF, the csv module with CRLF: ``_crlf`` rewrites the row ends (and only
  them, not a line feed inside a quoted cell);
- times are printed in the TimeZone and DateStyle the export's transaction sets (China's, ISO).
"""

import functools
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from django.core.exceptions import EmptyResultSet, FieldDoesNotExist
from django.db import connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import F, OrderBy, QuerySet

from orders import channels
from orders.exports.columns import ORDER_COLUMNS, ORDER_FIELDS
from orders.models import Channel, Discount, MerchantCoupon, PayOrder
from parkingops import tabular
from parkingops.formatting import CHINA
from parkingops.jobs.progress import NO_PROGRESS, Progress
from parkingops.tabular import FORMULA_PREFIXES, Kind

# False sends every order export through the Python writer (PostgreSQL included).
COPY_ON_POSTGRESQL = True


def order_copy_sql(
    orders: QuerySet[PayOrder], *, unmask: bool = False, in_english: bool = False
) -> str | None:
    """Return the ``COPY … TO STDOUT`` statement that writes the rows of the order CSV of
    ``orders``, or None where the Python writer does it (not PostgreSQL, COPY turned off, or
    a queryset COPY cannot reproduce exactly: sliced, grouped, a union, or ordered by anything
    but the order's own columns).

    The queryset's filters, search and ordering drive the statement: its SQL is compiled by
    Django and its parameters inlined as literals by the driver (COPY takes no parameters).
    The channel names are the English ones when ``in_english`` (``orders.channels``).
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

    # The subquery ``o`` has a column per field read, named as the queryset names it (its pk
    # as ``id``, as the totals join on it), then the ordering's fields the CSV does not show.
    fields = {"id": "pk", **{field: field for field in ORDER_FIELDS}}
    for name, _direction in ordering:
        fields.setdefault(name, name)
    try:
        rows = orders.order_by().values_list(*fields.values())
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
    discounts_sql, discounts_params = _copy_discounts(quote, ids_sql, ids_params, unmask=unmask)
    coupons_sql, coupons_params = _copy_coupons(quote, ids_sql, ids_params)
    cells = [
        _SQL_CELLS[column.kind](column.sql or f"o.{quote(column.source)}")
        for column in ORDER_COLUMNS
    ]
    order_by = ", ".join(f"o.{quote(name)} {direction}" for name, direction in ordering)
    sql = (
        f"COPY (SELECT {', '.join(cells)}"  # noqa: S608 (model names; values inlined by the driver)
        f" FROM ({rows_sql}) AS o ({', '.join(quote(column) for column in fields)})"
        f" LEFT JOIN ({discounts_sql}) AS d ON d.order_id = o.id"
        f" LEFT JOIN ({coupons_sql}) AS c ON c.order_id = o.id"
        f" LEFT JOIN ({_copy_channels(quote, in_english=in_english)}) AS ch"
        f" ON ch.code = o.{quote('channel')}"
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


# --- The cells: what the Python writer does to a value, in SQL --------------------------------


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


def _sql_number(value: str) -> str:
    """Return SQL for an integer cell: COPY prints it as ``str()`` does."""
    return value


# Each kind of column in SQL, as ``parkingops.tabular`` writes it in Python.
_SQL_CELLS: dict[Kind, Callable[[str], str]] = {
    Kind.TEXT: _sql_escape_formula,
    Kind.TIME: _sql_china_time,
    Kind.YUAN: _sql_yuan,
    Kind.FEN: _sql_number,
    Kind.NUMBER: _sql_number,
}


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


# --- The totals: what ``selectors.order_extras`` reads, per order -----------------------------


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
    as ``orders.coupons.AMOUNT_VALUE``."""
    table = quote(MerchantCoupon._meta.db_table)
    sql = (
        f"SELECT order_id, COUNT(*) AS coupons, SUM(coupon_value) FILTER"  # noqa: S608
        f" (WHERE coupon_type = {int(MerchantCoupon.CouponType.AMOUNT)}) AS coupon_value"
        f" FROM {table}{' WHERE order_id IN (' + ids_sql + ')' if ids_sql else ''}"
        f" GROUP BY order_id"
    )
    return sql, list(ids_params)


def _copy_channels(quote: Callable[[str], str], *, in_english: bool) -> str:
    """Return SQL for each named channel's code and name, as ``channels.channel_names``."""
    table = quote(Channel._meta.db_table)
    return f"SELECT code, {channels.name_sql(in_english=in_english)} AS name FROM {table}"  # noqa: S608


# --- Running it ------------------------------------------------------------------------------


def copy_text(
    connection: BaseDatabaseWrapper, statement: str, *, progress: Progress = NO_PROGRESS
) -> Iterator[str]:
    """Run a ``COPY … TO STDOUT`` and yield its output in pieces of about FLUSH_CHARS bytes,
    rows ending CRLF; ``progress`` advances by each piece's rows once it is taken. Closing the
    iterator early (or a cancel from ``progress``) cancels the COPY."""
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        # Times are cast to China's local time and printed by the DateStyle: ISO is
        # ``YYYY-MM-DD HH:MM:SS``. (The session's time zone is cheaper than AT TIME ZONE, which
        # looks the zone up by name for every value; the statement's own times are literals
        # with their offset, so they do not depend on it.) JIT-compiling the formatting costs
        # more than it saves, even for a million rows. In a parallel plan the leader only
        # merges and sends: when it also runs the plan, it builds its own copy of the totals
        # and holds the stream up meanwhile (measured: ~8 % slower at a million rows).
        # Without Memoize the park is joined by the workers, which then also format the
        # cells; with it the planner joins the park (20 rows, memoized) after the merge, and
        # the leader alone formats every row: at a million rows it spent twice the CPU of a
        # bare COPY of the same columns, and it is what the stream waits for.
        cursor.execute(
            "SELECT set_config('TimeZone', %s, true), set_config('DateStyle', 'ISO', true),"
            " set_config('jit', 'off', true),"
            " set_config('parallel_leader_participation', 'off', true),"
            " set_config('enable_memoize', 'off', true)",
            [CHINA.key],
        )
        with cursor.cursor.copy(statement) as copy:
            rows: list[Any] = []
            size = 0
            for row in copy:  # PostgreSQL sends one message per row
                rows.append(row)
                size += len(row)
                if size >= tabular.FLUSH_CHARS:
                    yield _crlf(b"".join(rows)).decode()
                    progress.advance(len(rows))
                    rows, size = [], 0
            if rows:
                yield _crlf(b"".join(rows)).decode()
                progress.advance(len(rows))
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
