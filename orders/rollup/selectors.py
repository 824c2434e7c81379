"""The rollup's reads: the orders, amount paid, relief and coupons of a range of China-time
days (at a park, on a channel), grouped as the caller needs, exact to the last order.

One statement adds up the rollup's rows (the orders received before the watermark) and the
orders received since, read from the orders, their discounts and their coupons. Both halves
are written once (``parts``), and the rebuild (``services``) stores the same sums.
"""

from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import date, datetime

from django.db import connections, transaction
from django.db.models import BigIntegerField, Case, F, Q, QuerySet, Value, When
from django.db.models.functions import Coalesce, TruncDate

from orders import coupons as coupon_rules
from orders.models import Discount, MerchantCoupon, PayOrder
from orders.rollup.models import DailyCoupons, DailyStays, DailyTakings, RollupMark
from orders.stays.models import Stay
from orders.stays.selectors import due, with_gap
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


def parts(*, scope: Q, related_scope: Q, sign: int = 1) -> list[QuerySet]:
    """Return the rows the rollup adds up for the orders in ``scope`` (their discounts' and
    coupons' in ``related_scope``, the same condition through ``order__``): an order gives
    its count and amount, a discount its relief, a coupon its count and (amount coupons
    only, ``orders.coupons``) its value; each with its order's day, park and channel.
    ``sign`` -1 gives each number negated: rows that take those orders away from a sum."""

    def signed(value):
        return value if sign == 1 else value * Value(sign, output_field=BigIntegerField())

    orders = (
        PayOrder.objects.filter(scope)
        .order_by()
        .annotate(
            r_day=TruncDate("pay_time", tzinfo=CHINA),
            r_park=F("park_id"),
            r_channel=F("channel"),
            r_orders=signed(_one()),
            r_paid=signed(F("pay_value")),
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
            r_relief=signed(F("relief_value")),
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
            r_coupons=signed(_one()),
            r_coupon_value=signed(
                Case(
                    When(coupon_type=coupon_rules.CouponType.AMOUNT, then=F("coupon_value")),
                    default=_zero(),
                )
            ),
        )
        .values_list(*GROUPS, *SUMS)
    )
    return [orders, discounts, coupons]


# Ends a subquery so the database reads it as it is, row by row, rather than folding it into
# the query around it (which copies a column's expression, subqueries and all, to each use).
FENCE = {"postgresql": " OFFSET 0", "sqlite": " LIMIT -1 OFFSET 0"}


class _Quoted(dict):
    """``str.format_map``'s names, each the quoted column of that name."""

    def __init__(self, quote: Callable[[str], str]) -> None:
        super().__init__()
        self.quote = quote

    def __missing__(self, name: str) -> str:
        return self.quote(name)


def grouped_sql(
    querysets: list[QuerySet],
    *,
    by: tuple[str, ...],
    using: str,
    sums: tuple[str, ...] = SUMS,
    per_row: dict[str, str] | None = None,
) -> tuple[str, list]:
    """Return ``SELECT <by>, SUM(<sums>) FROM (<querysets, UNION ALL>) GROUP BY <by>`` and its
    parameters; ``by`` is a subset of the parts' group columns.

    ``per_row`` works a sum out of each row's columns first: ``{name: SQL}`` with the
    columns as ``{column}`` (``STAY_PER_ROW``). The parts are then read behind ``FENCE``, so
    a column used twice there is still computed once a row."""
    union = querysets[0].union(*querysets[1:], all=True)
    sql, params = union.query.get_compiler(using=using).as_sql()
    connection = connections[using]
    quote = connection.ops.quote_name
    per_row = per_row or {}
    if per_row:
        sql += FENCE[connection.vendor]
    columns = [quote(name) for name in by]
    sums = [
        f"SUM({per_row[name].format_map(_Quoted(quote)) if name in per_row else quote(name)})"
        for name in sums
    ]
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


