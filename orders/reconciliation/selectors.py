"""The reconciliation's reads: comparing a day's payment list with our orders, and the
counts the admin and the ``reconcile`` command show.

``compare()`` matches the listed payments by ``pay_serial`` with our orders of that park and
China-time day and returns the run's figures and its differences, unsaved:

- **missing here**: paid at the platform for a plate whitelisted at that time (the push's own
  rule, ``find_valid_entry``), but we hold no order with that serial (never pushed, or refused);
- **missing at the platform**: an order of ours of that park and day that the list lacks;
- **amount differs**: the serial is held here with another ``pay_value``.

Payments of plates that were not whitelisted are only counted. A listed serial held here under
another day or park counts as matched.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from django.db.models import Count, OuterRef, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils.translation import gettext

from orders.models import PayOrder
from orders.reconciliation.models import ReconciliationItem, ReconciliationRun
from orders.reconciliation.payments import ListedPayment
from parkingops.db_routers import on_replica
from parkingops.iterables import chunked
from parkingops.queries import in_days
from whitelist.models import Park, WhitelistEntry
from whitelist.selectors import find_valid_entry

CHUNK = 500  # serials or plates per IN (...) query, items per INSERT

Category = ReconciliationItem.Category


# --- Comparing -------------------------------------------------------------------------------


def _held_by_serial(serials: Sequence[str]) -> dict[str, tuple[int, int]]:
    """Return ``{pay_serial: (order pk, pay_value)}`` of the orders we hold among ``serials``."""
    held: dict[str, tuple[int, int]] = {}
    for chunk in chunked(serials, CHUNK):
        rows = PayOrder.objects.filter(pay_serial__in=chunk).values_list(
            "pay_serial", "pk", "pay_value"
        )
        held.update((serial, (pk, value)) for serial, pk, value in rows)
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

    ours = {
        serial: (pk, value, pay_time, plate)
        for pk, serial, value, pay_time, plate in PayOrder.objects.filter(
            in_days("pay_time", date_from=day, date_to=day), park=park
        ).values_list("pk", "pay_serial", "pay_value", "pay_time", "plate")
    }
    run.ours_count = len(ours)
    run.ours_value = sum(value for _pk, value, _time, _plate in ours.values())

    # A serial listed twice (a payment arriving while we page shifts the pages) counts once.
    unique: dict[str, ListedPayment] = {}
    for payment in listed:
        unique.setdefault(payment.pay_serial, payment)
    run.platform_count = len(unique)
    run.platform_value = sum(payment.pay_value for payment in unique.values())

    held = {serial: (pk, value) for serial, (pk, value, _time, _plate) in ours.items()}
    # A serial we hold under another day or park is still ours: look it up by serial alone.
    held.update(_held_by_serial([serial for serial in unique if serial not in held]))
    unheld = [payment for serial, payment in unique.items() if serial not in held]
    whitelisted = _plates_with_entries(sorted({p.plate for p in unheld if p.plate}))

    for serial, payment in unique.items():
        if serial in held:
            pk, value = held[serial]
            if value == payment.pay_value:
                run.matched_count += 1
                run.matched_value += value
                continue
            items.append(
                ReconciliationItem(
                    category=Category.AMOUNT_DIFFERS,
                    pay_serial=serial,
                    plate=payment.plate[:64],
                    pay_time=payment.pay_time,
                    platform_value=payment.pay_value,
                    our_value=value,
                    order_id=pk,
                    payment=payment.row,
                )
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

    for serial, (pk, value, pay_time, plate) in ours.items():
        if serial not in unique:
            items.append(
                ReconciliationItem(
                    category=Category.MISSING_AT_PLATFORM,
                    pay_serial=serial,
                    plate=plate,
                    pay_time=pay_time,
                    our_value=value,
                    order_id=pk,
                )
            )
    items.sort(key=lambda item: (item.pay_time, item.pay_serial))
    return run, items


# --- Reads for the admin and the command ----------------------------------------------------


def with_category_counts(runs: QuerySet[ReconciliationRun]) -> QuerySet[ReconciliationRun]:
    """Annotate each run with ``missing_here``, ``missing_at_platform`` and ``amount_differs``:
    correlated counts on the (run, category) index, run only for the rows read."""
    counts = {}
    for category in Category:
        count = (
            ReconciliationItem.objects.filter(run=OuterRef("pk"), category=category)
            .order_by()
            .values("run")
            .annotate(count=Count("pk"))
            .values("count")
        )
        counts[category.value] = Coalesce(Subquery(count), 0)
    return runs.annotate(**counts)


@dataclass(frozen=True)
class CategoryTotal:
    """One line of a run's page: a category, its count and amounts (fen; None: not applicable)."""

    category: str
    label: str
    count: int
    platform_value: int | None
    our_value: int | None
    is_difference: bool = True


def category_totals(*, run: ReconciliationRun) -> list[CategoryTotal]:
    """Return the run's counts and amounts per category: matched, the three differences, and
    the payments of plates that were not whitelisted (one query for the differences)."""
    rows = {
        row["category"]: row
        for row in run.items.order_by()
        .values("category")
        .annotate(count=Count("pk"), platform=Sum("platform_value"), ours=Sum("our_value"))
    }

    def difference(category: Category, platform: bool, ours: bool) -> CategoryTotal:
        row = rows.get(category, {})
        return CategoryTotal(
            category=category.value,
            label=str(category.label),
            count=row.get("count", 0),
            platform_value=(row.get("platform") or 0) if platform else None,
            our_value=(row.get("ours") or 0) if ours else None,
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
        difference(Category.MISSING_HERE, platform=True, ours=False),
        difference(Category.MISSING_AT_PLATFORM, platform=False, ours=True),
        difference(Category.AMOUNT_DIFFERS, platform=True, ours=True),
        CategoryTotal(
            category="not_whitelisted",
            label=gettext("not whitelisted (counted only)"),
            count=run.not_whitelisted_count,
            platform_value=run.not_whitelisted_value,
            our_value=None,
            is_difference=False,
        ),
    ]
