"""Property-based: whatever arrives, the push endpoint answers the protocol's JSON, never a 500.

Unsigned junk stops at the first checks; signed junk (random fields signed with our secret,
for a whitelisted plate) reaches validation and storage, where real 500s would hide.
"""

import itertools
import json
import time
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from conftest import FORM, JSON, PUSH_URL, answer
from orders.models import PayOrder
from parkingops.pcloud import signing

pytestmark = pytest.mark.django_db

EXAMPLES = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Every answer the protocol allows, with its HTTP status. 1500/1503 are not here on purpose:
# the database is up, so either would be a bug.
ANSWERS = {
    ("1400", "bad_body"): {400, 413},
    ("1401", "unknown_app"): {401},
    ("1401", "bad_signature"): {401},
    ("1401", "stale_timestamp"): {401},
    ("1400", "invalid_field"): {400},
    ("1403", "not_whitelisted"): {403},
    ("1001", "accepted"): {200},
    ("1001", "duplicate"): {200},
    ("1409", "conflict"): {409},
}
FIELDS = [
    "app_id",
    "sign",
    "sign_type",
    "timestamp",
    "park_uuid",
    "park_name",
    "parking_serial",
    "pay_serial",
    "pay_value",
    "pay_time",
    "plate",
    "channel",
    "identity",
    "discounts",
    "mcoupons",
]
NESTED_FIELDS = [
    "type",
    "token",
    "openid",
    "mobile",
    "relief_amount",
    "relief_value",
    "coupon_name",
    "coupon_code",
    "store_name",
    "store_code",
    "coupon_type",
    "coupon_value",
    "grant_time",
    "grant_serial",
]

keys = st.sampled_from(FIELDS) | st.text(max_size=12)
nested_keys = st.sampled_from(NESTED_FIELDS) | st.text(max_size=8)
scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(10**11), max_value=10**11)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
    | st.sampled_from(["", "0", "100", "1.00", "-5", "１００", "2021-04-21 16:33:20", "\x00"])
)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(nested_keys, children, max_size=6)
    ),
    max_leaves=15,
)
embedded_lists = st.lists(st.dictionaries(nested_keys, json_values, max_size=8), max_size=3)
# Header text as a WSGI server hands it over (latin-1). An RFC 2231 parameter naming an unknown
# charset (``charset*=x''y``) is left out: Django's WSGIRequest raises on it before any of our
# code runs, a 500 only a WSGI wrapper could turn into an answer.
content_types = st.sampled_from(
    [FORM, JSON, f"{FORM}; charset=utf-8", f"{JSON}; charset=UTF-8", "", "text/plain"]
    + [f"{JSON}; charset=latin-1", "multipart/form-data; boundary=x", f"{JSON}; charset*=utf-8''x"]
) | st.text(st.characters(min_codepoint=32, max_codepoint=255), max_size=60).filter(
    lambda text: "*=" not in text
)


def check(response, serial: str | None = None) -> dict:
    """Assert the answer is one of the protocol's; a 1001 means the order is stored."""
    assert response.status_code != 500, response.content
    body = answer(response)  # exactly code, reason and message
    assert all(isinstance(value, str) for value in body.values())
    assert response.status_code in ANSWERS[(body["code"], body["reason"])], body
    event(body["reason"])  # --hypothesis-show-statistics shows how deep the examples got
    if body["code"] == "1001":
        assert PayOrder.objects.filter(pay_serial=serial).exists()
    return body


def post(client, body: bytes, content_type: str, **headers):
    return client.generic("POST", PUSH_URL, body, content_type=content_type, **headers)


def base_push(app_id: str, serial: str) -> dict:
    now_ms = int(time.time() * 1000)
    return {
        "app_id": app_id,
        "park_uuid": "49f0cc52-e8c7-41e3-b54d-af666b8cc11a",
        "park_name": "P云支付体验-停车场",
        "parking_serial": "591668151763415041",
        "pay_serial": serial,
        "pay_value": "100",
        "pay_time": str(now_ms - 60_000),
        "plate": "川A660P1",
        "channel": "200102",
        "identity": "5aeV05nlt6/ig4LplITisYg=",
        "sign_type": "MD5",
        "timestamp": str(now_ms),
    }


@EXAMPLES
@given(body=st.binary(max_size=2048), content_type=content_types, auth=st.text(max_size=40))
def test_random_bytes_in_any_content_type_get_a_protocol_answer(client, body, content_type, auth):
    check(post(client, body, content_type, HTTP_AUTHORIZATION=auth))


@EXAMPLES
@given(fields=st.dictionaries(keys, st.text(), max_size=12), content_type=content_types)
def test_random_unsigned_forms_get_a_protocol_answer(client, fields, content_type):
    check(post(client, urlencode(fields).encode(), content_type))


@EXAMPLES
@given(fields=st.dictionaries(keys, json_values, max_size=12))
def test_random_unsigned_json_objects_get_a_protocol_answer(client, fields):
    check(post(client, json.dumps(fields).encode(), JSON))


