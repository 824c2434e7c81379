"""The integration API's errors are JSON: an unreachable database or cache (503), an unknown
address (404), a body too large (413), whatever step of the request meets them."""

import json
import time

import pytest
from django.contrib.auth.models import User
from django.db import OperationalError
from django.test import Client
from rest_framework.request import Request

from parkingops import api_keys
from parkingops.api_errors import (
    RETRY_AFTER_SECONDS,
    ErrorCode,
    exception_handler,
    flatten_fields,
    server_error,
)
from parkingops.env import env_cache
from parkingops.tests.database import closed_port, database_url, default_database, silent_server

ORDERS = "/api/v1/orders/"
WHITELIST = "/api/v1/whitelist/"

UNREACHABLE = {
    "sqlite: a file that cannot be opened": lambda: database_url(
        "sqlite:////nonexistent-directory/parkingops.sqlite3"
    ),
    "postgresql: nothing listens": lambda: database_url(
        f"postgres://parkingops@127.0.0.1:{closed_port()}/parkingops"
    ),
}


@pytest.fixture
def superuser(db) -> User:
    return User.objects.create_superuser("bi", "bi@example.com", "x")


@pytest.fixture
def key(superuser) -> str:
    return api_keys.create_api_key(user=superuser, name="BI").key


def assert_unavailable(response) -> None:
    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    assert response["Retry-After"] == str(RETRY_AFTER_SECONDS)
    # Chinese by default, as every API message.
    assert response.json() == {
        "code": "unavailable",
        "detail": "数据库暂时不可用，请稍后重试。",
        "fields": {},
    }


@pytest.mark.parametrize("database", UNREACHABLE.values(), ids=UNREACHABLE.keys())
@pytest.mark.parametrize(
    "method, path, body",
    [
        ("get", ORDERS, None),
        ("get", "/api/v1/summary/daily/", None),
        ("get", WHITELIST, None),
        ("post", WHITELIST, {"plate": "川A660P1"}),
        ("post", WHITELIST + "bulk/", {"entries": [{"plate": "川A660P1"}]}),
    ],
)
def test_an_unreachable_database_is_a_json_503_from_the_key_lookup_onwards(
    key, database, method, path, body
):
    client = Client(HTTP_AUTHORIZATION=f"Api-Key {key}")
    with default_database(database()):
        if body is None:
            response = client.get(path)
        else:
            response = client.post(path, json.dumps(body), content_type="application/json")

    assert_unavailable(response)


@pytest.mark.parametrize("database", UNREACHABLE.values(), ids=UNREACHABLE.keys())
def test_an_unreachable_database_is_a_json_503_for_a_staff_session_too(superuser, database):
    client = Client()
    client.force_login(superuser)
    with default_database(database()):
        response = client.get(ORDERS)

    assert_unavailable(response)


def test_an_unreachable_cache_of_the_rate_limit_is_a_json_503(key, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{closed_port()}/0",
        }
    }

    response = Client(HTTP_AUTHORIZATION=f"Api-Key {key}").get(ORDERS)

    assert_unavailable(response)


def test_a_cache_that_never_answers_is_a_json_503_within_seconds(key, settings, monkeypatch):
    with silent_server() as port:
        monkeypatch.setenv("HANGING_CACHE_URL", f"redis://127.0.0.1:{port}/0")
        settings.CACHES = {"default": env_cache("HANGING_CACHE_URL", "", timeout=1)}
        started = time.monotonic()
        response = Client(HTTP_AUTHORIZATION=f"Api-Key {key}").get(ORDERS)
        elapsed = time.monotonic() - started

    assert_unavailable(response)
    assert elapsed < 4


@pytest.mark.parametrize("method", ["get", "put", "delete"])
@pytest.mark.parametrize(
    "path", ["/api/v1/nothing/", "/api/v1/whitelist/-1/", "/api/v1/whitelist/%0AK/", "/api/"]
)
def test_an_unknown_api_address_is_a_json_404(key, method, path):
    response = getattr(Client(HTTP_AUTHORIZATION=f"Api-Key {key}"), method)(path)

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"code": "not_found", "detail": "API 中没有此地址。", "fields": {}}


def test_an_api_address_without_its_slash_still_redirects(key):
    response = Client(HTTP_AUTHORIZATION=f"Api-Key {key}").get("/api/v1/orders")

    assert response.status_code == 301
    assert response["Location"] == ORDERS


def test_a_body_over_the_upload_limit_is_a_json_413(key, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = json.dumps({"plate": "川A660P1", "note": "x" * 2000})

    response = Client(HTTP_AUTHORIZATION=f"Api-Key {key}").post(
        WHITELIST, body, content_type="application/json"
    )

    assert response.status_code == 413
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"code": "too_large", "detail": "请求正文过大。", "fields": {}}


def test_more_parameters_than_django_reads_is_a_json_400(key, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 10
    query = "&".join(f"p{number}=1" for number in range(20))

    response = Client(HTTP_AUTHORIZATION=f"Api-Key {key}").get(f"{ORDERS}?{query}")

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json()["code"] == "invalid"
    assert response.json()["fields"] == {}


def test_nested_errors_are_flattened_to_dotted_names():
    errors = {
        "entries": {"3": {"plate": ["bad"], "non_field_errors": ["taken"]}, "5": ["not an object"]},
        "reason": ["needed"],
        "items": [{}, {"id": ["unknown"]}],
    }

    assert flatten_fields(errors) == {
        "entries.3.plate": ["bad"],
        "entries.3.non_field_errors": ["taken"],
        "entries.5": ["not an object"],
        "reason": ["needed"],
        "items.1.id": ["unknown"],
    }


def test_the_push_keeps_its_own_answers_when_an_error_reaches_the_handlers(rf):
    request = Request(rf.post("/api/v1/push/pay-orders/"))

    unavailable = exception_handler(OperationalError("down"), {"request": request, "view": None})
    broken = server_error(rf.post("/api/v1/push/pay-orders/"))

    assert unavailable.status_code == 503
    assert set(unavailable.data) == {"detail"}
    assert not unavailable.has_header("Retry-After")
    assert broken.status_code == 500
    assert set(json.loads(broken.content)) == {"detail"}


def test_every_error_code_has_its_own_status():
    statuses = [code.status for code in ErrorCode]

    assert len(set(statuses)) == len(statuses)
    assert all(ErrorCode.of(code.status) is code for code in ErrorCode)
