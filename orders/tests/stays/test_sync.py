"""A stay in the incremental sync (``/api/v1/stays/?ordering=updated_at``): each push that
changes it stamps ``updated_at`` with its own arrival, so a stay synced at its entry comes
again when its exit arrives, with the exit's details. Through the real push service, so both
ways of writing a stay (PostgreSQL's one statement, the ORM elsewhere) are covered."""

from datetime import timedelta

import pytest

from orders.stays.models import Stay
from orders.tests.api.test_views import key_client, make_user
from orders.tests.stays.conftest import NOW, SERIAL

STAYS = "/api/v1/stays/"


@pytest.fixture
def reader(db):
    return key_client(make_user(permissions=("orders.view_stay",)))


def sync(reader, url=None):
    response = reader.get(url) if url else reader.get(STAYS, {"ordering": "updated_at"})
    assert response.status_code == 200, response.content
    body = response.json()
    return body["results"], body["resume"]


def test_a_stay_comes_again_when_its_exit_arrives(entry, receive, reader):
    receive("entry", now=NOW)
    assert Stay.objects.get().updated_at == NOW

    rows, resume = sync(reader)
    assert [(row["parking_serial"], row["in_park"]) for row in rows] == [(SERIAL, True)]
    assert sync(reader, resume)[0] == []

    receive("exit", now=NOW + timedelta(hours=2), total_value=1500)
    assert Stay.objects.get().updated_at == NOW + timedelta(hours=2)

    rows, resume = sync(reader, resume)
    assert [(row["parking_serial"], row["in_park"]) for row in rows] == [(SERIAL, False)]
    assert rows[0]["total_value"] == 1500
    assert rows[0]["updated_at"] == rows[0]["exit_received_at"]
    assert sync(reader, resume)[0] == []


def test_an_exit_before_its_entry_is_synced_then_completed_by_the_entry(entry, receive, reader):
    receive("exit", now=NOW)
    rows, resume = sync(reader)
    assert [row["parking_serial"] for row in rows] == [SERIAL]

    receive("entry", now=NOW + timedelta(seconds=3))

    rows, _ = sync(reader, resume)
    assert [row["parking_serial"] for row in rows] == [SERIAL]
    assert rows[0]["entry_received_at"] is not None


def test_a_retry_of_a_push_does_not_bring_the_stay_again(entry, receive, reader):
    receive("entry", now=NOW)
    _, resume = sync(reader)

    assert receive("entry", now=NOW + timedelta(minutes=1)).reason == "duplicate"

    assert Stay.objects.get().updated_at == NOW
    assert sync(reader, resume)[0] == []
