"""Every endpoint of the integration API answers errors in one shape and reads its input
strictly: an unknown parameter, body field, park or a cursor of other filters is a 400 naming
it, a method the endpoint lacks a 405, a missing object a translated 404.

The endpoints are listed from the URLconf, so a new one is covered without a line here.
"""

import json
import re

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from orders.tests.factories import PayOrderFactory
from parkingops import api_keys
from parkingops.api_params import StrictParamsMixin
from whitelist.models import WhitelistEntry
from whitelist.tests.factories import ParkFactory, WhitelistEntryFactory

SHAPE = {"code", "detail", "fields"}
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def _routes(patterns, prefix=""):
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from _routes(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern) and hasattr(pattern.callback, "cls"):
            yield route, pattern.callback.cls


def integration_endpoints() -> list[tuple[str, type]]:
    """Return (path, view class) of every integration API endpoint in the URLconf: under
    ``/api/v1/``, not the platform's push; path parameters filled with values no row has."""
    endpoints = []
    for route, view in _routes(get_resolver().url_patterns):
        if not route.startswith("api/v1/") or re.match(r"api/v1/\^?push/", route):
            continue
        path = re.sub(r"<int:\w+>", "987654", route)
        path = re.sub(r"<(?:str:)?\w+>", "no-such-thing", path)
        endpoints.append(("/" + path, view))
    return endpoints


ENDPOINTS = integration_endpoints()
IDS = [path for path, _view in ENDPOINTS]


def methods_of(view: type) -> list[str]:
    return [method for method in METHODS if hasattr(view, method.lower())]


def client_for(user: User, language: str = "zh-hans") -> Client:
    key = api_keys.create_api_key(user=user, name="strict").key
    return Client(HTTP_AUTHORIZATION=f"Api-Key {key}", HTTP_ACCEPT_LANGUAGE=language)


@pytest.fixture
def superuser(db) -> User:
    return User.objects.create_superuser("strict", "strict@example.com", "x")


@pytest.fixture
def api(superuser) -> Client:
    return client_for(superuser)


@pytest.fixture
def api_en(superuser) -> Client:
    return client_for(superuser, "en")


def call(client: Client, method: str, path: str, body=None):
    data = json.dumps(body if body is not None else {})
    if method == "GET":
        return client.get(path)
    return getattr(client, method.lower())(path, data, content_type="application/json")


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert set(body) == SHAPE
    assert body["code"] == code
    assert isinstance(body["detail"], str) and body["detail"]
    assert all(
        isinstance(messages, list) and all(isinstance(m, str) for m in messages)
        for messages in body["fields"].values()
    )
    return body


def test_the_urlconf_lists_every_integration_endpoint():
    paths = {path for path, _view in ENDPOINTS}

    assert {"/api/v1/orders/", "/api/v1/whitelist/bulk/", "/api/v1/push-outcomes/"} <= paths
    assert not any(path.startswith("/api/v1/push/") for path in paths)
    # One helper for all: the strict query string is not written view by view.
    assert all(issubclass(view, StrictParamsMixin) for _path, view in ENDPOINTS)


@pytest.mark.parametrize("path, view", ENDPOINTS, ids=IDS)
def test_an_unknown_query_parameter_is_a_400_naming_it_for_every_method(api, path, view):
    for method in methods_of(view):
        response = call(api, method, f"{path}?foo=1")

        body = assert_error(response, 400, "invalid")
        assert list(body["fields"]) == ["foo"], method
    assert not WhitelistEntry.objects.exists()


@pytest.mark.parametrize(
    "query",
    [
        "%00=1",
        "x" * 10_000 + "=1",
        "%FF%FE=1",
        "%E5%90%8D%E5%AD%97=%00",
        "a%5Bb%5D=1&a%5Bb%5D=2",
        "foo",
    ],
    ids=["nul", "10k-name", "not-utf8", "chinese", "brackets", "no-value"],
)
@pytest.mark.parametrize("path, view", ENDPOINTS, ids=IDS)
def test_hostile_parameter_names_are_a_400_never_a_500(api, path, view, query):
    response = call(api, methods_of(view)[0], f"{path}?{query}")

    body = assert_error(response, 400, "invalid")
    assert len(body["fields"]) == 1


