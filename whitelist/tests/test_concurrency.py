"""Whitelist writes sent several times at the same instant, over real HTTP (the live server).

A double submit must leave one entry per identity (plate, park, start) and give every caller a
sane answer: the first writes, the others find its entries and report them unchanged (an
upsert) or refused (adding one entry). Run on both databases; on SQLite the test database is a
file, so its write lock and busy timeout are really exercised.
"""

import json
import secrets
import threading
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlencode

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client

from parkingops.roles import OPERATIONS
from whitelist.models import WhitelistEntry
from whitelist.tests.conftest import CHANGELIST
from whitelist.tests.factories import WhitelistEntryFactory
from whitelist.tests.test_api import BULK, LIST, make_user

pytestmark = pytest.mark.django_db(transaction=True)

# Loopback needs no proxy, and a configured one could not reach the live server anyway.
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


NO_REDIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect)


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    headers: dict[str, str]

    def json(self):
        return json.loads(self.body)


def send(request: urllib.request.Request) -> Answer:
    try:
        with NO_REDIRECT.open(request, timeout=60) as response:
            return Answer(response.status, response.read(), dict(response.headers))
    except urllib.error.HTTPError as error:
        with error:
            return Answer(error.code, error.read(), dict(error.headers))


def all_at_once(requests: list[urllib.request.Request]) -> list[Answer]:
    """Send every request from its own thread, all released by one barrier."""
    barrier = threading.Barrier(len(requests))

    def one(request: urllib.request.Request) -> Answer:
        barrier.wait(timeout=30)
        return send(request)

    with ThreadPoolExecutor(max_workers=len(requests)) as pool:
        return list(pool.map(one, requests))


def api_post(url: str, key: str, data) -> urllib.request.Request:
    return urllib.request.Request(  # noqa: S310 (the live server's own http URL)
        url,
        data=json.dumps(data).encode(),
        headers={
            "Content-Type": "application/json",
            "Authorization": f"Api-Key {key}",
            "Accept-Language": "en",
        },
        method="POST",
    )


@dataclass(frozen=True)
class AdminSession:
    """A logged-in admin session for raw HTTP: its cookies and a CSRF token to post."""

    cookie: str
    csrf: str

    def post(self, url: str, data: dict) -> urllib.request.Request:
        return urllib.request.Request(  # noqa: S310 (the live server's own http URL)
            url,
            data=urlencode({**data, "csrfmiddlewaretoken": self.csrf}, doseq=True).encode(),
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Cookie": self.cookie,
                "Accept-Language": "en",
            },
            method="POST",
        )


def admin_session(client: Client) -> AdminSession:
    """Return ``client``'s (logged-in) session for raw HTTP requests."""
    csrf = secrets.token_hex(16)  # 32 characters: Django accepts the secret itself as a token
    session = client.cookies["sessionid"].value
    return AdminSession(cookie=f"sessionid={session}; csrftoken={csrf}", csrf=csrf)


@pytest.fixture
def key(db) -> str:
    from parkingops import api_keys

    return api_keys.create_api_key(user=make_user(OPERATIONS), name="HR system").key


def fifty_rows(**fields) -> list[dict]:
    return [
        {"plate": f"川A{n:05d}", "valid_from": "2026-01-01T00:00:00", "holder": "张三", **fields}
        for n in range(50)
    ]


def test_five_identical_bulk_upserts_at_once_write_each_entry_once(live_server, key):
    if connection.vendor == "sqlite":
        # An in-memory database would share one connection and show no locking at all.
        assert not connection.is_in_memory_db()
    url = live_server.url + BULK

    answers = all_at_once([api_post(url, key, {"entries": fifty_rows()})] * 5)

    assert [answer.status for answer in answers] == [200] * 5, [a.body for a in answers]
    bodies = [answer.json() for answer in answers]
    assert sorted(body["created"] for body in bodies) == [0, 0, 0, 0, 50]
    assert all(body["created"] + body["unchanged"] == 50 for body in bodies)
    assert WhitelistEntry.objects.count() == 50
    # Every caller names the same entries, and the file can be sent again.
    assert len({tuple(row["id"] for row in body["rows"]) for body in bodies}) == 1
    again = send(api_post(url, key, {"entries": fifty_rows()}))
    assert (again.status, again.json()["unchanged"]) == (200, 50)


def test_five_identical_bulk_updates_at_once_update_once(live_server, key):
    for row in fifty_rows():
        WhitelistEntryFactory(
            plate=row["plate"], valid_from=datetime(2025, 12, 31, 16, tzinfo=UTC), holder="李四"
        )
    url = live_server.url + BULK

    answers = all_at_once([api_post(url, key, {"entries": fifty_rows()})] * 5)

    assert [answer.status for answer in answers] == [200] * 5
    bodies = [answer.json() for answer in answers]
    assert sorted(body["updated"] for body in bodies) == [0, 0, 0, 0, 50]
    assert WhitelistEntry.objects.count() == 50
    assert set(WhitelistEntry.objects.values_list("holder", flat=True)) == {"张三"}


def test_bulk_upserts_of_overlapping_files_at_once_leave_one_entry_per_identity(live_server, key):
    rows = fifty_rows()
    url = live_server.url + BULK
    # Each file shares half its rows with the next, in another order.
    files = [rows[:30], rows[20:][::-1], rows[::2], rows[10:40], rows[::-1]]

    answers = all_at_once([api_post(url, key, {"entries": file}) for file in files])

    assert [answer.status for answer in answers] == [200] * 5, [a.body for a in answers]
    assert WhitelistEntry.objects.count() == 50
    assert sum(answer.json()["created"] for answer in answers) == 50


def test_five_identical_adds_at_once_add_one_entry_and_refuse_the_others(live_server, key):
    entry = {"plate": "川A660P1", "valid_from": "2026-01-01T00:00:00", "holder": "张三"}

    answers = all_at_once([api_post(live_server.url + LIST, key, entry)] * 5)

    assert sorted(answer.status for answer in answers) == [201, 400, 400, 400, 400]
    refusals = [answer.json() for answer in answers if answer.status == 400]
    assert all(
        "already starts at this time" in body["fields"]["non_field_errors"][0] for body in refusals
    )
    assert WhitelistEntry.objects.count() == 1


def test_the_admins_add_form_sent_twice_at_once_adds_one_entry(live_server):
    client = Client()
    client.force_login(User.objects.create_superuser("root", "root@example.com", "x"))
    session = admin_session(client)
    form = {
        "plate": "川A660P1",
        "park_uuid": "",
        "park_uuid_other": "",
        "valid_from_0": "2026-01-01",
        "valid_from_1": "00:00:00",
        "valid_until_0": "",
        "valid_until_1": "",
        "is_active": "on",
        "holder": "张三",
        "note": "",
        "_save": "Save",
    }
    url = live_server.url + CHANGELIST + "add/"

    answers = all_at_once([session.post(url, form) for _ in range(3)])

    # Saved once (back to the list); the others either see the saved entry in the form's
    # check (200, the form with the reason) or lose the race at the database (back to the form).
    statuses = sorted(answer.status for answer in answers)
    assert statuses.count(302) >= 1 and set(statuses) <= {200, 302}, statuses
    assert WhitelistEntry.objects.count() == 1
    landed = {answer.headers.get("Location") for answer in answers if answer.status == 302}
    assert CHANGELIST in landed
