"""The change reason in the admin: every page that can disable, delete or shorten an entry asks
it, refuses the change without one (nothing changed, a clear message) and keeps it in the
history; other changes need none."""

from datetime import UTC, datetime

import pytest
from django.conf import settings
from django.test import Client

from whitelist.models import WhitelistEntry
from whitelist.tests.conftest import CHANGELIST
from whitelist.tests.factories import WhitelistEntryFactory
from whitelist.tests.services.test_sync import change_form
from whitelist.tests.test_admin import action, messages_of
from whitelist.tests.test_import import CHINESE_HEADER, confirm, preview

pytestmark = pytest.mark.django_db

REQUIRED = "请填写变更原因：此次变更会停用、删除或缩短白名单条目。"
TOO_LONG = "变更原因最多 100 个字符（现有 10000 个）。"


@pytest.fixture
def admin_zh(superuser) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    client.force_login(superuser)
    return client


@pytest.fixture
def entry():
    return WhitelistEntryFactory(plate="川A660P1", valid_until=datetime(2030, 1, 1, tzinfo=UTC))


def latest(entry: WhitelistEntry):
    return WhitelistEntry.history.filter(id=entry.pk).latest()


def reason_errors(response) -> list[str]:
    return list(response.context["adminform"].form.errors.get("reason", []))


# --- the change form -----------------------------------------------------------------------------


@pytest.mark.parametrize("reason", ["", "   \t\n", "\u3000"])
def test_disabling_in_the_form_without_a_reason_is_refused_and_changes_nothing(
    admin_zh, entry, reason
):
    response = admin_zh.post(
        f"{CHANGELIST}{entry.pk}/change/", change_form(entry, is_active="", reason=reason)
    )

    assert response.status_code == 200
    assert reason_errors(response) == [REQUIRED]
    assert "变更原因" in response.content.decode()
    entry.refresh_from_db()
    assert entry.is_active
    assert entry.history.count() == 1


def test_shortening_in_the_form_with_a_reason_keeps_it_in_the_history(admin_zh, entry):
    response = admin_zh.post(
        f"{CHANGELIST}{entry.pk}/change/",
        change_form(
            entry, valid_until_0="2029-01-01", valid_until_1="00:00:00", reason=" 提前退租 "
        ),
    )

    assert response.status_code == 302
    entry.refresh_from_db()
    assert entry.valid_until == datetime(2028, 12, 31, 16, 0, tzinfo=UTC)
    assert latest(entry).history_change_reason == "提前退租"


def test_a_change_that_takes_nothing_away_needs_no_reason(admin_zh, entry):
    response = admin_zh.post(
        f"{CHANGELIST}{entry.pk}/change/",
        change_form(entry, holder="李四", valid_until_0="", valid_until_1=""),  # open-ended now
    )

    assert response.status_code == 302
    entry.refresh_from_db()
    assert (entry.holder, entry.valid_until) == ("李四", None)
    assert latest(entry).history_change_reason is None


def test_a_reason_with_a_nul_character_is_refused_without_an_error_page(admin_zh, entry):
    response = admin_zh.post(
        f"{CHANGELIST}{entry.pk}/change/", change_form(entry, is_active="", reason="\x00")
    )

    assert response.status_code == 200
    assert reason_errors(response)
    entry.refresh_from_db()
    assert entry.is_active


def test_a_reason_of_ten_thousand_characters_is_refused_with_the_limit(admin_zh, entry):
    response = admin_zh.post(
        f"{CHANGELIST}{entry.pk}/change/", change_form(entry, is_active="", reason="x" * 10_000)
    )

    assert response.status_code == 200
    assert reason_errors(response) == [TOO_LONG]
    entry.refresh_from_db()
    assert entry.is_active


def test_the_add_form_asks_no_reason(admin_zh):
    page = admin_zh.get(CHANGELIST + "add/").content.decode()
    assert 'name="reason"' not in page


# --- the bulk actions --------------------------------------------------------------------------


def test_the_disable_action_asks_the_reason_first(admin_zh, entry):
    asked = action(admin_zh, "disable_entries", [entry])

    assert 'name="reason"' in asked.content.decode()
    entry.refresh_from_db()
    assert entry.is_active

    refused = action(admin_zh, "disable_entries", [entry], apply="1", reason="  ")
    assert refused.context["form"].errors["reason"] == [REQUIRED]
    entry.refresh_from_db()
    assert entry.is_active

    action(admin_zh, "disable_entries", [entry], apply="1", reason="车辆已出售")
    entry.refresh_from_db()
    assert not entry.is_active
    assert latest(entry).history_change_reason == "车辆已出售"


def test_the_enable_action_needs_no_reason(admin_zh):
    entry = WhitelistEntryFactory(is_active=False)

    action(admin_zh, "enable_entries", [entry])

    entry.refresh_from_db()
    assert entry.is_active


def test_an_earlier_end_from_the_valid_until_action_needs_a_reason(admin_zh, entry):
    earlier = {"apply": "1", "valid_until_0": "2029-01-01", "valid_until_1": "00:00:00"}

    refused = action(admin_zh, "change_valid_until", [entry], **earlier)

    assert refused.context["form"].errors["reason"] == [REQUIRED]
    entry.refresh_from_db()
    assert entry.valid_until == datetime(2030, 1, 1, tzinfo=UTC)

    action(admin_zh, "change_valid_until", [entry], **earlier, reason="合同缩短")
    entry.refresh_from_db()
    assert entry.valid_until == datetime(2028, 12, 31, 16, 0, tzinfo=UTC)
    assert latest(entry).history_change_reason == "合同缩短"


