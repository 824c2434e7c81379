"""Whitelist sync to the platform, over real HTTP against the fake platform.

Admin changes sync after their transaction commits: ``committed()`` runs those on-commit
callbacks (pytest-django's ``django_capture_on_commit_callbacks(execute=True)``).
"""

import functools
import logging
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.forms.models import model_to_dict

from parkingops.pcloud.client import PlatformClient
from whitelist.models import PlateSync, WhitelistEntry
from whitelist.services import sync as sync_services
from whitelist.tests.conftest import CHANGELIST
from whitelist.tests.factories import WhitelistEntryFactory
from whitelist.tests.test_admin import ADD, action, china, entry_form, messages_of
from whitelist.tests.test_import import CHINESE_HEADER, confirm, preview
from whitelist.tests.test_import import china as china_moment

pytestmark = pytest.mark.django_db

PLATE = "川A660P1"
UNREACHABLE = "http://127.0.0.1:9/"  # the discard port: nothing listens, the connection fails


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Return a context manager that runs the on-commit callbacks of what happens inside."""
    return functools.partial(django_capture_on_commit_callbacks, execute=True)


@pytest.fixture
def synced_entry(fake_platform):
    """Create an entry and sync its plate, so the platform holds it; return the factory."""

    def create(**fields) -> WhitelistEntry:
        entry = WhitelistEntryFactory(**fields)
        assert sync_services.sync_now(plates=[entry.plate]).synced == [entry.plate]
        return entry

    return create


def sync_of(plate: str) -> PlateSync:
    return PlateSync.objects.get(plate=plate)


def sync_whitelist(*args: str) -> str:
    out = StringIO()
    call_command("sync_whitelist", *args, stdout=out)
    return out.getvalue()


def change_form(entry: WhitelistEntry, **overrides) -> dict[str, str]:
    """Return the change form's data for ``entry`` as it is, with ``overrides``."""
    data = entry_form(plate=entry.plate, holder=entry.holder, note=entry.note)
    data["valid_from_0"], data["valid_from_1"] = china(entry.valid_from)
    if not entry.is_active:
        del data["is_active"]
    data.update(overrides)
    return data


def platform_calls(fake_platform) -> list[tuple[str, str, str]]:
    """Return the whitelist calls the platform received as (method, plate, status)."""
    return [
        (call["method"], call["params"].get("plate", ""), call["params"].get("status", ""))
        for call in fake_platform.calls
    ]


# --- admin changes sync after the commit -------------------------------------------------------


def test_adding_a_plate_in_the_admin_enables_it_at_the_platform(admin_en, fake_platform, committed):
    with committed():
        response = admin_en.post(ADD, entry_form(plate="川a 660p1"))

    assert response.status_code == 302
    assert fake_platform.status_of(PLATE) == 1
    sync = sync_of(PLATE)
    assert (sync.state, sync.wanted_status, sync.confirmed_status) == ("synced", 1, 1)
    assert sync.message == "success"
    assert sync.synced_at is not None and sync.attempted_at == sync.synced_at
    assert ">Synced</span>" in admin_en.get(CHANGELIST).content.decode()


def test_nothing_is_sent_before_the_transaction_commits(admin_en, fake_platform):
    # Without running the on-commit callbacks (the test's transaction never commits), the
    # plate is only marked pending.
    admin_en.post(ADD, entry_form())

    assert fake_platform.calls == []
    assert sync_of(PLATE).state == "pending"
    assert sync_of(PLATE).wanted_status == 1


def test_unticking_active_in_the_change_form_disables_the_plate(
    admin_en, synced_entry, fake_platform, committed
):
    entry = synced_entry(plate=PLATE)

    with committed():
        response = admin_en.post(
            f"{CHANGELIST}{entry.pk}/change/", change_form(entry, is_active="", reason="租户退租")
        )

    assert response.status_code == 302
    assert fake_platform.status_of(PLATE) == 0
    assert platform_calls(fake_platform)[-1] == ("POST", PLATE, "0")
    assert (sync_of(PLATE).state, sync_of(PLATE).confirmed_status) == ("synced", 0)


