"""Reads for the back-office: order search, totals of a filtered set, coupons per store, and
(``orders.selectors.summary``, re-exported here) the daily summary.

Keyword-only functions taking and returning querysets or small dataclasses; the admin, the CSV
exports and the ``export_orders`` command call them, so each figure is computed one way.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce, Reverse
from django.http import QueryDict

from orders import coupons as coupon_rules
from orders.models import Discount, MerchantCoupon, PayOrder
from orders.rollup.selectors import StayMoney, coupon_takings, stay_money, takings
from orders.stays.models import Stay
from orders.stays.selectors import StayTotals, stay_totals
from parkingops.db_routers import on_replica
from parkingops.formatting import parse_day
from parkingops.queries import in_days
from whitelist import plates
from whitelist.models import Park

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


@dataclass(frozen=True)
class RolledScope:
    """An order list's filter the daily rollup can total: China-time days, a park, a channel."""

    date_from: date | None = None
    date_to: date | None = None
    park_id: int | None = None
    channel: str = ""


# The order list's parameters the rollup can total (PayDateRangeFilter, ParkFilter,
# ChannelFilter), and those that do not change the set (the page, the ordering).
ROLLED_PARAMETERS = {"pay_date_from", "pay_date_to", "park", "channel"}
PAGE_PARAMETERS = {"p", "o"}


@dataclass(frozen=True)
class _Rolled:
    date_from: date | None
    date_to: date | None
    park_id: int | None
    values: dict[str, str]


def _rolled(
    params: QueryDict,
    allowed: set[str],
    *,
    page: set[str],
    days: tuple[str, str] = ("pay_date_from", "pay_date_to"),
) -> _Rolled | None:
    """Read a list's query string as the rollup's filter: None when it holds a parameter
    outside ``allowed``, ``page`` and a blank search, a repeated one, or a value the list
    refuses (a day it cannot read, days the wrong way round, an unknown park). ``days`` names
    the first and last day's parameters (both in ``allowed``)."""
    if set(params) - allowed - page - {"q"}:
        return None
    if params.get("q", "").strip() or any(len(params.getlist(name)) > 1 for name in params):
        return None
    values = {name: params.get(name, "").strip() for name in allowed}
    if any("\x00" in value for value in values.values()):
        return None
    try:
        days = [parse_day(values[name]) if values[name] else None for name in days]
    except ValueError:
        return None
    if days[0] and days[1] and days[0] > days[1]:
        return None
    park_id = None
    if values["park"]:
        park_id = Park.objects.filter(park_uuid=values["park"]).values_list("pk", flat=True).first()
        if park_id is None:
            return None
    return _Rolled(date_from=days[0], date_to=days[1], park_id=park_id, values=values)


def rolled_scope(params: QueryDict) -> RolledScope | None:
    """Return the order list's filter as the rollup's, or None when the list's query string
    asks for more (a search, another filter, a value the list refuses): those are totalled
    from the orders themselves."""
    scope = _rolled(params, ROLLED_PARAMETERS, page=PAGE_PARAMETERS)
    if scope is None:
        return None
    return RolledScope(
        date_from=scope.date_from,
        date_to=scope.date_to,
        park_id=scope.park_id,
        channel=scope.values["channel"],
    )


