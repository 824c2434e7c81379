"""The push endpoint over the Django test client: the protocol's answers and what is stored."""

import json
import logging
from datetime import UTC, datetime
from urllib.parse import urlencode

import pytest
from django.conf import settings

from conftest import FORM, JSON, PUSH_URL, answer, form_body, json_body, signed
from orders.demo import simulator
from orders.models import Discount, MerchantCoupon, PayOrder, PushLog
from orders.tests.push.outage import database_unreachable
from parkingops.pcloud import signing
from whitelist.models import Park
from whitelist.tests.factories import WhitelistEntryFactory

SEED_SAMPLE = {
    "park_uuid": "49f0cc52-e8c7-41e3-b54d-af666b8cc11a",
    "pay_serial": "20210421164242075523115813",
    "discounts": "[]",
    "pay_value": "100",
    "sign": "B1BAA9B6C83DB3E0C50F84B7B54AC848",
    "parking_serial": "591668151763415041",
    "app_id": "op00961963581daa7",
    "sign_type": "MD5",
    "park_name": "P云支付体验-停车场",
    "timestamp": "1618994562891",
    "pay_time": "1618994563000",
    "plate": "川A660P1",
    "channel": "200102",
    "identity": "5aeV05nlt6/ig4LplITisYg=",
}


def outcome(response) -> tuple[int, str, str]:
    body = answer(response)
    return response.status_code, body["code"], body["reason"]


def nothing_stored() -> bool:
    return not (
        PayOrder.objects.exists()
        or Discount.objects.exists()
        or MerchantCoupon.objects.exists()
        or Park.objects.exists()
    )


def test_signed_form_push_for_whitelisted_plate_is_stored(whitelisted, push):
    response = push(pay_serial="20210421164242075523115813")

    assert response.status_code == 200
    assert answer(response)["code"] == "1001"
    order = PayOrder.objects.get()
    assert order.pay_serial == "20210421164242075523115813"
    assert PushLog.objects.get().order == order


# --- The shared vectors ------------------------------------------------------------------------


def vector(vectors, name_start: str) -> dict:
    (found,) = [v for v in vectors["vectors"] if v["name"].startswith(name_start)]
    return found


def test_vector_seed_sample_form_fields_is_accepted(whitelisted, post, vectors):
    params = vector(vectors, "seed sample")["params"]

    response = post(urlencode(params))

    assert outcome(response) == (200, "1001", "accepted")
    order = PayOrder.objects.get()
    assert order.pay_serial == "20210421164242075523115813"
    assert order.pay_time == datetime(2021, 4, 21, 8, 42, 43, tzinfo=UTC)
    assert order.park.name == "P云支付体验-停车场"


def test_vector_with_empty_values_and_plate_to_normalise_is_accepted(whitelisted, post, vectors):
    params = vector(vectors, "form fields, discounts as JSON string")["params"]

    response = post(urlencode(params))

    assert outcome(response) == (200, "1001", "accepted")
    order = PayOrder.objects.get()
    assert order.plate == "川A660P1" == vector(vectors, "form fields, disc")["normalised_plate"]
    assert order.plate_raw == "川Ａ·660p1"
    assert order.extra == {"extra_note": ""}
    discount = order.discounts.get()
    assert (discount.token, discount.relief_amount, discount.relief_value) == ("tk-01", 1, 500)
    assert not order.mcoupons.exists()


def test_vector_json_body_with_real_arrays_and_sign_field_is_accepted(whitelisted, post, vectors):
    body = vector(vectors, "JSON body with real arrays")["json_body"]

    response = post(json.dumps(body, ensure_ascii=False), JSON)

    assert outcome(response) == (200, "1001", "accepted")
    order = PayOrder.objects.get()
    assert order.pay_value == 2500
    coupon = order.mcoupons.get()
    assert (coupon.coupon_name, coupon.coupon_type, coupon.coupon_value) == ("10元停车券", 1, 1000)
    assert coupon.grant_time == datetime(2021, 4, 21, 8, 33, 20, tzinfo=UTC)


