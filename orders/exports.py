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
"""

import csv
import io
import itertools
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db.models import QuerySet
from django.http import StreamingHttpResponse
from django.utils.functional import Promise
from django.utils.http import content_disposition_header
from django.utils.translation import gettext, pgettext_lazy

from orders import reconciliation, selectors
from orders.formatting import CHINA, china_time, fen_to_yuan, mask_mobile
from orders.models import MerchantCoupon, PayOrder, ReconciliationItem, ReconciliationRun

BOM = "\ufeff"
CHUNK_ROWS = 2000
FLUSH_CHARS = 64 * 1024
# What makes Excel, LibreOffice or Google Sheets treat a cell as a formula (OWASP "CSV
# injection"), including the full-width forms that Chinese input methods produce.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")


def escape_formula(text: str) -> str:
    """Return ``text`` prefixed with ``'`` when a spreadsheet would run it as a formula."""
    return f"'{text}" if text.startswith(FORMULA_PREFIXES) else text


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


def _csv_text(
    columns: Sequence[Column], header: list[str], rows: Iterable[Sequence[str]]
) -> Iterator[str]:
    """Yield the CSV (BOM, header, rows) in pieces of about FLUSH_CHARS characters."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write(BOM)
    writer.writerow(escape_formula(name) for name in header)
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
    """
    header = [str(column.label) for column in ORDER_COLUMNS]
    return _csv_text(ORDER_COLUMNS, header, _order_rows(orders, unmask=unmask))


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


def csv_response(pieces: Iterator[str], filename: str) -> StreamingHttpResponse:
    """Stream CSV text as a download (RFC 6266/5987 file name, never cached)."""
    response = StreamingHttpResponse(pieces, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(True, filename)
    response["Cache-Control"] = "private, no-store"
    return response
