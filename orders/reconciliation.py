"""Reconciliation against the platform's payment list (PLATFORM_API.md), and its reads.

``reconcile()`` pages through one park's payments of one China-time day at the platform,
matches them by ``pay_serial`` with our orders, and stores a ``ReconciliationRun`` with one
``ReconciliationItem`` per difference:

- **missing here**: paid at the platform for a plate whitelisted at that time (the push's own
  rule, ``find_valid_entry``), but we hold no order with that serial (never pushed, or refused);
- **missing at the platform**: an order of ours of that park and day that the list lacks;
- **amount differs**: the serial is held here with another ``pay_value``.

Payments of plates that were not whitelisted are only counted. A listed serial held here under
another day or park counts as matched. Runs read orders and never change them; only
``create_missing_order()`` (an admin action, after confirmation) writes one.
"""

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, OuterRef, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext

from orders.models import PayOrder, ReconciliationItem, ReconciliationRun
from orders.push.storing import create_order
from orders.push.validation import PushData
from parkingops.db_routers import on_replica
from parkingops.pcloud.client import PlatformClient, PlatformError
from parkingops.queries import day_start, in_days
from whitelist import plates
from whitelist.models import Park, WhitelistEntry
from whitelist.selectors import find_valid_entry

logger = logging.getLogger(__name__)

DEFAULT_PAGE_SIZE = 100
CHUNK = 500  # serials or plates per IN (...) query
SERIAL_LENGTH = 64

Category = ReconciliationItem.Category

# Listed fields that become the order's own columns; the others are kept in ``extra``.
_ORDER_FIELDS = frozenset(
    {
        "park_uuid",
        "park_name",
        "plate",
        "parking_serial",
        "pay_serial",
        "pay_value",
        "pay_time",
        "channel",
        "identity",
    }
)


class BadPaymentList(Exception):
    """A row of the platform's list cannot be read (no serial, no amount, no pay time)."""


class NotResolvable(Exception):
    """An item cannot be turned into an order; the message says why."""


# --- Reading the platform's list -------------------------------------------------------------


@dataclass(frozen=True)
class ListedPayment:
    """One row of the platform's payment list, read and checked."""

    pay_serial: str
    plate: str  # normalised
    pay_value: int  # fen
    pay_time: datetime  # aware
    row: dict[str, Any]


def day_window(day: date) -> tuple[datetime, datetime]:
    """Return the China-time day as the platform's inclusive window: 00:00:00 to 23:59:59."""
    start = day_start(day)
    return start, start + timedelta(days=1, seconds=-1)


