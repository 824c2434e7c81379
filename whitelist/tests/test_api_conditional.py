"""Conditional requests on whitelist entries: ``ETag`` and ``Last-Modified`` on reads, ``304``
for a copy that is current, ``If-Match`` on changes (``412`` when the entry changed since it was
read), also when two changes with the same ``If-Match`` arrive at the same instant (real
threads, real HTTP, both databases).
"""

import json
import urllib.request
from datetime import timedelta

import pytest
from django.test import Client
from django.utils.http import http_date

from parkingops.roles import OPERATIONS
from whitelist.models import WhitelistEntry
from whitelist.tests.factories import WhitelistEntryFactory
from whitelist.tests.test_api import JSON, LIST, entry_url, key_client, make_user
from whitelist.tests.test_concurrency import all_at_once

pytestmark = pytest.mark.django_db

HOSTILE = [
    "garbage",
    "41",
    '"unterminated',
    'W/"',
    ",,,,",
    'W/W/"x"',
    '"a", garbage, W/"b"',
    "\u00e9t\u00e9".encode().decode("latin-1"),  # UTF-8 bytes as WSGI hands them over
    '"' + "x" * 200_000 + '"',
    ", ".join(f'"{n}"' for n in range(20_000)),
]


@pytest.fixture
def hr(db) -> Client:
    """The HR system's key: its user is in the operations group."""
    return key_client(make_user(OPERATIONS))


def put_body(entry: WhitelistEntry, **changes) -> str:
    return json.dumps(
        {
            "plate": entry.plate,
            "valid_from": entry.valid_from.isoformat(),
            "holder": entry.holder,
            "note": entry.note,
            **changes,
        }
    )


def test_an_entry_answers_its_etag_and_last_modified(hr):
    entry = WhitelistEntryFactory(holder="张三")

    response = hr.get(entry_url(entry))

    assert response.status_code == 200
    etag = response["ETag"]
    assert etag.startswith('"') and etag.endswith('"')  # strong: good for If-Match
    assert response["Last-Modified"] == http_date(entry.updated_at.timestamp())
    assert hr.get(entry_url(entry))["ETag"] == etag  # the same version, the same tag


def test_a_current_copy_is_304_without_a_body_and_a_changed_entry_is_200(hr):
    entry = WhitelistEntryFactory(holder="张三")
    first = hr.get(entry_url(entry))

    same = hr.get(entry_url(entry), HTTP_IF_NONE_MATCH=first["ETag"])
    assert (same.status_code, same.content) == (304, b"")
    assert same["ETag"] == first["ETag"]
    assert same["Last-Modified"] == first["Last-Modified"]
    assert int(same["RateLimit-Remaining"]) >= 0

    hr.patch(entry_url(entry), json.dumps({"holder": "李四"}), content_type=JSON)
    changed = hr.get(entry_url(entry), HTTP_IF_NONE_MATCH=first["ETag"])
    assert changed.status_code == 200
    assert changed.json()["holder"] == "李四"
    assert changed["ETag"] != first["ETag"]


def test_if_modified_since_is_304_until_the_entry_changes(hr):
    entry = WhitelistEntryFactory()
    WhitelistEntry.objects.filter(pk=entry.pk).update(
        updated_at=entry.updated_at - timedelta(hours=1)
    )
    entry.refresh_from_db()
    modified = hr.get(entry_url(entry))["Last-Modified"]

    assert hr.get(entry_url(entry), HTTP_IF_MODIFIED_SINCE=modified).status_code == 304
    earlier = http_date(entry.updated_at.timestamp() - 60)
    assert hr.get(entry_url(entry), HTTP_IF_MODIFIED_SINCE=earlier).status_code == 200
    # If-None-Match decides when both are sent.
    assert (
        hr.get(
            entry_url(entry), HTTP_IF_MODIFIED_SINCE=modified, HTTP_IF_NONE_MATCH='"other"'
        ).status_code
        == 200
    )


