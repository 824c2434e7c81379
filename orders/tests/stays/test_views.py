"""The entry, exit and renewal endpoints over HTTP: signatures made by the platform's rule,
the answers, the Hardening rules of PUSH_PROTOCOL.md, and the database out of reach."""

import hashlib
import json
from urllib.parse import urlencode

import pytest
from django.test import Client

from conftest import FORM, JSON, answer, signed
from orders.demo import simulator
from orders.models import PayOrder, PushLog
from orders.push.kinds import KINDS
from orders.stays.models import Renewal, Stay
from orders.tests.push.outage import database_unreachable
from orders.tests.stays.conftest import OTHER_KINDS, build
from parkingops.pcloud import signing
from whitelist.tests.factories import WhitelistEntryFactory

by_kind = pytest.mark.parametrize("kind", OTHER_KINDS)


def outcome(response) -> tuple[int, str, str]:
    body = answer(response)
    return response.status_code, body["code"], body["reason"]


def nothing_stored() -> bool:
    return not (Stay.objects.exists() or Renewal.objects.exists())


def platform_sign(params: dict, secret: str) -> str:
    """The platform's rule (PUSH_PROTOCOL.md, Signature), written out here independently of
    ``parkingops.pcloud.signing``: every non-empty field but sign, sorted, key=value joined
    by &, then &app_secret=<secret>, upper-case MD5."""
    text = "&".join(
        f"{key}={params[key]}" for key in sorted(params) if key != "sign" and params[key] != ""
    )
    return hashlib.md5(f"{text}&app_secret={secret}".encode()).hexdigest().upper()  # noqa: S324


@pytest.fixture
def fresh(app_id, whitelisted):
    """The fields of a push of a kind for the whitelisted plate, at the real clock."""

    def make(kind: str, **fields) -> dict:
        from datetime import UTC, datetime

        from orders.tests.stays.conftest import ms

        now = datetime.now(UTC)
        return build(kind, app_id=app_id, now=now, **_times_now(kind, ms(now)), **fields)

    return make


def _times_now(kind: str, now_ms: int) -> dict:
    if kind == "entry":
        return {"enter_time_ms": now_ms - 60_000}
    if kind == "exit":
        return {"enter_time_ms": now_ms - 3_600_000, "leave_time_ms": now_ms - 60_000}
    return {"pay_time_ms": now_ms - 60_000}


# --- Signed by the platform's rule ------------------------------------------------------------


@by_kind
def test_a_form_signed_by_the_platforms_rule_is_accepted(post, fresh, secret, kind):
    params = fresh(kind)
    params["sign"] = platform_sign(params, secret)
    # Our signing module agrees with the rule as written.
    assert signing.sign_params(params, secret) == params["sign"]

    response = post(kind, urlencode(params))

    assert outcome(response) == (200, "1001", "accepted")
    assert PushLog.objects.get().kind == kind


@by_kind
def test_a_json_body_signed_in_the_authorization_header_is_accepted(post, fresh, secret, kind):
    raw = json.dumps(fresh(kind), ensure_ascii=False).encode()
    header = hashlib.md5(raw + f"&app_secret={secret}".encode()).hexdigest()  # noqa: S324

    response = post(kind, raw, JSON, HTTP_AUTHORIZATION=header)

    assert outcome(response) == (200, "1001", "accepted")
    assert PushLog.objects.get().authorization == header


@by_kind
def test_a_form_body_signed_in_the_header_is_accepted(post, fresh, secret, kind):
    raw = urlencode(fresh(kind)).encode()

    response = post(kind, raw, FORM, HTTP_AUTHORIZATION=signing.sign_body(raw, secret))

    assert outcome(response) == (200, "1001", "accepted")


@by_kind
def test_a_push_signed_with_the_second_rotated_secret_is_accepted(post, fresh, settings, kind):
    second = settings.PLATFORM_APP_SECRET[1]

    assert outcome(post(kind, urlencode(signed(fresh(kind), second)))) == (200, "1001", "accepted")