def _pay_time(value: Any) -> datetime | None:
    """Read the listed ``pay_time``: ISO-8601, UTC when it carries no offset."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _fen(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        return int(value.strip())
    return None


def read_payment(row: Any) -> ListedPayment:
    """Check one listed row and return it read, or raise BadPaymentList naming what is wrong."""
    if not isinstance(row, dict):
        raise BadPaymentList(gettext("The platform listed a payment that is not an object."))
    serial = row.get("pay_serial")
    serial = str(serial).strip() if isinstance(serial, str | int) else ""
    if not serial or len(serial) > SERIAL_LENGTH:
        raise BadPaymentList(
            gettext("The platform listed a payment without a usable pay_serial: %(row)s")
            % {"row": str(row)[:300]}
        )
    value = _fen(row.get("pay_value"))
    moment = _pay_time(row.get("pay_time"))
    if value is None or moment is None:
        raise BadPaymentList(
            gettext(
                "The platform listed payment %(serial)s without a readable pay_value (fen) "
                "or pay_time (ISO-8601)."
            )
            % {"serial": serial}
        )
    plate = row.get("plate")
    plate = plates.normalise(plate) if isinstance(plate, str) else ""
    return ListedPayment(pay_serial=serial, plate=plate, pay_value=value, pay_time=moment, row=row)


# --- Comparing -------------------------------------------------------------------------------


def _chunks(values: Sequence[str]) -> Iterable[Sequence[str]]:
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]


def _held_by_serial(serials: Sequence[str]) -> dict[str, tuple[int, int]]:
    """Return ``{pay_serial: (order pk, pay_value)}`` of the orders we hold among ``serials``."""
    held: dict[str, tuple[int, int]] = {}
    for chunk in _chunks(serials):
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
    for chunk in _chunks(candidates):
        found.update(
            WhitelistEntry.objects.filter(plate__in=chunk)
            .order_by()
            .values_list("plate", flat=True)
            .distinct()
        )
    return found


@on_replica  # a whole day's orders of a park: a heavy read (the day is past, lag is harmless)
def _compare(
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


# --- Running ---------------------------------------------------------------------------------


def reconcile(
    *,
    day: date,
    park: Park,
    client: PlatformClient,
    created_by: Any = None,
    page_size: int = DEFAULT_PAGE_SIZE,
) -> ReconciliationRun:
    """Reconcile one park's China-time ``day`` and store the run, replacing the previous one.

    The platform is read first, outside any transaction (each call is recorded as it is
    made); when it fails, or lists a row that cannot be read, the run is stored as failed with
    the message and no items: nothing half-compared is kept.
    """
    started_at = timezone.now()
    start, end = day_window(day)
    try:
        rows = list(
            client.iter_payments(
                park_uuid=park.park_uuid, start=start, end=end, page_size=page_size
            )
        )
        run, items = _compare(park=park, day=day, listed=[read_payment(row) for row in rows])
    except (PlatformError, BadPaymentList) as exc:
        logger.warning("reconcile %s %s failed: %s", day, park.park_uuid, exc)
        run = ReconciliationRun(
            date=day, park=park, status=ReconciliationRun.Status.FAILED, message=str(exc)[:500]
        )
        items = []
    run.started_at = started_at
    run.created_by = created_by
    run.finished_at = timezone.now()
    return _store(run, items)


def _store(run: ReconciliationRun, items: list[ReconciliationItem]) -> ReconciliationRun:
    with transaction.atomic():
        # Two runs of one park and day (cron and a click at once) take turns on the park's
        # row, so the later one replaces the earlier instead of failing on the unique
        # (date, park) constraint. SQLite serialises writers anyway.
        list(Park.objects.select_for_update().filter(pk=run.park_id).values_list("pk"))
        ReconciliationRun.objects.filter(date=run.date, park_id=run.park_id).delete()
        run.save(force_insert=True)
        for item in items:
            item.run = run
        ReconciliationItem.objects.bulk_create(items, batch_size=CHUNK)
    return run


def reconcile_day(
    *,
    day: date,
    park_uuid: str = "",
    client: PlatformClient | None = None,
    created_by: Any = None,
    page_size: int = DEFAULT_PAGE_SIZE,
) -> list[ReconciliationRun]:
    """Reconcile ``day`` for the park given, or every known park; return the runs.

    A park that fails does not stop the others. Raise ``Park.DoesNotExist`` for an unknown
    uuid and ``ImproperlyConfigured`` when the platform client is not configured.
    """
    parks = Park.objects.order_by("name", "park_uuid")
    if park_uuid:
        parks = [Park.objects.get(park_uuid=park_uuid)]
    client = client or PlatformClient.from_settings()
    return [
        reconcile(day=day, park=park, client=client, created_by=created_by, page_size=page_size)
        for park in parks
    ]


# --- Resolving "missing here" ------------------------------------------------------------------


@dataclass(frozen=True)
class Resolution:
    """What ``create_missing_order`` did: ``created`` False means it linked an existing order."""

    item: ReconciliationItem
    order: PayOrder
    created: bool


def _text(row: dict[str, Any], key: str, max_length: int) -> str:
    value = row.get(key)
    text = "" if value is None else str(value)
    if len(text) > max_length:
        raise NotResolvable(
            gettext("The listed %(field)s is longer than %(max)d characters.")
            % {"field": key, "max": max_length}
        )
    return text


def _push_data(item: ReconciliationItem) -> PushData:
    """Build the order's content from the listed payment, as a push would carry it."""
    try:
        payment = read_payment(item.payment)
    except BadPaymentList as exc:
        raise NotResolvable(str(exc)) from None
    if not payment.plate or len(payment.plate) > plates.MAX_LENGTH:
        raise NotResolvable(gettext("The listed plate is empty or too long."))
    row = payment.row
    park = item.run.park
    return PushData(
        app_id=settings.PLATFORM_APP_ID,
        park_uuid=park.park_uuid,
        park_name=park.name,
        parking_serial=_text(row, "parking_serial", 64),
        pay_serial=payment.pay_serial,
        pay_value=payment.pay_value,
        pay_time_ms=round(payment.pay_time.timestamp() * 1000),
        plate=payment.plate,
        plate_raw=_text(row, "plate", 64),
        channel=_text(row, "channel", 64),
        identity=_text(row, "identity", 255),
        discounts=[],
        mcoupons=[],
        extra={key: value for key, value in row.items() if key not in _ORDER_FIELDS},
    )


def create_missing_order(
    *, item_id: int, user: Any = None, now: datetime | None = None
) -> Resolution:
    """Create the order of a "missing here" item from its listed payment, or link the order
    that already holds its serial; record it on the item. Running it again changes nothing.

    The order is marked ``source=reconciliation``; its whitelist entry is the one valid for
    the plate, park and pay time now (``find_valid_entry``), if any. Raise NotResolvable for
    another category or an unusable listed payment.
    """
    now = now or timezone.now()
    with transaction.atomic():
        # Locking the item: two clicks on the same item create one order.
        item = (
            ReconciliationItem.objects.select_for_update()
            .select_related("run__park")
            .get(pk=item_id)
        )
        if item.category != Category.MISSING_HERE:
            raise NotResolvable(
                gettext("Only payments missing here can become orders; %(serial)s is “%(cat)s”.")
                % {"serial": item.pay_serial, "cat": item.get_category_display()}
            )
        if item.resolved_order_id is not None:
            return Resolution(item=item, order=item.resolved_order, created=False)
        order = PayOrder.objects.filter(pay_serial=item.pay_serial).first()
        created = False
        if order is None:
            data = _push_data(item)
            entry = find_valid_entry(
                plate=data.plate, park_uuid=item.run.park.park_uuid, at=data.pay_time
            )
            try:
                order = PayOrder.objects.get(
                    pk=create_order(
                        data,
                        entry_id=entry.pk if entry else None,
                        now=now,
                        source=PayOrder.Source.RECONCILIATION,
                    )
                )
                created = True
            except IntegrityError:
                # The push of this serial committed between our read and our insert: the
                # unique pay_serial decided; link to that order.
                order = PayOrder.objects.filter(pay_serial=item.pay_serial).first()
                if order is None:
                    raise
        item.resolved_order = order
        item.resolved_at = now
        item.resolved_by = user
        item.save(update_fields=["resolved_order", "resolved_at", "resolved_by"])
    return Resolution(item=item, order=order, created=created)


# --- Reads for the admin ---------------------------------------------------------------------


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
