"""GET /api/v1/push-outcomes/: every push outcome with its label and explanation, in the
language asked for; and the schema describing the outcome enum the same way."""

import pytest
from django.test import Client
from django.utils import translation

from orders.push.outcomes import Outcome
from orders.tests.api.test_views import key_client, make_user
from parkingops.roles import FINANCE, OPERATIONS

OUTCOMES = "/api/v1/push-outcomes/"

pytestmark = pytest.mark.django_db


@pytest.fixture
def finance() -> Client:
    return key_client(make_user(groups=(FINANCE,)), language="zh-hans")


def test_every_outcome_is_listed_with_its_code_status_label_and_explanation(finance):
    response = finance.get(OUTCOMES)

    assert response.status_code == 200
    assert response["Content-Language"] == "zh-hans"
    rows = response.json()
    assert [row["reason"] for row in rows] == Outcome.values
    with translation.override("zh-hans"):
        for row, outcome in zip(rows, Outcome, strict=True):
            assert row == {
                "code": outcome.code,
                "reason": outcome.value,
                "http_status": outcome.status,
                "label": str(outcome.label),
                "explanation": str(outcome.explanation),
                "logged": outcome is not Outcome.THROTTLED,
            }
    assert rows[Outcome.values.index("not_whitelisted")]["label"] == "不在白名单"


@pytest.mark.parametrize(
    ("header", "query", "expected"),
    [
        ("en", "", "not whitelisted"),
        ("zh-hans", "?lang=en", "not whitelisted"),
        ("en", "?lang=zh-hans", "不在白名单"),
        ("en", "?lang=zh-Hans", "不在白名单"),
        ("en", "?lang=zh", "不在白名单"),
    ],
)
def test_the_language_follows_accept_language_or_lang(header, query, expected):
    client = key_client(make_user(groups=(OPERATIONS,)), language=header)

    response = client.get(OUTCOMES + query)

    assert response.status_code == 200
    labels = {row["reason"]: row["label"] for row in response.json()}
    assert labels["not_whitelisted"] == expected


@pytest.mark.parametrize("query", ["?lang=", "?lang=fr", "?lang=%00", "?lang=" + "x" * 5000])
def test_an_unknown_or_empty_language_is_a_400_naming_lang(finance, query):
    response = finance.get(OUTCOMES + query)

    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"lang"}


def test_a_key_is_needed(client):
    assert client.get(OUTCOMES).status_code == 401


def test_the_schema_documents_the_endpoint_and_the_outcome_enum(finance):
    schema = finance.get("/api/schema/?format=json", HTTP_ACCEPT_LANGUAGE="en").json()

    assert "get" in schema["paths"][OUTCOMES]
    described = schema["components"]["schemas"]["PushOutcome"]["properties"]["reason"]
    platform = finance.get("/api/schema/platform/?format=json", HTTP_ACCEPT_LANGUAGE="en").json()
    answer = platform["components"]["schemas"]["PushAnswer"]["properties"]["reason"]
    for text in (described["description"], answer["description"]):
        for outcome in Outcome:
            assert f"`{outcome.value}` ({outcome.code}, HTTP {outcome.status})" in text
    with translation.override("en"):
        assert str(Outcome.CONFLICT.explanation) in described["description"]
    chinese = finance.get("/api/schema/?format=json", HTTP_ACCEPT_LANGUAGE="zh-hans").json()
    text = chinese["components"]["schemas"]["PushOutcome"]["properties"]["reason"]["description"]
    assert "**不在白名单**" in text
