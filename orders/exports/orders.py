"""The order CSV (``orders_csv``) and its XLSX twin (``orders_xlsx``): one row per order with its
discount and coupon totals.

Written by the database on PostgreSQL (``orders.exports.copy``), by the Python writer here
elsewhere; both write the columns of ``orders.exports.columns``, the same bytes. Rows come from
a server-side cursor in chunks, and the discounts and coupons are read once per chunk.
"""

from collections.abc import Iterator
from typing import IO, Any

from django.db import connections
from django.db.models import QuerySet

from orders import channels, selectors
from orders.exports import copy
from orders.exports.columns import ORDER_COLUMNS, ORDER_FIELDS
from orders.models import PayOrder
from parkingops import tabular, xlsx
from parkingops.db_routers import on_replica
from parkingops.formatting import mask_mobile
from parkingops.jobs.progress import NO_PROGRESS, Progress
from parkingops.tabular import Kind, fixed, money

# The file for machines (the API's CSV without ``?lang=zh``): the JSON's field names, fixed in
# every language, ISO-8601 times, money in fen and in yuan; the rows ``_order_rows`` yields.
ORDER_MACHINE_COLUMNS: tuple[tabular.Column, ...] = (
    fixed("pay_serial", Kind.TEXT),
    fixed("parking_serial", Kind.TEXT),
    fixed("park_uuid", Kind.TEXT, "park__park_uuid"),
    fixed("park_name", Kind.TEXT, "park__name"),
    fixed("plate", Kind.TEXT),
    fixed("pay_time", Kind.INSTANT),
    *money("pay_value"),
    fixed("channel", Kind.TEXT),
    fixed("channel_name", Kind.TEXT),
    fixed("identity", Kind.TEXT),
    *money("discount_relief", "relief"),
    fixed("discount_mobiles", Kind.TEXT, "mobiles"),
    fixed("coupon_count", Kind.NUMBER, "coupons"),
    *money("coupon_value_total", "coupon_value"),
    fixed("received_at", Kind.INSTANT),
)


def orders_csv(
    orders: QuerySet[PayOrder], *, unmask: bool = False, progress: Progress = NO_PROGRESS
) -> Iterator[str]:
    """Return the order CSV of ``orders`` (in their order) as an iterator of text pieces;
    ``progress`` advances by the rows written.

    The header is translated now, in the caller's active language, not when streamed.
    ``unmask`` shows discount mobiles whole: only for holders of ``orders.view_personal_data``.
    On PostgreSQL the rows come from one COPY (see ``copy.order_copy_sql``), elsewhere from
    the Python writer; both give the same bytes.
    """
    # The channel names too are in the caller's language, chosen now.
    return _order_pieces(
        orders,
        tabular.header(ORDER_COLUMNS),
        in_english=channels.english(),
        unmask=unmask,
        progress=progress,
    )


@on_replica
def _order_pieces(
    orders: QuerySet[PayOrder],
    header: list[str],
    *,
    in_english: bool,
    unmask: bool,
    progress: Progress,
) -> Iterator[str]:
    # Decided while streaming, not when the response is built: the database a read goes to
    # (a replica, for heavy reads) is chosen when the read happens.
    statement = copy.order_copy_sql(orders, unmask=unmask, in_english=in_english)
    if statement is None:
        names = channels.channel_names(in_english=in_english, using=orders.db)
        rows = _order_rows(orders, names, unmask=unmask)
        yield from tabular.csv_text(ORDER_COLUMNS, rows, names=header, progress=progress)
    else:
        yield tabular.csv_head(header)
        yield from copy.copy_text(connections[orders.db], statement, progress=progress)


def orders_machine_csv(orders: QuerySet[PayOrder], *, unmask: bool = False) -> Iterator[str]:
    """Return the order file for machines (``ORDER_MACHINE_COLUMNS``) of ``orders``, in their
    order, as text pieces; channel names in the caller's language, chosen now."""
    return _machine_pieces(orders, in_english=channels.english(), unmask=unmask)


@on_replica
def _machine_pieces(orders: QuerySet[PayOrder], *, in_english: bool, unmask: bool):
    names = channels.channel_names(in_english=in_english, using=orders.db)
    yield from tabular.csv_text(ORDER_MACHINE_COLUMNS, _order_rows(orders, names, unmask=unmask))


@on_replica
def orders_xlsx(
    orders: QuerySet[PayOrder],
    *,
    about: xlsx.About,
    unmask: bool = False,
    progress: Progress = NO_PROGRESS,
) -> IO[bytes]:
    """Return the XLSX twin of the order CSV of ``orders`` (a temporary file, open at its
    start); raises ``xlsx.TooManyRows`` before writing when they do not fit in a sheet."""
    names = channels.channel_names(in_english=channels.english(), using=orders.db)
    rows = _order_rows(orders, names, unmask=unmask)
    table = xlsx.queryset_table(orders, ORDER_COLUMNS, rows)
    return xlsx.workbook([table], about, progress=progress)


def _order_rows(
    orders: QuerySet[PayOrder], names: dict[str, str], *, unmask: bool
) -> Iterator[dict[str, Any]]:
    """Yield each order's fields with its totals and channel name, as the columns read them."""
    rows = orders.values("pk", *ORDER_FIELDS).iterator(chunk_size=tabular.CHUNK_ROWS)
    for batch in tabular.batched(rows, tabular.CHUNK_ROWS):
        extras = selectors.order_extras(order_ids=[row["pk"] for row in batch])
        for row in batch:
            extra = extras[row["pk"]]
            mobiles = extra.mobiles if unmask else [mask_mobile(m) for m in extra.mobiles]
            row["relief"] = extra.relief
            row["mobiles"] = ";".join(mobiles)
            row["coupons"] = extra.coupons
            row["coupon_value"] = extra.coupon_value
            row["channel_name"] = names.get(row["channel"], "")
            yield row