def test_a_change_with_the_current_etag_is_made_and_answers_the_new_one(hr):
    entry = WhitelistEntryFactory(holder="张三")
    etag = hr.get(entry_url(entry))["ETag"]

    patched = hr.patch(
        entry_url(entry), json.dumps({"holder": "李四"}), content_type=JSON, HTTP_IF_MATCH=etag
    )

    assert patched.status_code == 200, patched.content
    assert patched["ETag"] != etag
    assert patched["ETag"] == hr.get(entry_url(entry))["ETag"]
    # The new tag is good for the next change.
    put = hr.put(
        entry_url(entry),
        put_body(entry, holder="王五"),
        content_type=JSON,
        HTTP_IF_MATCH=patched["ETag"],
    )
    assert put.status_code == 200, put.content
    entry.refresh_from_db()
    assert entry.holder == "王五"


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_a_change_with_a_stale_etag_is_412_and_writes_nothing(hr, method):
    entry = WhitelistEntryFactory(holder="张三")
    stale = hr.get(entry_url(entry))["ETag"]
    hr.patch(entry_url(entry), json.dumps({"holder": "李四"}), content_type=JSON)
    before = WhitelistEntry.objects.values().get(pk=entry.pk)

    body = (
        json.dumps({"reason": "退租"})
        if method == "delete"
        else put_body(entry, holder="王五")
        if method == "put"
        else json.dumps({"holder": "王五"})
    )
    response = getattr(hr, method)(entry_url(entry), body, content_type=JSON, HTTP_IF_MATCH=stale)

    assert response.status_code == 412, response.content
    assert response["Content-Type"] == "application/json"
    assert "detail" in response.json()
    assert WhitelistEntry.objects.values().get(pk=entry.pk) == before
    assert entry.history.count() == 2  # added, changed once: not by the refused request


def test_an_added_entry_answers_its_etag_good_for_a_change(hr):
    added = hr.post(LIST, json.dumps({"plate": "川A660P1"}), content_type=JSON)
    assert added.status_code == 201, added.content
    url = f"{LIST}{added.json()['id']}/"

    assert added["ETag"] == hr.get(url)["ETag"]
    changed = hr.patch(
        url, json.dumps({"holder": "张三"}), content_type=JSON, HTTP_IF_MATCH=added["ETag"]
    )
    assert changed.status_code == 200, changed.content


def test_a_bulk_upserts_change_is_a_new_version(hr):
    entry = WhitelistEntryFactory(holder="张三")
    etag = hr.get(entry_url(entry))["ETag"]

    bulk = hr.post(
        f"{LIST}bulk/",
        json.dumps({"entries": [{"id": entry.pk, "holder": "李四"}]}),
        content_type=JSON,
    )
    assert bulk.json()["updated"] == 1, bulk.content

    assert hr.get(entry_url(entry), HTTP_IF_NONE_MATCH=etag).status_code == 200
    stale = hr.patch(
        entry_url(entry), json.dumps({"holder": "王五"}), content_type=JSON, HTTP_IF_MATCH=etag
    )
    assert stale.status_code == 412


def test_a_delete_with_the_current_etag_deletes(hr):
    entry = WhitelistEntryFactory()
    etag = hr.get(entry_url(entry))["ETag"]

    response = hr.delete(
        entry_url(entry), json.dumps({"reason": "退租"}), content_type=JSON, HTTP_IF_MATCH=etag
    )

    assert response.status_code == 204
    assert not WhitelistEntry.objects.filter(pk=entry.pk).exists()


def test_without_if_match_a_change_is_made_as_before(hr):
    entry = WhitelistEntryFactory(holder="张三")

    response = hr.patch(entry_url(entry), json.dumps({"holder": "李四"}), content_type=JSON)

    assert response.status_code == 200
    assert response.json()["holder"] == "李四"


def test_if_match_star_weak_tags_and_lists(hr):
    entry = WhitelistEntryFactory(holder="张三")
    etag = hr.get(entry_url(entry))["ETag"]

    def patch(if_match: str, holder: str) -> int:
        return hr.patch(
            entry_url(entry),
            json.dumps({"holder": holder}),
            content_type=JSON,
            HTTP_IF_MATCH=if_match,
        ).status_code

    # A weak tag never matches for a change (RFC 9110: strong comparison), even our own.
    assert patch(f"W/{etag}", "a") == 412
    assert patch('"other", "another"', "a") == 412
    assert patch(f'"other", {etag}', "b") == 200  # one of the list matches
    assert patch("*", "c") == 200  # the entry exists
    entry.refresh_from_db()
    assert entry.holder == "c"
    # If-None-Match on a change: "*" means "only if it does not exist", and it does.
    assert (
        hr.patch(
            entry_url(entry), json.dumps({"holder": "d"}), content_type=JSON, HTTP_IF_NONE_MATCH="*"
        ).status_code
        == 412
    )


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_conditional_headers_are_never_a_500(hr, value):
    entry = WhitelistEntryFactory(holder="张三")
    url = entry_url(entry)

    read = [
        hr.get(url, **{header: value}).status_code
        for header in (
            "HTTP_IF_NONE_MATCH",
            "HTTP_IF_MODIFIED_SINCE",
            "HTTP_IF_MATCH",
            "HTTP_IF_UNMODIFIED_SINCE",
        )
    ]
    listed = hr.get(LIST, HTTP_IF_NONE_MATCH=value, HTTP_IF_MATCH=value).status_code
    changed = hr.patch(url, json.dumps({"holder": "李四"}), content_type=JSON, HTTP_IF_MATCH=value)

    assert set(read) <= {200, 304, 412}
    assert listed in {200, 304, 412}
    # An If-Match naming no version of this entry never writes it.
    assert changed.status_code == 412, changed.content
    assert changed.json()["detail"]
    entry.refresh_from_db()
    assert entry.holder == "张三"


