"""The whitelist entry's history page: each change in words, its values as the list shows them."""

from datetime import UTC, datetime

import pytest
from django.conf import settings
from django.test import Client

from whitelist.tests.conftest import CHANGELIST
from whitelist.tests.factories import ParkFactory, WhitelistEntryFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_zh(superuser) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    client.force_login(superuser)
    return client


@pytest.fixture
def changed_entry():
    """An entry for all parks until 2026-03-01 08:00 China time, then disabled, moved to a
    park and left open-ended, with a reason."""
    park = ParkFactory(name="万象城停车场")
    entry = WhitelistEntryFactory(
        plate="川A660P1", valid_until=datetime(2026, 3, 1, 0, 0, tzinfo=UTC), is_active=True
    )
    entry.is_active = False
    entry.valid_until = None
    entry.park_uuid = park.park_uuid
    entry._change_reason = "车主退租"
    entry.save()
    return entry


def history_of(client: Client, entry) -> str:
    response = client.get(f"{CHANGELIST}{entry.pk}/history/")
    assert response.status_code == 200
    return response.content.decode()


def test_history_shows_labels_yes_no_open_end_all_parks_and_the_reason_in_chinese(
    admin_zh, changed_entry
):
    html = history_of(admin_zh, changed_entry)

    assert "<strong>启用:</strong> 是&nbsp;&rarr;&nbsp;&nbsp;否" in html
    assert "2026-03-01 08:00&nbsp;&rarr;&nbsp;&nbsp;长期有效" in html
    assert "全部车场&nbsp;&rarr;&nbsp;&nbsp;万象城停车场" in html
    assert "车主退租" in html
    for header in ("时间", "操作人", "变更内容", "变更原因", "修改", "新增"):
        assert header in html
    for raw in ("True", "False", "None", "CHANGES", "Changes", "Changed by"):
        assert raw not in html


def test_history_reads_in_english_for_english_users(admin_en, changed_entry):
    html = history_of(admin_en, changed_entry)

    assert "<strong>Active:</strong> Yes&nbsp;&rarr;&nbsp;&nbsp;No" in html
    assert "2026-03-01 08:00&nbsp;&rarr;&nbsp;&nbsp;No end" in html
    assert "All parks&nbsp;&rarr;&nbsp;&nbsp;万象城停车场" in html
    assert "车主退租" in html
    assert "What changed" in html and "Reason" in html
    assert "True" not in html and "None" not in html