@pytest.mark.parametrize("path, view", ENDPOINTS, ids=IDS)
def test_a_method_the_endpoint_lacks_is_a_json_405(api, path, view):
    lacking = [method for method in METHODS if method not in methods_of(view)]

    for method in lacking:
        response = call(api, method, f"{path}?foo=1")

        assert_error(response, 405, "method_not_allowed")
        assert method not in response["Allow"]
        assert response.json()["fields"] == {}


def test_known_parameters_come_from_the_filterset_paging_and_format(api):
    response = api.get("/api/v1/orders/", {"pay_time_from": "2030-01-01", "format": "json"})

    body = assert_error(response, 400, "invalid")
    assert list(body["fields"]) == ["pay_time_from"]
    [message] = body["fields"]["pay_time_from"]
    for name in ("pay_time_after", "pay_time_before", "cursor", "page_size", "ordering", "format"):
        assert name in message
    assert api.get("/api/v1/orders/", {"pay_time_after": "2030-01-01"}).status_code == 200


def test_an_unknown_format_is_a_400_naming_format(api):
    body = assert_error(api.get("/api/v1/push-outcomes/", {"format": "csv"}), 400, "invalid")

    assert list(body["fields"]) == ["format"]


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/orders/",
        "/api/v1/stays/",
        "/api/v1/renewals/",
        "/api/v1/coupons/",
        "/api/v1/coupons/totals/",
        "/api/v1/summary/daily/",
        "/api/v1/whitelist/",
    ],
)
@pytest.mark.parametrize("park", ["no-such-park", "p\x00", "p" * 10_000])
def test_an_unknown_park_is_a_400_naming_park(api, path, park):
    ParkFactory(park_uuid="p-1")

    body = assert_error(api.get(path, {"park": park}), 400, "invalid")

    assert list(body["fields"]) == ["park"]
    assert api.get(path, {"park": "p-1"}).status_code == 200


def test_the_whitelist_knows_the_parks_its_entries_name(api):
    WhitelistEntryFactory(park_uuid="not-pushed-yet")

    assert api.get("/api/v1/whitelist/", {"park": "not-pushed-yet"}).status_code == 200
    assert api.get("/api/v1/whitelist/", {"park": "-"}).status_code == 200


def test_a_cursor_of_other_filters_is_a_400_naming_cursor(api):
    park = ParkFactory(park_uuid="p-1")
    for _ in range(3):
        PayOrderFactory(park=park, plate="川A660P1")
    first = api.get("/api/v1/orders/", {"park": "p-1", "page_size": 1}).json()
    cursor = re.search(r"cursor=([^&]+)", first["next"]).group(1)

    other = api.get(f"/api/v1/orders/?cursor={cursor}&page_size=1&plate=川A660P1")
    without = api.get(f"/api/v1/orders/?cursor={cursor}&page_size=1")
    same = api.get(f"/api/v1/orders/?cursor={cursor}&page_size=2&park=p-1")

    for response in (other, without):
        body = assert_error(response, 400, "invalid")
        assert list(body["fields"]) == ["cursor"]
    assert same.status_code == 200  # the page size may change from page to page
    assert len(same.json()["results"]) == 2


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH"])
def test_an_unknown_body_field_of_an_entry_is_a_400_naming_it(api, method):
    entry = WhitelistEntryFactory(plate="川A00001")
    path = "/api/v1/whitelist/" if method == "POST" else f"/api/v1/whitelist/{entry.pk}/"
    body = {"plate": "川A660P1", "valid_from": "2026-01-01T00:00:00+08:00"}

    response = call(api, method, path, {**body, "valid_untill": "2027-01-01T00:00:00+08:00"})

    errors = assert_error(response, 400, "invalid")
    assert list(errors["fields"]) == ["valid_untill"]
    assert "valid_until" in errors["fields"]["valid_untill"][0]
    assert list(WhitelistEntry.objects.values_list("plate", flat=True)) == ["川A00001"]