def test_vector_json_body_signed_in_the_authorization_header_is_accepted(
    whitelisted, post, vectors
):
    found = vector(vectors, "JSON body signed in the Authorization header")

    response = post(found["raw_body_utf8"], JSON, HTTP_AUTHORIZATION=found["authorization"])

    assert outcome(response) == (200, "1001", "accepted")
    assert PayOrder.objects.get().pay_serial == "20210421170000000000000003"
    assert PushLog.objects.get().authorization == found["authorization"]


def test_vector_tampered_after_signing_is_refused(whitelisted, post, vectors):
    found = vector(vectors, "tampered")

    response = post(urlencode(found["params"]))

    assert answer(response)["code"] == found["expect_code"]
    assert answer(response)["reason"] == found["expect_reason"]
    assert response.status_code == 401
    assert nothing_stored()


def test_the_seed_sample_as_documented_json_signed_with_our_secret_is_accepted(
    whitelisted, post, secret
):
    response = post(json_body(SEED_SAMPLE, secret), JSON)

    assert outcome(response) == (200, "1001", "accepted")
    assert signed(SEED_SAMPLE, secret)["sign"] == "F13D21E00DCC8DA7D574F68F1E7EC54A"


def test_the_seed_sample_with_its_published_sign_is_refused(whitelisted, post):
    # The published sign was made with the platform's demo secret, not ours.
    response = post(json.dumps(SEED_SAMPLE, ensure_ascii=False), JSON)

    assert outcome(response) == (401, "1401", "bad_signature")


# --- Signatures --------------------------------------------------------------------------------


def test_a_push_signed_with_the_second_rotated_secret_is_accepted(whitelisted, post, params):
    second = settings.PLATFORM_APP_SECRET[1]

    assert outcome(post(form_body(params, second))) == (200, "1001", "accepted")


def test_a_header_signature_with_the_second_secret_is_accepted(whitelisted, post, params):
    body = json.dumps(params, ensure_ascii=False).encode()
    signature = signing.sign_body(body, settings.PLATFORM_APP_SECRET[1]).lower()

    assert outcome(post(body, JSON, HTTP_AUTHORIZATION=signature)) == (200, "1001", "accepted")


def test_a_lower_case_sign_is_accepted(whitelisted, post, params, secret):
    body = signed(params, secret)
    body["sign"] = body["sign"].lower()

    assert outcome(post(urlencode(body))) == (200, "1001", "accepted")


def test_the_header_signature_is_checked_against_the_raw_bytes(whitelisted, post, params, secret):
    body = json.dumps(params, ensure_ascii=False).encode()
    signature = signing.sign_body(body, secret)
    reformatted = json.dumps(params, ensure_ascii=True, indent=1).encode()

    assert outcome(post(reformatted, JSON, HTTP_AUTHORIZATION=signature))[2] == "bad_signature"
    assert outcome(post(body, JSON, HTTP_AUTHORIZATION=signature))[2] == "accepted"


def test_sign_type_md5_in_lower_case_or_absent_is_accepted(whitelisted, post, params, secret):
    params.pop("sign_type")
    assert outcome(post(form_body(params, secret)))[2] == "accepted"
    params.update(sign_type="md5", pay_serial="S2")
    assert outcome(post(form_body(params, secret)))[2] == "accepted"


# --- The checks table, row by row and in its order ---------------------------------------------