def test_a_get_whose_if_match_fails_is_a_json_412(hr):
    entry = WhitelistEntryFactory()

    response = hr.get(entry_url(entry), HTTP_IF_MATCH='"other"')
    listed = hr.get(LIST, HTTP_IF_MATCH='"other"')

    assert response.status_code == listed.status_code == 412
    assert response.json()["detail"] and listed.json()["detail"]


def test_the_list_answers_a_weak_etag_of_its_page(hr):
    WhitelistEntryFactory(plate="川A660P1")
    first = hr.get(LIST)
    etag = first["ETag"]
    assert etag.startswith('W/"')

    same = hr.get(LIST, HTTP_IF_NONE_MATCH=etag)
    assert (same.status_code, same.content, same["ETag"]) == (304, b"", etag)
    assert "Accept" in same["Vary"]
    # Another page, another tag; a new entry, another tag.
    assert hr.get(LIST, {"ordering": "-id"}, HTTP_IF_NONE_MATCH=etag).status_code in {200, 304}
    WhitelistEntryFactory(plate="粤B12345")
    changed = hr.get(LIST, HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200
    assert len(changed.json()["results"]) == 2
    # Files have no tag.
    assert not hr.get(LIST, {"format": "csv"}).has_header("ETag")


def test_an_unknown_entry_is_404_whatever_the_preconditions(hr):
    for header in ("HTTP_IF_MATCH", "HTTP_IF_NONE_MATCH"):
        assert hr.get(f"{LIST}999999/", **{header: "*"}).status_code == 404
        assert (
            hr.patch(f"{LIST}999999/", "{}", content_type=JSON, **{header: "*"}).status_code == 404
        )


# --- Two changes at the same instant -----------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_changes_with_the_same_if_match_at_once_one_wins_the_other_is_412(live_server):
    from parkingops import api_keys

    user = make_user(OPERATIONS)
    key = api_keys.create_api_key(user=user, name="HR system").key
    entry = WhitelistEntryFactory(holder="张三")
    etag = key_client(user).get(entry_url(entry))["ETag"]

    def change(holder: str) -> urllib.request.Request:
        return urllib.request.Request(  # noqa: S310 (the live server's own http URL)
            live_server.url + entry_url(entry),
            data=json.dumps({"holder": holder}).encode(),
            headers={
                "Content-Type": JSON,
                "Authorization": f"Api-Key {key}",
                "If-Match": etag,
                "Accept-Language": "en",
            },
            method="PATCH",
        )

    for attempt in range(3):
        answers = all_at_once([change("李四"), change("王五")])
        assert sorted(answer.status for answer in answers) == [200, 412], [
            answer.body for answer in answers
        ]
        [winner] = [answer for answer in answers if answer.status == 200]
        [loser] = [answer for answer in answers if answer.status == 412]
        assert loser.json()["detail"]
        entry.refresh_from_db()
        assert entry.holder == winner.json()["holder"]
        assert winner.headers["ETag"] != etag
        assert entry.history.count() == 2 + attempt  # one change per round, never two
        etag = winner.headers["ETag"]


def test_options_of_an_entry_describes_it_whatever_the_preconditions(hr):
    entry = WhitelistEntryFactory()

    for headers in ({}, {"HTTP_IF_MATCH": '"other"'}, {"HTTP_IF_MATCH": "garbage"}):
        response = hr.options(entry_url(entry), **headers)
        assert response.status_code == 200, response.content
        assert "PUT" in response.json()["actions"]