def test_editing_other_fields_resends_the_same_status(
    admin_en, synced_entry, fake_platform, committed
):
    entry = synced_entry(plate=PLATE)

    with committed():
        admin_en.post(f"{CHANGELIST}{entry.pk}/change/", change_form(entry, holder="李四"))

    assert platform_calls(fake_platform)[-1] == ("POST", PLATE, "1")
    assert sync_of(PLATE).state == "synced"


def test_changing_the_plate_removes_the_old_plate_and_enables_the_new_one(
    admin_en, synced_entry, fake_platform, committed
):
    entry = synced_entry(plate="川A00001")

    with committed():
        admin_en.post(
            f"{CHANGELIST}{entry.pk}/change/", change_form(entry, plate="川B00002", reason="换车")
        )

    assert fake_platform.status_of("川A00001") is None
    assert fake_platform.status_of("川B00002") == 1
    assert not PlateSync.objects.filter(plate="川A00001").exists()
    assert sync_of("川B00002").state == "synced"


def test_disable_action_disables_the_plates_at_the_platform(
    admin_en, synced_entry, fake_platform, committed
):
    first, second = synced_entry(plate="川A00001"), synced_entry(plate="川A00002")

    with committed():
        action(admin_en, "disable_entries", [first, second], apply="1", reason="退租")

    assert fake_platform.status_of("川A00001") == 0
    assert fake_platform.status_of("川A00002") == 0
    assert {sync.state for sync in PlateSync.objects.all()} == {"synced"}


def test_enable_action_enables_the_plate_again(admin_en, synced_entry, fake_platform, committed):
    entry = synced_entry(plate=PLATE, is_active=False)
    assert fake_platform.status_of(PLATE) == 0

    with committed():
        action(admin_en, "enable_entries", [entry])

    assert fake_platform.status_of(PLATE) == 1


def test_extending_an_expired_entry_enables_the_plate(
    admin_en, synced_entry, fake_platform, committed, now
):
    entry = synced_entry(
        plate=PLATE, valid_from=now - timedelta(days=30), valid_until=now - timedelta(days=1)
    )
    assert fake_platform.status_of(PLATE) == 0

    with committed():
        action(admin_en, "change_valid_until", [entry], apply="1", extend_days="30")

    assert fake_platform.status_of(PLATE) == 1


def test_deleting_the_last_entry_removes_the_plate_from_the_platform(
    admin_en, synced_entry, fake_platform, committed
):
    entry = synced_entry(plate=PLATE)

    with committed():
        response = admin_en.post(
            f"{CHANGELIST}{entry.pk}/delete/", {"post": "yes", "reason": "退租"}
        )

    assert response.status_code == 302
    assert not WhitelistEntry.objects.exists()
    assert platform_calls(fake_platform)[-1] == ("DELETE", PLATE, "")
    assert fake_platform.status_of(PLATE) is None
    assert not PlateSync.objects.exists()  # nothing left to track


def test_deleting_one_of_two_entries_keeps_the_plate_enabled(
    admin_en, synced_entry, fake_platform, committed
):
    kept = synced_entry(plate=PLATE, park_uuid="park-1")
    deleted = WhitelistEntryFactory(plate=PLATE, park_uuid="park-2")

    with committed():
        action(admin_en, "delete_selected", [deleted], post="yes", reason="退租")

    assert list(WhitelistEntry.objects.all()) == [kept]
    assert platform_calls(fake_platform)[-1] == ("POST", PLATE, "1")
    assert fake_platform.status_of(PLATE) == 1
    assert sync_of(PLATE).state == "synced"


def test_deleting_the_only_active_entry_disables_a_plate_that_keeps_an_inactive_one(
    admin_en, synced_entry, fake_platform, committed
):
    active = synced_entry(plate=PLATE)
    WhitelistEntryFactory(plate=PLATE, is_active=False, valid_from=datetime(2021, 1, 1, tzinfo=UTC))

    with committed():
        action(admin_en, "delete_selected", [active], post="yes", reason="退租")

    assert fake_platform.status_of(PLATE) == 0