@pytest.mark.parametrize(
    "body, content_type",
    [
        ("pay_value=100", "text/plain"),
        ('{"pay_value": "100"}', "text/json"),
        ("pay_value=100", ""),
        (b"plate=\xb4\xa8", FORM),
        (b'{"plate": "\xb4\xa8"}', JSON),
        ('{"plate": ', JSON),
        ("[]", JSON),
        ('"a=1"', JSON),
        ("plate=a&plate=a", FORM),
        ('{"plate": "a", "plate": "b"}', JSON),
        ('{"x": 1e400}', JSON),
        ("a=%00", FORM),
    ],
)
def test_an_unreadable_body_is_a_bad_body(db, post, body, content_type):
    response = post(body, content_type)

    assert outcome(response) == (400, "1400", "bad_body")
    assert nothing_stored()
    log = PushLog.objects.get()
    assert (log.code, log.reason, log.content_type) == ("1400", "bad_body", content_type)
    assert log.message == answer(response)["message"]


def test_deeply_nested_json_is_a_bad_body_at_every_depth(db, post):
    # Near the recursion limit, json.loads still succeeded but rendering the value for the
    # signature did not: an unsigned request got a 500. Every depth must be a plain refusal.
    for depth in [33, 100, *range(900, 1001, 4), 100_000]:
        nested = "[" * depth + "]" * depth
        body = f'{{"app_id": "op00961963581daa7", "sign": "x", "x": {nested}}}'
        assert outcome(post(body, JSON)) == (400, "1400", "bad_body"), depth


def test_a_body_over_one_mib_is_a_bad_body_answered_413(db, post, params, secret):
    params["padding"] = "x" * (1024 * 1024)

    response = post(form_body(params, secret))

    assert outcome(response) == (413, "1400", "bad_body")
    assert len(PushLog.objects.get().body) == 64 * 1024


def test_a_signed_push_in_another_content_type_is_a_bad_body(whitelisted, post, params, secret):
    assert outcome(post(form_body(params, secret), "text/plain"))[2] == "bad_body"
    assert outcome(post(json_body(params, secret), "application/javascript"))[2] == "bad_body"


def test_a_repeated_key_with_a_bad_signature_is_a_bad_body(whitelisted, post, params):
    body = form_body({**params, "sign": "0" * 32}) + "&pay_value=100"

    assert outcome(post(body)) == (400, "1400", "bad_body")


@pytest.mark.parametrize("app_id", [None, "", "op00000000000000", "OP00961963581DAA7", 961963581])
def test_a_missing_or_unknown_app_id_is_unknown_app(whitelisted, post, params, secret, app_id):
    if app_id is None:
        params.pop("app_id")
    else:
        params["app_id"] = app_id

    response = post(json_body(params, secret), JSON)

    assert outcome(response) == (401, "1401", "unknown_app")
    assert nothing_stored()


def test_an_unknown_app_is_checked_before_the_signature(whitelisted, post, params):
    params["app_id"] = "op-someone-else"

    assert outcome(post(form_body({**params, "sign": "bad"})))[2] == "unknown_app"


def test_a_missing_signature_is_a_bad_signature(whitelisted, post, params):
    assert outcome(post(form_body(params))) == (401, "1401", "bad_signature")
    assert outcome(post(form_body({**params, "sign": ""})))[2] == "bad_signature"
    assert "missing" in answer(post(json_body(params), JSON))["message"]


@pytest.mark.parametrize(
    "sign", ["0" * 32, "F13D21E00DCC8DA7D574F68F1E7EC54A", "not hex", "x" * 1000]
)
def test_a_wrong_signature_is_a_bad_signature(whitelisted, post, params, sign):
    assert outcome(post(form_body({**params, "sign": sign}))) == (401, "1401", "bad_signature")
    assert nothing_stored()


def test_a_signature_made_with_an_unknown_secret_is_a_bad_signature(whitelisted, post, params):
    assert outcome(post(form_body(params, "not-our-secret")))[2] == "bad_signature"


def test_a_wrong_header_signature_is_a_bad_signature(whitelisted, post, params):
    body = json.dumps(params).encode()
    signature = signing.sign_body(body, "not-our-secret")

    assert outcome(post(body, JSON, HTTP_AUTHORIZATION=signature))[2] == "bad_signature"