def exact_read(
    *,
    rolled: QuerySet,
    live: Callable[[datetime | None], list[QuerySet]],
    by: tuple[str, ...],
    sums: tuple[str, ...],
) -> list[tuple]:
    """Return the grouped sums of the ``rolled`` rows and the ``live`` parts (given the
    watermark: the orders received since, or every order when nothing is rolled up yet), in
    one statement, as rows of ``by`` then ``sums``.

    The watermark is read first and passed as a value (the planner then knows the live half
    is small); the statement also says whether the watermark is still that one, and the read
    is repeated in the rare case a rebuild moved it in between (the rolled rows would then
    hold orders the live half counts too).
    """
    using = PayOrder.objects.db
    connection = connections[using]
    table = connection.ops.quote_name(RollupMark._meta.db_table)
    still = f"(SELECT received_before FROM {table} WHERE id = 1)"  # noqa: S608
    postgresql = connection.vendor == "postgresql"
    for _attempt in range(ATTEMPTS):
        # PostgreSQL: a transaction for SET LOCAL; no savepoint (inside a request's
        # transaction or not, a failed read fails the page). SQLite: none, as its transactions
        # take the write lock (IMMEDIATE) and would queue this read behind every push; its
        # single statement below is a consistent read by itself.
        scope = transaction.atomic(using=using, savepoint=False) if postgresql else nullcontext()
        with scope, connection.cursor() as cursor:
            if postgresql:
                # A few thousand rolled rows and the last minutes' orders: no parallel workers
                # or JIT compilation to start (each costs more than the read), room to group
                # in memory, and the recent rows' index pages priced as the cached pages they
                # are (at the default random_page_cost, 4,700 orders received since the mark
                # made PostgreSQL scan all 800,000 stays for theirs: 300 ms, not 10) (SET
                # LOCAL, for this read's transaction); the watermark with them.
                cursor.execute(
                    "SELECT set_config('max_parallel_workers_per_gather', '0', true), "
                    "set_config('jit', 'off', true), set_config('work_mem', '32MB', true), "
                    f"set_config('random_page_cost', '1.1', true), {still}"
                )
                mark = cursor.fetchone()[4]
            else:
                mark = _mark(using)
            parts_ = [rolled, *live(mark)] if mark else live(None)
            sql, params = grouped_sql(parts_, by=by, using=using, sums=sums)
            check = f"{still} = %s" if mark else f"{still} IS NULL"
            marks = [connection.ops.adapt_datetimefield_value(mark)] if mark else []
            cursor.execute(
                f"SELECT CASE WHEN {check} THEN 1 ELSE 0 END, sums.* FROM ({sql}) AS sums",  # noqa: S608
                [*marks, *params],
            )
            found = cursor.fetchall()
        if all(row[0] for row in found):
            # A total over nothing is one row of NULLs: no group.
            return [row[1:] for row in found if any(v is not None for v in row[1 + len(by) :])]
    raise RuntimeError("The rollup kept moving during the read.")


def _scopes(*, date_from: date | None, date_to: date | None, **equal: object) -> tuple[Q, Q, Q]:
    """Return the conditions on the rollup's rows, on the orders and on their children (through
    ``order__``) for the days (China time, both included) and the ``equal`` columns given."""
    rolled = Q()
    if date_from is not None:
        rolled &= Q(day__gte=date_from)
    if date_to is not None:
        rolled &= Q(day__lte=date_to)
    scope = in_days("pay_time", date_from=date_from, date_to=date_to)
    related = in_days("order__pay_time", date_from=date_from, date_to=date_to)
    for name, value in equal.items():
        if value:
            rolled &= Q(**{name: value})
            scope &= Q(**{name: value})
            related &= Q(**{f"order__{name}": value})
    return rolled, scope, related


