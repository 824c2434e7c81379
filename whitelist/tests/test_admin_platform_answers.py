"""The platform's answers where a clerk meets them in the whitelist (the list's sync badge, the
entry's sync details, the platform sync list and page) read by their meaning, in Chinese."""

import pytest
from django.conf import settings
from django.test import Client

from whitelist.models import PlateSync
from whitelist.tests.conftest import CHANGELIST
from whitelist.tests.factories import WhitelistEntryFactory

pytestmark = pytest.mark.django_db

SYNCS = "/admin/whitelist/platesync/"


@pytest.fixture
def admin_zh(superuser) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    client.force_login(superuser)
    return client


@pytest.fixture
def failed():
    entry = WhitelistEntryFactory(plate="川A660P1")
    PlateSync.objects.create(
        plate="川A660P1", state=PlateSync.State.FAILED, message="1500: platform busy"
    )
    WhitelistEntryFactory(plate="川A00002")
    PlateSync.objects.create(plate="川A00002", state=PlateSync.State.SYNCED, message="success")
    WhitelistEntryFactory(plate="川A00003")
    PlateSync.objects.create(plate="川A00003", state=PlateSync.State.FAILED, message="7: odd")
    return entry


def test_the_lists_sync_badge_tells_the_platforms_answer_in_chinese(admin_zh, failed):
    page = admin_zh.get(CHANGELIST).content.decode()

    assert "平台内部错误（platform busy）" in page
    assert "1500: platform busy" not in page
    assert "成功" in page
    assert "未知代码 7: odd" in page


def test_the_entrys_sync_details_tell_the_answer_in_chinese(admin_zh, failed):
    page = admin_zh.get(f"{CHANGELIST}{failed.pk}/change/").content.decode()

    assert "平台内部错误（platform busy）" in page


def test_the_platform_sync_list_and_page_tell_the_answer_in_chinese(admin_zh, failed):
    listed = admin_zh.get(SYNCS).content.decode()
    sync = PlateSync.objects.get(plate="川A660P1")
    shown = admin_zh.get(f"{SYNCS}{sync.pk}/change/").content.decode()

    for page in (listed, shown):
        assert "平台内部错误（platform busy）" in page
