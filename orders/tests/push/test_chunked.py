"""A chunked push (``Transfer-Encoding: chunked``, no ``Content-Length``) over real HTTP.

gunicorn (``make serve``, production) de-chunks the body and marks its end with
``wsgi.input_terminated``: the push is read whole, within the 1 MiB limit. Django's own server
(runserver, ``live_server``) cannot hand the body over at all: it is refused as unreadable,
never taken for an empty push. Both are started for real here, against the test database.
"""

import http.client
import json
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from django.conf import settings

from conftest import FORM, PUSH_URL, form_body
from orders.models import PayOrder, PushLog
from parkingops.tests.processes import gunicorn_server


def _chunks(body: bytes, size: int = 1000) -> Iterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start : start + size]


def send_chunked(host: str, port: int, body: bytes, path: str = PUSH_URL) -> tuple[int, dict]:
    """POST ``body`` as a chunked form, without Content-Length; return status and answer."""
    conn = http.client.HTTPConnection(host, port, timeout=60)
    try:
        conn.request(
            "POST",
            path,
            body=_chunks(body),
            headers={"Content-Type": FORM, "Transfer-Encoding": "chunked"},
            encode_chunked=True,
        )
        response = conn.getresponse()
        return response.status, json.loads(response.read())
    finally:
        conn.close()


@pytest.fixture
def gunicorn(transactional_db) -> Iterator[tuple[str, int]]:
    """Serve the project with gunicorn and its configuration (parkingops.gunicorn), on a free
    port, against this test's database (committed rows: a transactional test)."""
    with gunicorn_server() as address:
        yield address


def test_gunicorn_reads_a_chunked_push_whole_and_refuses_one_over_1_mib(
    gunicorn, whitelisted, params, secret
):
    host, port = gunicorn

    status, answer = send_chunked(host, port, form_body(params, secret).encode())

    assert (status, answer["code"], answer["reason"]) == (200, "1001", "accepted")
    assert PayOrder.objects.get().pay_serial == params["pay_serial"]

    padded = {**params, "pay_serial": "S-LARGE", "x_pad": "a" * (1024 * 1024)}
    status, answer = send_chunked(host, port, form_body(padded, secret).encode())

    assert (status, answer["code"], answer["reason"]) == (413, "1400", "bad_body")
    assert list(PushLog.objects.order_by("pk").values_list("reason", flat=True)) == [
        "accepted",
        "bad_body",
    ]


def test_djangos_own_server_refuses_a_chunked_push_it_cannot_read(
    live_server, whitelisted, params, secret
):
    address = urlsplit(live_server.url)
    body = form_body(params, secret).encode()

    status, answer = send_chunked(address.hostname, address.port, body)

    assert (status, answer["code"], answer["reason"]) == (400, "1400", "bad_body")
    assert "chunked" in answer["message"]
    assert not PayOrder.objects.exists()
    assert PushLog.objects.get().reason == "bad_body"


def test_gunicorn_reads_chunked_entry_exit_and_renewal_pushes_whole(gunicorn, whitelisted, secret):
    from datetime import UTC, datetime

    from orders.demo import simulator
    from orders.tests.stays.conftest import OTHER_KINDS, build, ms
    from orders.tests.stays.test_views import _times_now

    host, port = gunicorn
    now_ms = ms(datetime.now(UTC))
    for kind in OTHER_KINDS:
        params = build(kind, app_id=settings.PLATFORM_APP_ID, **_times_now(kind, now_ms))
        body = form_body(params, secret).encode()

        status, answer = send_chunked(host, port, body, simulator.PUSH_PATHS[kind])

        assert (kind, status, answer["reason"]) == (kind, 200, "accepted")
    assert sorted(PushLog.objects.values_list("kind", flat=True)) == sorted(OTHER_KINDS)