@on_replica
def takings(
    *,
    date_from: date | None = None,
    date_to: date | None = None,
    park_id: int | None = None,
    channel: str = "",
    by: tuple[str, ...] = GROUPS,
    admitted_only: bool = False,
) -> list[TakingsRow]:
    """Return the orders (count, paid, relief, coupons, amount coupons' value) paid on the
    China-time days ``date_from`` .. ``date_to`` (either open), at ``park_id`` and on
    ``channel`` when given, grouped by ``by`` (a subset of GROUPS; none: one total);
    ``admitted_only``: only the orders a whitelist entry admitted (the statements').

    The rollup's rows of those days plus the orders received since its watermark (a range of
    the received-time index: the last minutes' orders), in one statement (``exact_read``).
    The rollup holds every order: for ``admitted_only`` the orders without an entry (nearly
    none: the platform pushes for whitelisted plates; a deleted entry leaves its orders
    without) are taken away in the same statement, found by their own partial index.
    """
    rolled_scope, scope, related_scope = _scopes(
        date_from=date_from, date_to=date_to, park_id=park_id, channel=channel
    )
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

    def live(mark: datetime | None) -> list[QuerySet]:
        since = Q(received_at__gte=mark) if mark else Q()
        related_since = Q(order__received_at__gte=mark) if mark else Q()
        found = parts(scope=scope & since, related_scope=related_scope & related_since)
        if admitted_only:
            found += parts(
                scope=scope & Q(whitelist_entry=None),
                related_scope=related_scope & Q(order__whitelist_entry=None),
                sign=-1,
            )
        return found

    found = exact_read(rolled=rolled, live=live, by=by, sums=SUMS)
    return [_row(row, by) for row in found]


def _row(values: tuple, by: tuple[str, ...]) -> TakingsRow:
    keys = dict(zip(by, values, strict=False))
    day = keys.get("r_day")
    if isinstance(day, str):  # SQLite gives dates as text
        day = date.fromisoformat(day)
    sums = [int(value or 0) for value in values[len(by) :]]
    return TakingsRow(day, keys.get("r_park"), keys.get("r_channel"), *sums)


# --- Coupons per store and type ----------------------------------------------------------------

COUPON_GROUPS = ("c_day", "c_park", "c_store_code", "c_store_name", "c_type")
COUPON_SUMS = ("c_count", "c_value")


def coupon_parts(*, related_scope: Q) -> list[QuerySet]:
    """Return the rows the coupon rollup adds up for the coupons in ``related_scope`` (a
    condition through ``order__``): each coupon's count and value, with its order's day and
    park, its store and type."""
    return [
        MerchantCoupon.objects.filter(related_scope)
        .order_by()
        .annotate(
            c_day=TruncDate("order__pay_time", tzinfo=CHINA),
            c_park=F("order__park_id"),
            c_store_code=F("store_code"),
            c_store_name=F("store_name"),
            c_type=F("coupon_type"),
            c_count=_one(),
            c_value=F("coupon_value"),
        )
        .values_list(*COUPON_GROUPS, *COUPON_SUMS)
    ]


@dataclass(frozen=True)
class CouponRow:
    """The coupons of one store and type: how many, and their values added up (any unit)."""

    store_code: str
    store_name: str
    coupon_type: int | None
    coupons: int
    value: int


@on_replica
def coupon_takings(
    *,
    date_from: date | None = None,
    date_to: date | None = None,
    park_id: int | None = None,
    store_code: str = "",
) -> list[CouponRow]:
    """Return the coupons of the orders paid on ``date_from`` .. ``date_to`` (China time,
    either open), at ``park_id`` when given, of ``store_code`` when given, per store and
    coupon type: the coupon rollup plus the coupons of the orders received since its
    watermark, in one statement (``exact_read``)."""
    rolled_scope, _scope, related_scope = _scopes(
        date_from=date_from, date_to=date_to, park_id=park_id
    )
    if store_code:
        rolled_scope &= Q(store_code=store_code)
        related_scope &= Q(store_code=store_code)
    rolled = (
        DailyCoupons.objects.filter(rolled_scope)
        .order_by()
        .annotate(
            c_day=F("day"),
            c_park=F("park_id"),
            c_store_code=F("store_code"),
            c_store_name=F("store_name"),
            c_type=F("coupon_type"),
            c_count=F("coupon_count"),
            c_value=F("value_total"),
        )
        .values_list(*COUPON_GROUPS, *COUPON_SUMS)
    )

    def live(mark: datetime | None) -> list[QuerySet]:
        since = Q(order__received_at__gte=mark) if mark else Q()
        return coupon_parts(related_scope=related_scope & since)

    by = ("c_store_code", "c_store_name", "c_type")
    found = exact_read(rolled=rolled, live=live, by=by, sums=COUPON_SUMS)
    return [
        CouponRow(code, name, kind, int(count or 0), int(value or 0))
        for code, name, kind, count, value in found
    ]


