"""The statement's reads: the query's rules, the subtotals per holder and plate, the orders.

An order belongs to the holder of the whitelist entry that admitted it
(``PayOrder.whitelist_entry``, its holder as the entry says now); orders no entry admitted (or
whose entry was deleted) belong to no holder and are in no statement. Money is fen: the amount
paid, the discount relief and the coupon money — amount coupons (type 1) only, the other
types' values are not money.

Beside the orders, each line has the holder's fixed-car renewals paid in the period (count and
amount, fen: money of its own, never added to the orders') and the stays that left in the
period (count, length in seconds, and the payment gap in fen, ``orders.stays.selectors``'s),
each owned likewise: by the holder of the renewal's whitelist entry, of the stay's entry push
(else its exit push).
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.db.models import Aggregate, BigIntegerField, Count, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils.translation import gettext

from orders import coupons as coupon_rules
from orders.models import Discount, MerchantCoupon, PayOrder
from orders.rollup import selectors as rollup
from orders.stays.models import Renewal, Stay
from orders.stays.selectors import with_gap
from parkingops import timerange
from parkingops.db_routers import on_replica
from parkingops.formatting import parse_day
from parkingops.queries import in_days
from whitelist import plates
from whitelist.models import WhitelistEntry

# A statement covers a month, or any range of days up to a year.
MAX_DAYS = 366
PARAMETERS = ("month", "from", "to", "holder", "plate")
_MONTH = re.compile(r"([0-9]{4})-([0-9]{2})")


class StatementQueryError(Exception):
    """The query cannot be used: the messages (translated) per parameter."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("; ".join(m for messages in errors.values() for m in messages))
        self.errors = errors


@dataclass(frozen=True)
class StatementQuery:
    """A statement's days (China time, both included) and, optionally, one holder or plate."""

    date_from: date
    date_to: date
    holder: str = ""
    plate: str = ""


def _month(text: str) -> tuple[date, date]:
    match = _MONTH.fullmatch(text)
    if not match or not 1 <= int(match[2]) <= 12:
        raise ValueError(
            gettext("“%(value)s” is not a month: use YYYY-MM, for example 2026-11.")
            % {"value": text}
        )
    first = date(int(match[1]), int(match[2]), 1)
    if not timerange.day_in_range(first):
        raise ValueError(timerange.out_of_range_message(text))
    last = (first + timedelta(days=31)).replace(day=1) - timedelta(days=1)
    return first, last


def read_query(
    *,
    month: str | None = None,
    date_from: str | None = None,
    date_to: str | None = None,
    holder: str | None = None,
    plate: str | None = None,
    today: date,
) -> StatementQuery:
    """Return the statement query the parameters (as typed, None when absent) ask for, or raise
    StatementQueryError saying, per parameter, what is wrong.

    ``month`` (YYYY-MM), or ``from`` and ``to`` (YYYY-MM-DD, at most MAX_DAYS days, within
    ``parkingops.timerange``); neither: this month (``today``'s). ``holder`` must be a holder of
    some whitelist entry; ``plate`` a plate in any spelling.
    """
    errors: dict[str, list[str]] = {}
    first = last = None
    raw = {"month": month, "from": date_from, "to": date_to, "holder": holder, "plate": plate}
    raw = {name: value.strip() for name, value in raw.items() if value is not None}
    if any("\x00" in value for value in raw.values()):
        # PostgreSQL refuses NUL in text: nothing with one is compared.
        raise StatementQueryError(
            {
                name: [gettext("This value holds a NUL character (code 0).")]
                for name, value in raw.items()
                if "\x00" in value
            }
        )
    if "month" in raw and ({"from", "to"} & set(raw)):
        errors["month"] = [gettext("Give a month, or “from” and “to”: not both.")]
    elif "month" in raw:
        try:
            first, last = _month(raw["month"])
        except ValueError as exc:
            errors["month"] = [str(exc)]
    elif {"from", "to"} & set(raw):
        for name in ("from", "to"):
            if name not in raw:
                errors[name] = [gettext("Give both “from” and “to” (or a month).")]
                continue
            try:
                day = parse_day(raw[name])
            except ValueError as exc:
                errors[name] = [str(exc)]
                continue
            first, last = (day, last) if name == "from" else (first, day)
        if not errors and first > last:
            errors["from"] = [
                gettext("The first day (%(first)s) is after the last day (%(last)s).")
                % {"first": first.isoformat(), "last": last.isoformat()}
            ]
        elif not errors and (last - first).days >= MAX_DAYS:
            errors["from"] = [gettext("Choose at most %(max)d days at once.") % {"max": MAX_DAYS}]
    else:
        first, last = _month(today.strftime("%Y-%m"))
    holder_name = raw.get("holder", "")
    if holder_name and not WhitelistEntry.objects.filter(holder=holder_name).exists():
        errors["holder"] = [
            gettext("No whitelist entry has the holder “%(holder)s”.") % {"holder": holder_name}
        ]
    plate_text = ""
    if raw.get("plate"):
        try:
            plate_text = plates.validate(raw["plate"])
        except ValidationError as exc:
            errors["plate"] = exc.messages
    if errors:
        raise StatementQueryError(errors)
    return StatementQuery(date_from=first, date_to=last, holder=holder_name, plate=plate_text)


