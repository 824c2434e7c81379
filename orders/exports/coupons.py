"""The merchant-coupon files: one row per coupon granted, with its order (``coupons_csv``), and
the totals per store and coupon type with the grand total of each type (``coupon_totals_csv``);
each with its XLSX twin (``coupons_xlsx``, ``coupon_totals_xlsx``).

A coupon's value is in its type's unit (``orders.coupons``): the value as sent is kept with its
unit beside it, and money (yuan) is filled for amount coupons only; a totals row adds values up
only where the type adds up (money, minutes), and counts every type.
"""

from collections.abc import Iterator
from typing import IO, Any

from django.db.models import QuerySet
from django.utils.translation import gettext, pgettext_lazy

from orders import coupons as coupon_rules
from orders import selectors
from orders.models import MerchantCoupon
from parkingops import tabular, xlsx
from parkingops.db_routers import on_replica
from parkingops.jobs.progress import NO_PROGRESS, Progress
from parkingops.tabular import Column, Kind, fixed, money

COUPON_COLUMNS: tuple[Column, ...] = (
    Column(pgettext_lazy("CSV header", "pay_serial"), Kind.TEXT, "order__pay_serial"),
    Column(pgettext_lazy("CSV header", "pay_time"), Kind.TIME, "order__pay_time"),
    Column(pgettext_lazy("CSV header", "park_name"), Kind.TEXT, "order__park__name"),
    Column(pgettext_lazy("CSV header", "plate"), Kind.TEXT, "order__plate"),
    Column(pgettext_lazy("CSV header", "store_code"), Kind.TEXT, "store_code"),
    Column(pgettext_lazy("CSV header", "store_name"), Kind.TEXT, "store_name"),
    Column(pgettext_lazy("CSV header", "coupon_code"), Kind.TEXT, "coupon_code"),
    Column(pgettext_lazy("CSV header", "coupon_name"), Kind.TEXT, "coupon_name"),
    Column(pgettext_lazy("CSV header", "coupon_type"), Kind.NUMBER, "coupon_type"),
    Column(pgettext_lazy("CSV header", "coupon_type_label"), Kind.TEXT, "coupon_type_label"),
    # As sent, in the unit of the next column (fen, minutes, %, or none defined).
    Column(pgettext_lazy("CSV header", "coupon_value"), Kind.NUMBER, "coupon_value"),
    Column(pgettext_lazy("CSV header", "coupon_unit"), Kind.TEXT, "coupon_unit"),
    # Money: amount coupons only, empty for every other type.
    Column(pgettext_lazy("CSV header", "coupon_value_yuan"), Kind.YUAN, "coupon_value_fen"),
    Column(pgettext_lazy("CSV header", "grant_serial"), Kind.TEXT, "grant_serial"),
    Column(pgettext_lazy("CSV header", "grant_time"), Kind.TIME, "grant_time"),
)

# The columns read from the database as they are; the label, unit and money derive from the type.
_DERIVED = frozenset({"coupon_type_label", "coupon_unit", "coupon_value_fen"})

# The file for machines (the API's CSV without ``?lang=zh``): the JSON's field names, fixed in
# every language, ISO-8601 times, money in fen and yuan (amount coupons only, else empty).
COUPON_MACHINE_COLUMNS: tuple[Column, ...] = (
    fixed("id", Kind.NUMBER, "pk"),
    fixed("pay_serial", Kind.TEXT, "order__pay_serial"),
    fixed("pay_time", Kind.INSTANT, "order__pay_time"),
    fixed("park_uuid", Kind.TEXT, "order__park__park_uuid"),
    fixed("park_name", Kind.TEXT, "order__park__name"),
    fixed("plate", Kind.TEXT, "order__plate"),
    fixed("store_code", Kind.TEXT),
    fixed("store_name", Kind.TEXT),
    fixed("coupon_code", Kind.TEXT),
    fixed("coupon_name", Kind.TEXT),
    fixed("coupon_type", Kind.NUMBER),
    fixed("coupon_type_label", Kind.TEXT),
    fixed("coupon_value", Kind.NUMBER),
    fixed("coupon_unit", Kind.TEXT, "unit"),  # fen, minutes, percent or as_sent
    *money("coupon_money", "coupon_value_fen"),
    fixed("grant_serial", Kind.TEXT),
    fixed("grant_time", Kind.INSTANT),
    fixed("grant_time_raw", Kind.TEXT),
)


def coupons_csv(
    coupons: QuerySet[MerchantCoupon], *, progress: Progress = NO_PROGRESS
) -> Iterator[str]:
    """Return the merchant-coupon CSV of ``coupons`` as an iterator of text pieces."""
    return tabular.csv_text(COUPON_COLUMNS, _coupon_rows(coupons), progress=progress)


def coupons_machine_csv(coupons: QuerySet[MerchantCoupon]) -> Iterator[str]:
    """Return the coupon file for machines (``COUPON_MACHINE_COLUMNS``) as text pieces."""
    return tabular.csv_text(COUPON_MACHINE_COLUMNS, _coupon_rows(coupons))


@on_replica
def coupons_xlsx(
    coupons: QuerySet[MerchantCoupon], *, about: xlsx.About, progress: Progress = NO_PROGRESS
) -> IO[bytes]:
    """Return the XLSX twin of the coupon CSV of ``coupons`` (see ``xlsx.workbook``)."""
    table = xlsx.queryset_table(coupons, COUPON_COLUMNS, _coupon_rows(coupons))
    return xlsx.workbook([table], about, progress=progress)


