"""GET /metrics: who may read it, the push counters after real pushes, the alert gauges."""

from datetime import timedelta
from ipaddress import ip_network

import pytest
from django.utils import timezone

from conftest import FORM, form_body
from orders.push.outcomes import Outcome
from orders.tests.monitoring.conftest import (
    METRICS_URL,
    logged,
    samples,
    usual_pushes,
    value,
)

pytestmark = pytest.mark.django_db

TOKEN = "metrics-token-8c1f"  # noqa: S105
OUTSIDE = "203.0.113.9"


@pytest.fixture
def token(settings):
    settings.METRICS_TOKEN = TOKEN
    settings.METRICS_ALLOWED_IPS = []
    return TOKEN


def test_without_token_or_addresses_only_this_host_may_read(client, settings):
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_IPS = []

    assert client.get(METRICS_URL, REMOTE_ADDR="127.0.0.1").status_code == 200
    assert client.get(METRICS_URL, REMOTE_ADDR="::1").status_code == 200
    refused = client.get(METRICS_URL, REMOTE_ADDR=OUTSIDE)
    assert refused.status_code == 403
    assert refused["Content-Type"].startswith("text/plain")


def test_a_request_without_the_token_from_elsewhere_is_refused(client, token):
    response = client.get(METRICS_URL, REMOTE_ADDR=OUTSIDE)

    assert response.status_code == 403
    assert response["Content-Type"].startswith("text/plain")
    assert TOKEN not in response.content.decode()
    # With a token set, this host needs it too.
    assert client.get(METRICS_URL, REMOTE_ADDR="127.0.0.1").status_code == 403


def test_the_right_token_reads_the_metrics_from_anywhere(client, token):
    response = client.get(METRICS_URL, REMOTE_ADDR=OUTSIDE, HTTP_AUTHORIZATION=f"Bearer {TOKEN}")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    assert value(samples(response.content.decode()), "parkingops_database_up") == 1


@pytest.mark.parametrize(
    "authorization",
    [
        "",
        "Bearer",
        "Bearer ",
        f"Bearer {TOKEN}x",
        f"Basic {TOKEN}",
        f"{TOKEN}",
        "Bearer " + TOKEN[:-1] + "é",
        "Bearer \x00\xff\u4e2d",
        "Bearer " + "a" * 100_000,
    ],
)
def test_a_wrong_or_hostile_authorization_is_a_403_never_a_500(client, token, authorization):
    response = client.get(METRICS_URL, REMOTE_ADDR=OUTSIDE, HTTP_AUTHORIZATION=authorization)

    assert response.status_code == 403


def test_allowed_addresses_may_read_without_a_token_through_a_trusted_proxy(client, settings):
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_IPS = [ip_network("10.20.0.0/16")]
    settings.TRUSTED_PROXIES = [ip_network("192.0.2.1/32")]

    assert client.get(METRICS_URL, REMOTE_ADDR="10.20.3.4").status_code == 200
    via_proxy = {"REMOTE_ADDR": "192.0.2.1", "HTTP_X_FORWARDED_FOR": "10.20.3.4"}
    assert client.get(METRICS_URL, **via_proxy).status_code == 200
    forged = {"REMOTE_ADDR": OUTSIDE, "HTTP_X_FORWARDED_FOR": "10.20.3.4"}
    assert client.get(METRICS_URL, **forged).status_code == 403
    # Allowed addresses replace the default: this host is no longer one of them.
    assert client.get(METRICS_URL, REMOTE_ADDR="127.0.0.1").status_code == 403


def test_only_get_and_head_are_answered(client):
    assert client.post(METRICS_URL).status_code == 405
    assert client.head(METRICS_URL).status_code == 200