def read_params(params: Mapping[str, str], *, today: date) -> StatementQuery:
    """``read_query`` with the parameters named as in a query string (``from``, ``to``, …)."""
    names = {"month": "month", "from": "date_from", "to": "date_to"}
    given = {names.get(name, name): params[name] for name in PARAMETERS if name in params}
    return read_query(**given, today=today)


# --- Subtotals -------------------------------------------------------------------------------


@dataclass
class StatementLine:
    """The orders of one plate of one holder, of one holder (``plate`` blank) or of the whole
    statement (both blank); money in fen, coupon money of amount coupons only."""

    holder: str
    plate: str
    orders: int = 0
    paid: int = 0
    relief: int = 0
    coupon_value: int = 0
    # Renewals paid in the period: their own money (fen), never added to the orders'.
    renewals: int = 0
    renewal_value: int = 0
    # Stays that left in the period: how long (seconds) and their payment gap (fen).
    stays: int = 0
    stay_seconds: int = 0
    stay_gap: int = 0

    def add(self, other: "StatementLine") -> None:
        for name in _SUMMED:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @property
    def stay_minutes(self) -> int:
        """The stays' length in whole minutes (rounded down once, on the sum)."""
        return self.stay_seconds // 60


_SUMMED = (
    "orders",
    "paid",
    "relief",
    "coupon_value",
    "renewals",
    "renewal_value",
    "stays",
    "stay_seconds",
    "stay_gap",
)


@dataclass
class HolderStatement:
    """One holder: a line per plate (by plate), and the holder's subtotal."""

    holder: str
    plates: list[StatementLine]
    total: StatementLine


@dataclass
class Statement:
    query: StatementQuery
    holders: list[HolderStatement] = field(default_factory=list)
    total: StatementLine = field(default_factory=lambda: StatementLine(holder="", plate=""))


def _entries(query: StatementQuery, holders: list[str] | None) -> dict[int, str] | None:
    """Return the whitelist entries (id: holder) of the query's holder, or of ``holders`` (a
    page of them); None for every holder. The reads take their ids as values, not as a
    subquery: the planner knows they are few and reads each one's rows on the (entry, time)
    indexes, a few thousand rows instead of a month's."""
    if query.holder:
        holders = [query.holder] if holders is None or query.holder in holders else []
    if holders is None:
        return None
    return dict(WhitelistEntry.objects.filter(holder__in=holders).values_list("pk", "holder"))


def _scope(query: StatementQuery, prefix: str = "", entries: list[int] | None = None) -> Q:
    """Return "the statement's orders" as a condition on orders (``prefix`` "order__" for
    their discounts and coupons), of those whitelist ``entries`` only when given."""
    scope = in_days(f"{prefix}pay_time", date_from=query.date_from, date_to=query.date_to)
    scope &= Q(**{f"{prefix}whitelist_entry__isnull": False})
    if entries is not None:
        scope &= Q(**{f"{prefix}whitelist_entry__in": entries})
    if query.plate:
        scope &= Q(**{f"{prefix}plate": query.plate})
    return scope