@on_replica
def _coupon_rows(coupons: QuerySet[MerchantCoupon]) -> Iterator[dict[str, Any]]:
    fields = [column.source for column in COUPON_COLUMNS if column.source not in _DERIVED]
    rows = coupons.values("pk", "order__park__park_uuid", *fields, "grant_time_raw").iterator(
        chunk_size=tabular.CHUNK_ROWS
    )
    for row in rows:
        # A grant time the platform sent in a form we could not read is kept as sent (text).
        if row["grant_time"] is None:
            row["grant_time"] = row["grant_time_raw"]
        coupon_type = row["coupon_type"]
        row["coupon_type_label"] = coupon_rules.type_label(coupon_type)
        row["coupon_unit"] = coupon_rules.unit_label(coupon_type)
        row["unit"] = coupon_rules.unit_of(coupon_type).value
        amount = coupon_type == coupon_rules.CouponType.AMOUNT
        row["coupon_value_fen"] = row["coupon_value"] if amount else None
        yield row


# --- Totals per store ------------------------------------------------------------------------

COUPON_TOTAL_COLUMNS: tuple[Column, ...] = (
    Column(pgettext_lazy("CSV header", "store_code"), Kind.TEXT, "store_code"),
    Column(pgettext_lazy("CSV header", "store_name"), Kind.TEXT, "store_name"),
    Column(pgettext_lazy("CSV header", "coupon_type"), Kind.NUMBER, "coupon_type"),
    Column(pgettext_lazy("CSV header", "coupon_type_label"), Kind.TEXT, "coupon_type_label"),
    Column(pgettext_lazy("CSV header", "coupon_count"), Kind.NUMBER, "coupons"),
    # Each type's sum in its own column, empty where it does not apply: money for amount
    # coupons, minutes for time coupons; percentages and undefined units are only counted.
    Column(pgettext_lazy("CSV header", "coupon_value_yuan"), Kind.YUAN, "fen"),
    Column(pgettext_lazy("CSV header", "coupon_value_fen"), Kind.FEN, "fen"),
    Column(pgettext_lazy("CSV header", "coupon_value_minutes"), Kind.NUMBER, "minutes"),
)


def coupon_totals_csv(totals: selectors.CouponTotals) -> Iterator[str]:
    """Return the per-store totals as CSV: a row per store and type, then the grand total of
    each type (``Total`` in the store code), then all coupons (count and money)."""
    return tabular.csv_text(COUPON_TOTAL_COLUMNS, _coupon_total_rows(totals))


# The totals for machines: a row per store and type (``store``, the JSON's ``results``), the
# grand total of each type (``type_total``, its ``types``), all coupons (``total``). ``value``
# is in ``unit`` (fen, minutes; empty where only counted); money also in fen and yuan.
COUPON_TOTAL_MACHINE_COLUMNS: tuple[Column, ...] = (
    fixed("row_kind", Kind.TEXT),
    fixed("store_code", Kind.TEXT),
    fixed("store_name", Kind.TEXT),
    fixed("coupon_type", Kind.NUMBER),
    fixed("coupon_type_label", Kind.TEXT),
    fixed("unit", Kind.TEXT),
    fixed("coupons", Kind.NUMBER),
    fixed("value", Kind.NUMBER),
    *money("value", "fen"),
)


def coupon_totals_machine_csv(totals: selectors.CouponTotals) -> Iterator[str]:
    """Return the per-store totals for machines (``COUPON_TOTAL_MACHINE_COLUMNS``)."""
    rows = [_machine_total_row("store", row) for row in totals.stores]
    rows += [_machine_total_row("type_total", row) for row in totals.types]
    rows.append(
        {
            "row_kind": "total",
            "store_code": "",
            "store_name": "",
            "coupon_type": None,
            "coupon_type_label": "",
            "unit": coupon_rules.Unit.FEN.value,
            "coupons": totals.coupons,
            "value": totals.amount_value,
            "fen": totals.amount_value,
        }
    )
    return tabular.csv_text(COUPON_TOTAL_MACHINE_COLUMNS, rows)


def _machine_total_row(kind: str, row: selectors.StoreTotal) -> dict[str, Any]:
    return {
        "row_kind": kind,
        "store_code": row.store_code,
        "store_name": row.store_name,
        "coupon_type": row.coupon_type,
        "coupon_type_label": row.coupon_type_label,
        "unit": row.unit,
        "coupons": row.coupons,
        "value": row.value,
        "fen": row.value if row.unit == coupon_rules.Unit.FEN else None,
    }


def coupon_totals_xlsx(totals: selectors.CouponTotals, *, about: xlsx.About) -> IO[bytes]:
    """Return the XLSX twin of the totals CSV (see ``xlsx.workbook``)."""
    rows = _coupon_total_rows(totals)
    table = xlsx.Table(gettext("Coupon totals"), COUPON_TOTAL_COLUMNS, rows, len(rows))
    return xlsx.workbook([table], about)


def _coupon_total_rows(totals: selectors.CouponTotals) -> list[dict[str, Any]]:
    total = gettext("Total")
    rows = [_total_row(row, row.store_code) for row in totals.stores]
    rows += [_total_row(row, total) for row in totals.types]
    rows.append(
        {
            "store_code": total,
            "store_name": gettext("All coupons (money: amount coupons only)"),
            "coupon_type": None,
            "coupon_type_label": "",
            "coupons": totals.coupons,
            "fen": totals.amount_value,
            "minutes": None,
        }
    )
    return rows


def _total_row(row: selectors.StoreTotal, store_code: str) -> dict[str, Any]:
    unit = coupon_rules.unit_of(row.coupon_type)
    return {
        "store_code": store_code,
        "store_name": row.store_name,
        "coupon_type": row.coupon_type,
        "coupon_type_label": row.coupon_type_label,
        "coupons": row.coupons,
        "fen": row.value if unit == coupon_rules.Unit.FEN else None,
        "minutes": row.value if unit == coupon_rules.Unit.MINUTES else None,
    }
