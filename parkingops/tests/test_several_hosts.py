"""Two web hosts behind one load balancer agree: they share one PostgreSQL and one Redis.

Two real gunicorn servers with the production settings (DEBUG off, ``CACHE_URL`` a Redis database
of this test's own, the balancer at 127.0.0.1 trusted for ``X-Forwarded-For``) serve the test
database; requests go to them in turn, as a balancer sends them. The throttles count in Redis,
so a limit is reached by the two hosts' requests together; a login's session is a database
row, so a login on one host is valid on the other; the jobs' files are in the database
(``FILE_STORAGE=database``), so a file a worker wrote is downloaded from either host.

PostgreSQL only (several hosts never share a SQLite file), and Redis at
``PARKINGOPS_TEST_REDIS_URL`` (default ``redis://127.0.0.1:6379/13``; only that database is
emptied, before and after each test). Without Redis the tests skip, except where
``PARKINGOPS_REQUIRE_REDIS`` is set (CI has Redis and sets it: ``.ci/run``), where they fail.
"""

import http.client
import json
import os
import secrets
import time
from collections.abc import Iterator
from http.cookies import SimpleCookie
from urllib.parse import urlencode

import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.contrib.auth.models import Permission, User
from django.contrib.sessions.models import Session
from django.db import connection

from conftest import FORM, PUSH_URL
from orders.models import PushLog
from parkingops import api_keys
from parkingops.jobs import runner
from parkingops.jobs.testing import run_queued_jobs
from parkingops.tests.processes import gunicorn_server
from parkingops.tests.test_jobs_runner import count as _count  # noqa: F401 (tests.count)

REDIS_URL = os.environ.get("PARKINGOPS_TEST_REDIS_URL") or "redis://127.0.0.1:6379/13"
ORDERS = "/api/v1/orders/"
# Refused for its signature: a refusal that counts towards the push's throttle.
BAD_PUSH = "app_id=op00961963581daa7&sign=0&pay_serial=1"
PUSH_REFUSALS = 4
API_REQUESTS = 6

Address = tuple[str, int]


def require_redis() -> None:
    """Skip when the test's Redis does not answer; fail instead where CI demands it."""
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2, socket_timeout=2).ping()
    except redis.RedisError as error:
        missing = f"no Redis at {REDIS_URL} ({error})"
        if os.environ.get("PARKINGOPS_REQUIRE_REDIS"):
            pytest.fail(f"{missing}, and PARKINGOPS_REQUIRE_REDIS is set")
        pytest.skip(
            f"{missing}, so the several-hosts tests are skipped "
            "(start redis-server, or set PARKINGOPS_TEST_REDIS_URL)"
        )


@pytest.fixture
def redis_db() -> Iterator[str]:
    """This test's own Redis database, empty before and after (throttle counts outlive it)."""
    if connection.vendor != "postgresql":
        pytest.skip("several hosts share one PostgreSQL; SQLite is one file on one machine")
    require_redis()
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    client.flushdb()
    try:
        yield REDIS_URL
    finally:
        client.flushdb()
        client.close()


@pytest.fixture
def hosts(transactional_db, redis_db, tmp_path) -> Iterator[tuple[Address, Address]]:
    """Two gunicorn servers as two production hosts: DEBUG off, one PostgreSQL, one Redis, and
    each its own disk (the jobs' files are in the database)."""
    production = {
        "DJANGO_SETTINGS_MODULE": "parkingops.settings",
        "DEBUG": "0",
        "SECRET_KEY": "both-hosts-share-this-production-like-secret-key-5c1e9a",
        "ALLOWED_HOSTS": "127.0.0.1",
        # Plain HTTP between the balancer and the hosts in this test.
        "SECURE_SSL_REDIRECT": "0",
        "SESSION_COOKIE_SECURE": "0",
        "CSRF_COOKIE_SECURE": "0",
        "CACHE_URL": redis_db,
        # The balancer (here: this process, at 127.0.0.1) forwards the client's address.
        "TRUSTED_PROXIES": "127.0.0.1",
        "PUSH_ALLOWED_IPS": "",
        "PUSH_REFUSAL_RATE": f"{PUSH_REFUSALS}/hour",
        "API_THROTTLE_RATE": f"{API_REQUESTS}/hour",
        "FILE_STORAGE": "database",
    }
    with (
        gunicorn_server(**production, MEDIA_ROOT=str(tmp_path / "first")) as first,
        gunicorn_server(**production, MEDIA_ROOT=str(tmp_path / "second")) as second,
    ):
        yield first, second


def request(
    address: Address, method: str, path: str, body: str = "", **headers: str
) -> tuple[int, http.client.HTTPMessage, bytes]:
    """Send one request to one host; return the status, headers and body."""
    conn = http.client.HTTPConnection(*address, timeout=60)
    try:
        conn.request(method, path, body=body.encode() or None, headers=headers)
        response = conn.getresponse()
        return response.status, response.headers, response.read()
    finally:
        conn.close()


def in_turn(first: Address, second: Address, count: int) -> list[Address]:
    """``count`` hosts as a round-robin balancer picks them: first, second, first, ..."""
    return [(first, second)[number % 2] for number in range(count)]


def wait_for_a_fresh_window(seconds: int = 3600) -> None:
    """The push's throttle counts per fixed window (an hour here): do not start in its last
    half minute, or the count would restart halfway."""
    left = seconds - time.time() % seconds
    if left < 30:
        time.sleep(left + 0.5)


