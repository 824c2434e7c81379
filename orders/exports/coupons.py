"""The merchant-coupon CSV (``coupons_csv``) and its XLSX twin (``coupons_xlsx``): one row per
coupon granted, with its order."""

from collections.abc import Iterator
from typing import IO, Any

from django.db.models import QuerySet
from django.utils.translation import pgettext_lazy

from orders.models import MerchantCoupon
from parkingops import tabular, xlsx
from parkingops.db_routers import on_replica
from parkingops.tabular import Column, Kind

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
    # Fen for an amount coupon; in the coupon type's own unit for the others.
    Column(pgettext_lazy("CSV header", "coupon_value"), Kind.NUMBER, "coupon_value"),
    Column(pgettext_lazy("CSV header", "grant_serial"), Kind.TEXT, "grant_serial"),
    Column(pgettext_lazy("CSV header", "grant_time"), Kind.TIME, "grant_time"),
)


def coupons_csv(coupons: QuerySet[MerchantCoupon]) -> Iterator[str]:
    """Return the merchant-coupon CSV of ``coupons`` as an iterator of text pieces."""
    return tabular.csv_text(COUPON_COLUMNS, _coupon_rows(coupons))


@on_replica
def coupons_xlsx(coupons: QuerySet[MerchantCoupon], *, about: xlsx.About) -> IO[bytes]:
    """Return the XLSX twin of the coupon CSV of ``coupons`` (see ``xlsx.workbook``)."""
    table = xlsx.queryset_table(coupons, COUPON_COLUMNS, _coupon_rows(coupons))
    return xlsx.workbook([table], about)


@on_replica
def _coupon_rows(coupons: QuerySet[MerchantCoupon]) -> Iterator[dict[str, Any]]:
    fields = [column.source for column in COUPON_COLUMNS]
    rows = coupons.values(*fields, "grant_time_raw").iterator(chunk_size=tabular.CHUNK_ROWS)
    for row in rows:
        # A grant time the platform sent in a form we could not read is kept as sent (text).
        if row["grant_time"] is None:
            row["grant_time"] = row["grant_time_raw"]
        yield row
