"""Build and sign pushes the way the platform does: for ``send_push``, the demo, tests, bench."""

import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from parkingops import signing

DEMO_PARK_UUID = "49f0cc52-e8c7-41e3-b54d-af666b8cc11a"
DEMO_PARK_NAME = "P云支付体验-停车场"


def new_serial() -> str:
    """Return a fresh, unique-looking pay serial like the platform's (26 digits)."""
    return time.strftime("%Y%m%d%H%M%S") + f"{secrets.randbelow(10**12):012d}"


def build_push(
    *,
    app_id: str,
    pay_serial: str | None = None,
    plate: str = "川A660P1",
    park_uuid: str = DEMO_PARK_UUID,
    park_name: str = DEMO_PARK_NAME,
    pay_value: int = 100,
    pay_time_ms: int | None = None,
    channel: str = "200102",
    identity: str = "5aeV05nlt6/ig4LplITisYg=",
    discounts: list[dict[str, Any]] | None = None,
    mcoupons: list[dict[str, Any]] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """Return the fields of one push (unsigned); lists are real lists until encoded."""
    now_ms = int(time.time() * 1000)
    params: dict[str, Any] = {
        "app_id": app_id,
        "park_uuid": park_uuid,
        "park_name": park_name,
        "parking_serial": str(secrets.randbelow(10**18)),
        "pay_serial": pay_serial or new_serial(),
        "pay_value": str(pay_value),
        "pay_time": str(pay_time_ms if pay_time_ms is not None else now_ms),
        "plate": plate,
        "channel": channel,
        "identity": identity,
        "sign_type": "MD5",
        "timestamp": str(now_ms),
        "discounts": discounts or [],
    }
    if mcoupons:
        params["mcoupons"] = mcoupons
    params.update(extra)
    return params


@dataclass
class EncodedPush:
    """A push ready to send: body bytes, content type and headers."""

    body: bytes
    content_type: str
    headers: dict[str, str] = field(default_factory=dict)


def encode_push(
    params: dict[str, Any], *, secret: str, as_json: bool = False, header_sign: bool = False
) -> EncodedPush:
    """Sign and encode a push as a form (the platform's usual way) or a JSON body.

    A form carries ``discounts``/``mcoupons`` as JSON-encoded strings; ``header_sign`` signs a
    JSON body in the ``Authorization`` header instead of a ``sign`` field.
    """
    params = {key: value for key, value in params.items() if key != "sign"}
    if as_json or header_sign:
        if header_sign:
            body = json.dumps(params, ensure_ascii=False).encode("utf-8")
            signature = signing.sign_body(body, secret)
            return EncodedPush(body, "application/json", {"Authorization": signature})
        params["sign"] = signing.sign_params(params, secret)
        return EncodedPush(json.dumps(params, ensure_ascii=False).encode(), "application/json")
    form = {
        key: value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        for key, value in params.items()
    }
    form["sign"] = signing.sign_params(form, secret)
    return EncodedPush(urlencode(form).encode("ascii"), "application/x-www-form-urlencoded")