def _owned(query: StatementQuery, time: str, entries: list[int] | None = None) -> Q:
    """Return "the statement's renewals": ``time`` in its days, of a whitelist entry (of
    ``entries`` when given), of the query's plate."""
    scope = in_days(time, date_from=query.date_from, date_to=query.date_to)
    scope &= Q(whitelist_entry__isnull=False)
    if entries is not None:
        scope &= Q(whitelist_entry__in=entries)
    if query.plate:
        scope &= Q(plate=query.plate)
    return scope


def _stays_owned(query: StatementQuery, entries: list[int] | None = None) -> Q:
    """Return "the statement's stays": left in its days, owned by a holder (its entry push's
    whitelist entry's, else its exit push's; of ``entries`` when given), of the query's
    plate."""
    scope = in_days("leave_time", date_from=query.date_from, date_to=query.date_to)
    if entries is None:
        scope &= Q(entry_whitelist_entry__isnull=False) | Q(exit_whitelist_entry__isnull=False)
    else:
        scope &= Q(entry_whitelist_entry__in=entries) | Q(
            entry_whitelist_entry__isnull=True, exit_whitelist_entry__in=entries
        )
    if query.plate:
        scope &= Q(plate=query.plate)
    return scope


@on_replica
def statement(*, query: StatementQuery, holders: list[str] | None = None) -> Statement:
    """Return the statement's lines per holder and plate, each holder's subtotal and the total
    of those lines; of ``holders`` only when given (a page of them: its total is then the
    page's, ``statement_total`` gives the whole statement's).

    Three grouped queries per whitelist entry and plate (orders with their discounts and
    coupons; the renewals; the stays), on the time indexes for every holder, on the (entry,
    time) indexes for a few; the subtotals add up those groups, never the rows one by one.
    """
    entries = _entries(query, holders)
    ids = None if entries is None else list(entries)
    # The groups are per entry (no join to the entries to read): their holders from here.
    holder_of = entries if entries is not None else _every_holder()
    lines: dict[tuple[str, str], StatementLine] = {}

    def line(entry_id: int, plate: str) -> StatementLine:
        if entry_id not in holder_of:
            # An entry made since ``holder_of`` was read.
            holder_of.update(_every_holder(pk=entry_id))
        # An entry deleted meanwhile leaves its rows to no holder: counted nowhere.
        name = holder_of.get(entry_id)
        if name is None:
            return StatementLine(holder="", plate=plate)
        return lines.setdefault((name, plate), StatementLine(holder=name, plate=plate))

    orders = (
        PayOrder.objects.filter(_scope(query, entries=ids))
        .order_by()
        .values("whitelist_entry_id", "plate")
        .annotate(
            count=Count("pk"),
            paid=Sum("pay_value"),
            relief=Sum(_per_order(Discount.objects, Sum("relief_value"))),
            coupon_value=Sum(_per_order(MerchantCoupon.objects, coupon_rules.AMOUNT_VALUE)),
        )
    )
    for row in orders:
        found = line(row["whitelist_entry_id"], row["plate"])
        found.orders += row["count"]
        found.paid += row["paid"] or 0
        found.relief += row["relief"] or 0
        found.coupon_value += row["coupon_value"] or 0
    # A plate may have renewals or stays and no order in the period.
    renewals = (
        Renewal.objects.filter(_owned(query, "pay_time", ids))
        .order_by()
        .values("whitelist_entry_id", "plate")
        .annotate(count=Count("pk"), paid=Sum("pay_value"))
    )
    for row in renewals:
        found = line(row["whitelist_entry_id"], row["plate"])
        found.renewals += row["count"]
        found.renewal_value += row["paid"] or 0
    stays = (
        with_gap(Stay.objects.filter(_stays_owned(query, ids)))
        .order_by()
        .values("entry_whitelist_entry_id", "exit_whitelist_entry_id", "plate")
        .annotate(count=Count("pk"), seconds=Sum("parking_time"), gap_total=Sum("gap"))
    )
    for row in stays:
        # A stay's holder: its entry push's whitelist entry's, else its exit push's.
        owner = row["entry_whitelist_entry_id"] or row["exit_whitelist_entry_id"]
        found = line(owner, row["plate"])
        found.stays += row["count"]
        found.stay_seconds += row["seconds"] or 0
        found.stay_gap += row["gap_total"] or 0

    result = Statement(query=query)
    for key in sorted(lines):
        plate_line = lines[key]
        if not result.holders or result.holders[-1].holder != plate_line.holder:
            subtotal = StatementLine(holder=plate_line.holder, plate="")
            result.holders.append(
                HolderStatement(holder=plate_line.holder, plates=[], total=subtotal)
            )
        result.holders[-1].plates.append(plate_line)
        result.holders[-1].total.add(plate_line)
        result.total.add(plate_line)
    return result


