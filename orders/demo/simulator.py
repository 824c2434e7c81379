"""Build and sign pushes the way the platform does: for ``send_push``, the demo, tests, bench."""

import http.client
import json
import secrets
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from parkingops.pcloud import signing

DEMO_PARK_UUID = "49f0cc52-e8c7-41e3-b54d-af666b8cc11a"
DEMO_PARK_NAME = "P云支付体验-停车场"
# The seed sample's plate: the demo data whitelists it for every park, so a bare
# ``send_push`` against ``make run`` is accepted.
DEMO_PLATE = "川A660P1"
# What stores call their coupons, by DiscountType (PUSH_PROTOCOL.md); type 1 names its amount.
COUPON_NAMES = {
    2: "停车时长券",
    3: "全免停车券",
    4: "优惠计价券",
    5: "长期停车券",
    6: "折扣停车券",
}


def new_serial() -> str:
    """Return a fresh, unique-looking pay serial like the platform's (26 digits)."""
    return time.strftime("%Y%m%d%H%M%S") + f"{secrets.randbelow(10**12):012d}"


def build_push(
    *,
    app_id: str,
    pay_serial: str | None = None,
    plate: str = DEMO_PLATE,
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


# Where each kind of push goes (PUSH_PROTOCOL.md, PLATFORM_PUSHES.md), by PushLog.Kind value.
PUSH_PATHS = {
    "pay": "/api/v1/push/pay-orders/",
    "entry": "/api/v1/push/entries/",
    "exit": "/api/v1/push/exits/",
    "renewal": "/api/v1/push/renewals/",
}
# What the demo park says about itself in entry and exit pushes.
DEMO_PARK_PLACE = {
    "address": "四川省成都市高新区天府大道1号",
    "area_code": "510107",
    "latitude": "30.572815",
    "longitude": "104.066801",
}


def new_parking_serial() -> str:
    """Return a fresh parking serial like the platform's (18 digits)."""
    return str(10**17 + secrets.randbelow(9 * 10**17))


def _now_ms() -> int:
    return int(time.time() * 1000)


def build_entry(
    *,
    app_id: str,
    parking_serial: str | None = None,
    plate: str = DEMO_PLATE,
    park_uuid: str = DEMO_PARK_UUID,
    park_name: str = DEMO_PARK_NAME,
    enter_time_ms: int | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """Return the fields of one entry push (unsigned, every value a string)."""
    now_ms = _now_ms()
    params: dict[str, Any] = {
        "app_id": app_id,
        "park_uuid": park_uuid,
        "park_name": park_name,
        "parking_serial": parking_serial or new_parking_serial(),
        "plate": plate,
        "enter_time": str(enter_time_ms if enter_time_ms is not None else now_ms),
        "plate_color": "1",
        "car_type": "1",
        "vehicle_type": "1",
        "car_desc": "小型车",
        "enter_gate": "东门入口",
        "enter_security": "值班员01",
        "enter_image": "https://img.example.com/enter/1.jpg",
        **DEMO_PARK_PLACE,
        "total_space": "500",
        "remain_space": "120",
        "sign_type": "MD5",
        "timestamp": str(now_ms),
    }
    params.update(extra)
    return params


def build_exit(
    *,
    app_id: str,
    parking_serial: str | None = None,
    enter_time_ms: int | None = None,
    leave_time_ms: int | None = None,
    total_value: int = 1000,
    free_value: int = 0,
    autopay_value: int = 0,
    **extra: Any,
) -> dict[str, Any]:
    """Return the fields of one exit push: the entry's (``extra`` may change them) and the
    exit's own; by default the car came two hours before it left."""
    leave = leave_time_ms if leave_time_ms is not None else _now_ms()
    enter = enter_time_ms if enter_time_ms is not None else leave - 2 * 3600 * 1000
    entry_fields = {
        key: extra.pop(key) for key in ("plate", "park_uuid", "park_name") if key in extra
    }
    params = build_entry(
        app_id=app_id, parking_serial=parking_serial, enter_time_ms=enter, **entry_fields
    )
    params.update(
        {
            "leave_time": str(leave),
            "parking_time": str(max(leave - enter, 0) // 1000),
            "total_value": str(total_value),
            "free_value": str(free_value),
            "autopay_value": str(autopay_value),
            "leave_gate": "东门出口",
            "leave_security": "值班员02",
            "leave_image": "https://img.example.com/leave/1.jpg",
        }
    )
    params.update(extra)
    return params


def build_renewal(
    *,
    app_id: str,
    pay_serial: str | None = None,
    plate: str = DEMO_PLATE,
    park_uuid: str = DEMO_PARK_UUID,
    park_name: str = DEMO_PARK_NAME,
    vip_type: int = 1,
    quantity: int = 31,
    pay_value: int = 30000,
    pay_time_ms: int | None = None,
    channel: str = "200102",
    **extra: Any,
) -> dict[str, Any]:
    """Return the fields of one fixed-car renewal push; a time-based type covers
    ``quantity`` days from the payment."""
    now_ms = _now_ms()
    paid = pay_time_ms if pay_time_ms is not None else now_ms
    params: dict[str, Any] = {
        "app_id": app_id,
        "park_uuid": park_uuid,
        "park_name": park_name,
        "plate": plate,
        "pay_serial": pay_serial or new_serial(),
        "pay_value": str(pay_value),
        "pay_time": str(paid),
        "channel": channel,
        "identity": "5aeV05nlt6/ig4LplITisYg=",
        "vip_type": str(vip_type),
        "quantity": str(quantity),
        "sign_type": "MD5",
        "timestamp": str(now_ms),
    }
    if vip_type not in (2, 3):
        params["start_time"] = str(paid)
        params["end_time"] = str(paid + quantity * 86_400_000)
    params.update(extra)
    return params


def build_visit(
    *,
    app_id: str,
    plate: str = DEMO_PLATE,
    park_uuid: str = DEMO_PARK_UUID,
    park_name: str = DEMO_PARK_NAME,
    leave_time_ms: int | None = None,
    minutes: int = 125,
    total_value: int = 1000,
    free_value: int = 0,
    autopay_value: int = 0,
    paid: int | None = None,
) -> list[tuple[str, dict[str, Any]]]:
    """Return one whole visit as (kind, fields): the entry, the pay order (``paid`` fen, by
    default the fee less discounts and autopay; none when 0) a minute before the exit, and the
    exit, all with the same parking serial and consistent times."""
    leave = leave_time_ms if leave_time_ms is not None else _now_ms()
    enter = leave - minutes * 60_000
    serial = new_parking_serial()
    where = {"plate": plate, "park_uuid": park_uuid, "park_name": park_name}
    due = total_value - free_value - autopay_value if paid is None else paid
    visit = [
        ("entry", build_entry(app_id=app_id, parking_serial=serial, enter_time_ms=enter, **where))
    ]
    if due > 0:
        order = build_push(app_id=app_id, pay_value=due, pay_time_ms=leave - 60_000, **where)
        order["parking_serial"] = serial
        visit.append(("pay", order))
    visit.append(
        (
            "exit",
            build_exit(
                app_id=app_id,
                parking_serial=serial,
                enter_time_ms=enter,
                leave_time_ms=leave,
                total_value=total_value,
                free_value=free_value,
                autopay_value=autopay_value,
                **where,
            ),
        )
    )
    return visit


def coupon_name(coupon_type: int, value: int) -> str:
    """Name a merchant coupon the way stores do: ``10元停车券`` for an amount of 1000 fen."""
    if coupon_type == 1:
        yuan, fen = divmod(value, 100)
        return f"{yuan}元停车券" if fen == 0 else f"{yuan}.{fen:02d}元停车券"
    return COUPON_NAMES.get(coupon_type, "停车优惠券")


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


@dataclass(frozen=True)
class Answer:
    """What the receiver answered: the HTTP status, its JSON (when it is JSON) and the text."""

    status: int
    text: str
    body: dict[str, Any] | None = None

    @property
    def code(self) -> str:
        """Return the protocol's code, or ``HTTP <status>`` when the answer is not one."""
        if self.body is not None and isinstance(self.body.get("code"), str):
            return self.body["code"]
        return f"HTTP {self.status}"

    @property
    def reason(self) -> str:
        return str(self.body.get("reason", "")) if self.body is not None else ""

    @property
    def message(self) -> str:
        if self.body is not None:
            return str(self.body.get("message", ""))
        return " ".join(self.text.split())[:200]


class Unreachable(Exception):
    """The receiver could not be reached at all (refused, unknown host, timed out)."""


_LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "::1"}


def post_push(url: str, push: EncodedPush, *, timeout: float = 10.0) -> Answer:
    """POST an encoded push to ``url`` with the standard library and return the answer.

    Raise ``Unreachable`` when no answer arrives; an HTTP error status is an answer, not an
    error. Loopback URLs bypass any configured HTTP proxy, which could not reach them.
    """
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ValueError(f"not an http(s) URL: {url!r}")
    handlers = []
    if parts.hostname in _LOOPBACK_HOSTS or parts.hostname.startswith("127."):
        handlers.append(urllib.request.ProxyHandler({}))
    opener = urllib.request.build_opener(*handlers)
    request = urllib.request.Request(  # noqa: S310 (the scheme is checked above)
        url,
        data=push.body,
        headers={"Content-Type": push.content_type, **push.headers},
        method="POST",
    )
    try:
        with opener.open(request, timeout=timeout) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as error:
        # 4xx/5xx carry the protocol's answer too (1401, 1403, 1409 ...).
        with error:
            status, raw = error.code, error.read()
    except urllib.error.URLError as error:
        raise Unreachable(str(error.reason)) from None
    except (OSError, http.client.HTTPException) as error:
        # Timeouts while reading and connections dropped mid-answer.
        raise Unreachable(str(error) or type(error).__name__) from None
    text = raw.decode("utf-8", errors="replace")
    try:
        body = json.loads(text)
    except ValueError:
        body = None
    return Answer(status, text, body if isinstance(body, dict) else None)
