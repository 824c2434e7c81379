"""The change reason in the integration API: a write that disables, deletes or shortens
entries carries ``reason`` (kept in the history) or is a 400 naming it; others need none."""

import json
from datetime import UTC, datetime

import pytest

from whitelist.models import WhitelistEntry
from whitelist.tests.factories import WhitelistEntryFactory
from whitelist.tests.test_api import BULK, JSON, entry_url, hr, hr_user, key_client, post  # noqa: F401

pytestmark = pytest.mark.django_db

REQUIRED = "请填写变更原因：此次变更会停用、删除或缩短白名单条目。"


@pytest.fixture
def hr_zh(hr_user):  # noqa: F811
    return key_client(hr_user, language="zh-hans")


@pytest.fixture
def entry():
    return WhitelistEntryFactory(plate="川A660P1", valid_until=datetime(2030, 1, 1, tzinfo=UTC))


def patch(client, entry, data):
    return client.patch(entry_url(entry), json.dumps(data), content_type=JSON)


@pytest.mark.parametrize(
    "change",
    [
        {"is_active": False},
        {"valid_until": "2029-01-01T00:00:00+08:00"},
        {"valid_from": "2021-01-01T00:00:00+08:00"},
        {"park_uuid": "park-1"},
    ],
)
def test_a_narrowing_change_without_a_reason_is_a_400_naming_it(hr_zh, entry, change):
    response = patch(hr_zh, entry, change)

    assert response.status_code == 400, response.content
    assert response.json()["fields"] == {"reason": [REQUIRED]}
    assert WhitelistEntry.history.filter(id=entry.pk).count() == 1

    accepted = patch(hr_zh, entry, {**change, "reason": "租户调整"})

    assert accepted.status_code == 200, accepted.content
    assert "reason" not in accepted.json()  # never read back
    assert WhitelistEntry.history.filter(id=entry.pk).latest().history_change_reason == "租户调整"


def test_a_change_that_takes_nothing_away_needs_no_reason(hr_zh, entry):
    response = patch(hr_zh, entry, {"holder": "李四", "valid_until": None})

    assert response.status_code == 200, response.content
    record = WhitelistEntry.history.filter(id=entry.pk).latest()
    assert record.history_change_reason == "通过 API（密钥“HR system”）"


@pytest.mark.parametrize("reason", ["   ", "\t\n"])
def test_a_blank_reason_counts_as_none(hr_zh, entry, reason):
    response = patch(hr_zh, entry, {"is_active": False, "reason": reason})

    assert response.status_code == 400
    assert response.json()["fields"] == {"reason": [REQUIRED]}


def test_a_reason_too_long_is_refused_with_the_limit(hr_zh, entry):
    response = patch(hr_zh, entry, {"is_active": False, "reason": "x" * 10_000})

    assert response.status_code == 400
    assert response.json()["fields"] == {"reason": ["变更原因最多 100 个字符（现有 10000 个）。"]}
    entry.refresh_from_db()
    assert entry.is_active


def test_delete_needs_a_reason_in_the_body_or_the_query_string(hr_zh, entry):
    refused = hr_zh.delete(entry_url(entry))
    assert refused.status_code == 400
    assert refused.json()["fields"] == {"reason": [REQUIRED]}
    assert hr_zh.delete(entry_url(entry), "[1, 2]", content_type=JSON).status_code == 400
    too_long = hr_zh.delete(entry_url(entry) + "?reason=" + "x" * 10_000)
    assert too_long.status_code == 400
    assert list(too_long.json()["fields"]) == ["reason"]
    assert WhitelistEntry.objects.filter(pk=entry.pk).exists()

    deleted = hr_zh.delete(entry_url(entry) + "?reason=%E9%80%80%E7%A7%9F")  # 退租

    assert deleted.status_code == 204
    record = WhitelistEntry.history.filter(id=entry.pk, history_type="-").get()
    assert record.history_change_reason == "退租"


def test_bulk_rows_that_disable_need_the_requests_reason(hr_zh, entry):
    rows = {
        "entries": [
            {"id": entry.pk, "is_active": False},
            {"plate": "粤B12345", "valid_from": "2026-01-01T00:00:00+08:00"},
        ]
    }

    refused = post(hr_zh, BULK, rows)

    assert refused.status_code == 400
    assert refused.json()["fields"] == {"reason": [REQUIRED]}
    assert not WhitelistEntry.objects.filter(plate="粤B12345").exists()
    entry.refresh_from_db()
    assert entry.is_active

    too_long = post(hr_zh, BULK, {**rows, "reason": "x" * 10_000})
    assert too_long.status_code == 400
    assert list(too_long.json()["fields"]) == ["reason"]

    accepted = post(hr_zh, BULK, {**rows, "reason": "批量停用"})

    assert accepted.status_code == 200, accepted.content
    entry.refresh_from_db()
    assert not entry.is_active
    assert WhitelistEntry.history.filter(id=entry.pk).latest().history_change_reason == "批量停用"


def test_bulk_rows_that_only_add_or_extend_need_no_reason(hr_zh, entry):
    response = post(
        hr_zh,
        BULK,
        {"entries": [{"id": entry.pk, "valid_until": "2031-01-01T00:00:00+08:00"}]},
    )

    assert response.status_code == 200, response.content
