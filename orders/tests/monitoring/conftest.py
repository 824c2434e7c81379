"""Helpers for the monitoring tests: push-log rows at given times, and reading /metrics."""

from datetime import datetime, timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families

from orders.models import PushLog
from orders.push.outcomes import Outcome
from parkingops.formatting import CHINA

METRICS_URL = "/metrics"


def china(*args) -> datetime:
    """An aware time given in China time (UTC+8, no DST)."""
    return datetime(*args, tzinfo=CHINA)


def logged(at: datetime, outcome: Outcome = Outcome.ACCEPTED, count: int = 1) -> None:
    """Write ``count`` push-log rows answered ``outcome``, received at ``at``."""
    PushLog.objects.bulk_create(
        PushLog(received_at=at, code=outcome.code, reason=outcome.value) for _ in range(count)
    )


def usual_pushes(now: datetime, *, days: int = 7) -> None:
    """Accepted pushes a few minutes before this time of day on each of the last ``days`` days:
    pushes are expected now."""
    for back in range(1, days + 1):
        logged(now - timedelta(days=back, minutes=5))


def samples(text: str) -> dict[tuple[str, frozenset], float]:
    """Parse the Prometheus text format into {(sample name, labels): value}."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


@pytest.fixture
def scrape(client):
    """GET /metrics (from 127.0.0.1, allowed by default) and return its samples."""

    def get(**headers) -> dict[tuple[str, frozenset], float]:
        response = client.get(METRICS_URL, **headers)
        assert response.status_code == 200, response.content
        return samples(response.content.decode("utf-8"))

    return get


def value(found: dict, name: str, **labels: str) -> float | None:
    return found.get((name, frozenset(labels.items())))
