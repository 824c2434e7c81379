"""The stay and renewal files (CSV and XLSX): their columns and rows described once, for the
integration API's downloads (``/api/v1/stays/export/``, ``/api/v1/renewals/export/``) and the
admin lists' exports (``orders.admin.stays``); the API's CSV for machines has its own columns
(``STAY_MACHINE_COLUMNS``, ``RENEWAL_MACHINE_COLUMNS``) over the same rows.

Money is written as the order export writes it: in yuan, the unit in the header. A stay's
``paid_by_pushes`` and ``gap`` are read from ``orders.stays.selectors.with_gap`` (never
recomputed here); its length is the exit's ``parking_time`` in whole minutes.
"""

from collections.abc import Iterator
from typing import IO, Any

from django.db.models import QuerySet
from django.utils.translation import pgettext_lazy

from orders import channels
from orders.stays.models import Renewal, Stay
from orders.stays.selectors import with_gap
from parkingops import tabular, xlsx
from parkingops.db_routers import on_replica
from parkingops.tabular import Column, Kind, fixed, money

STAY_COLUMNS: tuple[Column, ...] = (
    Column(pgettext_lazy("CSV header", "parking_serial"), Kind.TEXT, "parking_serial"),
    Column(pgettext_lazy("CSV header", "park_uuid"), Kind.TEXT, "park__park_uuid"),
    Column(pgettext_lazy("CSV header", "park_name"), Kind.TEXT, "park__name"),
    Column(pgettext_lazy("CSV header", "plate"), Kind.TEXT, "plate"),
    Column(pgettext_lazy("CSV header", "enter_time"), Kind.TIME, "enter_time"),
    Column(pgettext_lazy("CSV header", "leave_time"), Kind.TIME, "leave_time"),
    Column(pgettext_lazy("CSV header", "length_minutes"), Kind.NUMBER, "length_minutes"),
    Column(pgettext_lazy("CSV header", "total_value_yuan"), Kind.YUAN, "total_value"),
    Column(pgettext_lazy("CSV header", "free_value_yuan"), Kind.YUAN, "free_value"),
    Column(pgettext_lazy("CSV header", "autopay_value_yuan"), Kind.YUAN, "autopay_value"),
    Column(pgettext_lazy("CSV header", "paid_by_pushes_yuan"), Kind.YUAN, "paid_by_pushes"),
    Column(pgettext_lazy("CSV header", "gap_yuan"), Kind.YUAN, "gap"),
    Column(pgettext_lazy("CSV header", "enter_gate"), Kind.TEXT, "enter_gate"),
    Column(pgettext_lazy("CSV header", "leave_gate"), Kind.TEXT, "leave_gate"),
    Column(pgettext_lazy("CSV header", "needs_review"), Kind.NUMBER, "needs_review"),  # 1 or 0
)

RENEWAL_COLUMNS: tuple[Column, ...] = (
    Column(pgettext_lazy("CSV header", "pay_serial"), Kind.TEXT, "pay_serial"),
    Column(pgettext_lazy("CSV header", "park_uuid"), Kind.TEXT, "park__park_uuid"),
    Column(pgettext_lazy("CSV header", "park_name"), Kind.TEXT, "park__name"),
    Column(pgettext_lazy("CSV header", "plate"), Kind.TEXT, "plate"),
    Column(pgettext_lazy("CSV header", "vip_type"), Kind.NUMBER, "vip_type"),
    Column(pgettext_lazy("CSV header", "vip_type_label"), Kind.TEXT, "vip_type_label"),
    Column(pgettext_lazy("CSV header", "quantity"), Kind.NUMBER, "quantity"),
    Column(pgettext_lazy("CSV header", "start_time"), Kind.TIME, "start_time"),
    Column(pgettext_lazy("CSV header", "end_time"), Kind.TIME, "end_time"),
    Column(pgettext_lazy("CSV header", "pay_time"), Kind.TIME, "pay_time"),
    Column(pgettext_lazy("CSV header", "pay_value_yuan"), Kind.YUAN, "pay_value"),
    Column(pgettext_lazy("CSV header", "pay_value_fen"), Kind.FEN, "pay_value"),
    Column(pgettext_lazy("CSV header", "channel"), Kind.TEXT, "channel"),
    Column(pgettext_lazy("CSV header", "channel_name"), Kind.TEXT, "channel_name"),
    Column(pgettext_lazy("CSV header", "received_at"), Kind.TIME, "received_at"),
)

# The files for machines: the JSON's field names, ISO-8601 times, money in fen and yuan.
STAY_MACHINE_COLUMNS: tuple[Column, ...] = (
    fixed("parking_serial", Kind.TEXT),
    fixed("park_uuid", Kind.TEXT, "park__park_uuid"),
    fixed("park_name", Kind.TEXT, "park__name"),
    fixed("plate", Kind.TEXT),
    fixed("enter_time", Kind.INSTANT),
    fixed("leave_time", Kind.INSTANT),
    fixed("length_seconds", Kind.NUMBER, "parking_time"),
    *money("total_value"),
    *money("free_value"),
    *money("autopay_value"),
    *money("paid_by_pushes"),
    *money("gap"),
    fixed("needs_review", Kind.NUMBER),  # 1 or 0
    fixed("enter_gate", Kind.TEXT),
    fixed("leave_gate", Kind.TEXT),
)