def test_a_confirmed_import_syncs_its_plates_and_the_preview_sends_nothing(
    admin_en, fake_platform, committed
):
    content = (
        CHINESE_HEADER
        + "川a 660p1,,2025-01-01 08:00,,1,张三,\r\n"
        + "粤B12345,park-1,2025-01-01,,0,李四,\r\n"
    ).encode("utf-8-sig")

    with committed():
        previewed = preview(admin_en, content)
    assert fake_platform.calls == []
    assert not PlateSync.objects.exists()

    with committed():
        confirm(admin_en, previewed)

    assert fake_platform.status_of(PLATE) == 1
    assert fake_platform.status_of("粤B12345") == 0
    assert {sync.state for sync in PlateSync.objects.all()} == {"synced"}


def test_an_import_changing_a_plate_by_id_syncs_both_plates(
    admin_en, synced_entry, fake_platform, committed
):
    entry = synced_entry(plate="川A00001", valid_from=china_moment("2025-01-01"))
    content = f"id,plate,valid_from\r\n{entry.pk},川B00002,2025-01-01 00:00\r\n".encode()

    with committed():
        confirm(admin_en, preview(admin_en, content), reason="换车")

    assert fake_platform.status_of("川A00001") is None
    assert fake_platform.status_of("川B00002") == 1


# --- failures and retries ------------------------------------------------------------------------


def test_a_platform_failure_keeps_the_change_and_sync_whitelist_retries_it(
    admin_en, fake_platform, committed
):
    fake_platform.fail_next("1500")

    with committed():
        response = admin_en.post(ADD, entry_form())

    assert response.status_code == 302  # the admin change is kept
    assert WhitelistEntry.objects.filter(plate=PLATE).exists()
    assert fake_platform.status_of(PLATE) is None
    sync = sync_of(PLATE)
    assert sync.state == "failed"
    assert sync.message == "1500: simulated failure 1500"
    assert sync.attempted_at is not None and sync.synced_at is None
    listed = admin_en.get(CHANGELIST).content.decode()
    assert ">Sync failed</span>" in listed
    assert (
        "Platform message: platform internal error (simulated failure 1500)" in listed
    )  # the tooltip

    output = sync_whitelist()

    assert "synced  川A660P1" in output
    assert fake_platform.status_of(PLATE) == 1
    assert (sync_of(PLATE).state, sync_of(PLATE).message) == ("synced", "success")


def test_an_unreachable_platform_never_blocks_the_admin(admin_en, settings, committed):
    settings.PLATFORM_API_BASE = UNREACHABLE

    with committed():
        response = admin_en.post(ADD, entry_form(), follow=True)

    assert response.status_code == 200
    assert WhitelistEntry.objects.filter(plate=PLATE).exists()
    sync = sync_of(PLATE)
    assert sync.state == "failed"
    assert sync.message.startswith("network: ")


def test_without_a_platform_address_changes_stay_pending_with_a_warning(
    admin_en, settings, committed, caplog
):
    settings.PLATFORM_API_BASE = ""

    with caplog.at_level(logging.WARNING, logger="whitelist.services.sync"), committed():
        response = admin_en.post(ADD, entry_form())

    assert response.status_code == 302
    assert sync_of(PLATE).state == "pending"
    assert sync_of(PLATE).attempted_at is None
    assert "PLATFORM_API_BASE is not set; 1 plate(s) stay pending" in caplog.text


def test_the_inline_attempt_is_not_retried(admin_en, fake_platform, committed, settings):
    settings.PLATFORM_API_RETRIES = 3
    fake_platform.fail_next("1500", times=2)

    with committed():
        admin_en.post(ADD, entry_form())

    assert len(fake_platform.calls) == 1
    assert sync_of(PLATE).state == "failed"


def test_a_change_during_a_failed_state_marks_the_plate_pending_again(
    admin_en, fake_platform, committed
):
    fake_platform.fail_next("1500")
    with committed():
        admin_en.post(ADD, entry_form())
    entry = WhitelistEntry.objects.get()
    assert sync_of(PLATE).state == "failed"

    admin_en.post(f"{CHANGELIST}{entry.pk}/change/", change_form(entry, holder="李四"))

    sync = sync_of(PLATE)
    assert sync.state == "pending"
    assert sync.message == "1500: simulated failure 1500"  # the last answer stays visible


# --- sync_whitelist --------------------------------------------------------------------------