def _per_order(children: QuerySet, total: Aggregate) -> Coalesce:
    """Return the ``total`` of the outer order's ``children`` (its discounts or coupons), 0
    when none. Read per order on the children's order index: a page's few thousand orders
    look up their own, where a join would scan every discount of the table."""
    found = children.filter(order=OuterRef("pk")).order_by().values("order").annotate(t=total)
    return Coalesce(Subquery(found.values("t")), 0, output_field=BigIntegerField())


def _every_holder(**conditions) -> dict[int, str]:
    """Return every whitelist entry's holder (those meeting ``conditions``), by entry id."""
    return dict(WhitelistEntry.objects.filter(**conditions).values_list("pk", "holder"))


def holder_pages(*, entries_per_page: int) -> list[list[str]]:
    """Return the holders of a statement of every holder in pages: every name a whitelist
    entry gives (blank too), in the order of the statement's lines, as many holders a page as
    hold at most ``entries_per_page`` entries between them (one holder at least). A page's
    reads grow with its entries (a plate each, and its orders), not with its holders."""
    counts = (
        WhitelistEntry.objects.order_by()
        .values_list("holder")
        .annotate(entries=Count("pk"))
        .values_list("holder", "entries")
    )
    pages: list[list[str]] = []
    room = 0
    for holder, entries in sorted(counts):
        if not pages or entries > room:
            pages.append([])
            room = entries_per_page
        pages[-1].append(holder)
        room -= entries
    return pages


@on_replica
def statement_total(*, query: StatementQuery) -> StatementLine:
    """Return the whole statement's total, exact, without reading its lines.

    Every holder's orders come from the daily rollup (``orders.rollup``: the orders an entry
    admitted); renewals and stays are added up on their time indexes. With a holder or a plate
    the statement is small: its lines are added up (``statement``).
    """
    if query.holder or query.plate:
        return statement(query=query).total
    total = StatementLine(holder="", plate="")
    for row in rollup.takings(
        date_from=query.date_from, date_to=query.date_to, by=(), admitted_only=True
    ):
        total.orders, total.paid = row.orders, row.paid
        total.relief, total.coupon_value = row.relief, row.coupon_value
    renewals = Renewal.objects.filter(_owned(query, "pay_time")).aggregate(
        count=Count("pk"), paid=Sum("pay_value")
    )
    total.renewals, total.renewal_value = renewals["count"], renewals["paid"] or 0
    stays = (
        with_gap(Stay.objects.filter(_stays_owned(query)))
        .order_by()
        .aggregate(count=Count("pk"), seconds=Sum("parking_time"), gap_total=Sum("gap"))
    )
    total.stays, total.stay_seconds = stays["count"], stays["seconds"] or 0
    total.stay_gap = stays["gap_total"] or 0
    return total


def statement_orders(*, query: StatementQuery) -> QuerySet[PayOrder]:
    """Return the statement's orders by holder, plate and pay time: the order rows beneath
    the lines, in the order the lines come."""
    entries = _entries(query, None)
    return PayOrder.objects.filter(_scope(query, entries=entries)).order_by(
        "whitelist_entry__holder", "plate", "pay_time", "pk"
    )
