"""Fixtures for the entry, exit and renewal pushes: signed pushes of each kind, sent through
the service with an injected clock or over the Django test client."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from orders.demo import simulator
from orders.push import kinds, services
from orders.push.outcomes import PushResult
from whitelist.tests.factories import WhitelistEntryFactory

NOW = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
LEAVE = NOW - timedelta(minutes=5)
ENTER = LEAVE - timedelta(hours=2, minutes=5)
PLATE = "川A660P1"
SERIAL = "591668151763415041"
PAY_SERIAL = "20240601115500000000000001"
# The kinds this package covers; the pay order has its own tests (orders/tests/push).
OTHER_KINDS = ("entry", "exit", "renewal")


def ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def build(kind: str, *, app_id: str, now: datetime = NOW, **fields: Any) -> dict[str, Any]:
    """The fields of a push of ``kind`` at fixed serials and times (``fields`` change them)."""
    fields.setdefault("timestamp", str(ms(now)))
    if kind == "entry":
        fields.setdefault("parking_serial", SERIAL)
        fields.setdefault("enter_time_ms", ms(ENTER))
        return simulator.build_entry(app_id=app_id, **fields)
    if kind == "exit":
        fields.setdefault("parking_serial", SERIAL)
        fields.setdefault("enter_time_ms", ms(ENTER))
        fields.setdefault("leave_time_ms", ms(LEAVE))
        return simulator.build_exit(app_id=app_id, **fields)
    if kind == "renewal":
        fields.setdefault("pay_serial", PAY_SERIAL)
        fields.setdefault("pay_time_ms", ms(LEAVE))
        return simulator.build_renewal(app_id=app_id, **fields)
    raise ValueError(kind)


# The field each kind reads the whitelist at.
EVENT_TIME = {"entry": "enter_time", "exit": "leave_time", "renewal": "pay_time"}


@pytest.fixture
def entry(db):
    """The plate's whitelist entry, for every park, from 2020 on."""
    return WhitelistEntryFactory(plate=PLATE, valid_from=datetime(2020, 1, 1, tzinfo=UTC))


@pytest.fixture
def receive(app_id, secret):
    """Sign a push of ``kind`` and run it through the service at ``now``; ``fields`` change it,
    ``drop`` removes fields, ``params`` sends those fields instead."""

    def run(
        kind: str,
        *,
        now: datetime = NOW,
        as_json: bool = False,
        header_sign: bool = False,
        sign_with: str | None = None,
        drop: tuple[str, ...] = (),
        params: dict[str, Any] | None = None,
        **fields: Any,
    ) -> PushResult:
        if params is None:
            fields.setdefault("app_id", app_id)
            params = build(kind, now=now, **fields)
        params = {key: value for key, value in params.items() if key not in drop}
        encoded = simulator.encode_push(
            params, secret=sign_with or secret, as_json=as_json, header_sign=header_sign
        )
        request = services.PushRequest(
            body=encoded.body,
            content_type=encoded.content_type,
            authorization=encoded.headers.get("Authorization", ""),
            remote_addr="203.0.113.7",
        )
        return services.receive_push(request=request, now=now, kind=kinds.KINDS[kind])

    return run


@pytest.fixture
def post(client):
    """POST raw bytes (or text) to a kind's URL over the test client; headers as HTTP_..."""

    def send(
        kind: str,
        body: bytes | str,
        content_type: str = "application/x-www-form-urlencoded",
        **headers: str,
    ):
        data = body.encode("utf-8") if isinstance(body, str) else body
        return client.generic(
            "POST", simulator.PUSH_PATHS[kind], data, content_type=content_type, **headers
        )

    return send