def test_sync_due_enables_a_plate_when_its_window_begins(fake_platform, now):
    WhitelistEntryFactory(plate=PLATE, valid_from=now + timedelta(hours=1))
    client = PlatformClient.from_settings()

    sync_services.sync_due(client=client, now=now)
    assert fake_platform.status_of(PLATE) == 0
    sync_services.sync_due(client=client, now=now + timedelta(minutes=30))
    assert len(fake_platform.calls) == 1  # nothing changed: nothing sent

    report = sync_services.sync_due(client=client, now=now + timedelta(hours=2))

    assert report.synced == [PLATE]
    assert fake_platform.status_of(PLATE) == 1
    assert (sync_of(PLATE).state, sync_of(PLATE).confirmed_status) == ("synced", 1)


def test_sync_due_disables_a_plate_when_its_window_ends(fake_platform, now):
    WhitelistEntryFactory(
        plate=PLATE, valid_from=now - timedelta(days=1), valid_until=now + timedelta(hours=1)
    )
    client = PlatformClient.from_settings()
    sync_services.sync_due(client=client, now=now)
    assert fake_platform.status_of(PLATE) == 1

    sync_services.sync_due(client=client, now=now + timedelta(hours=2))

    assert fake_platform.status_of(PLATE) == 0
    assert sync_of(PLATE).confirmed_status == 0


def test_sync_whitelist_disables_a_plate_whose_window_ended_since_the_last_run(fake_platform, now):
    WhitelistEntryFactory(
        plate=PLATE, valid_from=now - timedelta(days=9), valid_until=now - timedelta(minutes=1)
    )
    # The last run, before the end, left it enabled and confirmed.
    PlateSync.objects.create(plate=PLATE, state="synced", wanted_status=1, confirmed_status=1)

    output = sync_whitelist()

    assert "Checked 1 plate(s): tried 1, synced 1, failed 0, left 0." in output
    assert platform_calls(fake_platform) == [("POST", PLATE, "0")]


def test_sync_whitelist_enables_a_plate_whose_window_began_since_the_last_run(fake_platform, now):
    WhitelistEntryFactory(plate=PLATE, valid_from=now - timedelta(minutes=1))
    PlateSync.objects.create(plate=PLATE, state="synced", wanted_status=0, confirmed_status=0)

    sync_whitelist()

    assert fake_platform.status_of(PLATE) == 1


def test_sync_whitelist_sends_plates_never_synced_and_removes_orphans(fake_platform):
    WhitelistEntryFactory(plate="川A00001")  # predates the sync: no row yet
    PlateSync.objects.create(plate="川A00002", state="failed", confirmed_status=1)  # deleted

    output = sync_whitelist()

    assert "synced  川A00001" in output and "synced  川A00002" in output
    assert sorted(platform_calls(fake_platform)) == [
        ("DELETE", "川A00002", ""),
        ("POST", "川A00001", "1"),
    ]
    assert list(PlateSync.objects.values_list("plate", "state")) == [("川A00001", "synced")]


def test_sync_whitelist_all_resends_every_plate(fake_platform):
    for plate in ("川A00001", "川A00002", "川A00003"):
        WhitelistEntryFactory(plate=plate, is_active=plate != "川A00003")
    sync_whitelist()
    fake_platform.reset()  # the platform lost its whitelist

    assert "tried 0" in sync_whitelist()  # in step as far as we know: nothing sent
    assert fake_platform.whitelist == {}

    output = sync_whitelist("--all")

    assert "Checked 3 plate(s): tried 3, synced 3" in output
    assert {plate: fake_platform.status_of(plate) for plate in fake_platform.whitelist} == {
        "川A00001": 1,
        "川A00002": 1,
        "川A00003": 0,
    }


def test_sync_whitelist_exits_non_zero_when_a_plate_fails(fake_platform):
    WhitelistEntryFactory(plate="川A00001")
    WhitelistEntryFactory(plate="川A00002")
    fake_platform.fail_next("1500")
    out = StringIO()

    with pytest.raises(CommandError, match="1 plate"):
        call_command("sync_whitelist", stdout=out)

    assert "FAILED  川A00001: 1500: simulated failure 1500" in out.getvalue()
    assert "synced  川A00002" in out.getvalue()  # a 1500 does not stop the others
    assert sync_of("川A00001").state == "failed"
    assert sync_of("川A00002").state == "synced"