def test_push_refusals_sent_to_both_hosts_reach_the_limit_together(hosts):
    client = {"X-Forwarded-For": f"198.51.100.{secrets.randbelow(250) + 1}"}
    wait_for_a_fresh_window()

    refused = [
        request(host, "POST", PUSH_URL, BAD_PUSH, **{"Content-Type": FORM}, **client)
        for host in in_turn(*hosts, PUSH_REFUSALS)
    ]
    # Each host answered only half the limit: only a shared count throttles now, on both.
    throttled = [
        request(host, "POST", PUSH_URL, BAD_PUSH, **{"Content-Type": FORM}, **client)
        for host in hosts
    ]

    assert [status for status, _headers, _body in refused] == [401] * PUSH_REFUSALS
    assert [status for status, _headers, _body in throttled] == [429, 429]
    assert {json.loads(body)["reason"] for _status, _headers, body in throttled} == {"throttled"}
    # Another client of the same balancer is not throttled.
    status, _headers, body = request(
        hosts[0], "POST", PUSH_URL, BAD_PUSH, **{"Content-Type": FORM, "X-Forwarded-For": "1.2.3.4"}
    )
    assert (status, json.loads(body)["reason"]) == (401, "bad_signature")
    assert PushLog.objects.filter(remote_addr=client["X-Forwarded-For"]).count() == PUSH_REFUSALS


def test_an_api_keys_requests_to_both_hosts_reach_its_limit_together(hosts):
    reader = User.objects.create_user("bi", is_staff=True)
    reader.user_permissions.add(Permission.objects.get(codename="view_payorder"))
    key = {"Authorization": f"Api-Key {api_keys.create_api_key(user=reader, name='BI').key}"}

    answered = [request(host, "GET", ORDERS, **key) for host in in_turn(*hosts, API_REQUESTS)]
    over = [request(host, "GET", ORDERS, **key) for host in hosts]

    assert [status for status, _headers, _body in answered] == [200] * API_REQUESTS
    assert [status for status, _headers, _body in over] == [429, 429]
    assert all(int(headers["Retry-After"]) > 0 for _status, headers, _body in over)
    # Each answer tells what is left of the one count, whichever host gave it.
    told = [headers for _status, headers, _body in answered + over]
    assert {headers["RateLimit-Limit"] for headers in told} == {str(API_REQUESTS)}
    assert [int(headers["RateLimit-Remaining"]) for headers in told] == [
        *range(API_REQUESTS - 1, -1, -1),
        0,
        0,
    ]
    assert all(0 < int(headers["RateLimit-Reset"]) <= 3600 for headers in told)
    # A current copy is told apart on either host: both make the same ETag of the same page.
    assert len({headers["ETag"] for headers in told[:API_REQUESTS]}) == 1
    # Another key still has its own count.
    other = {"Authorization": f"Api-Key {api_keys.create_api_key(user=reader, name='ETL').key}"}
    assert request(hosts[1], "GET", ORDERS, **other)[0] == 200


def clerk(username: str, password: str) -> User:
    """A staff user who may read orders, with ``password`` hashed as production hashes it (the
    test settings' quick hasher is not among production's)."""
    hasher = PBKDF2PasswordHasher()
    user = User.objects.create(
        username=username, password=hasher.encode(password, hasher.salt()), is_staff=True
    )
    user.user_permissions.add(Permission.objects.get(codename="view_payorder"))
    return user


def log_in(address: Address, username: str, password: str) -> str:
    """Log in through the admin's login form on one host; return the session's key.

    Posted as a browser posts it, with its CSRF cookie and token: the form's page itself needs
    collectstatic's manifest with DEBUG off, which a test run does not build.
    """
    csrf = secrets.token_hex(16)
    fields = {"username": username, "password": password, "csrfmiddlewaretoken": csrf}
    status, headers, _body = request(
        address,
        "POST",
        "/admin/login/?next=/admin/",
        urlencode({**fields, "next": "/admin/"}),
        **{"Content-Type": FORM, "Cookie": f"csrftoken={csrf}"},
    )
    assert (status, headers["Location"]) == (302, "/admin/")
    cookies = SimpleCookie()
    for header in headers.get_all("Set-Cookie"):
        cookies.load(header)
    return cookies["sessionid"].value


def test_a_login_on_one_host_is_valid_on_the_other(hosts):
    clerk("clerk", "s3cret-pass")
    first, second = hosts

    session = log_in(first, "clerk", "s3cret-pass")
    status, _headers, body = request(second, "GET", ORDERS, Cookie=f"sessionid={session}")

    assert status == 200, body
    assert "results" in json.loads(body)
    assert Session.objects.filter(session_key=session).exists()
    assert request(second, "GET", ORDERS)[0] in {401, 403}


def test_a_file_a_worker_exported_is_downloaded_from_either_host(hosts, files_in_the_database):
    owner = clerk("clerk", "s3cret-pass")
    # The worker: this process, with a disk of its own too.
    job = runner.start_job("tests.count", owner=owner, params={"to": 1, "file": True})
    run_queued_jobs()
    session = log_in(hosts[0], "clerk", "s3cret-pass")

    download = f"/admin/parkingops/job/{job.pk}/download/"
    downloads = [request(host, "GET", download, Cookie=f"sessionid={session}") for host in hosts]

    assert [(status, body) for status, _headers, body in downloads] == [(200, b"a,b\n")] * 2
    assert all("counted.csv" in headers["Content-Disposition"] for _s, headers, _b in downloads)