@pytest.mark.parametrize("sign_type", ["SHA256", "HMAC-SHA256", "RSA", "MD5 ", 5])
def test_a_sign_type_other_than_md5_is_a_bad_signature(
    whitelisted, post, params, secret, sign_type
):
    params["sign_type"] = sign_type

    response = post(json_body(params, secret), JSON)

    assert outcome(response) == (401, "1401", "bad_signature")
    assert "sign_type" in answer(response)["message"]


def test_a_bad_signature_is_checked_before_the_fields(whitelisted, post, params):
    params["pay_value"] = "1.00"

    assert outcome(post(form_body(params, "not-our-secret")))[2] == "bad_signature"


def test_a_stale_timestamp_is_refused_over_http(whitelisted, post, params, secret, settings):
    settings.PUSH_TIMESTAMP_TOLERANCE = 60
    params["timestamp"] = "1618994562891"

    assert outcome(post(form_body(params, secret))) == (401, "1401", "stale_timestamp")
    assert nothing_stored()


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"pay_value": "1.00"}, "pay_value"),
        ({"pay_value": "-5"}, "pay_value"),
        ({"pay_value": "abc"}, "pay_value"),
        ({"pay_value": " 5"}, "pay_value"),
        ({"pay_value": "１００"}, "pay_value"),
        ({"pay_value": str(10**10 + 1)}, "pay_value"),
        ({"pay_time": "946655999999"}, "pay_time"),
        ({"park_uuid": "u" * 65}, "park_uuid"),
        ({"park_name": "n" * 129}, "park_name"),
        ({"plate": "川A" + "1" * 15}, "plate"),
        ({"channel": ""}, "channel"),
        ({"discounts": '[{"relief_value": "5.5"}]'}, "discounts[0].relief_value"),
        ({"mcoupons": '[{}, {"coupon_value": "-1"}]'}, "mcoupons[1].coupon_value"),
    ],
)
def test_an_invalid_field_is_named_in_the_message(
    whitelisted, post, params, secret, changes, field
):
    response = post(form_body({**params, **changes}, secret))

    assert outcome(response) == (400, "1400", "invalid_field")
    assert answer(response)["message"].startswith(f"{field}: ")
    assert nothing_stored()


@pytest.mark.parametrize("value", [1.0, True, 10**10 + 1, -1, "100 "])
def test_pay_value_in_json_must_be_an_integer_in_range(whitelisted, post, params, secret, value):
    response = post(json_body({**params, "pay_value": value}, secret), JSON)

    assert outcome(response)[2] == "invalid_field"
    assert answer(response)["message"].startswith("pay_value: ")


@pytest.mark.parametrize("value", [0, 10**10, "0", str(10**10)])
def test_pay_value_edges_are_accepted(whitelisted, post, params, secret, value):
    assert outcome(post(json_body({**params, "pay_value": value}, secret), JSON))[2] == "accepted"
    assert PayOrder.objects.get().pay_value == int(value)


def test_the_message_is_english_whatever_the_language(whitelisted, post, params, secret):
    params.pop("channel")

    response = post(form_body(params, secret), HTTP_ACCEPT_LANGUAGE="zh-hans")

    assert answer(response)["message"] == "channel: This field is required."


def test_a_plate_not_whitelisted_is_refused_403(whitelisted, post, params, secret):
    params["plate"] = "川A660P2"

    assert outcome(post(form_body(params, secret))) == (403, "1403", "not_whitelisted")
    assert nothing_stored()


def test_an_invalid_field_is_checked_before_the_whitelist(whitelisted, post, params, secret):
    params.update(plate="川A660P2", pay_value="x")

    assert outcome(post(form_body(params, secret)))[2] == "invalid_field"