def test_sync_whitelist_stops_when_the_platform_refuses_our_app(fake_platform):
    for plate in ("川A00001", "川A00002", "川A00003"):
        WhitelistEntryFactory(plate=plate)
    fake_platform.fail_next("401")
    out = StringIO()

    with pytest.raises(CommandError, match="3 plate"):
        call_command("sync_whitelist", stdout=out)

    assert "failed 1, left 2" in out.getvalue()
    assert len(fake_platform.calls) == 1
    assert sorted(PlateSync.objects.values_list("state", flat=True)) == [
        "failed",
        "pending",
        "pending",
    ]


def test_sync_whitelist_without_a_platform_address_fails_clearly(settings):
    settings.PLATFORM_API_BASE = ""

    with pytest.raises(CommandError, match="PLATFORM_API_BASE is not set"):
        sync_whitelist()


def test_sync_due_finds_the_plates_in_a_fixed_number_of_queries(
    fake_platform, django_assert_num_queries
):
    for index in range(20):
        WhitelistEntryFactory(plate=f"川A{index:05d}")
    client = PlatformClient.from_settings()
    sync_services.sync_due(client=client)
    assert len(fake_platform.calls) == 20

    # All in step: the plates without a row, the rows, the wanted statuses; nothing sent.
    with django_assert_num_queries(3):
        report = sync_services.sync_due(client=client)

    assert (report.checked, report.synced, report.failed) == (20, [], {})


# --- the list, the filter, the detail page and "Sync now" --------------------------------------


@pytest.fixture
def entry_in_each_sync_state(db):
    """Entries whose plates are synced, failed, pending, and never synced (no row)."""
    entries = {
        state: WhitelistEntryFactory(plate=plate)
        for state, plate in [
            ("synced", "川A00001"),
            ("failed", "川A00002"),
            ("pending", "川A00003"),
            ("never", "川A00004"),
        ]
    }
    PlateSync.objects.create(plate="川A00001", state="synced", message="success")
    PlateSync.objects.create(plate="川A00002", state="failed", message="1500: platform busy")
    PlateSync.objects.create(plate="川A00003", state="pending")
    return entries


def listed(response) -> list[str]:
    return [entry.plate for entry in response.context["cl"].result_list]


def test_list_shows_each_plates_sync_state_with_the_platform_message(
    admin_en, entry_in_each_sync_state
):
    html = admin_en.get(CHANGELIST).content.decode()

    assert html.count(">Synced</span>") == 1
    assert html.count(">Sync failed</span>") == 1
    assert html.count(">Pending</span>") == 2
    assert "Platform message: platform internal error (platform busy)" in html


@pytest.mark.parametrize(
    ("state", "plates"),
    [
        ("synced", ["川A00001"]),
        ("failed", ["川A00002"]),
        ("pending", ["川A00003", "川A00004"]),
    ],
)
def test_sync_filter_lists_only_that_state(admin_en, entry_in_each_sync_state, state, plates):
    assert listed(admin_en.get(CHANGELIST, {"sync": state})) == plates


def test_sync_filter_shows_counts_on_request(admin_en, entry_in_each_sync_state):
    html = admin_en.get(CHANGELIST, {"_facets": "True"}).content.decode()

    assert "Pending (2)" in html and "Sync failed (1)" in html


def test_list_with_sync_states_costs_a_fixed_number_of_queries(
    admin_en, django_assert_max_num_queries
):
    for index in range(40):
        entry = WhitelistEntryFactory()
        if index % 2:
            PlateSync.objects.create(plate=entry.plate, state="synced")

    with django_assert_max_num_queries(8):
        response = admin_en.get(CHANGELIST)

    assert len(response.context["cl"].result_list) == 40


def test_change_page_shows_the_sync_details(admin_en, entry_in_each_sync_state):
    entry = entry_in_each_sync_state["failed"]

    html = admin_en.get(f"{CHANGELIST}{entry.pk}/change/").content.decode()

    assert "Sync failed" in html
    assert "platform internal error (platform busy)" in html
    assert "never confirmed" in html