@by_kind
def test_a_push_tampered_after_signing_is_refused(post, fresh, secret, kind):
    params = signed(fresh(kind), secret)
    params["plate"] = "川A000001"

    assert outcome(post(kind, urlencode(params))) == (401, "1401", "bad_signature")
    assert nothing_stored()


# --- The answers, over HTTP -------------------------------------------------------------------


@by_kind
def test_a_retry_is_a_duplicate_and_other_content_a_conflict(post, fresh, secret, kind):
    params = fresh(kind)
    first = post(kind, urlencode(signed(params, secret)))
    as_json = {**params, "timestamp": str(int(params["timestamp"]) + 1)}
    again = post(kind, json.dumps(signed(as_json, secret), ensure_ascii=False), JSON)
    other = {**params, "plate_color": "2"} if kind != "renewal" else {**params, "quantity": "1"}
    conflict = post(kind, urlencode(signed(other, secret)))

    assert [outcome(r) for r in (first, again, conflict)] == [
        (200, "1001", "accepted"),
        (200, "1001", "duplicate"),
        (409, "1409", "conflict"),
    ]
    assert Stay.objects.count() + Renewal.objects.count() == 1


@by_kind
def test_a_plate_not_whitelisted_is_refused_403(post, fresh, secret, kind):
    response = post(kind, urlencode(signed(fresh(kind, plate="川A000000"), secret)))

    assert outcome(response) == (403, "1403", "not_whitelisted")
    assert nothing_stored()


# A bad value for each field; each kind is tried with the fields it has (its serializer's).
BAD_VALUES = [
    ("plate", "   "),
    ("park_uuid", "x" * 65),
    ("plate_color", "blue"),
    ("enter_image", "h" * 513),
    ("latitude", "91"),
    ("longitude", "east"),
    ("total_space", "-2"),
    ("total_value", "1.00"),
    ("free_value", "-5"),
    ("parking_time", "abc"),
    ("vip_type", ""),
    ("quantity", "-1"),
    ("pay_value", "10000000001"),
]
INVALID_CASES = [
    (kind, field, value)
    for kind in OTHER_KINDS
    for field, value in BAD_VALUES
    if field in KINDS[kind].fields().fields
]


@pytest.mark.parametrize(
    ("kind", "field", "value"),
    INVALID_CASES,
    ids=[f"{kind}-{field}" for kind, field, _ in INVALID_CASES],
)
def test_an_invalid_field_is_named_in_the_message(post, fresh, secret, kind, field, value):
    params = fresh(kind)
    params[field] = value

    response = post(kind, urlencode(signed(params, secret)))

    assert outcome(response) == (400, "1400", "invalid_field")
    assert answer(response)["message"].startswith(f"{field}: ")
    assert nothing_stored()


@pytest.mark.parametrize(("field", "value"), BAD_VALUES[2:5])
def test_an_entrys_field_on_a_renewal_is_kept_verbatim(post, fresh, secret, field, value):
    # Not a renewal's field: an unknown field is kept as received, never an error.
    assert field not in KINDS["renewal"].fields().fields
    params = fresh("renewal")
    params[field] = value

    response = post("renewal", urlencode(signed(params, secret)))

    assert outcome(response)[2] == "accepted"
    assert Renewal.objects.get().extra[field] == value


@by_kind
def test_a_required_field_missing_is_named(post, fresh, secret, kind):
    field = {"entry": "enter_time", "exit": "total_value", "renewal": "vip_type"}[kind]
    params = fresh(kind)
    del params[field]

    response = post(kind, urlencode(signed(params, secret)))

    assert outcome(response) == (400, "1400", "invalid_field")
    assert answer(response)["message"].startswith(f"{field}: ")


# --- Hardening --------------------------------------------------------------------------------


@by_kind
@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH"])
def test_other_methods_get_405_bad_method_as_json_and_are_logged(db, client, kind, method):
    response = client.generic(method, simulator.PUSH_PATHS[kind], "parking_serial=1")

    assert outcome(response) == (405, "1400", "bad_method")
    log = PushLog.objects.get()
    assert (log.kind, log.reason) == (kind, "bad_method")