# --- Stays that left, per day and park ----------------------------------------------------------

STAY_GROUPS = ("s_day", "s_park")
# The timed stays (those the exit told a length) and their lengths, for the dashboard.
STAY_SUMS = ("s_count", "s_seconds")
# Every left stay and its money, for the stay list's totals (``stay_totals``): how many left,
# the fee, discounts and autopay the exits told, what the stays' pay orders paid, their gaps
# and how many have one (``orders.stays.selectors.with_gap``).
STAY_MONEY = ("s_left", "s_fee", "s_discounts", "s_autopay", "s_paid", "s_gap", "s_gapped")
# A stay's row for the rebuild: ``STAY_MONEY`` but its gap and whether it has one, which
# ``STAY_PER_ROW`` works out from what was due (``orders.stays.selectors.due``) and what its
# pay orders paid: its pay orders are read once, not once for each of the three.
STAY_ROW = (*STAY_SUMS, *STAY_MONEY[:5], "s_due")
STAY_PER_ROW = {
    "s_gap": "COALESCE({s_due} - {s_paid}, 0)",
    "s_gapped": "CASE WHEN {s_due} <> {s_paid} THEN 1 ELSE 0 END",
}
# The stay rollup's columns of those sums, in the same order.
STAY_FIELDS = (
    "stay_count",
    "seconds",
    "left_count",
    "fee",
    "discounts",
    "autopay",
    "paid",
    "gap",
    "gapped",
)


@dataclass(frozen=True)
class StayMoney:
    """The stays that left (in a range of days, at a park) and their money, in fen."""

    left: int = 0
    fee: int = 0
    discounts: int = 0
    autopay: int = 0
    paid: int = 0
    gap: int = 0
    gapped: int = 0


def _stay_group() -> dict:
    return {"s_day": TruncDate("leave_time", tzinfo=CHINA), "s_park": F("park_id")}


def stay_parts(
    *, scope: Q, paid_before: datetime | None = None, sums: tuple[str, ...] = STAY_SUMS
) -> list[QuerySet]:
    """Return the rows the stay rollup adds up for the left stays in ``scope``: each stay's
    exit day and park, then ``sums`` of ``STAY_SUMS``, ``STAY_MONEY`` and ``s_due`` (its pay
    orders those received before ``paid_before`` when given: the rollup's view of them)."""
    stays = with_gap(
        Stay.objects.filter(scope, leave_time__isnull=False), received_before=paid_before
    )
    timed = Q(parking_time__isnull=False)
    return [
        stays.order_by()
        .annotate(
            **_stay_group(),
            s_count=Case(When(timed, then=_one()), default=_zero()),
            s_seconds=Coalesce("parking_time", _zero()),
            s_left=_one(),
            s_fee=Coalesce("total_value", _zero()),
            s_discounts=Coalesce("free_value", _zero()),
            s_autopay=Coalesce("autopay_value", _zero()),
            s_paid=F("paid_by_pushes"),
            s_gap=Coalesce("gap", _zero()),
            s_gapped=F("gapped"),
            s_due=due(),
        )
        .values_list(*STAY_GROUPS, *sums)
    ]


def _rolled_stays(condition: Q, *, sums: tuple[str, ...]) -> QuerySet:
    """The stay rollup's rows of ``condition`` as ``stay_parts`` rows: group, then ``sums``."""
    fields = dict(zip((*STAY_SUMS, *STAY_MONEY), STAY_FIELDS, strict=True))
    return (
        DailyStays.objects.filter(condition)
        .order_by()
        .annotate(s_day=F("day"), s_park=F("park_id"), **{name: F(fields[name]) for name in sums})
        .values_list(*STAY_GROUPS, *sums)
    )


