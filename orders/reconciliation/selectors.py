"""The reconciliation's reads: comparing a day's payment list with our orders, and the
counts the admin and the ``reconcile`` command show.

``compare()`` matches the listed payments by ``pay_serial`` with our orders of that park and
China-time day and returns the run's figures and its differences, unsaved:

- **missing here**: paid at the platform for a plate whitelisted at that time (the push's own
  rule, ``find_valid_entry``), but we hold no order with that serial (never pushed, or refused);
- **missing at the platform**: an order of ours of that park and day that the list lacks;
- **a field differs**: the serial is held here and a listed field differs from ours, one
  difference per field (``fields.differences``: paid amount, order value, discounts, plate,
  parking serial, channel, pay time; or a listed field that cannot be read).

Payments of plates that were not whitelisted are only counted. A listed serial held here under
another day or park is compared too; "matched" counts the held serials of the same paid amount.

Against the stays (the entry and exit pushes; ``stay_differences``):

- **stay not paid in full**: a stay of the park that left on the day and whose pay orders do not
  add up to its fee less discounts and autopay (``orders.stays.selectors.with_a_gap``): a lost
  pay-order push, or cash at the gate;
- **order without a stay**: an order of the park and day whose ``parking_serial`` no stay holds
  (an entry and exit push lost). Orders without a parking serial, and orders paid before the
  park's first stay (its entries and exits were not pushed yet), are not counted.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Count, Exists, Min, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext

from orders.models import Discount, MerchantCoupon, PayOrder
from orders.reconciliation import fields
from orders.reconciliation.fields import OurOrder
from orders.reconciliation.models import ReconciliationItem, ReconciliationRun
from orders.reconciliation.payments import ListedPayment
from orders.stays.models import Stay
from orders.stays.selectors import with_a_gap
from parkingops.db_routers import on_replica
from parkingops.formatting import CHINA
from parkingops.iterables import chunked
from parkingops.queries import in_days
from whitelist.models import Park, WhitelistEntry
from whitelist.selectors import find_valid_entry

CHUNK = 500  # serials or plates per IN (...) query, items per INSERT

Category = ReconciliationItem.Category


# --- Comparing -------------------------------------------------------------------------------


def _our_orders(orders: QuerySet[PayOrder]) -> dict[str, OurOrder]:
    """Return ``{pay_serial: OurOrder}`` of ``orders``, with their discount and coupon sums
    (correlated subqueries: joining both tables at once would multiply the rows)."""

    def total(model, condition: Q, field: str) -> Coalesce:
        rows = (
            model.objects.filter(condition, order=OuterRef("pk"))
            .order_by()
            .values("order")
            .annotate(total=Sum(field))
            .values("total")
        )
        return Coalesce(Subquery(rows), 0)

    amount = Q(coupon_type=MerchantCoupon.CouponType.AMOUNT)
    rows = orders.annotate(
        discount_total=total(Discount, Q(), "relief_value"),
        coupon_total=total(MerchantCoupon, amount, "coupon_value"),
        has_other_coupons=Exists(
            MerchantCoupon.objects.filter(~amount | Q(coupon_type=None), order=OuterRef("pk"))
        ),
    ).values_list(
        "pay_serial",
        "pk",
        "pay_value",
        "pay_time",
        "plate",
        "parking_serial",
        "channel",
        "discount_total",
        "coupon_total",
        "has_other_coupons",
    )
    return {serial: OurOrder(pk, *fields) for serial, pk, *fields in rows}


def _held_by_serial(serials: Sequence[str]) -> dict[str, OurOrder]:
    """Return the orders we hold among ``serials``, by serial."""
    held: dict[str, OurOrder] = {}
    for chunk in chunked(serials, CHUNK):
        held.update(_our_orders(PayOrder.objects.filter(pay_serial__in=chunk)))
    return held


def _plates_with_entries(candidates: Sequence[str]) -> set[str]:
    """Return the plates among ``candidates`` that have any whitelist entry at all.

    Most of a park's payments are of plates never whitelisted; this one query per 500 plates
    spares them ``find_valid_entry``, which then decides (the push's own rule) for the rest.
    """
    found: set[str] = set()
    for chunk in chunked(candidates, CHUNK):
        found.update(
            WhitelistEntry.objects.filter(plate__in=chunk)
            .order_by()
            .values_list("plate", flat=True)
            .distinct()
        )
    return found


@on_replica  # a whole day's orders of a park: a heavy read (the day is past, lag is harmless)
def compare(
    *, park: Park, day: date, listed: list[ListedPayment]
) -> tuple[ReconciliationRun, list[ReconciliationItem]]:
    """Return the run's figures (unsaved) and its differences (unsaved, without the run)."""
    run = ReconciliationRun(date=day, park=park, status=ReconciliationRun.Status.OK)
    items: list[ReconciliationItem] = []

    ours = _our_orders(
        PayOrder.objects.filter(in_days("pay_time", date_from=day, date_to=day), park=park)
    )
    run.ours_count = len(ours)
    run.ours_value = sum(order.pay_value for order in ours.values())

    # A serial listed twice (a payment arriving while we page shifts the pages) counts once.
    unique: dict[str, ListedPayment] = {}
    for payment in listed:
        unique.setdefault(payment.pay_serial, payment)
    run.platform_count = len(unique)
    run.platform_value = sum(payment.pay_value for payment in unique.values())

    # A serial we hold under another day or park is still ours: look it up by serial alone.
    held = {**ours, **_held_by_serial([serial for serial in unique if serial not in ours])}
    unheld = [payment for serial, payment in unique.items() if serial not in held]
    whitelisted = _plates_with_entries(sorted({p.plate for p in unheld if p.plate}))

    for serial, payment in unique.items():
        if serial in held:
            order = held[serial]
            if order.pay_value == payment.pay_value:
                run.matched_count += 1
                run.matched_value += order.pay_value
            items.extend(
                ReconciliationItem(
                    category=difference.category,
                    field=difference.field,
                    pay_serial=serial,
                    plate=payment.plate[:64],
                    pay_time=payment.pay_time,
                    platform_value=difference.platform_value,
                    our_value=difference.our_value,
                    platform_text=difference.platform_text,
                    our_text=difference.our_text,
                    order_id=order.pk,
                    payment=payment.row,
                )
                for difference in fields.differences(payment, order)
            )
            continue
        entry = None
        if payment.plate in whitelisted:
            entry = find_valid_entry(
                plate=payment.plate, park_uuid=park.park_uuid, at=payment.pay_time
            )
        if entry is None:
            run.not_whitelisted_count += 1
            run.not_whitelisted_value += payment.pay_value
            continue
        items.append(
            ReconciliationItem(
                category=Category.MISSING_HERE,
                pay_serial=serial,
                plate=payment.plate[:64],
                pay_time=payment.pay_time,
                platform_value=payment.pay_value,
                payment=payment.row,
            )
        )

    for serial, order in ours.items():
        if serial not in unique:
            items.append(
                ReconciliationItem(
                    category=Category.MISSING_AT_PLATFORM,
                    pay_serial=serial,
                    plate=order.plate,
                    pay_time=order.pay_time,
                    our_value=order.pay_value,
                    order_id=order.pk,
                )
            )
    items.extend(stay_differences(park=park, day=day, ours=ours))
    items.sort(key=lambda item: (item.pay_time, item.pay_serial, item.parking_serial))
    return run, items


def _stays_by_serial(serials: Sequence[str]) -> set[str]:
    """Return the parking serials among ``serials`` that a stay holds (one query per 500)."""
    found: set[str] = set()
    for chunk in chunked(serials, CHUNK):
        found.update(
            Stay.objects.filter(parking_serial__in=chunk).values_list("parking_serial", flat=True)
        )
    return found


def stay_differences(
    *, park: Park, day: date, ours: dict[str, OurOrder]
) -> list[ReconciliationItem]:
    """Return the day's differences against the stays (unsaved, without the run): the left
    stays with a payment gap, and ``ours`` (the park's orders of the day) whose parking serial
    no stay holds. The gap is ``with_a_gap``'s, never recomputed here."""
    items = [
        ReconciliationItem(
            category=Category.STAY_GAP,
            parking_serial=stay.parking_serial,
            plate=stay.plate,
            pay_time=stay.leave_time,  # the exit: when the fee fell due
            platform_value=stay.paid_by_pushes + stay.gap,  # due through pay orders
            our_value=stay.paid_by_pushes,
        )
        for stay in with_a_gap(
            Stay.objects.filter(in_days("leave_time", date_from=day, date_to=day), park=park)
        ).order_by("leave_time", "pk")
    ]
    first_stay = Stay.objects.filter(park=park).aggregate(first=Min("enter_time"))["first"]
    if first_stay is None:
        return items  # the park's entries and exits are not pushed (yet): nothing to miss
    candidates = {
        serial: order
        for serial, order in ours.items()
        if order.parking_serial and order.pay_time >= first_stay
    }
    with_stay = _stays_by_serial(sorted({order.parking_serial for order in candidates.values()}))
    items.extend(
        ReconciliationItem(
            category=Category.ORDER_WITHOUT_STAY,
            pay_serial=serial,
            parking_serial=order.parking_serial,
            plate=order.plate,
            pay_time=order.pay_time,
            our_value=order.pay_value,
            order_id=order.pk,
        )
        for serial, order in candidates.items()
        if order.parking_serial not in with_stay
    )
    return items


# --- Reads for the admin and the command ----------------------------------------------------


# The categories against the stays, counted together on the runs' list.
STAY_CATEGORIES = [Category.STAY_GAP, Category.ORDER_WITHOUT_STAY]

# The field categories past the paid amount, counted together on the runs' list.
OTHER_FIELDS = [
    category
    for category in Category
    if category
    not in (
        Category.MISSING_HERE,
        Category.MISSING_AT_PLATFORM,
        Category.AMOUNT_DIFFERS,
        *STAY_CATEGORIES,
    )
]


def _count(condition: Q) -> Coalesce:
    rows = (
        ReconciliationItem.objects.filter(condition, run=OuterRef("pk"))
        .order_by()
        .values("run")
        .annotate(count=Count("pk"))
        .values("count")
    )
    return Coalesce(Subquery(rows), 0)


def with_category_counts(runs: QuerySet[ReconciliationRun]) -> QuerySet[ReconciliationRun]:
    """Annotate each run with ``missing_here``, ``missing_at_platform``, ``amount_differs``,
    ``fields_differ`` (every other field category), ``stay_gaps``, ``orders_without_stay`` and
    ``open_count`` (differences not resolved): correlated counts on the (run, category) index,
    run only for the rows read."""
    return runs.annotate(
        missing_here=_count(Q(category=Category.MISSING_HERE)),
        missing_at_platform=_count(Q(category=Category.MISSING_AT_PLATFORM)),
        amount_differs=_count(Q(category=Category.AMOUNT_DIFFERS)),
        fields_differ=_count(Q(category__in=OTHER_FIELDS)),
        stay_gaps=_count(Q(category=Category.STAY_GAP)),
        orders_without_stay=_count(Q(category=Category.ORDER_WITHOUT_STAY)),
        open_count=_count(Q(resolved_at__isnull=True)),
    )


def open_differences() -> int:
    """Return how many differences of every run are not resolved yet (the admin index)."""
    return ReconciliationItem.objects.filter(resolved_at__isnull=True).count()


@dataclass(frozen=True)
class CategoryTotal:
    """One line of a run's page: a category, its count and amounts (fen; None: not applicable)."""

    category: str
    label: str
    count: int
    platform_value: int | None
    our_value: int | None
    is_difference: bool = True
    open: int = 0


def category_totals(*, run: ReconciliationRun) -> list[CategoryTotal]:
    """Return the run's counts and amounts per category: matched, each difference category
    (with how many are open), and the payments of plates that were not whitelisted (one query
    for the differences)."""
    rows = {
        row["category"]: row
        for row in run.items.order_by()
        .values("category")
        .annotate(
            count=Count("pk"),
            open=Count("pk", filter=Q(resolved_at__isnull=True)),
            platform=Sum("platform_value"),
            ours=Sum("our_value"),
        )
    }

    def difference(category: Category) -> CategoryTotal:
        row = rows.get(category, {})
        money = category in fields.MONEY_CATEGORIES
        return CategoryTotal(
            category=category.value,
            label=str(category.label),
            count=row.get("count", 0),
            open=row.get("open", 0),
            platform_value=(row.get("platform") or 0)
            if money and category not in fields.OURS_ONLY
            else None,
            our_value=(row.get("ours") or 0)
            if money and category != Category.MISSING_HERE
            else None,
        )

    return [
        CategoryTotal(
            category="matched",
            label=gettext("matched"),
            count=run.matched_count,
            platform_value=run.matched_value,
            our_value=run.matched_value,
            is_difference=False,
        ),
        *(difference(category) for category in Category),
        CategoryTotal(
            category="not_whitelisted",
            label=gettext("not whitelisted (counted only)"),
            count=run.not_whitelisted_count,
            platform_value=run.not_whitelisted_value,
            our_value=None,
            is_difference=False,
        ),
    ]


# --- Gaps: days not reconciled ------------------------------------------------------------------

MAX_REPORT_DAYS = 92  # a quarter: the report's table stays readable


@dataclass(frozen=True)
class Gap:
    """A park's day without a completed run (never run, or its run failed)."""

    day: date
    park: Park
    failed: bool


def unreconciled(*, date_from: date, date_to: date) -> list[Gap]:
    """Return the (day, park) pairs in ``[date_from, date_to]`` with no completed run, newest
    day first. A park counts from the China-time day we first saw it (``first_seen``)."""
    runs = {
        (day, park_id): status
        for day, park_id, status in ReconciliationRun.objects.filter(
            date__gte=date_from, date__lte=date_to
        ).values_list("date", "park_id", "status")
    }
    parks = list(Park.objects.order_by("name", "park_uuid"))
    gaps = []
    day = date_to
    while day >= date_from:
        for park in parks:
            if timezone.localtime(park.first_seen, CHINA).date() > day:
                continue
            status = runs.get((day, park.pk))
            if status != ReconciliationRun.Status.OK:
                gaps.append(Gap(day=day, park=park, failed=status is not None))
        day -= timedelta(days=1)
    return gaps