def test_an_exact_retry_is_a_duplicate_and_other_content_a_conflict(
    whitelisted, post, params, secret
):
    body = form_body(params, secret)

    assert outcome(post(body)) == (200, "1001", "accepted")
    assert outcome(post(body)) == (200, "1001", "duplicate")
    assert outcome(post(form_body({**params, "pay_value": "99"}, secret))) == (
        409,
        "1409",
        "conflict",
    )
    assert PayOrder.objects.get().pay_value == 100
    assert list(PushLog.objects.order_by("pk").values_list("reason", flat=True)) == [
        "accepted",
        "duplicate",
        "conflict",
    ]


DISCOUNT = {"type": "1", "token": "t", "openid": "o", "mobile": "", "relief_value": "500"}


@pytest.mark.parametrize(
    "retry",
    [
        pytest.param(lambda p: ({**p, "pay_value": 100}, JSON), id="json-number"),
        pytest.param(lambda p: ({**p, "discounts": [DISCOUNT]}, JSON), id="json-real-list"),
        pytest.param(
            lambda p: ({**p, "discounts": json.dumps([DISCOUNT])}, JSON), id="json-string-list"
        ),
        pytest.param(lambda p: ({**p, "plate": "川a 660p1"}, FORM), id="plate-as-typed"),
        pytest.param(lambda p: ({**p, "plate": "川Ａ·660P1"}, JSON), id="plate-full-width"),
        pytest.param(
            lambda p: ({**p, "timestamp": "1", "park_name": "new", "sign_type": ""}, FORM),
            id="other-timestamp-and-name",
        ),
        pytest.param(
            lambda p: ({**p, "discounts": [{**DISCOUNT, "relief_value": 500}]}, JSON),
            id="number-inside-discount",
        ),
    ],
)
def test_a_retry_in_another_encoding_is_a_duplicate(whitelisted, post, params, secret, retry):
    params["discounts"] = json.dumps([DISCOUNT])
    assert outcome(post(form_body(params, secret)))[2] == "accepted"

    retried, content_type = retry(params)
    encode = json_body if content_type == JSON else form_body

    assert outcome(post(encode(retried, secret), content_type)) == (200, "1001", "duplicate")
    assert PayOrder.objects.count() == 1
    assert Discount.objects.count() == 1


def test_a_retry_with_a_header_signature_is_a_duplicate(whitelisted, post, params, secret):
    assert outcome(post(form_body(params, secret)))[2] == "accepted"
    body = json.dumps({**params, "pay_value": 100, "discounts": []}, ensure_ascii=False).encode()

    response = post(body, JSON, HTTP_AUTHORIZATION=signing.sign_body(body, secret))

    assert outcome(response)[2] == "duplicate"


def test_a_push_with_unknown_fields_keeps_them_with_the_order(whitelisted, push):
    response = push(
        as_json=True,
        car_type=1,
        remark={"floor": "B2"},
        mcoupons=[{"coupon_type": 7, "coupon_value": 3, "batch": "B-1"}],
    )

    assert outcome(response)[2] == "accepted"
    order = PayOrder.objects.get()
    assert order.extra == {"car_type": 1, "remark": {"floor": "B2"}}
    coupon = order.mcoupons.get()
    assert (coupon.coupon_type, coupon.coupon_value, coupon.extra) == (7, 3, {"batch": "B-1"})


def test_the_push_fixture_signs_in_the_header_too(whitelisted, push):
    assert outcome(push(header_sign=True)) == (200, "1001", "accepted")


# --- HTTP details ------------------------------------------------------------------------------


def test_the_url_without_trailing_slash_is_the_same_endpoint(whitelisted, client, params, secret):
    response = client.post(PUSH_URL.rstrip("/"), form_body(params, secret), content_type=FORM)

    assert outcome(response) == (200, "1001", "accepted")