def test_sync_now_action_sends_the_selected_plates(admin_en, fake_platform):
    entries = [WhitelistEntryFactory(plate="川A00001"), WhitelistEntryFactory(plate="川A00002")]
    other = WhitelistEntryFactory(plate="川A00003")

    response = action(admin_en, "sync_now", entries)

    assert "Synced 2 plates with the platform." in messages_of(response)
    assert fake_platform.status_of("川A00001") == 1
    assert fake_platform.status_of("川A00002") == 1
    assert fake_platform.status_of(other.plate) is None
    assert ">Synced</span>" in response.content.decode()


def test_sync_now_action_resends_a_plate_already_synced(admin_en, synced_entry, fake_platform):
    entry = synced_entry(plate=PLATE)
    fake_platform.reset()

    action(admin_en, "sync_now", [entry])

    assert fake_platform.status_of(PLATE) == 1


def test_sync_now_action_reports_a_failure(admin_en, fake_platform):
    entry = WhitelistEntryFactory(plate=PLATE)
    fake_platform.fail_next("1500")

    response = action(admin_en, "sync_now", [entry])

    failure = next(m for m in messages_of(response) if "could not be synced" in m)
    assert failure.startswith(
        "1 plate could not be synced (川A660P1: platform internal error (simulated failure 1500)); "
        "the scheduled sync retries it every 5 minutes."
    )
    # One click to the plates that failed.
    assert 'href="/admin/whitelist/whitelistentry/?sync=failed"' in failure
    assert sync_of(PLATE).state == "failed"


def test_sync_now_action_without_a_platform_address_marks_pending(admin_en, settings):
    settings.PLATFORM_API_BASE = ""
    entry = WhitelistEntryFactory(plate=PLATE)

    response = action(admin_en, "sync_now", [entry])

    assert any("The platform is not configured" in m for m in messages_of(response))
    assert sync_of(PLATE).state == "pending"


def test_sync_now_tries_a_limited_number_of_plates_and_leaves_the_rest_pending(fake_platform):
    for plate in ("川A00001", "川A00002", "川A00003"):
        WhitelistEntryFactory(plate=plate)

    report = sync_services.sync_now(plates=["川A00001", "川A00002", "川A00003"], limit=2)

    assert (report.synced, report.left) == (["川A00001", "川A00002"], ["川A00003"])
    assert sync_of("川A00003").state == "pending"


def test_view_only_staff_are_not_offered_sync_now(viewer_en, fake_platform):
    entry = WhitelistEntryFactory()

    viewer_en.post(CHANGELIST, {"action": "sync_now", "_selected_action": [entry.pk]})

    assert fake_platform.calls == []


# --- the secret ------------------------------------------------------------------------------


def test_the_secret_is_never_recorded(admin_en, fake_platform, committed, caplog, settings):
    secrets = list(settings.PLATFORM_APP_SECRET)
    # A platform that echoes our secret back in its answer (code and message).
    fake_platform.fail_next(f"1500 {secrets[0]}")

    with caplog.at_level(logging.DEBUG), committed():
        admin_en.post(ADD, entry_form())
    failed = model_to_dict(sync_of(PLATE))
    with caplog.at_level(logging.DEBUG):
        sync_whitelist()
    synced = model_to_dict(sync_of(PLATE))

    assert failed["message"] == "1500 ***: simulated failure 1500 ***"
    assert synced["state"] == "synced"
    recorded = " ".join(str(value) for row in (failed, synced) for value in row.values())
    recorded += caplog.text
    for secret in secrets:
        assert secret not in recorded
    assert "1500 ***" in caplog.text  # the failure was logged, redacted


def test_failing_since_starts_with_the_first_failure_and_ends_with_a_success(fake_platform):
    WhitelistEntryFactory(plate=PLATE)
    fake_platform.fail_next("1500")
    sync_services.sync_now(plates=[PLATE])
    first = sync_of(PLATE).failing_since
    assert first is not None

    fake_platform.fail_next("1500")
    sync_services.sync_now(plates=[PLATE])
    assert sync_of(PLATE).attempted_at > first
    assert sync_of(PLATE).failing_since == first  # retries keep the clock

    sync_services.sync_now(plates=[PLATE])
    assert (sync_of(PLATE).state, sync_of(PLATE).failing_since) == ("synced", None)
