"""The rollup's reads: the orders, amount paid, relief and coupons of a range of China-time
days (at a park, on a channel), grouped as the caller needs, exact to the last order.

One statement adds up the rollup's rows (the orders received before the watermark) and the
orders received since, read from the orders, their discounts and their coupons. Both halves
are written once (``parts``), and the rebuild (``services``) stores the same sums.
"""

from dataclasses import dataclass
from datetime import date, datetime

from django.db import connections
from django.db.models import BigIntegerField, Case, F, Q, QuerySet, Value, When
from django.db.models.functions import TruncDate

from orders import coupons as coupon_rules
from orders.models import Discount, MerchantCoupon, PayOrder
from orders.rollup.models import DailyTakings, RollupMark
from parkingops.db_routers import on_replica
from parkingops.formatting import CHINA
from parkingops.queries import in_days

# The columns every part gives, in this order: the group (day, park, channel), then the sums.
GROUPS = ("r_day", "r_park", "r_channel")
SUMS = ("r_orders", "r_paid", "r_relief", "r_coupons", "r_coupon_value")
# How many times a read retries when the rollup moved under it (see ``takings``).
ATTEMPTS = 5


def _zero() -> Value:
    return Value(0, output_field=BigIntegerField())


def _one() -> Value:
    return Value(1, output_field=BigIntegerField())


def parts(*, scope: Q, related_scope: Q) -> list[QuerySet]:
    """Return the rows the rollup adds up for the orders in ``scope`` (their discounts' and
    coupons' in ``related_scope``, the same condition through ``order__``): an order gives
    its count and amount, a discount its relief, a coupon its count and (amount coupons
    only, ``orders.coupons``) its value; each with its order's day, park and channel."""
    orders = (
        PayOrder.objects.filter(scope)
        .order_by()
        .annotate(
            r_day=TruncDate("pay_time", tzinfo=CHINA),
            r_park=F("park_id"),
            r_channel=F("channel"),
            r_orders=_one(),
            r_paid=F("pay_value"),
            r_relief=_zero(),
            r_coupons=_zero(),
            r_coupon_value=_zero(),
        )
        .values_list(*GROUPS, *SUMS)
    )
    related = {
        "r_day": TruncDate("order__pay_time", tzinfo=CHINA),
        "r_park": F("order__park_id"),
        "r_channel": F("order__channel"),
        "r_orders": _zero(),
        "r_paid": _zero(),
    }
    discounts = (
        Discount.objects.filter(related_scope)
        .order_by()
        .annotate(
            **related,
            r_relief=F("relief_value"),
            r_coupons=_zero(),
            r_coupon_value=_zero(),
        )
        .values_list(*GROUPS, *SUMS)
    )
    coupons = (
        MerchantCoupon.objects.filter(related_scope)
        .order_by()
        .annotate(
            **related,
            r_relief=_zero(),
            r_coupons=_one(),
            r_coupon_value=Case(
                When(coupon_type=coupon_rules.CouponType.AMOUNT, then=F("coupon_value")),
                default=_zero(),
            ),
        )
        .values_list(*GROUPS, *SUMS)
    )
    return [orders, discounts, coupons]


def grouped_sql(querysets: list[QuerySet], *, by: tuple[str, ...], using: str) -> tuple[str, list]:
    """Return ``SELECT <by>, SUM(…) FROM (<querysets, UNION ALL>) GROUP BY <by>`` and its
    parameters; ``by`` is a subset of GROUPS."""
    union = querysets[0].union(*querysets[1:], all=True)
    sql, params = union.query.get_compiler(using=using).as_sql()
    quote = connections[using].ops.quote_name
    columns = [quote(name) for name in by]
    sums = [f"SUM({quote(name)})" for name in SUMS]
    group = f" GROUP BY {', '.join(columns)}" if columns else ""
    select = ", ".join(columns + sums)
    return f"SELECT {select} FROM ({sql}) AS parts{group}", list(params)  # noqa: S608