@pytest.mark.parametrize("method", ["GET", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "FOO"])
def test_other_methods_get_405_bad_method_as_json_and_are_logged(db, client, method):
    response = client.generic(method, PUSH_URL, "pay_serial=S1", content_type=FORM)

    assert outcome(response) == (405, "1400", "bad_method")
    assert response["Allow"] == "POST"
    assert method in answer(response)["message"]
    log = PushLog.objects.get()
    assert (log.code, log.reason, log.body) == ("1400", "bad_method", "pay_serial=S1")
    assert not PayOrder.objects.exists()


def test_head_gets_405_and_is_logged(db, client):
    response = client.head(PUSH_URL)

    assert response.status_code == 405
    assert PushLog.objects.get().reason == "bad_method"


def test_a_signed_push_for_a_whitelisted_plate_is_still_refused_by_get(
    whitelisted, client, params, secret
):
    response = client.generic("GET", PUSH_URL, form_body(params, secret), content_type=FORM)

    assert outcome(response) == (405, "1400", "bad_method")
    assert not PayOrder.objects.exists()


def test_an_odd_accept_header_still_gets_json(whitelisted, post, params, secret):
    response = post(form_body(params, secret), HTTP_ACCEPT="text/html; q=1, image/png")

    assert response["Content-Type"] == "application/json"
    assert outcome(response)[2] == "accepted"


def test_the_remote_address_is_logged(db, client):
    client.post(PUSH_URL, "x", content_type="text/plain", REMOTE_ADDR="198.51.100.23")

    assert PushLog.objects.get().remote_addr == "198.51.100.23"


def test_an_empty_body_is_a_bad_body(db, client):
    assert outcome(client.post(PUSH_URL, b"", content_type=FORM)) == (400, "1400", "bad_body")


# --- The secret stays secret -------------------------------------------------------------------


def test_no_answer_log_row_or_log_line_ever_contains_a_secret(
    whitelisted, post, params, caplog, settings
):
    caplog.set_level(logging.DEBUG)
    settings.PUSH_TIMESTAMP_TOLERANCE = 60
    first, second = settings.PLATFORM_APP_SECRET
    bodies = [
        (form_body(params, first), FORM),  # accepted
        (form_body(params, first), FORM),  # duplicate
        (form_body({**params, "pay_value": "7"}, second), FORM),  # conflict
        (form_body({**params, "pay_serial": "x", "pay_value": "-1"}, first), FORM),
        (form_body({**params, "pay_serial": "y", "plate": "川A000000"}, second), FORM),
        (form_body({**params, "timestamp": "1"}, first), FORM),
        (form_body(params, "wrong"), FORM),
        (form_body({**params, "app_id": "other"}, first), FORM),
        (json_body({**params, "sign_type": "SHA1"}, first), JSON),
        ("{", JSON),
        (b"\xff", FORM),
    ]
    texts = []
    for body, content_type in bodies:
        response = post(body, content_type)
        texts.append(response.content.decode())
        texts.append(str(dict(response.items())))

    logged = json.dumps(list(PushLog.objects.values()), default=str, ensure_ascii=False)
    everything = "\n".join([*texts, logged, caplog.text])
    assert PushLog.objects.count() == len(bodies)
    assert "conflict" in logged and "not_whitelisted" in logged and "stale_timestamp" in logged
    for secret_text in settings.PLATFORM_APP_SECRET:
        assert secret_text not in everything
    assert "app_secret" not in everything


def test_the_simulator_push_matches_the_demo_settings(app_id):
    # The fixtures and ``send_push`` sign with the first configured secret.
    params = simulator.build_push(app_id=app_id)
    assert params["app_id"] == "op00961963581daa7"
    assert settings.PLATFORM_APP_SECRET == ["demo-secret-7f3a", "older-secret-1"]