def rolled_order_totals(*, scope: RolledScope) -> OrderTotals:
    """Return ``order_totals`` of the orders in ``scope``, from the daily rollup (a few rows
    per day, however many orders; ``orders.rollup``)."""
    rows = takings(
        date_from=scope.date_from,
        date_to=scope.date_to,
        park_id=scope.park_id,
        channel=scope.channel,
        by=(),
    )
    if not rows:
        return OrderTotals()
    row = rows[0]
    return OrderTotals(
        orders=row.orders,
        paid=row.paid,
        relief=row.relief,
        coupons=row.coupons,
        coupon_value=row.coupon_value,
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
    return _coupon_totals(
        (row["store_code"], row["store_name"], row["coupon_type"], row["count"], row["value"])
        for row in rows
    )


# The stay list's parameters the stay rollup can total (ParkFilter, ExitDateRangeFilter,
# InParkFilter).
ROLLED_STAY_PARAMETERS = {"exit_date_from", "exit_date_to", "park", "in_park"}


def rolled_stay_totals(*, params: QueryDict) -> StayTotals | None:
    """Return ``stay_totals`` of the stay list's query string from the stay rollup (the left
    stays, ``orders.rollup.stay_money``) and the stays still in the park (a few, read
    directly), or None when the query asks for more than exit days, a park and in the park or
    not (a search, another filter, a value the list refuses): those are totalled from the
    stays themselves."""
    scope = _rolled(
        params,
        ROLLED_STAY_PARAMETERS,
        page=PAGE_PARAMETERS,
        days=("exit_date_from", "exit_date_to"),
    )
    if scope is None or scope.values["in_park"] not in ("", "0", "1"):
        return None
    money = StayMoney()
    if scope.values["in_park"] != "1":
        money = stay_money(date_from=scope.date_from, date_to=scope.date_to, park_id=scope.park_id)
    # The stays with no exit (the cars in the park): no exit day, and few.
    staying = StayTotals()
    if scope.values["in_park"] != "0" and scope.date_from is None and scope.date_to is None:
        stays = (
            Stay.objects.in_park()
            if scope.values["in_park"]
            else Stay.objects.filter(leave_time__isnull=True)
        )
        if scope.park_id is not None:
            stays = stays.filter(park_id=scope.park_id)
        staying = stay_totals(stays=stays)
    return StayTotals(
        stays=money.left + staying.stays,
        in_park=staying.in_park,
        fee=money.fee + staying.fee,
        discounts=money.discounts + staying.discounts,
        autopay=money.autopay + staying.autopay,
        paid_by_pushes=money.paid + staying.paid_by_pushes,
        gap=money.gap + staying.gap,
        with_a_gap=money.gapped + staying.with_a_gap,
    )


# The coupon list's parameters the rollup can total (CouponPayDateRangeFilter,
# CouponParkFilter, StoreFilter).
ROLLED_COUPON_PARAMETERS = {"pay_date_from", "pay_date_to", "park", "store"}


def rolled_coupon_totals(*, params: QueryDict) -> CouponTotals | None:
    """Return ``coupon_totals`` of the coupon list's query string from the coupon rollup
    (``orders.rollup``), or None when the query asks for more than days, a park and a store
    (a search, a value the list refuses): those are totalled from the coupons themselves."""
    scope = _rolled(params, ROLLED_COUPON_PARAMETERS, page={"p"})
    if scope is None:
        return None
    rows = coupon_takings(
        date_from=scope.date_from,
        date_to=scope.date_to,
        park_id=scope.park_id,
        store_code=scope.values["store"],
    )
    rows.sort(
        key=lambda row: (
            row.store_code,
            row.store_name,
            row.coupon_type is None,
            row.coupon_type or 0,
        )
    )
    return _coupon_totals(
        (row.store_code, row.store_name, row.coupon_type, row.coupons, row.value) for row in rows
    )


def _coupon_totals(rows: Iterable[tuple]) -> CouponTotals:
    """The per-store totals, the grand total of each type and the count of all, from rows of
    (store code, store name, type, count, value summed)."""
    stores = [
        StoreTotal(
            store_code=code,
            store_name=name,
            coupon_type=kind,
            coupons=count,
            value=value if coupon_rules.is_summed(kind) else None,
        )
        for code, name, kind, count, value in rows
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


# The daily summary's reads live in their own module; callers keep reading them from here.
from orders.selectors.summary import (  # noqa: E402
    SUMMARY_DEFAULT_DAYS,
    SUMMARY_MAX_DAYS,
    DailySummary,
    Pivot,
    PivotDay,
    SummaryRangeError,
    SummaryRow,
    daily_summary,
    summary_range,
)

__all__ = [
    "SUMMARY_DEFAULT_DAYS",
    "SUMMARY_MAX_DAYS",
    "CouponTotals",
    "DailySummary",
    "OrderExtras",
    "OrderTotals",
    "RolledScope",
    "Pivot",
    "PivotDay",
    "StoreTotal",
    "SummaryRangeError",
    "SummaryRow",
    "coupon_totals",
    "daily_summary",
    "order_extras",
    "order_totals",
    "orders_between",
    "rolled_coupon_totals",
    "rolled_order_totals",
    "rolled_scope",
    "rolled_stay_totals",
    "search_orders",
    "summary_range",
    "with_row_totals",
]
