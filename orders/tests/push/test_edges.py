"""The push in production: allowed source addresses, proxies, the refusal throttle, /healthz,
losing the database connection mid-request, and the one JSON log line per push."""

import json
import logging

import pytest
from django.db import connection

from conftest import PUSH_URL, answer
from orders.models import PayOrder, PushLog
from orders.push import throttling
from parkingops.env import env_networks
from parkingops.netaddr import client_address, in_networks


@pytest.fixture
def networks(monkeypatch):
    def parse(value: str):
        monkeypatch.setenv("X_NETWORKS", value)
        return env_networks("X_NETWORKS")

    return parse


def test_client_address_is_the_peer_unless_the_peer_is_a_trusted_proxy(networks):
    proxies = networks("10.0.0.0/8")
    meta = {"REMOTE_ADDR": "203.0.113.9", "HTTP_X_FORWARDED_FOR": "1.2.3.4"}

    assert client_address(meta, trusted_proxies=[]) == "203.0.113.9"
    assert client_address(meta, trusted_proxies=proxies) == "203.0.113.9"


def test_behind_trusted_proxies_the_first_untrusted_hop_from_the_right_is_the_client(networks):
    proxies = networks("10.0.0.0/8, 192.168.1.1")
    meta = {
        "REMOTE_ADDR": "10.0.0.2",
        # the left-most part could be forged by the client: it is never believed
        "HTTP_X_FORWARDED_FOR": "6.6.6.6, 198.51.100.7, 192.168.1.1",
    }

    assert client_address(meta, trusted_proxies=proxies) == "198.51.100.7"
    assert in_networks("10.1.2.3", proxies) and not in_networks("not an address", proxies)


def test_a_bad_network_in_the_settings_fails_loudly(networks):
    from django.core.exceptions import ImproperlyConfigured

    with pytest.raises(ImproperlyConfigured, match="X_NETWORKS"):
        networks("10.0.0.0/33")


def test_a_push_from_an_address_not_allowed_is_refused_and_logged(
    whitelisted, push, settings, networks
):
    settings.PUSH_ALLOWED_IPS = networks("203.0.113.0/24")

    response = push()

    assert response.status_code == 403
    assert answer(response)["reason"] == "address_not_allowed"
    assert not PayOrder.objects.exists()
    assert PushLog.objects.get().remote_addr == "127.0.0.1"


def test_the_allowed_address_behind_a_trusted_proxy_is_accepted(
    whitelisted, push, settings, networks, client
):
    settings.PUSH_ALLOWED_IPS = networks("203.0.113.0/24")
    settings.TRUSTED_PROXIES = networks("127.0.0.1")
    client.defaults["HTTP_X_FORWARDED_FOR"] = "203.0.113.5"

    response = push()

    assert answer(response)["code"] == "1001"
    assert PushLog.objects.get().remote_addr == "203.0.113.5"


def test_a_flood_of_bad_signatures_is_throttled_without_filling_the_log(db, client, settings):
    settings.PUSH_REFUSAL_RATE = "5/min"
    bad = "app_id=op00961963581daa7&sign=0&pay_serial=1"

    answers = [
        client.post(PUSH_URL, bad, content_type="application/x-www-form-urlencoded")
        for _ in range(8)
    ]

    assert [r.status_code for r in answers] == [401] * 5 + [429] * 3
    assert answer(answers[-1]) == {
        "code": "1429",
        "reason": "throttled",
        "message": "too many refused pushes from this address, retry later",
    }
    assert PushLog.objects.count() == 5


def test_refusals_of_signed_pushes_do_not_count_towards_the_throttle(db, push, settings):
    settings.PUSH_REFUSAL_RATE = "2/min"

    answers = [push() for _ in range(4)]  # signed, but the plate is not whitelisted

    assert {answer(r)["reason"] for r in answers} == {"not_whitelisted"}


def test_a_cache_that_cannot_be_reached_throttles_nothing_and_loses_no_push(
    whitelisted, push, client, settings, caplog, monkeypatch
):
    # Redis on a port nothing listens on: the throttle lets pushes through and says so once.
    monkeypatch.setattr(throttling, "_warned_at", -throttling._WARN_EVERY)
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:9/0",
            "OPTIONS": {"socket_connect_timeout": 0.2},
        }
    }
    settings.PUSH_REFUSAL_RATE = "1/min"
    bad = "app_id=op00961963581daa7&sign=0&pay_serial=1"
    with caplog.at_level(logging.WARNING, logger="orders.push.throttling"):
        refused = [
            client.post(PUSH_URL, bad, content_type="application/x-www-form-urlencoded")
            for _ in range(3)
        ]
        accepted = push()
    assert [r.status_code for r in refused] == [401] * 3  # counted nowhere, never a 503
    assert answer(accepted)["code"] == "1001" and PayOrder.objects.count() == 1
    warnings = [r.getMessage() for r in caplog.records if r.name == "orders.push.throttling"]
    assert len(warnings) == 1 and "unreachable" in warnings[0]


def test_healthz_answers_ok_when_the_database_answers(client, db):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"database": "ok"}


@pytest.mark.django_db(transaction=True)
def test_healthz_answers_503_when_the_database_is_unreachable(client):
    with unreachable_database():
        response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json() == {"database": "unavailable"}


def unreachable_database():
    from contextlib import contextmanager

    @contextmanager
    def broken():
        saved = dict(connection.settings_dict)
        connection.close()
        if connection.vendor == "postgresql":
            connection.settings_dict.update(HOST="127.0.0.1", PORT=1)
        else:
            connection.settings_dict["NAME"] = "/nonexistent-dir/db.sqlite3"
        try:
            yield
        finally:
            connection.close()
            connection.settings_dict.clear()
            connection.settings_dict.update(saved)

    return broken()


@pytest.mark.django_db(transaction=True)
def test_a_connection_lost_mid_request_answers_1503_and_the_next_request_reconnects(
    whitelisted, push, monkeypatch
):
    if connection.vendor != "postgresql":
        pytest.skip("a server-side disconnect needs a database server (runs on PostgreSQL)")
    from orders.push import storing

    real = storing.valid_entry_id_sql

    def lose_connection_first(**kwargs):
        # What a database restart does to an open connection, mid-request: just before the
        # push's write (whose first step is this whitelist query).
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(pg_backend_pid())")
        return real(**kwargs)

    monkeypatch.setattr(storing, "valid_entry_id_sql", lose_connection_first)
    lost = push(pay_serial="20261126000000000000000001")
    monkeypatch.setattr(storing, "valid_entry_id_sql", real)
    connection.close_if_unusable_or_obsolete()  # what Django does when a request ends

    again = push(pay_serial="20261126000000000000000001")

    assert (lost.status_code, answer(lost)["reason"]) == (503, "unavailable")
    assert answer(again)["reason"] == "accepted"
    assert PayOrder.objects.count() == 1


def test_each_push_writes_one_json_line(whitelisted, push, caplog):
    with caplog.at_level(logging.INFO, logger="parkingops.push"):
        push(pay_serial="20261126000000000000000002")

    (record,) = [r for r in caplog.records if r.name == "parkingops.push"]
    line = json.loads(record.getMessage())
    assert line["event"] == "push"
    assert line["pay_serial"] == "20261126000000000000000002"
    assert (line["code"], line["reason"]) == ("1001", "accepted")
    assert isinstance(line["duration_ms"], int)
