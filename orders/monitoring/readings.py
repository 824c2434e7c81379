"""What the health conditions and ``/metrics`` read from the database, at one moment.

Each read is cheap and indexed: ``/metrics`` runs them all at every scrape. The one read that
is not (the busiest parks of the last week, a count over a week of orders) is cached.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, Max, Min, OuterRef, Q, Subquery
from django.utils import timezone

from orders.models import PayOrder, PushLog
from orders.push.outcomes import Outcome
from orders.reconciliation.models import ReconciliationItem, ReconciliationRun
from orders.reconciliation.selectors import open_differences, unreconciled
from parkingops.jobs.models import Job
from whitelist.models import Park, PlateSync

# "Pushes usually come in at this time": judged on the same minutes of the previous days.
HISTORY_DAYS = 7
# The refusal share is judged over this window.
REFUSAL_WINDOW = timedelta(minutes=15)
# Failed jobs are counted over this window.
FAILED_JOBS_WINDOW = timedelta(hours=24)
BUSIEST_PARKS_CACHE_SECONDS = 3600

ACKNOWLEDGED = [outcome.value for outcome in Outcome if outcome.acknowledged]


@dataclass(frozen=True)
class ParkPushes:
    """One of the busiest parks and when its newest pushed order came in (None: never)."""

    park_uuid: str
    name: str
    last_accepted_at: datetime | None


@dataclass(frozen=True)
class Readings:
    """The state the conditions judge and the gauges show, read at ``now``."""

    now: datetime
    # Pushes.
    last_accepted_push_at: datetime | None
    push_expected: bool
    busiest_parks: list[ParkPushes]
    recent_pushes: int  # logged in the last REFUSAL_WINDOW
    recent_refusals: int  # of those, not acknowledged
    # The platform's copy of the whitelist.
    syncs_pending: int
    syncs_failed: int
    sync_failing_since: datetime | None
    # Jobs.
    jobs_queued: int
    jobs_running: int
    jobs_failed: int  # finished failed within FAILED_JOBS_WINDOW
    oldest_queued_job_at: datetime | None
    # Reconciliation.
    open_differences: int
    reconcile_day: date  # the newest day that should be reconciled by now
    unreconciled_parks: list[str]
    reconcile_day_open_differences: int
    reconcile_day_last_run_at: datetime | None


def read(*, now: datetime | None = None) -> Readings:
    """Read the state at ``now`` (default: now); may raise DatabaseError."""
    now = now or timezone.now()
    recent = PushLog.objects.filter(received_at__gt=now - REFUSAL_WINDOW).aggregate(
        total=Count("pk"), refused=Count("pk", filter=~Q(reason__in=ACKNOWLEDGED))
    )
    syncs = dict(
        PlateSync.objects.filter(state__in=[PlateSync.State.PENDING, PlateSync.State.FAILED])
        .order_by()
        .values_list("state")
        .annotate(Count("pk"))
    )
    jobs = dict(
        Job.objects.filter(state__in=[Job.State.QUEUED, Job.State.RUNNING])
        .order_by()
        .values_list("state")
        .annotate(Count("pk"))
    )
    day = reconcile_day(now=now)
    return Readings(
        now=now,
        last_accepted_push_at=last_accepted_push_at(before=now),
        push_expected=push_expected(now=now),
        busiest_parks=busiest_parks(now=now),
        recent_pushes=recent["total"],
        recent_refusals=recent["refused"],
        syncs_pending=syncs.get(PlateSync.State.PENDING, 0),
        syncs_failed=syncs.get(PlateSync.State.FAILED, 0),
        sync_failing_since=PlateSync.objects.filter(state=PlateSync.State.FAILED).aggregate(
            since=Min("failing_since")
        )["since"],
        jobs_queued=jobs.get(Job.State.QUEUED, 0),
        jobs_running=jobs.get(Job.State.RUNNING, 0),
        jobs_failed=Job.objects.filter(
            state=Job.State.FAILED, finished_at__gt=now - FAILED_JOBS_WINDOW
        ).count(),
        oldest_queued_job_at=Job.objects.filter(state=Job.State.QUEUED).aggregate(
            oldest=Min("created_at")
        )["oldest"],
        open_differences=open_differences(),
        reconcile_day=day,
        unreconciled_parks=[str(gap.park) for gap in unreconciled(date_from=day, date_to=day)],
        reconcile_day_open_differences=ReconciliationItem.objects.filter(
            run__date=day, resolved_at__isnull=True
        ).count(),
        reconcile_day_last_run_at=ReconciliationRun.objects.filter(date=day).aggregate(
            last=Max("started_at")
        )["last"],
    )


def _accepted(start: datetime, end: datetime):
    return PushLog.objects.filter(
        reason=Outcome.ACCEPTED, received_at__gt=start, received_at__lte=end
    )


def last_accepted_push_at(*, before: datetime) -> datetime | None:
    """Return when the newest push that created an order came in (None: never).

    Walks the ``received_at`` index from the newest row: it stops at the first accepted one.
    """
    return (
        PushLog.objects.filter(reason=Outcome.ACCEPTED, received_at__lte=before)
        .order_by("-received_at")
        .values_list("received_at", flat=True)
        .first()
    )


def push_expected(*, now: datetime) -> bool:
    """Tell whether pushes usually come in now: whether the ALERT_PUSH_SILENCE_MINUTES up to
    this time of day had an accepted push on at least ALERT_PUSH_EXPECTED_DAYS of the
    previous HISTORY_DAYS days (China has no daylight saving: a day is 24 hours)."""
    window = timedelta(minutes=settings.ALERT_PUSH_SILENCE_MINUTES)
    needed = settings.ALERT_PUSH_EXPECTED_DAYS
    days = 0
    for back in range(1, HISTORY_DAYS + 1):
        end = now - timedelta(days=back)
        days += _accepted(end - window, end).exists()
        if days >= needed:
            return True
        if days + (HISTORY_DAYS - back) < needed:
            return False
    return False


def busiest_parks(*, now: datetime) -> list[ParkPushes]:
    """Return the METRICS_BUSIEST_PARKS parks with the most orders over the last
    HISTORY_DAYS days, most first, with their newest pushed order's arrival.

    The ranking counts a week of orders: it is cached for an hour (it changes slowly). The
    arrival reads each park's newest order on the (park, pay_time) index.
    """
    limit = settings.METRICS_BUSIEST_PARKS
    if limit == 0:
        return []

    def rank() -> list[int]:
        return list(
            PayOrder.objects.filter(pay_time__gt=now - timedelta(days=HISTORY_DAYS))
            .order_by()
            .values("park")
            .annotate(orders=Count("pk"))
            .order_by("-orders", "park")
            .values_list("park", flat=True)[:limit]
        )

    ranked = cache.get_or_set(
        f"monitoring:busiest-parks:{limit}", rank, BUSIEST_PARKS_CACHE_SECONDS
    )
    newest = PayOrder.objects.filter(
        park=OuterRef("pk"), source=PayOrder.Source.PUSH, received_at__lte=now
    ).order_by("-pay_time", "-pk")
    parks = Park.objects.filter(pk__in=ranked).annotate(
        last_accepted_at=Subquery(newest.values("received_at")[:1])
    )
    by_pk = {park.pk: park for park in parks}
    return [
        ParkPushes(park_uuid=park.park_uuid, name=park.name, last_accepted_at=park.last_accepted_at)
        for park in (by_pk.get(pk) for pk in ranked)
        if park is not None
    ]


def reconcile_due_at(day: date) -> datetime:
    """Return when ``day`` must be reconciled for every park: ALERT_RECONCILE_GRACE_HOURS
    after the nightly run (SCHEDULE_RECONCILE_HOUR, China time) of the next day."""
    midnight = datetime.combine(
        day + timedelta(days=1), datetime.min.time(), tzinfo=timezone.get_default_timezone()
    )
    return midnight + timedelta(
        hours=settings.SCHEDULE_RECONCILE_HOUR + settings.ALERT_RECONCILE_GRACE_HOURS
    )


def reconcile_day(*, now: datetime) -> date:
    """Return the newest China-time day whose reconciliation is due by ``now``: yesterday once
    today's nightly run had its time, the day before until then."""
    yesterday = timezone.localtime(now).date() - timedelta(days=1)
    return yesterday if now >= reconcile_due_at(yesterday) else yesterday - timedelta(days=1)
