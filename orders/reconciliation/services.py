"""Running a reconciliation (``reconcile``, ``reconcile_day``, ``reconcile_days``) and
creating an order missing here from its listed payment (``create_missing_order``).

``reconcile()`` pages through one park's payments of one China-time day at the platform,
compares them with our orders (``selectors.compare``) and stores a ``ReconciliationRun`` with one
``ReconciliationItem`` per difference. Runs read orders and never change them; only
``create_missing_order()`` (an admin action, after confirmation) writes one.
"""

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext

from orders.models import PayOrder
from orders.push.storing import create_order
from orders.push.validation import PushData
from orders.reconciliation import selectors
from orders.reconciliation.models import ReconciliationItem, ReconciliationRun
from orders.reconciliation.payments import BadPaymentList, day_window, read_payment
from parkingops.jobs.progress import NO_PROGRESS, Progress
from parkingops.pcloud import codes
from parkingops.pcloud.client import PlatformClient, PlatformError
from whitelist import plates
from whitelist.models import Park
from whitelist.selectors import find_valid_entry

logger = logging.getLogger(__name__)

DEFAULT_PAGE_SIZE = 100
# The most days one reconciliation (the admin's page, the command) runs at once.
MAX_RANGE_DAYS = 31

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


class NotResolvable(Exception):
    """An item cannot be turned into an order; the message says why."""


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
        run, items = selectors.compare(
            park=park, day=day, listed=[read_payment(row) for row in rows]
        )
    except (PlatformError, BadPaymentList) as exc:
        logger.warning("reconcile %s %s failed: %s", day, park.park_uuid, exc)
        # Kept as finance reads it: the platform's answer by its meaning (``codes``).
        message = (
            codes.answer_label(exc.code, exc.message)
            if isinstance(exc, PlatformError)
            else str(exc)
        )
        run = ReconciliationRun(
            date=day, park=park, status=ReconciliationRun.Status.FAILED, message=message[:500]
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
        previous = ReconciliationRun.objects.filter(date=run.date, park_id=run.park_id)
        resolutions = _resolutions(ReconciliationItem.objects.filter(run__in=previous))
        previous.delete()
        run.save(force_insert=True)
        for item in items:
            item.run = run
            # The same difference found again keeps its resolution (a re-run loses no note).
            for name, value in resolutions.get(_identity(item), {}).items():
                setattr(item, name, value)
        ReconciliationItem.objects.bulk_create(items, batch_size=selectors.CHUNK)
    return run


_RESOLUTION = ("resolved_at", "resolved_by_id", "resolution_note", "resolved_order_id")
_IDENTITY = ("pay_serial", "parking_serial", "category", "field", "platform_value", "our_value")
_IDENTITY += ("platform_text", "our_text")


def _identity(item: ReconciliationItem) -> tuple:
    return tuple(getattr(item, name) for name in _IDENTITY)


def _resolutions(items) -> dict[tuple, dict[str, Any]]:
    """Return the resolved differences among ``items`` by what they found (serial, category,
    field and both values): a re-run finding exactly that again keeps the resolution."""
    return {
        tuple(row[name] for name in _IDENTITY): {name: row[name] for name in _RESOLUTION}
        for row in items.exclude(resolved_at=None).values(*_IDENTITY, *_RESOLUTION)
    }


def reconcile_day(
    *,
    day: date,
    park_uuid: str = "",
    client: PlatformClient | None = None,
    created_by: Any = None,
    page_size: int = DEFAULT_PAGE_SIZE,
) -> list[ReconciliationRun]:
    """Reconcile ``day`` for the park given, or every known park; return the runs.

    ``reconcile_days`` of the one day: see there.
    """
    return reconcile_days(
        days=[day],
        park_uuid=park_uuid,
        client=client,
        created_by=created_by,
        page_size=page_size,
    )


def reconcile_days(
    *,
    days: list[date],
    park_uuid: str = "",
    client: PlatformClient | None = None,
    created_by: Any = None,
    page_size: int = DEFAULT_PAGE_SIZE,
    progress: Progress = NO_PROGRESS,
) -> list[ReconciliationRun]:
    """Reconcile each of ``days`` for the park given, or every known park; return the runs,
    day by day, each day's parks by name.

    A park that fails does not stop the others. Raise ``Park.DoesNotExist`` for an unknown
    uuid and ``ImproperlyConfigured`` when the platform client is not configured. ``progress``
    counts the park-days; a job cancelled stops between two of them (the runs stored so far
    stay: each is complete).
    """
    parks = list(Park.objects.order_by("name", "park_uuid"))
    if park_uuid:
        parks = [Park.objects.get(park_uuid=park_uuid)]
    client = client or PlatformClient.from_settings()
    progress.stage(gettext("Reconciling with the platform"), len(days) * len(parks))
    runs = []
    for day in days:
        for park in parks:
            runs.append(
                reconcile(
                    day=day, park=park, client=client, created_by=created_by, page_size=page_size
                )
            )
            progress.advance()
    return runs


def days_from_to(first: date, last: date) -> list[date]:
    """Return the days ``first`` to ``last``, both included, for a reconciliation of a range.

    Raise ValueError, saying why in the user's language, when ``first`` is after ``last`` or
    the range is longer than MAX_RANGE_DAYS (each day asks the platform once per park and page:
    a longer backfill goes in several runs).
    """
    if first > last:
        raise ValueError(gettext("The first day is after the last."))
    count = (last - first).days + 1
    if count > MAX_RANGE_DAYS:
        raise ValueError(gettext("Choose at most %(days)d days.") % {"days": MAX_RANGE_DAYS})
    return [first + timedelta(days=offset) for offset in range(count)]


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
        if item.resolved_at is None:  # resolved by hand before: its note and clerk stay
            item.resolved_at = now
            item.resolved_by = user
            item.resolution_note = (
                gettext("Order %(serial)s created from the platform's listed payment.")
                if created
                else gettext("Linked to order %(serial)s, already held here.")
            ) % {"serial": order.pay_serial}
        item.save(update_fields=["resolved_order", "resolved_at", "resolved_by", "resolution_note"])
    return Resolution(item=item, order=order, created=created)


# --- Resolving any difference with a note --------------------------------------------------------

NOTE_MAX_LENGTH = 2000


class EmptyNote(ValueError):
    """A difference is resolved with a note saying why; this one is empty."""


@dataclass(frozen=True)
class Resolved:
    """What ``resolve_differences`` did: the differences it closed and those already closed
    (by someone else meanwhile, say)."""

    resolved: list[ReconciliationItem]
    already: list[ReconciliationItem]


def resolve_differences(
    *, item_ids: list[int], user: Any, note: str, now: datetime | None = None
) -> Resolved:
    """Mark the differences resolved by ``user`` with ``note``; those already resolved are
    left as they are (their note and clerk stay) and returned in ``already``.

    Raise EmptyNote for a blank note; a note longer than NOTE_MAX_LENGTH is cut there.
    """
    note = (note or "").strip()[:NOTE_MAX_LENGTH]
    if not note:
        raise EmptyNote(gettext("Write a note saying how the difference was resolved."))
    now = now or timezone.now()
    resolved, already = [], []
    with transaction.atomic():
        # Two clerks resolving the same difference at once: the row lock makes the second
        # wait, then see it resolved by the first instead of overwriting the note.
        # No select_related: a row joined in the same query could be the one read before the
        # lock was granted (PostgreSQL re-reads only the locked row), naming nobody.
        items = (
            ReconciliationItem.objects.select_for_update().filter(pk__in=item_ids).order_by("pk")
        )
        for item in items:
            if item.resolved_at is not None:
                already.append(item)
                continue
            item.resolved_at, item.resolved_by, item.resolution_note = now, user, note
            item.save(update_fields=["resolved_at", "resolved_by", "resolution_note"])
            resolved.append(item)
    return Resolved(resolved=resolved, already=already)
