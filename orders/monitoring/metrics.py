"""The Prometheus metrics: pushes counted as they are answered, the rest read from the
database at each scrape (docs/operations.md#metrics).

The push counters live in this process's default registry, or, when gunicorn runs several
workers with ``PROMETHEUS_MULTIPROC_DIR`` set, in that directory's files, which
``MultiProcessCollector`` adds up at scrape time (parkingops/gunicorn.py marks dead workers).
"""

import logging
import os
from collections.abc import Iterator
from datetime import datetime

from django.db import DatabaseError
from django.utils import timezone
from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily, Metric

from orders.monitoring import conditions, readings
from orders.push.outcomes import Outcome

logger = logging.getLogger(__name__)

# The kinds of push the platform sends: the view of each names its own.
PUSH_KINDS = ("pay_order", "entry", "exit", "renewal")

PUSHES = Counter(
    "parkingops_pushes",
    "Pushes answered, by kind, outcome (accepted, refused, error) and reason.",
    ["kind", "outcome", "reason"],
)
PUSH_SECONDS = Histogram(
    "parkingops_push_seconds",
    "Seconds taken to answer a push, by kind.",
    ["kind"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
# Every series exists from the start, at 0: a rate over a counter that appears only with the
# first refusal would miss it.
for _kind in PUSH_KINDS:
    PUSH_SECONDS.labels(kind=_kind)
    for _outcome in Outcome:
        PUSHES.labels(kind=_kind, outcome=_outcome.verdict, reason=_outcome.value)


def observe_push(*, kind: str, outcome: Outcome, seconds: float) -> None:
    """Count one answered push of ``kind`` and the time it took."""
    PUSHES.labels(kind=kind, outcome=outcome.verdict, reason=outcome.value).inc()
    PUSH_SECONDS.labels(kind=kind).observe(seconds)


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=value)


def _age(now: datetime, moment: datetime | None) -> float:
    return 0.0 if moment is None else max((now - moment).total_seconds(), 0.0)


class DatabaseCollector:
    """The gauges read from the database when scraped (``readings``) and the conditions judged
    on them (``parkingops_alert_firing``)."""

    def __init__(self, *, now: datetime | None = None) -> None:
        self.now = now

    def collect(self) -> Iterator[Metric]:
        try:
            state = readings.read(now=self.now or timezone.now())
        except DatabaseError:
            logger.warning("metrics: the database cannot be read", exc_info=True)
            yield _gauge("parkingops_database_up", "Whether the database could be read.", 0)
            return
        yield _gauge("parkingops_database_up", "Whether the database could be read.", 1)
        yield from self._pushes(state)
        yield from self._work(state)
        yield from self._reconciliation(state)
        firing = GaugeMetricFamily(
            "parkingops_alert_firing",
            "1 while a health condition fires (manage.py check_health judges the same).",
            labels=["condition"],
        )
        for condition in conditions.evaluate(state):
            firing.add_metric([condition.code], int(condition.firing))
        yield firing

    def _pushes(self, state: readings.Readings) -> Iterator[Metric]:
        if state.last_accepted_push_at is not None:
            yield _gauge(
                "parkingops_last_accepted_push_age_seconds",
                "Seconds since the newest accepted push (absent: none ever).",
                _age(state.now, state.last_accepted_push_at),
            )
        parks = GaugeMetricFamily(
            "parkingops_park_last_accepted_push_age_seconds",
            "Seconds since the newest pushed order of each of the busiest parks of the week.",
            labels=["park", "name"],
        )
        for park in state.busiest_parks:
            if park.last_accepted_at is not None:
                age = _age(state.now, park.last_accepted_at)
                parks.add_metric([park.park_uuid, park.name], age)
        yield parks
        yield _gauge(
            "parkingops_push_expected",
            "1 when accepted pushes usually come in at this time of day.",
            int(state.push_expected),
        )

    def _work(self, state: readings.Readings) -> Iterator[Metric]:
        syncs = GaugeMetricFamily(
            "parkingops_platform_syncs",
            "Plates waiting to be sent to the platform (pending) or whose sync failed.",
            labels=["state"],
        )
        syncs.add_metric(["pending"], state.syncs_pending)
        syncs.add_metric(["failed"], state.syncs_failed)
        yield syncs
        yield _gauge(
            "parkingops_platform_sync_failing_seconds",
            "Seconds the longest-failing plate sync has been failing (0: none fails).",
            _age(state.now, state.sync_failing_since),
        )
        jobs = GaugeMetricFamily(
            "parkingops_jobs",
            "Background jobs queued, running, and failed in the last 24 hours.",
            labels=["state"],
        )
        jobs.add_metric(["queued"], state.jobs_queued)
        jobs.add_metric(["running"], state.jobs_running)
        jobs.add_metric(["failed"], state.jobs_failed)
        yield jobs
        yield _gauge(
            "parkingops_job_queued_oldest_seconds",
            "Seconds the oldest queued job has waited for a worker (0: none waits).",
            _age(state.now, state.oldest_queued_job_at),
        )

    def _reconciliation(self, state: readings.Readings) -> Iterator[Metric]:
        yield _gauge(
            "parkingops_reconciliation_open_differences",
            "Reconciliation differences not resolved, of every day.",
            state.open_differences,
        )
        yield _gauge(
            "parkingops_reconciliation_unreconciled_parks",
            "Parks without a completed reconciliation of the newest day due.",
            len(state.unreconciled_parks),
        )
        yield _gauge(
            "parkingops_reconciliation_day_open_differences",
            "Differences not resolved in the runs of the newest day due.",
            state.reconcile_day_open_differences,
        )
        if state.reconcile_day_last_run_at is not None:
            yield _gauge(
                "parkingops_reconciliation_last_run_age_seconds",
                "Seconds since the newest run of the newest day due (absent: none ran).",
                _age(state.now, state.reconcile_day_last_run_at),
            )


class _ThisProcess:
    """This process's default registry (the push counters, process and Python metrics)."""

    def collect(self) -> Iterator[Metric]:
        return REGISTRY.collect()


def render(*, now: datetime | None = None) -> bytes:
    """Return every metric in the Prometheus text format."""
    registry = CollectorRegistry(auto_describe=False)
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(_ThisProcess())
    registry.register(DatabaseCollector(now=now))
    return generate_latest(registry)
