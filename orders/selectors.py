"""Reads for the back-office: order search, totals of a filtered set, coupons per store, the
daily summary.

Keyword-only functions taking and returning querysets or small dataclasses; the admin, the CSV
exports and the ``export_orders`` command call them, so each figure is computed one way.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, timedelta

from django.core.exceptions import ValidationError
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce, Reverse, TruncDate
from django.utils.translation import gettext

from orders import channels
from orders import coupons as coupon_rules
from orders.models import Discount, MerchantCoupon, PayOrder
from parkingops.db_routers import on_replica
from parkingops.formatting import CHINA
from parkingops.queries import day_start, in_days
from whitelist import plates

# --- Dates -----------------------------------------------------------------------------------


def orders_between(
    *, date_from: date | None = None, date_to: date | None = None, park_uuid: str = ""
) -> QuerySet[PayOrder]:
    """Return the orders paid on those China-time days (both inclusive), at one park if given."""
    orders = PayOrder.objects.filter(in_days("pay_time", date_from=date_from, date_to=date_to))
    if park_uuid:
        orders = orders.filter(park__park_uuid=park_uuid)
    return orders


# --- Orders ----------------------------------------------------------------------------------


def search_orders(*, orders: QuerySet[PayOrder], term: str) -> QuerySet[PayOrder]:
    """Narrow ``orders`` to those matching ``term``: a plate, or a pay or parking serial.

    The plate is normalised first (``川a 660p1`` finds ``川A660P1``) and matches as the whole
    plate, its beginning (``川A66``) or its ending (``660P1``). Every branch has an index on
    PostgreSQL: the beginning a ``varchar_pattern_ops`` index on ``plate``, the ending one on
    ``reverse(plate)`` (see migration 0003), the serials their own indexes.
    """
    term = term.strip()
    if not term:
        return orders
    condition = Q(pay_serial=term) | Q(parking_serial=term)
    plate = plates.normalise(term)
    if plate:
        # "Ends with X" is "the reversed plate begins with reversed X": an indexable prefix
        # match, where LIKE '%X' would read every row.
        orders = orders.alias(plate_reversed=Reverse("plate"))
        condition |= Q(plate__startswith=plate) | Q(plate_reversed__startswith=plate[::-1])
    return orders.filter(condition)


def with_row_totals(orders: QuerySet[PayOrder]) -> QuerySet[PayOrder]:
    """Annotate each order with ``relief_total`` (fen) and ``coupon_count``.

    Correlated subqueries on the discount and coupon foreign-key indexes: the database runs
    them only for the rows a page returns, however large the filtered set is.
    """
    relief = (
        Discount.objects.filter(order=OuterRef("pk"))
        .order_by()
        .values("order")
        .annotate(total=Sum("relief_value"))
        .values("total")
    )
    coupons = (
        MerchantCoupon.objects.filter(order=OuterRef("pk"))
        .order_by()
        .values("order")
        .annotate(count=Count("pk"))
        .values("count")
    )
    return orders.annotate(
        relief_total=Coalesce(Subquery(relief), 0),
        coupon_count=Coalesce(Subquery(coupons), 0),
    )


@dataclass(frozen=True)
class OrderTotals:
    """Totals of a set of orders; money in fen."""

    orders: int = 0
    paid: int = 0
    relief: int = 0
    coupons: int = 0
    coupon_value: int = 0


def order_totals(*, orders: QuerySet[PayOrder]) -> OrderTotals:
    """Return the count, amount paid, discount relief and coupon totals of all of ``orders``.

    Three aggregate queries, whatever the size: the orders themselves, then the discounts and
    the coupons of those orders (a semi-join on their order index; all rows when unfiltered).
    """
    orders = orders.order_by()
    paid = orders.aggregate(count=Count("pk"), paid=Sum("pay_value"))
    if orders.query.has_filters():
        discounts = Discount.objects.filter(order__in=orders.values("pk"))
        coupons = MerchantCoupon.objects.filter(order__in=orders.values("pk"))
    else:
        discounts, coupons = Discount.objects.all(), MerchantCoupon.objects.all()
    relief = discounts.aggregate(relief=Sum("relief_value"))
    coupon = coupons.aggregate(count=Count("pk"), value=coupon_rules.AMOUNT_VALUE)
    return OrderTotals(
        orders=paid["count"] or 0,
        paid=paid["paid"] or 0,
        relief=relief["relief"] or 0,
        coupons=coupon["count"] or 0,
        coupon_value=coupon["value"] or 0,
    )


@dataclass
class OrderExtras:
    """What an exported order row needs from its discounts and coupons."""

    relief: int = 0
    mobiles: list[str] = field(default_factory=list)
    coupons: int = 0
    coupon_value: int = 0


def order_extras(*, order_ids: Iterable[int]) -> dict[int, OrderExtras]:
    """Return the discount relief, discount mobiles and coupon totals of a batch of orders.

    Two queries per batch (not per order): the CSV export calls this once per chunk.
    """
    ids = list(order_ids)
    extras = {order_id: OrderExtras() for order_id in ids}
    discounts = (
        Discount.objects.filter(order_id__in=ids)
        .order_by("order_id", "pk")
        .values_list("order_id", "mobile", "relief_value")
    )
    for order_id, mobile, relief in discounts:
        extras[order_id].relief += relief
        if mobile:
            extras[order_id].mobiles.append(mobile)
    coupons = (
        MerchantCoupon.objects.filter(order_id__in=ids)
        .order_by()
        .values("order_id")
        .annotate(count=Count("pk"), value=coupon_rules.AMOUNT_VALUE)
        .values_list("order_id", "count", "value")
    )
    for order_id, count, value in coupons:
        extras[order_id].coupons = count
        extras[order_id].coupon_value = value or 0
    return extras


# --- Merchant coupons ------------------------------------------------------------------------


@dataclass(frozen=True)
class StoreTotal:
    """The coupons of one store and type in a period: what the car park bills that merchant.

    Kept apart per coupon type because each type has its own unit (``orders.coupons``):
    ``value`` is fen for amount coupons, minutes for time coupons, and None for the types whose
    values are never summed (percentages, and types without a defined unit): those are counted.
    The grand total of a type has a blank store.
    """

    store_code: str
    store_name: str
    coupon_type: int | None
    coupons: int
    value: int | None

    @property
    def is_amount(self) -> bool:
        return self.coupon_type == coupon_rules.CouponType.AMOUNT

    @property
    def coupon_type_label(self) -> str:
        return coupon_rules.type_label(self.coupon_type)

    @property
    def unit(self) -> str:
        return coupon_rules.unit_of(self.coupon_type).value

    @property
    def unit_label(self) -> str:
        return coupon_rules.unit_label(self.coupon_type)

    @property
    def value_text(self) -> str:
        return coupon_rules.value_text(self.coupon_type, self.value)


@dataclass(frozen=True)
class CouponTotals:
    """The per-store totals of a set of coupons, with the grand total of each type and the
    count of all of them; ``amount_value`` is the only money (amount coupons, fen)."""

    stores: list[StoreTotal]
    types: list[StoreTotal]
    coupons: int
    amount_value: int


@on_replica
def coupon_totals(*, coupons: QuerySet[MerchantCoupon]) -> CouponTotals:
    """Return the count and (where the type adds up) the value of ``coupons`` per store and
    coupon type, then per type over every store, in one query."""
    rows = (
        coupons.order_by()
        .values("store_code", "store_name", "coupon_type")
        .annotate(count=Count("pk"), value=coupon_rules.SUMMED_VALUE)
        .order_by("store_code", "store_name", "coupon_type")
    )
    stores = [
        StoreTotal(
            store_code=row["store_code"],
            store_name=row["store_name"],
            coupon_type=row["coupon_type"],
            coupons=row["count"],
            value=row["value"] if coupon_rules.is_summed(row["coupon_type"]) else None,
        )
        for row in rows
    ]
    by_type: dict[int | None, list[StoreTotal]] = {}
    for total in stores:
        by_type.setdefault(total.coupon_type, []).append(total)
    types = [
        StoreTotal(
            store_code="",
            store_name="",
            coupon_type=coupon_type,
            coupons=sum(total.coupons for total in group),
            value=sum(total.value or 0 for total in group)
            if coupon_rules.is_summed(coupon_type)
            else None,
        )
        for coupon_type, group in sorted(
            by_type.items(), key=lambda item: (item[0] is None, item[0] or 0)
        )
    ]
    return CouponTotals(
        stores=stores,
        types=types,
        coupons=sum(total.coupons for total in types),
        amount_value=sum(total.value or 0 for total in types if total.is_amount),
    )


# --- Daily summary ---------------------------------------------------------------------------

# The daily summary's days (the admin page and the API): the last 7 by default, 366 at most.
SUMMARY_DEFAULT_DAYS = 7
SUMMARY_MAX_DAYS = 366


class SummaryRangeError(ValidationError):
    """The days asked for break the daily summary's limits.

    ``date_from`` and ``date_to`` are the days as understood, defaults filled in (None when a
    default cannot be computed), for a form to show them again.
    """

    def __init__(self, message: str, *, date_from: date | None, date_to: date) -> None:
        super().__init__(message)
        self.date_from = date_from
        self.date_to = date_to


def _out_of_calendar(*, date_from: date | None, date_to: date) -> SummaryRangeError:
    return SummaryRangeError(
        gettext("Choose days between the years 1 and 9999."), date_from=date_from, date_to=date_to
    )


def summary_range(
    *, date_from: date | None, date_to: date | None, today: date
) -> tuple[date, date]:
    """Return the daily summary's first and last day, defaults filled in, or raise
    SummaryRangeError with the reason.

    Without days: the last 7, ``today`` included; with only ``date_to``: the 7 days ending then.
    The first day may not be after the last, the range may not exceed 366 days, and both must
    have a midnight every database can store (not at the calendar's very ends).
    """
    date_to = date_to or today
    try:
        date_from = date_from or date_to - timedelta(days=SUMMARY_DEFAULT_DAYS - 1)
    except OverflowError:  # 7 days before the first days of year 1
        raise _out_of_calendar(date_from=None, date_to=date_to) from None
    if date_from > date_to:
        raise SummaryRangeError(
            gettext("The first day (%(first)s) is after the last day (%(last)s).")
            % {"first": date_from.isoformat(), "last": date_to.isoformat()},
            date_from=date_from,
            date_to=date_to,
        )
    if (date_to - date_from).days >= SUMMARY_MAX_DAYS:
        raise SummaryRangeError(
            gettext("Choose at most %(max)d days at once.") % {"max": SUMMARY_MAX_DAYS},
            date_from=date_from,
            date_to=date_to,
        )
    try:
        # Days at the calendar's ends have no midnight every database can store.
        day_start(date_from).astimezone(UTC)
        day_start(date_to + timedelta(days=1))
    except OverflowError:
        raise _out_of_calendar(date_from=date_from, date_to=date_to) from None
    return date_from, date_to


@dataclass
class SummaryRow:
    """One China-time day at one park on one channel (or the total, with ``day`` None)."""

    day: date | None
    park_uuid: str
    park_name: str
    channel: str
    orders: int = 0
    # The channel's name in the active language ("" when finance has not named the code).
    channel_name: str = ""
    paid: int = 0
    relief: int = 0
    coupons: int = 0
    coupon_value: int = 0

    def add(self, other: "SummaryRow") -> None:
        self.orders += other.orders
        self.paid += other.paid
        self.relief += other.relief
        self.coupons += other.coupons
        self.coupon_value += other.coupon_value


@dataclass
class PivotDay:
    """One day of the pivot: the amount paid (fen) at each of the pivot's parks, and in all."""

    day: date
    paid: list[int]
    total: int


@dataclass
class Pivot:
    """Days × parks, amount paid (fen): every day of the range (a row, even without orders),
    every park with orders in it (a column, in the order of ``parks``), with totals."""

    parks: list[SummaryRow]
    days: list[PivotDay]
    total: int


@dataclass
class DailySummary:
    """The groups the database made (``rows``), with their subtotals per day (``days``, park
    and channel blank) and per park (``parks``, day None), and the grand ``total``."""

    date_from: date
    date_to: date
    park_uuid: str
    rows: list[SummaryRow]
    total: SummaryRow
    days: list[SummaryRow] = field(default_factory=list)
    parks: list[SummaryRow] = field(default_factory=list)

    @property
    def pivot(self) -> Pivot:
        paid = {(row.day, row.park_uuid): 0 for row in self.rows}
        for row in self.rows:
            paid[row.day, row.park_uuid] += row.paid
        per_day = {row.day: row.paid for row in self.days}
        days = []
        day = self.date_from
        while day <= self.date_to:
            cells = [paid.get((day, park.park_uuid), 0) for park in self.parks]
            days.append(PivotDay(day=day, paid=cells, total=per_day.get(day, 0)))
            day += timedelta(days=1)
        return Pivot(parks=self.parks, days=days, total=self.total.paid)


def _subtotals(rows: list[SummaryRow], *, per_day: bool) -> list[SummaryRow]:
    """Add up the database's groups per day (every park and channel) or per park (every day
    and channel): sums of a few aggregate rows, never a loop over orders."""
    subtotals: dict[object, SummaryRow] = {}
    for row in rows:
        key = row.day if per_day else row.park_uuid
        if key not in subtotals:
            subtotals[key] = SummaryRow(
                day=row.day if per_day else None,
                park_uuid="" if per_day else row.park_uuid,
                park_name="" if per_day else row.park_name,
                channel="",
            )
        subtotals[key].add(row)
    if per_day:
        return list(subtotals.values())  # the rows come by day
    return sorted(subtotals.values(), key=lambda r: (r.park_name, r.park_uuid))


@on_replica
def daily_summary(*, date_from: date, date_to: date, park_uuid: str = "") -> DailySummary:
    """Return per day (China time) × park × channel (with its name): orders, amount paid,
    discount relief, coupon count and the amount coupons' value (fen), with subtotals per day
    and per park and a total row.

    Three grouped queries on the pay-time index (orders, discounts, coupons), merged here; the
    day is truncated in the database in Asia/Shanghai, so SQLite and PostgreSQL agree.
    """
    scope = in_days("pay_time", date_from=date_from, date_to=date_to)
    related_scope = in_days("order__pay_time", date_from=date_from, date_to=date_to)
    if park_uuid:
        scope &= Q(park__park_uuid=park_uuid)
        related_scope &= Q(order__park__park_uuid=park_uuid)

    rows: dict[tuple[date, str, str], SummaryRow] = {}
    orders = (
        PayOrder.objects.filter(scope)
        .annotate(day=TruncDate("pay_time", tzinfo=CHINA))
        .order_by()
        .values("day", "park__park_uuid", "park__name", "channel")
        .annotate(count=Count("pk"), paid=Sum("pay_value"))
    )
    for row in orders:
        key = (row["day"], row["park__park_uuid"], row["channel"])
        rows[key] = SummaryRow(
            day=row["day"],
            park_uuid=row["park__park_uuid"],
            park_name=row["park__name"],
            channel=row["channel"],
            orders=row["count"],
            paid=row["paid"] or 0,
        )

    discounts = (
        Discount.objects.filter(related_scope)
        .annotate(day=TruncDate("order__pay_time", tzinfo=CHINA))
        .order_by()
        .values("day", "order__park__park_uuid", "order__channel")
        .annotate(relief=Sum("relief_value"))
    )
    for row in discounts:
        key = (row["day"], row["order__park__park_uuid"], row["order__channel"])
        rows[key].relief = row["relief"] or 0

    coupons = (
        MerchantCoupon.objects.filter(related_scope)
        .annotate(day=TruncDate("order__pay_time", tzinfo=CHINA))
        .order_by()
        .values("day", "order__park__park_uuid", "order__channel")
        .annotate(count=Count("pk"), value=coupon_rules.AMOUNT_VALUE)
    )
    for row in coupons:
        key = (row["day"], row["order__park__park_uuid"], row["order__channel"])
        rows[key].coupons = row["count"]
        rows[key].coupon_value = row["value"] or 0

    names = channels.channel_names()
    for row in rows.values():
        row.channel_name = names.get(row.channel, "")
    ordered = sorted(rows.values(), key=lambda r: (r.day, r.park_name, r.park_uuid, r.channel))
    total = SummaryRow(day=None, park_uuid="", park_name="", channel="")
    for row in ordered:
        total.add(row)
    return DailySummary(
        date_from=date_from,
        date_to=date_to,
        park_uuid=park_uuid,
        rows=ordered,
        total=total,
        days=_subtotals(ordered, per_day=True),
        parks=_subtotals(ordered, per_day=False),
    )