RENEWAL_MACHINE_COLUMNS: tuple[Column, ...] = (
    fixed("pay_serial", Kind.TEXT),
    fixed("park_uuid", Kind.TEXT, "park__park_uuid"),
    fixed("park_name", Kind.TEXT, "park__name"),
    fixed("plate", Kind.TEXT),
    fixed("vip_type", Kind.NUMBER),
    fixed("vip_type_label", Kind.TEXT),
    fixed("quantity", Kind.NUMBER),
    fixed("start_time", Kind.INSTANT),
    fixed("end_time", Kind.INSTANT),
    fixed("pay_time", Kind.INSTANT),
    *money("pay_value"),
    fixed("channel", Kind.TEXT),
    fixed("channel_name", Kind.TEXT),
    fixed("received_at", Kind.INSTANT),
)

_STAY_FIELDS = (
    "parking_serial",
    "park__park_uuid",
    "park__name",
    "plate",
    "enter_time",
    "leave_time",
    "parking_time",
    "total_value",
    "free_value",
    "autopay_value",
    "paid_by_pushes",
    "gap",
    "enter_gate",
    "leave_gate",
    "needs_review",
)
_RENEWAL_FIELDS = tuple(
    dict.fromkeys(
        c.source for c in RENEWAL_COLUMNS if c.source not in {"vip_type_label", "channel_name"}
    )
)


def minutes(seconds: int | None) -> int | None:
    """A length in whole minutes (rounded down), None when unknown (the car is in the park)."""
    return None if seconds is None else seconds // 60


def stay_rows(stays: QuerySet[Stay]) -> Iterator[dict[str, Any]]:
    """Yield the rows ``STAY_COLUMNS`` read, one per stay of ``stays`` (in their order)."""
    rows = with_gap(stays).values(*_STAY_FIELDS).iterator(chunk_size=tabular.CHUNK_ROWS)
    for row in rows:
        row["length_minutes"] = minutes(row["parking_time"])
        row["needs_review"] = int(row["needs_review"])
        yield row


def renewal_rows(renewals: QuerySet[Renewal]) -> Iterator[dict[str, Any]]:
    """Yield the rows ``RENEWAL_COLUMNS`` read, one per renewal of ``renewals`` (in their
    order), with its type's label and the name finance gave its channel ("" when none)."""
    named = channels.with_channel_name(renewals)
    for row in named.values(*_RENEWAL_FIELDS, "channel_name").iterator(
        chunk_size=tabular.CHUNK_ROWS
    ):
        row["vip_type_label"] = Renewal(vip_type=row["vip_type"]).vip_type_label
        yield row


def stays_csv(stays: QuerySet[Stay]) -> Iterator[str]:
    """Return the stay CSV of ``stays`` (in their order) as an iterator of text pieces."""
    return _csv(stays, STAY_COLUMNS, stay_rows, tabular.header(STAY_COLUMNS))


def renewals_csv(renewals: QuerySet[Renewal]) -> Iterator[str]:
    """Return the renewal CSV of ``renewals`` (in their order) as an iterator of text pieces."""
    return _csv(renewals, RENEWAL_COLUMNS, renewal_rows, tabular.header(RENEWAL_COLUMNS))


def stays_machine_csv(stays: QuerySet[Stay]) -> Iterator[str]:
    """Return the stay file for machines (``STAY_MACHINE_COLUMNS``) as text pieces."""
    return _csv(stays, STAY_MACHINE_COLUMNS, stay_rows, tabular.header(STAY_MACHINE_COLUMNS))


def renewals_machine_csv(renewals: QuerySet[Renewal]) -> Iterator[str]:
    """Return the renewal file for machines (``RENEWAL_MACHINE_COLUMNS``) as text pieces."""
    columns = RENEWAL_MACHINE_COLUMNS
    return _csv(renewals, columns, renewal_rows, tabular.header(columns))


@on_replica
def _csv(queryset, columns, rows, header: list[str]) -> Iterator[str]:
    # The header is translated by the caller, in the request's language; the rows are read
    # while streaming.
    yield from tabular.csv_text(columns, rows(queryset), names=header)


@on_replica
def stays_xlsx(stays: QuerySet[Stay], *, about: xlsx.About) -> IO[bytes]:
    """Return the XLSX twin of the stay CSV; raises ``xlsx.TooManyRows`` when too long."""
    table = xlsx.queryset_table(stays, STAY_COLUMNS, stay_rows(stays))
    return xlsx.workbook([table], about)


@on_replica
def renewals_xlsx(renewals: QuerySet[Renewal], *, about: xlsx.About) -> IO[bytes]:
    """Return the XLSX twin of the renewal CSV; raises ``xlsx.TooManyRows`` when too long."""
    table = xlsx.queryset_table(renewals, RENEWAL_COLUMNS, renewal_rows(renewals))
    return xlsx.workbook([table], about)