# --- The database unreachable --------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_database_unreachable_is_1503_and_nothing_is_stored(post, params, secret, caplog):
    WhitelistEntryFactory(plate="川A660P1")
    body = form_body(params, secret)

    with database_unreachable():
        response = post(body)

    assert outcome(response) == (503, "1503", "unavailable")
    assert nothing_stored()
    assert not PushLog.objects.exists()
    # The process log keeps the raw push instead, and never the secret.
    assert "could not write the push log" in caplog.text
    assert params["pay_serial"] in caplog.text
    for secret_text in settings.PLATFORM_APP_SECRET:
        assert secret_text not in caplog.text
    # Once the database is back, the platform's retry goes through.
    assert outcome(post(body)) == (200, "1001", "accepted")


@pytest.mark.django_db(transaction=True)
def test_database_unreachable_for_an_unreadable_body_is_still_no_server_error(post):
    with database_unreachable():
        response = post("{", JSON)

    assert outcome(response) == (503, "1503", "unavailable")


def test_a_content_type_django_cannot_parse_is_bad_body_through_the_wsgi_app(transactional_db):
    from io import BytesIO
    from wsgiref.util import setup_testing_defaults

    from parkingops.wsgi import application

    body = b'{"app_id": "op00961963581daa7"}'
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/api/v1/push/pay-orders/",
        "CONTENT_TYPE": "application/json; charset*=x''y",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": BytesIO(body),
        "HTTP_HOST": "localhost",
    }
    setup_testing_defaults(environ)
    statuses: list[str] = []

    content = b"".join(application(environ, lambda status, headers: statuses.append(status)))

    assert statuses == ["400 Bad Request"]
    assert answer_of(content) == "bad_body"
    log = PushLog.objects.get()
    assert log.content_type == "application/json; charset*=x''y"
    assert log.reason == "bad_body"


def answer_of(content: bytes) -> str:
    import json

    body = json.loads(content)
    assert set(body) == {"code", "reason", "message"}
    return body["reason"]


# --- Fields inside fields (PUSH_PROTOCOL.md, Hardening) ----------------------------------------


def test_a_captured_push_re_sent_with_fields_inside_a_value_is_refused(
    whitelisted, post, params, secret
):
    original = signed(params, secret)
    forged = {key: value for key, value in original.items() if key not in {"discounts", "identity"}}
    forged["channel"] = f"{original['channel']}&discounts=[]&identity={original['identity']}"
    # The forgery is real: it signs exactly like the captured push.
    assert signing.sign_params(forged, secret) == original["sign"]

    response = post(urlencode(forged))

    assert outcome(response) == (400, "1400", "invalid_field")
    assert answer(response)["message"].startswith("channel: ")
    assert not PayOrder.objects.exists()
    assert PushLog.objects.get().reason == "invalid_field"


def test_an_ampersand_in_a_park_name_is_fine(whitelisted, push):
    assert outcome(push(park_name="A&B停车场")) == (200, "1001", "accepted")
    assert PayOrder.objects.get().park.name == "A&B停车场"


# --- Times inside the product's span (parkingops.timerange) ------------------------------------


def test_a_coupon_granted_in_year_10000_china_time_is_stored_without_its_time(
    whitelisted, push, superuser_client
):
    coupon = {"coupon_code": "C1", "coupon_value": "100", "grant_time": "253402300799999"}

    assert outcome(push(mcoupons=[coupon])) == (200, "1001", "accepted")

    stored = MerchantCoupon.objects.get()
    assert (stored.grant_time, stored.grant_time_raw) == (None, "253402300799999")
    for url in ("/admin/orders/merchantcoupon/", "/admin/orders/merchantcoupon/export/"):
        assert superuser_client.get(url).status_code == 200


@pytest.mark.parametrize("pay_time", ["253402300799999", "946655999999"])
def test_a_pay_time_outside_the_span_is_refused_naming_it(whitelisted, push, pay_time):
    response = push(pay_time_ms=int(pay_time))

    assert outcome(response) == (400, "1400", "invalid_field")
    assert answer(response)["message"].startswith("pay_time: ")
