"""Reading JSON others send (``parkingops.jsonparsing``): the rule, and the integration API
answering 400 for what it refuses, never 500."""

import json

import pytest
from django.contrib.auth.models import User
from django.test import Client

from parkingops import api_keys
from parkingops.jsonparsing import RefusedJson, loads_json
from whitelist.tests.factories import WhitelistEntryFactory

DEEP = "[" * 1000 + "]" * 1000
DEEPER = "[" * 100_000 + "]" * 100_000


@pytest.mark.parametrize(
    "text, match",
    [
        ('{"a": 1, "a": 2}', "given twice"),
        ('{"x": [{"k": 1, "k": 1}]}', "given twice"),
        ('{"x": NaN}', "not a JSON number"),
        ('{"x": -Infinity}', "not a JSON number"),
        ('{"x": 1e999}', "out of range"),
        (DEEP, "nested too deeply"),
        (DEEPER, "nested too deeply"),
    ],
)
def test_what_the_rule_refuses(text, match):
    with pytest.raises(RefusedJson, match=match):
        loads_json(text)


def test_text_that_is_no_json_stays_a_plain_value_error():
    with pytest.raises(ValueError) as raised:
        loads_json("{")

    assert not isinstance(raised.value, RefusedJson)


def test_ordinary_json_is_read_as_json():
    assert loads_json('{"a": [1, 2.5, "川A", null, true]}') == {"a": [1, 2.5, "川A", None, True]}


@pytest.fixture
def api(db) -> Client:
    user = User.objects.create_superuser("hr", "hr@example.com", "x")
    key = api_keys.create_api_key(user=user, name="HR").key
    return Client(HTTP_AUTHORIZATION=f"Api-Key {key}", HTTP_ACCEPT_LANGUAGE="en")


@pytest.mark.parametrize("method", ["post", "put", "patch", "bulk"])
@pytest.mark.parametrize(
    "body, match",
    [
        ('{"plate": ' + DEEP + "}", "nested too deeply"),
        ('{"entries": ' + DEEPER + "}", "nested too deeply"),
        ('{"plate": "川A660P1", "plate": "粤B12345"}', "given twice"),
        ('{"plate": "川A660P1", "note": NaN}', "not a JSON number"),
        ('{"plate": "川A66', "JSON parse error"),
    ],
)
def test_every_whitelist_write_answers_400_for_json_it_refuses(api, method, body, match):
    entry = WhitelistEntryFactory()
    url, verb = {
        "post": ("/api/v1/whitelist/", "post"),
        "put": (f"/api/v1/whitelist/{entry.pk}/", "put"),
        "patch": (f"/api/v1/whitelist/{entry.pk}/", "patch"),
        "bulk": ("/api/v1/whitelist/bulk/", "post"),
    }[method]

    response = getattr(api, verb)(url, body, content_type="application/json")

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert match in response.json()["detail"]


def test_a_body_in_another_charset_is_read_in_it(api):
    # The test client encodes the text in the charset the content type names.
    body = json.dumps({"plate": "川A660P1"}, ensure_ascii=False)

    response = api.post(
        "/api/v1/whitelist/", body, content_type="application/json; charset=gb18030"
    )

    assert response.status_code == 201, response.content
    assert response.json()["plate"] == "川A660P1"


def test_a_body_not_valid_in_its_charset_is_a_400(api):
    response = api.post("/api/v1/whitelist/", b'{"plate": "\xff"}', content_type="application/json")

    assert response.status_code == 400
    assert "JSON parse error" in response.json()["detail"]


def test_a_chinese_client_reads_the_refusal_in_chinese(api):
    response = api.post(
        "/api/v1/whitelist/",
        '{"plate": ' + DEEP + "}",
        content_type="application/json",
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )

    assert response.status_code == 400
    assert response.json()["detail"].startswith("JSON 解析错误 - ")
