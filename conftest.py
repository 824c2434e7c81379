"""Fixtures shared by every app's tests: signed pushes, whitelist entries, a push client."""

import itertools
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.contrib.auth.models import Permission, User
from django.test import Client

from orders.demo import simulator
from parkingops.pcloud import signing

PUSH_URL = "/api/v1/push/pay-orders/"
# One discount and one merchant coupon as the platform sends them (every value a string).
SAMPLE_DISCOUNT = {
    "type": "1",
    "token": "tk-01",
    "openid": "o-abc",
    "mobile": "13800138000",
    "relief_amount": "1",
    "relief_value": "500",
}
SAMPLE_COUPON = {
    "coupon_name": "10元停车券",
    "coupon_code": "0x01",
    "store_name": "肯德基",
    "store_code": "0x02",
    "coupon_type": "1",
    "coupon_value": "1000",
    "grant_time": "1618994000000",
    "grant_serial": "G-0001",
}
FORM = "application/x-www-form-urlencoded"
JSON = "application/json"


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Start every test with an empty cache: throttle counts must not leak between tests."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _default_language():
    """Start every test in the default language: a request in English (LocaleMiddleware)
    leaves English active in the thread, and a command's output would follow it."""
    from django.utils import translation

    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture
def secret() -> str:
    return settings.PLATFORM_APP_SECRET[0]


@pytest.fixture
def app_id() -> str:
    return settings.PLATFORM_APP_ID


@pytest.fixture
def whitelisted(db):
    """Whitelist a plate for all parks from 2020 on; return the entry factory for more."""
    from whitelist.tests.factories import WhitelistEntryFactory

    WhitelistEntryFactory(plate="川A660P1", valid_from=datetime(2020, 1, 1, tzinfo=UTC))
    return WhitelistEntryFactory


@pytest.fixture
def push(client, app_id, secret):
    """POST a signed push; keyword arguments change its fields, ``as_json``/``header_sign``."""

    def send(*, as_json: bool = False, header_sign: bool = False, **fields: Any):
        params = simulator.build_push(app_id=app_id, **fields)
        encoded = simulator.encode_push(
            params, secret=secret, as_json=as_json, header_sign=header_sign
        )
        headers = {f"HTTP_{k.upper()}": v for k, v in encoded.headers.items()}
        response = client.post(PUSH_URL, encoded.body, content_type=encoded.content_type, **headers)
        return response

    return send


@pytest.fixture
def post(client):
    """POST raw bytes (or text, sent as UTF-8) to the push URL; headers as ``HTTP_...``."""

    def send(body: bytes | str, content_type: str = FORM, **headers: str):
        data = body.encode("utf-8") if isinstance(body, str) else body
        return client.generic("POST", PUSH_URL, data, content_type=content_type, **headers)

    return send


@pytest.fixture
def params(app_id) -> dict[str, Any]:
    """The fields of a fresh push for the whitelisted plate, unsigned, every value a string."""
    return simulator.build_push(app_id=app_id, discounts="[]")


@pytest.fixture
def vectors() -> dict[str, Any]:
    """The platform's signature vectors, copied into the repository as a test fixture."""
    path = Path(__file__).parent / "parkingops" / "tests" / "fixtures" / "push_vectors.json"
    return json.loads(path.read_text(encoding="utf-8"))


def answer(response) -> dict[str, Any]:
    """Decode a push answer, checking it has the protocol's shape."""
    body = json.loads(response.content)
    assert set(body) == {"code", "reason", "message"}
    return body


def signed(params: dict[str, Any], secret: str) -> dict[str, Any]:
    """Return ``params`` with a ``sign`` made by ``secret`` (the form/JSON-field style)."""
    unsigned = {key: value for key, value in params.items() if key != "sign"}
    return {**unsigned, "sign": signing.sign_params(unsigned, secret)}


def form_body(params: dict[str, Any], secret: str | None = None) -> str:
    """Encode ``params`` as a form, signed by ``secret`` when given; values must be strings."""
    return urlencode(signed(params, secret) if secret else params)


def json_body(params: dict[str, Any], secret: str | None = None) -> str:
    """Encode ``params`` as a JSON object, signed by ``secret`` (``sign`` field) when given."""
    return json.dumps(signed(params, secret) if secret else params, ensure_ascii=False)


_usernames = itertools.count()


@pytest.fixture
def staff_client(db):
    """Return ``make(*permissions, language="zh-hans")``: a client logged in as a new staff user
    holding exactly those permissions (``"orders.export_orders"`` ...), asking for that language.
    """

    def make(*permissions: str, language: str = "zh-hans") -> Client:
        user = User.objects.create_user(f"staff{next(_usernames)}", is_staff=True)
        for name in permissions:
            app_label, codename = name.split(".")
            user.user_permissions.add(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )
        client = Client(HTTP_ACCEPT_LANGUAGE=language)
        client.force_login(user)
        return client

    return make


@pytest.fixture
def superuser_client(db) -> Client:
    user = User.objects.create_superuser("root", "root@example.com", "x")
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(user)
    return client


def pytest_terminal_summary(terminalreporter) -> None:
    """Say at the end of the run, in one line, that the browser tests did not run, and why."""
    from parkingops.tests.browser import NO_CHROMIUM

    skipped = [
        report
        for report in terminalreporter.stats.get("skipped", [])
        if NO_CHROMIUM in str(report.longrepr)
    ]
    if skipped:
        message = f"{NO_CHROMIUM[0].upper()}{NO_CHROMIUM[1:]}: {len(skipped)} tests."
        terminalreporter.write_line(message, yellow=True)
