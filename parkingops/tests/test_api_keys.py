"""API keys: made and shown once, stored as a hash, checked, revoked, throttled, managed in the
admin."""

import hashlib
import json
import re
import urllib.request
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission, User
from django.contrib.messages import get_messages
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from parkingops import api_keys
from parkingops.models import ApiKey

ORDERS = "/api/v1/orders/"
ADMIN = "/admin/parkingops/apikey/"


@pytest.fixture
def reader(db) -> User:
    user = User.objects.create_user("bi", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_payorder"))
    return user


@pytest.fixture
def superuser(db) -> User:
    return User.objects.create_superuser("root", "root@example.com", "x")


@pytest.fixture(autouse=True)
def empty_throttle_counts():
    """Throttle counts live in the cache, which outlives a test's database."""
    cache.clear()
    yield
    cache.clear()


def with_key(key: str) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Api-Key {key}")


# --- The keys themselves ---------------------------------------------------------------------


def test_a_new_key_is_long_random_and_only_its_hash_is_stored(reader):
    new = api_keys.create_api_key(user=reader, name="BI")
    other = api_keys.create_api_key(user=reader, name="BI")

    assert re.fullmatch(r"[A-Za-z0-9_-]{8}\.[A-Za-z0-9_-]{43}", new.key)
    assert new.key != other.key
    row = ApiKey.objects.values().get(pk=new.api_key.pk)
    assert row["key_hash"] == hashlib.sha256(new.key.encode()).hexdigest()
    assert row["prefix"] == new.key.split(".")[0]
    secret = new.key.split(".")[1]
    assert not any(secret in str(value) for value in row.values())


def test_a_key_authenticates_as_its_user_and_records_its_last_use(reader):
    new = api_keys.create_api_key(user=reader, name="BI")
    assert new.api_key.last_used_at is None

    assert with_key(new.key).get(ORDERS).status_code == 200

    new.api_key.refresh_from_db()
    assert new.api_key.last_used_at is not None
    assert api_keys.find_api_key(new.key).user == reader


def test_last_use_is_written_at_most_once_a_minute(reader):
    new = api_keys.create_api_key(user=reader, name="BI")
    moment = timezone.now()

    api_keys.record_use(api_key=new.api_key, at=moment)
    api_keys.record_use(api_key=new.api_key, at=moment + timedelta(seconds=30))
    new.api_key.refresh_from_db()
    assert new.api_key.last_used_at == moment

    api_keys.record_use(api_key=new.api_key, at=moment + timedelta(minutes=2))
    new.api_key.refresh_from_db()
    assert new.api_key.last_used_at == moment + timedelta(minutes=2)


def test_a_revoked_key_is_refused_and_stays_listed(reader):
    new = api_keys.create_api_key(user=reader, name="BI")

    assert api_keys.revoke_api_keys(keys=ApiKey.objects.all()) == 1
    assert api_keys.revoke_api_keys(keys=ApiKey.objects.all()) == 0  # already revoked

    response = with_key(new.key).get(ORDERS)
    assert response.status_code == 401
    assert ApiKey.objects.get().is_revoked


def test_a_key_of_an_inactive_user_is_refused(reader):
    new = api_keys.create_api_key(user=reader, name="BI")
    reader.is_active = False
    reader.save()

    assert with_key(new.key).get(ORDERS).status_code == 401


@pytest.mark.parametrize(
    "header",
    ["Api-Key", "Api-Key a b", "Api-Key short.key", "Api-Key \x00\x00\x00\x00.x", "Bearer xyz"],
)
def test_malformed_or_foreign_authorization_headers_are_refused(reader, header):
    response = Client(HTTP_AUTHORIZATION=header).get(ORDERS)

    assert response.status_code == 401


# --- X-Api-Key: the same keys as a plain header ------------------------------------------------


def test_the_x_api_key_header_authenticates_like_the_authorization_header(reader, live_server):
    """Over real HTTP, as a generated client sends it."""
    new = api_keys.create_api_key(user=reader, name="BI")
    request = urllib.request.Request(  # noqa: S310 (our own server over http)
        live_server.url + ORDERS, headers={"X-Api-Key": new.key}
    )

    with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310 (our own server)
        assert answer.status == 200
        assert json.load(answer)["results"] == []
    new.api_key.refresh_from_db()
    assert new.api_key.last_used_at is not None


@pytest.mark.parametrize(
    "value",
    [
        "",
        "   ",
        "short.key",
        "Api-Key x",
        "\x00" * 52,
        "é" * 52,
        "a" * 10_000,
        "AbCd1234." + "x" * 43,
    ],
)
def test_a_wrong_or_malformed_x_api_key_is_refused(reader, value):
    response = Client(HTTP_X_API_KEY=value).get(ORDERS)

    assert response.status_code == 401
    assert response.json()["detail"]


def test_x_api_key_of_a_revoked_key_or_an_inactive_user_is_refused(reader):
    new = api_keys.create_api_key(user=reader, name="BI")
    client = Client(HTTP_X_API_KEY=new.key)
    assert client.get(ORDERS).status_code == 200

    reader.is_active = False
    reader.save()
    assert client.get(ORDERS).status_code == 401
    reader.is_active = True
    reader.save()
    api_keys.revoke_api_keys(keys=ApiKey.objects.all())
    assert client.get(ORDERS).status_code == 401


def test_x_api_key_acts_with_its_users_permissions_and_a_wrong_authorization_still_fails(db):
    nobody = User.objects.create_user("nobody", is_staff=True)
    key = api_keys.create_api_key(user=nobody, name="x").key

    assert Client(HTTP_X_API_KEY=key).get(ORDERS).status_code == 403
    # With both headers Authorization decides: a wrong key there is refused, whatever X-Api-Key.
    both = Client(HTTP_AUTHORIZATION="Api-Key AbCd1234." + "x" * 43, HTTP_X_API_KEY=key)
    assert both.get(ORDERS).status_code == 401


def test_the_key_acts_with_its_users_permissions_only(db):
    nobody = User.objects.create_user("nobody", is_staff=True)
    key = api_keys.create_api_key(user=nobody, name="x").key

    assert with_key(key).get(ORDERS).status_code == 403


# --- Throttle --------------------------------------------------------------------------------


def test_each_key_is_throttled_on_its_own(reader, settings):
    settings.API_THROTTLE_RATE = "3/min"
    first = with_key(api_keys.create_api_key(user=reader, name="a").key)
    second = with_key(api_keys.create_api_key(user=reader, name="b").key)

    answers = [first.get(ORDERS).status_code for _ in range(4)]

    assert answers == [200, 200, 200, 429]
    assert second.get(ORDERS).status_code == 200
    throttled = first.get(ORDERS)
    assert int(throttled["Retry-After"]) > 0


def test_every_answer_says_how_many_requests_are_left(reader, settings):
    settings.API_THROTTLE_RATE = "3/min"
    client = with_key(api_keys.create_api_key(user=reader, name="a").key)

    answers = [
        client.get(ORDERS),
        client.get(f"{ORDERS}no-such-order/"),  # a 404 is counted too
        client.get(ORDERS, {"page_size": "0"}),  # and a 400
        client.get(ORDERS),
    ]

    assert [answer.status_code for answer in answers] == [200, 404, 400, 429]
    assert {answer["RateLimit-Limit"] for answer in answers} == {"3"}
    assert [answer["RateLimit-Remaining"] for answer in answers] == ["2", "1", "0", "0"]
    assert all(0 < int(answer["RateLimit-Reset"]) <= 60 for answer in answers)
    # Over the limit: Retry-After says when the next request is let through, as Reset does.
    assert answers[-1]["Retry-After"] == answers[-1]["RateLimit-Reset"]
    assert answers[-1].json()["detail"]


def test_a_current_copy_and_a_file_are_counted_and_say_so(reader, settings):
    reader.user_permissions.add(Permission.objects.get(codename="export_orders"))
    client = with_key(api_keys.create_api_key(user=reader, name="a").key)

    first = client.get(ORDERS)
    not_modified = client.get(ORDERS, HTTP_IF_NONE_MATCH=first["ETag"])
    csv = client.get(ORDERS + "export/", {"format": "csv"})

    assert [first.status_code, not_modified.status_code, csv.status_code] == [200, 304, 200]
    assert [int(answer["RateLimit-Remaining"]) for answer in (first, not_modified, csv)] == [
        599,
        598,
        597,
    ]


def test_a_staff_session_is_counted_and_an_answer_without_a_key_is_not(reader, settings):
    settings.API_THROTTLE_RATE = "5/hour"
    staff = Client()
    staff.force_login(reader)

    counted = staff.get(ORDERS)
    anonymous = Client().get(ORDERS)

    assert (counted["RateLimit-Limit"], counted["RateLimit-Remaining"]) == ("5", "4")
    assert 3500 < int(counted["RateLimit-Reset"]) <= 3600
    assert anonymous.status_code == 401
    assert not anonymous.has_header("RateLimit-Remaining")


def test_the_platforms_push_is_never_throttled(db, settings, post):
    settings.API_THROTTLE_RATE = "1/min"

    answers = [post("not json", "application/json") for _ in range(3)]

    # bad_body each time, never 429, and no rate limit to tell of
    assert [answer.status_code for answer in answers] == [400, 400, 400]
    assert not any(answer.has_header("RateLimit-Remaining") for answer in answers)


# --- Admin -----------------------------------------------------------------------------------


def test_admin_creates_a_key_and_shows_it_once(superuser, reader):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(superuser)

    response = client.post(f"{ADMIN}add/", {"user": reader.pk, "name": "HR system"}, follow=True)

    assert response.status_code == 200
    api_key = ApiKey.objects.get()
    assert (api_key.user, api_key.name) == (reader, "HR system")
    html = response.content.decode()
    [key] = re.findall(r'<code class="api-key"[^>]*>([^<]+)</code>', html)
    assert hashlib.sha256(key.encode()).hexdigest() == api_key.key_hash
    assert with_key(key).get(ORDERS).status_code == 200
    # Never again: not on the list, not on the key's page.
    again = (
        client.get(ADMIN).content.decode()
        + client.get(f"{ADMIN}{api_key.pk}/change/").content.decode()
    )
    assert key not in again
    assert key.split(".")[1] not in again


def test_admin_lists_last_use_and_revokes(superuser, reader):
    new = api_keys.create_api_key(user=reader, name="BI")
    with_key(new.key).get(ORDERS)
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(superuser)

    listing = client.get(ADMIN).content.decode()
    response = client.post(
        ADMIN, {"action": "revoke", "_selected_action": [new.api_key.pk]}, follow=True
    )

    assert "Active" in listing and new.api_key.prefix in listing
    assert [str(m) for m in get_messages(response.wsgi_request)] == ["Revoked 1 key."]
    assert ApiKey.objects.get().is_revoked
    assert with_key(new.key).get(ORDERS).status_code == 401


def test_a_staff_member_who_is_not_superuser_makes_keys_only_for_themself(reader, superuser):
    for codename in ("add_apikey", "view_apikey"):
        reader.user_permissions.add(Permission.objects.get(codename=codename))
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(reader)

    refused = client.post(f"{ADMIN}add/", {"user": superuser.pk, "name": "escalate"})
    accepted = client.post(f"{ADMIN}add/", {"user": reader.pk, "name": "mine"})

    assert refused.status_code == 200  # the form again, with the error
    assert accepted.status_code == 302
    assert list(ApiKey.objects.values_list("user__username", flat=True)) == ["bi"]
