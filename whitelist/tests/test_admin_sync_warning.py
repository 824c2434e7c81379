"""A change the platform did not confirm is a warning, not a success (issue 13), and the
"expiring soon" filter. The syncs run for real after commit, against the fake platform."""

from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.contrib import messages
from django.contrib.messages import get_messages
from django.test import Client
from django.utils import timezone

from whitelist.models import PlateSync, WhitelistEntry
from whitelist.tests.conftest import CHANGELIST
from whitelist.tests.factories import WhitelistEntryFactory
from whitelist.tests.test_admin import ADD, entry_form, plates_listed
from whitelist.tests.test_admin_import import HEADER, PROCESS, preview, token_of

# The syncs run on commit: the page's transaction must really commit.
pytestmark = pytest.mark.django_db(transaction=True)

FAILED_LINK = f'<a href="{CHANGELIST}?sync=failed">'


def levels(response) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {}
    for message in get_messages(response.wsgi_request):
        found.setdefault(message.level, []).append(str(message))
    return found


def test_saving_an_entry_the_platform_refuses_is_a_warning_with_the_plate_and_a_link(
    admin_en, fake_platform, settings
):
    settings.SCHEDULE_SYNC_MINUTES = 5
    fake_platform.fail_next("1500")

    response = admin_en.post(ADD, entry_form(plate="川A660P1"))

    assert response.status_code == 302
    assert WhitelistEntry.objects.get().plate == "川A660P1"  # saved all the same
    assert PlateSync.objects.get(plate="川A660P1").state == PlateSync.State.FAILED
    found = levels(response)
    assert messages.SUCCESS not in found
    (warning,) = found[messages.WARNING]
    assert "The platform did not confirm 川A660P1." in warning
    assert "retries every 5 minutes" in warning and "“Sync now”" in warning
    assert FAILED_LINK in warning
    assert any("was added successfully" in text for text in found[messages.INFO])
    # The link lists the plate.
    assert plates_listed(admin_en.get(CHANGELIST, {"sync": "failed"})) == ["川A660P1"]


def test_saving_an_entry_the_platform_confirms_is_a_success(admin_en, fake_platform):
    response = admin_en.post(ADD, entry_form(plate="川A660P1"))

    found = levels(response)
    assert set(found) == {messages.SUCCESS}
    assert fake_platform.status_of("川A660P1") == 1


def test_changing_an_entry_while_the_platform_is_unreachable_names_it_waiting(
    admin_en, fake_platform
):
    entry = WhitelistEntryFactory(plate="川A660P1")
    fake_platform.fail_next("401")  # our app refused: the plate fails, the rest is left

    response = admin_en.post(
        f"{CHANGELIST}{entry.pk}/change/",
        entry_form(plate="川A660P1", holder="李四", reason="起始时间改到昨天"),
    )

    assert WhitelistEntry.objects.get().holder == "李四"
    (warning,) = levels(response)[messages.WARNING]
    assert "川A660P1" in warning
    # What the platform answered, in words.
    assert (
        "The platform answered: unknown app or wrong signature (simulated failure 401)." in warning
    )


def test_without_a_platform_the_warning_says_nothing_was_sent(admin_en, settings):
    settings.PLATFORM_API_BASE = ""

    response = admin_en.post(ADD, entry_form(plate="川A660P1"))

    found = levels(response)
    assert messages.SUCCESS not in found
    (warning,) = found[messages.WARNING]
    assert "not configured" in warning and "川A660P1" in warning


def test_a_bulk_action_names_ten_plates_and_counts_the_rest(admin_en, fake_platform):
    entries = [WhitelistEntryFactory(plate=f"川A{n:05d}") for n in range(12)]
    fake_platform.fail_next("1500", times=12)

    response = admin_en.post(
        CHANGELIST,
        {
            "action": "disable_entries",
            "_selected_action": [entry.pk for entry in entries],
            "apply": "1",
            "reason": "退租",
        },
    )

    found = levels(response)
    assert messages.SUCCESS not in found
    assert found[messages.INFO] == ["Disabled 12 entries (0 already disabled)."]
    (warning,) = found[messages.WARNING]
    assert "川A00009 and others (12 plates)" in warning
    assert "川A00010" not in warning
    assert FAILED_LINK in warning


def test_the_inline_import_warns_in_chinese(superuser, fake_platform, settings):
    settings.SCHEDULE_SYNC_MINUTES = 5
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(superuser)
    content = HEADER + "川A660P1,,2026-01-01,,1,张三,\r\n川B12345,,2026-01-01,,1,李四,\r\n"
    previewed = preview(client, content.encode())
    fake_platform.fail_next("1500")  # the first plate sent: 川A660P1

    response = client.post(PROCESS, {"token": token_of(previewed)})

    assert WhitelistEntry.objects.count() == 2
    found = levels(response)
    assert messages.SUCCESS not in found
    (warning,) = found[messages.WARNING]
    assert "平台未确认以下车牌：川A660P1" in warning
    assert "川B12345" not in warning  # confirmed
    assert "每 5 分钟" in warning and "立即同步" in warning
    assert FAILED_LINK in warning and "查看同步失败的车牌" in warning
    assert fake_platform.status_of("川B12345") == 1


def test_the_expiring_filter_lists_the_entries_ending_within_seven_days(admin_en):
    now = timezone.now()
    day = timedelta(days=1)
    WhitelistEntryFactory(plate="川A00001", valid_from=now - day, valid_until=now + 2 * day)
    WhitelistEntryFactory(plate="川A00002", valid_from=now - day, valid_until=now + 6.9 * day)
    WhitelistEntryFactory(plate="川A00003", valid_from=now - day, valid_until=now + 8 * day)
    WhitelistEntryFactory(plate="川A00004", valid_from=now - 9 * day, valid_until=now - day)
    WhitelistEntryFactory(plate="川A00005", valid_from=now - day, valid_until=None)

    listed = admin_en.get(CHANGELIST, {"expiring": "7d"})
    everything = admin_en.get(CHANGELIST)

    assert plates_listed(listed) == ["川A00001", "川A00002"]
    assert len(plates_listed(everything)) == 5
    assert "?expiring=7d" in everything.content.decode()  # offered beside the other filters


@pytest.mark.parametrize("value", ["30d", "", "7d\x00", "' OR 1=1"])
def test_the_expiring_filter_refuses_what_it_does_not_offer(admin_en, value):
    WhitelistEntryFactory(plate="川A00001", valid_until=timezone.now() + timedelta(days=1))

    response = admin_en.get(CHANGELIST, {"expiring": value})

    assert response.status_code in (200, 302, 400)
    if response.status_code == 200:
        assert plates_listed(response) == []


def test_the_warning_tells_the_platforms_answer_in_chinese(superuser, fake_platform):
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    client.force_login(superuser)
    fake_platform.fail_next("1500")

    response = client.post(ADD, entry_form(plate="川A660P1"))

    (warning,) = levels(response)[messages.WARNING]
    assert "平台应答：平台内部错误（simulated failure 1500）。" in warning