@by_kind
@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("{", JSON),
        ("[]", JSON),
        ('{"a": 1, "a": 2}', JSON),
        ("a=1&a=2", FORM),
        (b"\xff\xfe", FORM),
        ("<xml/>", "text/xml"),
        ("", FORM),
    ],
)
def test_an_unreadable_body_is_a_bad_body(db, post, kind, body, content_type):
    assert outcome(post(kind, body, content_type)) == (400, "1400", "bad_body")
    assert PushLog.objects.get().kind == kind


@by_kind
def test_deeply_nested_json_is_a_bad_body(db, post, kind):
    nested = "[" * 5000 + "]" * 5000
    body = f'{{"app_id": "op00961963581daa7", "sign": "x", "car_desc": {nested}}}'

    assert outcome(post(kind, body, JSON)) == (400, "1400", "bad_body")


@by_kind
def test_a_body_over_one_mib_is_a_bad_body_answered_413(db, post, fresh, secret, kind):
    params = {**fresh(kind), "x_pad": "a" * (1024 * 1024)}

    assert outcome(post(kind, urlencode(signed(params, secret)))) == (413, "1400", "bad_body")


@by_kind
def test_a_captured_push_re_sent_with_fields_inside_a_value_is_refused(post, fresh, secret, kind):
    original = signed(fresh(kind), secret)
    # A field moved into the value of the one sorted just before it signs the same.
    host, moved = {
        "entry": ("car_desc", "car_type"),
        "exit": ("enter_time", "free_value"),
        "renewal": ("channel", "end_time"),
    }[kind]
    forged = {key: value for key, value in original.items() if key != moved}
    forged[host] = f"{original[host]}&{moved}={original[moved]}"
    # The forgery is real: it signs exactly like the captured push.
    assert signing.sign_params(forged, secret) == original["sign"]

    response = post(kind, urlencode(forged))

    assert outcome(response) == (400, "1400", "invalid_field")
    assert answer(response)["message"].startswith(f"{host}: ")
    assert nothing_stored()


@by_kind
def test_an_ampersand_in_a_park_name_is_fine(post, fresh, secret, kind):
    params = fresh(kind, park_name="A&B停车场")

    assert outcome(post(kind, urlencode(signed(params, secret)))) == (200, "1001", "accepted")


@by_kind
def test_the_url_without_trailing_slash_is_the_same_endpoint(client, fresh, secret, kind):
    path = simulator.PUSH_PATHS[kind].rstrip("/")
    body = urlencode(signed(fresh(kind), secret))

    response = client.post(path, body, content_type=FORM)

    assert outcome(response) == (200, "1001", "accepted")


@by_kind
def test_the_message_is_english_whatever_the_language(fresh, secret, kind, db):
    params = fresh(kind)
    params["park_uuid"] = ""
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")

    response = client.post(
        simulator.PUSH_PATHS[kind], urlencode(signed(params, secret)), content_type=FORM
    )

    assert answer(response)["message"] == "park_uuid: This field may not be blank."


# --- The database out of reach ----------------------------------------------------------------


@by_kind
@pytest.mark.django_db(transaction=True)
def test_database_unreachable_is_1503_and_nothing_is_stored(post, app_id, secret, kind):
    WhitelistEntryFactory(plate="川A660P1")
    from datetime import UTC, datetime

    from orders.tests.stays.conftest import ms

    now_ms = ms(datetime.now(UTC))
    body = urlencode(signed(build(kind, app_id=app_id, **_times_now(kind, now_ms)), secret))

    with database_unreachable():
        response = post(kind, body)

    assert outcome(response) == (503, "1503", "unavailable")
    assert nothing_stored()
    assert not PushLog.objects.exists()
    # Once the database is back, the platform's retry goes through.
    assert outcome(post(kind, body)) == (200, "1001", "accepted")


def test_the_pay_order_push_is_unchanged_by_the_other_kinds(whitelisted, push):
    assert outcome(push()) == (200, "1001", "accepted")
    assert PayOrder.objects.count() == 1
    assert nothing_stored()