def test_a_later_end_or_an_extension_needs_no_reason(admin_zh, entry):
    later = {"apply": "1", "valid_until_0": "2031-01-01", "valid_until_1": "00:00:00"}
    action(admin_zh, "change_valid_until", [entry], **later)
    action(admin_zh, "change_valid_until", [entry], apply="1", extend_days="30")

    entry.refresh_from_db()
    assert entry.valid_until == datetime(2031, 1, 30, 16, 0, tzinfo=UTC)


# --- deleting ------------------------------------------------------------------------------------


def test_deleting_one_entry_asks_the_reason_on_the_confirmation(admin_zh, entry):
    url = f"{CHANGELIST}{entry.pk}/delete/"
    assert 'name="reason"' in admin_zh.get(url).content.decode()

    refused = admin_zh.post(url, {"post": "yes", "reason": " "})

    assert refused.status_code == 200
    assert refused.context["reason_form"].errors["reason"] == [REQUIRED]
    assert REQUIRED in refused.content.decode()
    assert WhitelistEntry.objects.filter(pk=entry.pk).exists()

    # Django takes any POST as the confirmation: without "post" too, the reason is asked.
    bare = admin_zh.post(url, {})
    assert bare.status_code == 200
    assert bare.context["reason_form"].errors["reason"] == [REQUIRED]
    assert WhitelistEntry.objects.filter(pk=entry.pk).exists()

    deleted = admin_zh.post(url, {"post": "yes", "reason": "车主退租"})

    assert deleted.status_code == 302
    history_url = f"{CHANGELIST}{entry.pk}/history/"
    assert any(history_url in message for message in messages_of(deleted))
    assert not WhitelistEntry.objects.filter(pk=entry.pk).exists()
    record = latest(entry)
    assert (record.history_type, record.history_change_reason) == ("-", "车主退租")
    # The deleted entry's history page shows the reason too.
    history = admin_zh.get(history_url).content.decode()
    assert "车主退租" in history and "变更原因" in history


def test_deleting_selected_entries_asks_one_reason(admin_zh, entry):
    other = WhitelistEntryFactory()

    refused = action(admin_zh, "delete_selected", [entry, other], post="yes")

    assert refused.context["reason_form"].errors["reason"] == [REQUIRED]
    assert WhitelistEntry.objects.count() == 2

    action(admin_zh, "delete_selected", [entry, other], post="yes", reason="x" * 10_000)
    assert WhitelistEntry.objects.count() == 2

    done = action(admin_zh, "delete_selected", [entry, other], post="yes", reason="批量清理")

    assert not WhitelistEntry.objects.exists()
    assert done.status_code == 200
    reasons = WhitelistEntry.history.filter(history_type="-").values_list(
        "history_change_reason", flat=True
    )
    assert sorted(reasons) == ["批量清理", "批量清理"]


# --- the import --------------------------------------------------------------------------------


def test_an_import_that_disables_entries_asks_one_reason_for_them(admin_zh, entry):
    content = (
        CHINESE_HEADER
        + "川A660P1,,2020-01-01 08:00,2030-01-01 08:00,否,,\r\n"  # disables the entry
        + "粤B12345,,2026-01-01,,是,李四,\r\n"  # a new one
    ).encode("utf-8-sig")

    previewed = preview(admin_zh, content)

    assert previewed.context["result"].narrowing == 1
    assert "有 1 行会停用或缩短现有条目" in previewed.content.decode()
    refused = confirm(admin_zh, previewed, reason="  ")
    assert REQUIRED in messages_of(refused)
    entry.refresh_from_db()
    assert entry.is_active
    assert not WhitelistEntry.objects.filter(plate="粤B12345").exists()

    # The file is still pending: its preview is shown again, and confirmed with a reason.
    again = admin_zh.get(CHANGELIST + "import/?page=1")
    confirm(admin_zh, again, reason="年度清理")
    entry.refresh_from_db()
    assert not entry.is_active
    assert latest(entry).history_change_reason == "年度清理"
    added = WhitelistEntry.objects.get(plate="粤B12345")
    assert latest(added).history_change_reason == "从 whitelist.csv 导入"  # not narrowing


def test_an_import_that_only_adds_asks_no_reason(admin_zh):
    previewed = preview(admin_zh, (CHINESE_HEADER + "粤B12345,,2026-01-01,,是,李四,\r\n").encode())

    assert "reason" not in previewed.context["confirm_form"].fields
    confirm(admin_zh, previewed)
    assert WhitelistEntry.objects.filter(plate="粤B12345").exists()


def test_a_revert_that_shortens_the_entry_asks_the_reason(admin_zh, entry):
    first = latest(entry)
    entry.valid_until = datetime(2031, 1, 1, tzinfo=UTC)
    entry.save()
    url = f"{CHANGELIST}{entry.pk}/history/{first.pk}/"

    form = change_form(entry, valid_until_0="2030-01-01", valid_until_1="08:00:00")
    refused = admin_zh.post(url, form)

    assert refused.status_code == 200
    assert reason_errors(refused) == [REQUIRED]
    entry.refresh_from_db()
    assert entry.valid_until == datetime(2031, 1, 1, tzinfo=UTC)

    admin_zh.post(url, {**form, "reason": "恢复原合同"})
    entry.refresh_from_db()
    assert entry.valid_until == datetime(2030, 1, 1, tzinfo=UTC)
    assert latest(entry).history_change_reason == "恢复原合同"