def test_real_pushes_are_counted_by_kind_outcome_and_reason(whitelisted, push, post, scrape):
    before = scrape()

    order = {"pay_serial": "M-0001", "parking_serial": "5901", "pay_time_ms": 1764900000000}
    assert push(**order).status_code == 200
    assert push(**order).status_code == 200  # the platform's retry
    assert push(pay_serial="M-0002", plate="川B99999").status_code == 403
    assert post(form_body({"app_id": "nobody", "pay_serial": "x"}, "wrong")).status_code == 401
    after = scrape()

    def counted(outcome: str, reason: str) -> float:
        labels = {"kind": "pay_order", "outcome": outcome, "reason": reason}
        return value(after, "parkingops_pushes_total", **labels) - value(
            before, "parkingops_pushes_total", **labels
        )

    assert counted("accepted", "accepted") == 1
    assert counted("accepted", "duplicate") == 1
    assert counted("refused", "not_whitelisted") == 1
    assert counted("refused", "unknown_app") == 1
    assert counted("refused", "bad_signature") == 0
    assert counted("error", "internal_error") == 0

    def histogram(name: str, **labels) -> float:
        return value(after, name, kind="pay_order", **labels) - value(
            before, name, kind="pay_order", **labels
        )

    assert histogram("parkingops_push_seconds_count") == 4
    assert histogram("parkingops_push_seconds_bucket", le="+Inf") == 4
    assert histogram("parkingops_push_seconds_sum") > 0
    # The accepted push is also the newest one, seconds ago.
    assert 0 <= value(after, "parkingops_last_accepted_push_age_seconds") < 60


def test_a_throttled_push_is_counted_as_refused(whitelisted, post, scrape, settings):
    settings.PUSH_REFUSAL_RATE = "1/min"
    labels = {"kind": "pay_order", "outcome": "refused", "reason": "throttled"}
    before = value(scrape(), "parkingops_pushes_total", **labels)

    assert post("garbage", content_type=FORM).status_code == 401
    assert post("garbage", content_type=FORM).status_code == 429

    assert value(scrape(), "parkingops_pushes_total", **labels) - before == 1


def test_a_stopped_push_stream_fires_its_alert(scrape):
    now = timezone.now()
    usual_pushes(now)
    logged(now - timedelta(hours=2))  # the last accepted push today
    logged(now - timedelta(minutes=1), Outcome.NOT_WHITELISTED)  # refusals are no sign of life

    found = scrape()

    assert value(found, "parkingops_push_expected") == 1
    assert value(found, "parkingops_last_accepted_push_age_seconds") >= 7200
    assert value(found, "parkingops_alert_firing", condition="push_stream_stopped") == 1


def test_a_healthy_state_fires_no_alert(scrape):
    now = timezone.now()
    usual_pushes(now)
    logged(now - timedelta(minutes=2))

    found = scrape()

    assert value(found, "parkingops_push_expected") == 1
    firing = {
        dict(labels)["condition"]: number
        for (name, labels), number in found.items()
        if name == "parkingops_alert_firing"
    }
    assert set(firing) == {
        "push_stream_stopped",
        "refusals_spiking",
        "sync_failing",
        "reconciliation_missing",
        "reconciliation_differences",
        "jobs_stuck",
    }
    assert set(firing.values()) == {0}


def test_an_unreadable_database_is_a_gauge_not_a_500(client, monkeypatch):
    from django.db import OperationalError

    from orders.monitoring import readings

    def fail(**kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(readings, "read", fail)

    response = client.get(METRICS_URL)

    assert response.status_code == 200
    found = samples(response.content.decode())
    assert value(found, "parkingops_database_up") == 0
    assert not any(name == "parkingops_alert_firing" for name, _labels in found)


def test_a_scrape_takes_a_fixed_number_of_queries_however_many_parks(
    scrape, django_assert_max_num_queries
):
    from orders.tests.factories import PayOrderFactory

    for _ in range(15):
        PayOrderFactory()
    scrape()  # ranks the busiest parks (cached for an hour)

    with django_assert_max_num_queries(25):
        found = scrape()

    parks = [
        1 for name, _labels in found if name == "parkingops_park_last_accepted_push_age_seconds"
    ]
    assert len(parks) == 10