def test_an_entry_read_and_sent_back_with_its_read_only_fields_is_accepted(api):
    entry = WhitelistEntryFactory(plate="川A00001", holder="旧")
    read = api.get(f"/api/v1/whitelist/{entry.pk}/").json()

    response = call(api, "PUT", f"/api/v1/whitelist/{entry.pk}/", {**read, "holder": "新"})

    assert response.status_code == 200, response.content
    entry.refresh_from_db()
    assert entry.holder == "新"


def test_bulk_row_errors_are_fields_named_by_row_from_one(api):
    rows = [
        {"plate": "川A660P1", "valid_from": "2026-01-01T00:00:00+08:00"},
        {"plate": "川A660P2", "valid_from": "2026-01-01T00:00:00+08:00", "valid_untill": "x"},
        "not an object",
    ]

    response = call(api, "POST", "/api/v1/whitelist/bulk/", {"entries": rows})
    envelope = call(api, "POST", "/api/v1/whitelist/bulk/", {"entries": rows[:1], "entires": []})

    body = assert_error(response, 400, "invalid")
    assert list(body["fields"]) == ["entries.3"]  # the envelope is checked first
    body = assert_error(envelope, 400, "invalid")
    assert list(body["fields"]) == ["entires"]
    response = call(api, "POST", "/api/v1/whitelist/bulk/", {"entries": rows[:2]})
    body = assert_error(response, 400, "invalid")
    assert list(body["fields"]) == ["entries.2.valid_untill"]
    assert not WhitelistEntry.objects.exists()


@pytest.mark.parametrize(
    "language, order, entry, unknown",
    [
        ("zh-hans", "没有这条订单。", "没有这条白名单条目。", "此调用没有这个参数"),
        ("en", "No such order.", "No such whitelist entry.", "Not a parameter of this call"),
    ],
)
def test_messages_follow_the_language(superuser, language, order, entry, unknown):
    api = client_for(superuser, language)

    missing_order = assert_error(api.get("/api/v1/orders/nope/"), 404, "not_found")
    missing_entry = assert_error(api.get("/api/v1/whitelist/987654/"), 404, "not_found")
    refused = assert_error(api.get("/api/v1/orders/", {"foo": "1"}), 400, "invalid")

    assert missing_order == {"code": "not_found", "detail": order, "fields": {}}
    assert missing_entry == {"code": "not_found", "detail": entry, "fields": {}}
    assert refused["fields"]["foo"][0].startswith(unknown)
    assert "foo" in refused["detail"]


def test_401_403_and_429_are_in_the_shape(superuser, settings):
    settings.API_THROTTLE_RATE = "1/min"
    reader = client_for(User.objects.create_user("reader"))
    api = client_for(superuser)

    assert_error(Client().get("/api/v1/orders/"), 401, "authentication_failed")
    assert_error(
        Client(HTTP_AUTHORIZATION="Api-Key nope.nope").get("/api/v1/orders/"),
        401,
        "authentication_failed",
    )
    assert_error(reader.get("/api/v1/orders/"), 403, "permission_denied")
    assert api.get("/api/v1/orders/").status_code == 200
    throttled = assert_error(api.get("/api/v1/orders/"), 429, "throttled")
    assert throttled["fields"] == {}


def test_a_json_parse_error_has_no_fields_and_says_why(api):
    response = api.post("/api/v1/whitelist/", "{", content_type="application/json")

    body = assert_error(response, 400, "invalid")
    assert body["fields"] == {}
    assert "JSON" in body["detail"]


def test_406_and_415_are_in_the_shape(api):
    assert_error(api.get("/api/v1/orders/", HTTP_ACCEPT="image/png"), 406, "not_acceptable")
    assert_error(
        api.post("/api/v1/whitelist/", "plate=1", content_type="text/plain"),
        415,
        "unsupported_media_type",
    )