def _stays_paid_late(*, scope: Q, mark: datetime) -> QuerySet:
    """The rolled stays in ``scope`` (exit received before ``mark``) that pay orders received
    since ``mark`` belong to: what those orders change of their money, as ``stay_parts`` rows
    (the rollup holds the stay as it was without them)."""
    late = PayOrder.objects.filter(received_at__gte=mark).values("parking_serial")
    stays = Stay.objects.filter(
        scope, leave_time__isnull=False, exit_received_at__lt=mark, parking_serial__in=late
    )
    stays = with_gap(with_gap(stays), received_before=mark, prefix="rolled_")
    zero = {name: _zero() for name in (*STAY_SUMS, *STAY_MONEY[:4])}
    return (
        stays.order_by()
        .annotate(
            **_stay_group(),
            **zero,
            s_paid=F("paid_by_pushes") - F("rolled_paid_by_pushes"),
            s_gap=Coalesce("gap", _zero()) - Coalesce("rolled_gap", _zero()),
            s_gapped=F("gapped") - F("rolled_gapped"),
        )
        .values_list(*STAY_GROUPS, *STAY_SUMS, *STAY_MONEY)
    )


@dataclass(frozen=True)
class StayRow:
    """The stays that left at one park on one day: how many, and their lengths (seconds)."""

    day: date
    park_id: int
    stays: int
    seconds: int


@on_replica
def stays_left(*, date_from: date, date_to: date) -> list[StayRow]:
    """Return the stays that left on ``date_from`` .. ``date_to`` (China time) with a pushed
    length, per park and day: the stay rollup plus the stays whose exit was received since
    its watermark, in one statement (``exact_read``)."""
    rolled = _rolled_stays(Q(day__gte=date_from, day__lte=date_to), sums=STAY_SUMS)
    scope = in_days("leave_time", date_from=date_from, date_to=date_to)

    def live(mark: datetime | None) -> list[QuerySet]:
        return stay_parts(scope=scope & Q(exit_received_at__gte=mark) if mark else scope)

    # A stay without a pushed length counts 0 here: a group of only those is no row.
    found = [
        row
        for row in exact_read(rolled=rolled, live=live, by=STAY_GROUPS, sums=STAY_SUMS)
        if row[2]
    ]
    return [
        StayRow(
            date.fromisoformat(day) if isinstance(day, str) else day,
            park,
            int(count or 0),
            int(seconds or 0),
        )
        for day, park, count, seconds in found
    ]


@on_replica
def stay_money(*, date_from: date | None, date_to: date | None, park_id: int | None) -> StayMoney:
    """Return how many stays left on ``date_from`` .. ``date_to`` (China time; None: no
    bound) at ``park_id`` (None: every park) and their money, exact to the last push: the
    stay rollup, plus the exits received since its watermark, plus what the pay orders
    received since changed of the stays it holds, in one statement (``exact_read``)."""
    rolled = Q()
    if date_from is not None:
        rolled &= Q(day__gte=date_from)
    if date_to is not None:
        rolled &= Q(day__lte=date_to)
    scope = in_days("leave_time", date_from=date_from, date_to=date_to)
    if park_id is not None:
        rolled &= Q(park_id=park_id)
        scope &= Q(park_id=park_id)
    sums = (*STAY_SUMS, *STAY_MONEY)
    rolled_rows = _rolled_stays(rolled, sums=sums)

    def live(mark: datetime | None) -> list[QuerySet]:
        if mark is None:
            return stay_parts(scope=scope, sums=sums)
        return [
            *stay_parts(scope=scope & Q(exit_received_at__gte=mark), sums=sums),
            _stays_paid_late(scope=scope, mark=mark),
        ]

    found = exact_read(rolled=rolled_rows, live=live, by=(), sums=sums)
    if not found:
        return StayMoney()
    return StayMoney(*(int(value or 0) for value in found[0][len(STAY_SUMS) :]))