@dataclass(frozen=True)
class TakingsRow:
    """The sums of one group (None for a column not grouped by); money in fen."""

    day: date | None
    park_id: int | None
    channel: str | None
    orders: int
    paid: int
    relief: int
    coupons: int
    coupon_value: int


def _mark(using: str) -> datetime | None:
    return (
        RollupMark.objects.using(using).filter(pk=1).values_list("received_before", flat=True)
    ).first()


@on_replica
def takings(
    *,
    date_from: date | None = None,
    date_to: date | None = None,
    park_id: int | None = None,
    channel: str = "",
    by: tuple[str, ...] = GROUPS,
) -> list[TakingsRow]:
    """Return the orders (count, paid, relief, coupons, amount coupons' value) paid on the
    China-time days ``date_from`` .. ``date_to`` (either open), at ``park_id`` and on
    ``channel`` when given, grouped by ``by`` (a subset of GROUPS; none: one total).

    The rollup's rows of those days, plus the orders received since its watermark (a range
    of the received-time index: the last minutes' orders), in one statement, so both halves
    see the same moment. The watermark is read first and passed as a value (the planner
    then knows the second half is small); the statement also says whether the watermark is
    still that one, and the read is repeated in the rare case a rebuild moved it between.
    """
    using = PayOrder.objects.db
    rolled_scope = Q()
    if date_from is not None:
        rolled_scope &= Q(day__gte=date_from)
    if date_to is not None:
        rolled_scope &= Q(day__lte=date_to)
    scope = in_days("pay_time", date_from=date_from, date_to=date_to)
    related_scope = in_days("order__pay_time", date_from=date_from, date_to=date_to)
    for name, value in (("park_id", park_id), ("channel", channel)):
        if value:
            rolled_scope &= Q(**{name: value})
            scope &= Q(**{name: value})
            related_scope &= Q(**{f"order__{name}": value})
    table = connections[using].ops.quote_name(RollupMark._meta.db_table)
    for _attempt in range(ATTEMPTS):
        mark = _mark(using)
        rolled = (
            DailyTakings.objects.filter(rolled_scope)
            .order_by()
            .annotate(
                r_day=F("day"),
                r_park=F("park_id"),
                r_channel=F("channel"),
                r_orders=F("order_count"),
                r_paid=F("paid"),
                r_relief=F("relief"),
                r_coupons=F("coupon_count"),
                r_coupon_value=F("coupon_value"),
            )
            .values_list(*GROUPS, *SUMS)
        )
        live = parts(
            scope=scope & Q(received_at__gte=mark) if mark else scope,
            related_scope=related_scope & Q(order__received_at__gte=mark)
            if mark
            else related_scope,
        )
        sql, params = grouped_sql([rolled, *live] if mark else live, by=by, using=using)
        still = f"(SELECT received_before FROM {table} WHERE id = 1)"  # noqa: S608
        check = f"{still} = %s" if mark else f"{still} IS NULL"
        with connections[using].cursor() as cursor:
            cursor.execute(
                f"SELECT CASE WHEN {check} THEN 1 ELSE 0 END, sums.* FROM ({sql}) AS sums",  # noqa: S608
                [
                    *([connections[using].ops.adapt_datetimefield_value(mark)] if mark else []),
                    *params,
                ],
            )
            found = cursor.fetchall()
        if not found or all(row[0] for row in found):
            return [_row(row[1:], by) for row in found if any(row[1 + len(by) :])]
    raise RuntimeError("The rollup kept moving during the read.")


def _row(values: tuple, by: tuple[str, ...]) -> TakingsRow:
    keys = dict(zip(by, values, strict=False))
    day = keys.get("r_day")
    if isinstance(day, str):  # SQLite gives dates as text
        day = date.fromisoformat(day)
    sums = [int(value or 0) for value in values[len(by) :]]
    return TakingsRow(day, keys.get("r_park"), keys.get("r_channel"), *sums)
