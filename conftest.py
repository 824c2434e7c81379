"""Fixtures shared by every app's tests: signed pushes, whitelist entries, a push client."""

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from django.conf import settings

from orders import simulator

PUSH_URL = "/api/v1/push/pay-orders/"


@pytest.fixture
def secret() -> str:
    return settings.PLATFORM_APP_SECRET[0]


@pytest.fixture
def app_id() -> str:
    return settings.PLATFORM_APP_ID


@pytest.fixture
def whitelisted(db):
    """Whitelist a plate for all parks from 2020 on; return the entry factory for more."""
    from parkingops.factories import WhitelistEntryFactory

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


def answer(response) -> dict[str, Any]:
    """Decode a push answer, checking it has the protocol's shape."""
    body = json.loads(response.content)
    assert set(body) == {"code", "reason", "message"}
    return body
