"""Reading a push body: orders.push.decoding, with no database."""

import io
import json
from urllib.parse import urlencode

import pytest
from django.core.handlers.wsgi import WSGIRequest

from orders.push import decoding
from orders.push.decoding import BadBody, decode_body

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"


def test_a_form_body_gives_its_fields_as_strings():
    body = urlencode({"plate": "川A 660P1", "pay_value": "100", "empty": ""}).encode()

    assert decode_body(body, FORM) == {"plate": "川A 660P1", "pay_value": "100", "empty": ""}


def test_a_json_body_keeps_its_types():
    body = json.dumps({"pay_value": 100, "discounts": [], "x": None, "y": True}).encode()

    assert decode_body(body, JSON) == {"pay_value": 100, "discounts": [], "x": None, "y": True}


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json; charset=utf-8",
        "Application/JSON; charset=UTF-8",
        'application/json; charset="utf8"',
        "application/json; charset*=utf-8''utf-8",  # RFC 2231 form: was an AttributeError (500)
    ],
)
def test_json_content_type_parameters_are_understood(content_type):
    assert decode_body(b'{"a": "1"}', content_type) == {"a": "1"}


@pytest.mark.parametrize(
    "content_type",
    ["", "text/plain", "multipart/form-data; boundary=x", "application/xml", "json", "\x00"],
)
def test_other_content_types_are_a_bad_body(content_type):
    with pytest.raises(BadBody, match="content type"):
        decode_body(b'{"a": "1"}', content_type)


def test_a_charset_other_than_utf8_is_a_bad_body():
    with pytest.raises(BadBody, match="charset 'gbk'"):
        decode_body("a=川".encode("gbk"), f"{FORM}; charset=gbk")


@pytest.mark.parametrize(
    "body, content_type",
    [
        (b"\xff\xfe", JSON),
        ('{"plate": "川"}'.encode("gbk"), JSON),
        ("plate=川".encode("gbk"), FORM),
        (b"plate=%E5%B7", FORM),  # percent-encoded, but not UTF-8 once decoded
        (b"plate=%ED%A0%80", FORM),  # an encoded surrogate
    ],
)
def test_invalid_utf8_is_a_bad_body(body, content_type):
    with pytest.raises(BadBody, match="UTF-8"):
        decode_body(body, content_type)


@pytest.mark.parametrize("body", [b"", b"{", b"{'a': 1}", b'{"a": 1,}', b"NaN", b'{"a": NaN}'])
def test_unparseable_json_is_a_bad_body(body):
    with pytest.raises(BadBody):
        decode_body(body, JSON)


@pytest.mark.parametrize("body", [b"[]", b"[{}]", b'"text"', b"1", b"null", b"true"])
def test_json_that_is_not_an_object_is_a_bad_body(body):
    with pytest.raises(BadBody, match="not an object"):
        decode_body(body, JSON)


def test_a_body_of_exactly_one_mib_is_read_and_one_byte_more_is_too_large():
    padding = "x" * (decoding.MAX_BODY_BYTES - len('{"a":""}'))
    exact = f'{{"a":"{padding}"}}'.encode()
    assert len(exact) == decoding.MAX_BODY_BYTES
    assert decode_body(exact, JSON)["a"] == padding

    with pytest.raises(BadBody) as excinfo:
        decode_body(exact + b" ", JSON)
    assert excinfo.value.too_large


@pytest.mark.parametrize(
    "body, content_type",
    [
        (b"plate=a&plate=b", FORM),
        (b"plate=a&plate=a", FORM),
        (b'{"plate": "a", "plate": "a"}', JSON),
        (b'{"discounts": [{"type": "1", "type": "2"}]}', JSON),
    ],
)
def test_a_key_given_twice_is_a_bad_body(body, content_type):
    with pytest.raises(BadBody, match="given twice"):
        decode_body(body, content_type)


@pytest.mark.parametrize(
    "body, content_type, match",
    [
        (b"plate=a%00b", FORM, "NUL"),
        (b'{"plate": "a\\u0000b"}', JSON, "NUL"),
        (b'{"x": {"k\\u0000": 1}}', JSON, "NUL"),
        (b'{"plate": "\\ud800"}', JSON, "surrogate"),
        (b'{"x": 1e999}', JSON, "out of range"),  # would be inf: PostgreSQL's jsonb refuses it
        (b'{"x": -1e999}', JSON, "out of range"),
        (b'{"x": Infinity}', JSON, "not a JSON number"),
        (b'{"x": ' + b"[" * 40 + b"]" * 40 + b"}", JSON, "nested"),
        (b'{"x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", JSON, "nested"),
    ],
)
def test_text_no_database_can_store_is_a_bad_body(body, content_type, match):
    with pytest.raises(BadBody, match=match):
        decode_body(body, content_type)


def test_surrogate_pairs_and_other_unicode_are_fine():
    body = '{"plate": "\\ud83d\\ude97", "x": "\u200f\u2028e\u0301"}'.encode()

    assert decode_body(body, JSON) == {"plate": "🚗", "x": "\u200f\u2028e\u0301"}


# --- Reading the body off the request (decoding.read_body) -----------------------------------


def _request(body: bytes, **environ) -> WSGIRequest:
    return WSGIRequest(
        {
            "REQUEST_METHOD": "POST",
            "PATH_INFO": "/api/v1/push/pay-orders/",
            "CONTENT_TYPE": FORM,
            "wsgi.input": io.BytesIO(body),
            **environ,
        }
    )


def test_a_body_with_a_content_length_is_read_up_to_one_byte_past_the_limit():
    body = b"a" * (decoding.MAX_BODY_BYTES + 10)

    request = _request(body, CONTENT_LENGTH=str(len(body)))

    assert decoding.read_body(request) == body[: decoding.MAX_BODY_BYTES + 1]


def test_a_chunked_body_a_server_has_terminated_is_read_whole():
    # gunicorn de-chunks the body, gives no CONTENT_LENGTH and sets wsgi.input_terminated;
    # Django alone would read it as empty.
    request = _request(b"pay_serial=S1&plate=x", HTTP_TRANSFER_ENCODING="chunked")
    request.META["wsgi.input_terminated"] = True

    assert request.body == b""  # what Django's own request gives: the defect
    fresh = _request(b"pay_serial=S1&plate=x", HTTP_TRANSFER_ENCODING="chunked")
    fresh.META["wsgi.input_terminated"] = True
    assert decoding.read_body(fresh) == b"pay_serial=S1&plate=x"


def test_a_terminated_chunked_body_over_the_limit_is_cut_one_byte_past_it():
    request = _request(b"a" * (decoding.MAX_BODY_BYTES * 2), **{"wsgi.input_terminated": True})

    body = decoding.read_body(request)

    assert len(body) == decoding.MAX_BODY_BYTES + 1
    with pytest.raises(BadBody) as excinfo:
        decode_body(body, FORM)
    assert excinfo.value.too_large


def test_a_chunked_body_no_server_can_hand_over_is_refused_not_taken_as_empty():
    request = _request(b"5\r\nhello\r\n0\r\n\r\n", HTTP_TRANSFER_ENCODING="chunked")

    with pytest.raises(BadBody, match="chunked"):
        decoding.read_body(request)


def test_a_request_without_a_body_reads_as_empty():
    assert decoding.read_body(_request(b"")) == b""