@EXAMPLES
@given(
    serial=st.sampled_from(["P-1", "P-2"]) | st.text(min_size=1, max_size=70),
    changes=st.dictionaries(keys, st.text(max_size=80), max_size=5),
    discounts=embedded_lists,
    mcoupons=embedded_lists,
    drop=st.sets(st.sampled_from(FIELDS)),
)
def test_random_signed_forms_get_a_protocol_answer(
    whitelisted, client, app_id, secret, serial, changes, discounts, mcoupons, drop
):
    params = base_push(app_id, serial)
    params["discounts"] = json.dumps(discounts, ensure_ascii=False)
    params["mcoupons"] = json.dumps(mcoupons)
    params.update(changes)
    params = {key: value for key, value in params.items() if key not in drop or key == "app_id"}
    params["sign"] = signing.sign_params(params, secret)

    check(post(client, urlencode(params).encode(), FORM), params.get("pay_serial"))


@EXAMPLES
@given(
    serial=st.sampled_from(["J-1", "J-2"]) | st.text(min_size=1, max_size=70),
    changes=st.dictionaries(keys, json_values, max_size=5),
    discounts=embedded_lists | json_values,
    mcoupons=embedded_lists | json_values,
    header=st.booleans(),
)
def test_random_signed_json_objects_get_a_protocol_answer(
    whitelisted, client, app_id, secret, serial, changes, discounts, mcoupons, header
):
    params = base_push(app_id, serial)
    params.update(discounts=discounts, mcoupons=mcoupons)
    params.update(changes)
    params["app_id"] = app_id
    if header:
        params.pop("sign", None)
        body = json.dumps(params, ensure_ascii=False).encode()
        headers = {"HTTP_AUTHORIZATION": signing.sign_body(body, secret)}
    else:
        params["sign"] = signing.sign_params(params, secret)
        body = json.dumps(params).encode()
        headers = {}

    check(post(client, body, JSON, **headers), str(params.get("pay_serial")))


def non_blank(max_size: int):
    return st.text(min_size=1, max_size=max_size).filter(lambda text: text.strip())


SERIALS = itertools.count()
amounts = st.integers(min_value=0, max_value=10**10) | st.integers(0, 10**10).map(str)
texts = st.text(max_size=40)


@settings(EXAMPLES, max_examples=100)
@given(
    fields=st.fixed_dictionaries(
        {
            "park_uuid": non_blank(64),
            "park_name": non_blank(128),
            "parking_serial": non_blank(64),
            "pay_serial": non_blank(64),
            "pay_value": amounts,
            "channel": non_blank(64),
            "identity": texts,
            "plate": st.sampled_from(["川A660P1", "川a 660p1", "川Ａ·660P1", "川A-660P1"]),
        }
    ),
    extra=st.dictionaries(st.text(max_size=10).map(lambda key: f"x_{key}"), json_values),
    discounts=st.lists(
        st.fixed_dictionaries(
            {"relief_value": amounts, "relief_amount": amounts},
            optional={"type": texts, "token": texts, "openid": texts, "mobile": texts},
        ),
        max_size=3,
    ),
    mcoupons=st.lists(
        st.fixed_dictionaries(
            {"coupon_type": st.integers(-(2**31), 2**31 - 1), "coupon_value": amounts},
            optional={"coupon_name": texts, "grant_time": texts, "grant_serial": texts},
        ),
        max_size=3,
    ),
    as_form=st.booleans(),
)
def test_random_but_valid_signed_pushes_are_stored_or_refused_cleanly(
    whitelisted, client, app_id, secret, fields, extra, discounts, mcoupons, as_form
):
    # Every example shares the test's database: a fresh prefix keeps serials from colliding.
    fields["pay_serial"] = f"{next(SERIALS)}:{fields['pay_serial']}"[:64]
    params = {**base_push(app_id, fields["pay_serial"]), **extra, **fields}
    params.update(discounts=discounts, mcoupons=mcoupons)
    if as_form:
        params = {
            key: value if isinstance(value, str) else json.dumps(value)
            for key, value in params.items()
        }
        params["sign"] = signing.sign_params(params, secret)
        body, content_type = urlencode(params).encode(), FORM
    else:
        params["sign"] = signing.sign_params(params, secret)
        body, content_type = json.dumps(params).encode(), JSON

    reply = check(post(client, body, content_type), fields["pay_serial"])

    # Only text no database stores (NUL characters) may stop a push of this shape: bad_body
    # in the body itself, invalid_field inside a form's JSON-encoded list.
    if reply["reason"] != "accepted":
        assert reply["reason"] in {"bad_body", "invalid_field"}, reply
        assert "NUL character" in reply["message"], reply
    if reply["reason"] == "accepted":
        order = PayOrder.objects.get(pay_serial=fields["pay_serial"])
        assert order.discounts.count() == len(discounts)
        assert order.mcoupons.count() == len(mcoupons)
        assert order.plate == "川A660P1"
