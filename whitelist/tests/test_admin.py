"""The whitelist admin through the test client: list, search, filters, forms, actions, history."""

from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.utils import timezone

from whitelist.models import WhitelistEntry
from whitelist.tests.conftest import CHANGELIST
from whitelist.tests.factories import ParkFactory, WhitelistEntryFactory

pytestmark = pytest.mark.django_db

ADD = CHANGELIST + "add/"


def plates_listed(response) -> list[str]:
    return [entry.plate for entry in response.context["cl"].result_list]


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def china(value) -> tuple[str, str]:
    """Return the admin's split date and time fields for an aware datetime."""
    local = timezone.localtime(value)
    return local.strftime("%Y-%m-%d"), local.strftime("%H:%M:%S")


def entry_form(**overrides) -> dict[str, str]:
    start = timezone.now() - timedelta(days=1)
    data = {
        "plate": "川A660P1",
        "park_uuid": "",
        "park_uuid_other": "",
        "valid_from_0": china(start)[0],
        "valid_from_1": china(start)[1],
        "valid_until_0": "",
        "valid_until_1": "",
        "is_active": "on",
        "holder": "张三",
        "note": "",
    }
    data.update(overrides)
    return data


# --- the list ----------------------------------------------------------------------------------


def test_list_shows_status_park_name_and_all_parks(admin_en, entry_in_each_status):
    park = ParkFactory(name="万象城停车场")
    WhitelistEntryFactory(plate="川B12345", park_uuid=park.park_uuid)
    WhitelistEntryFactory(plate="川B12346", park_uuid="not-seen-yet-uuid")

    response = admin_en.get(CHANGELIST)

    assert response.status_code == 200
    html = response.content.decode()
    for label in ("Active", "Not yet valid", "Expired", "Disabled"):
        assert f">{label}</span>" in html
    assert "万象城停车场" in html
    assert "not-seen-yet-uuid" in html
    assert "All parks" in html
    assert "Import" in html and "Export" in html


def test_list_query_count_does_not_grow_with_the_entries(admin_en, django_assert_max_num_queries):
    parks = [ParkFactory() for _ in range(5)]
    for index in range(40):
        WhitelistEntryFactory(park_uuid=parks[index % 5].park_uuid if index % 4 else "")

    with django_assert_max_num_queries(8):
        response = admin_en.get(CHANGELIST)

    assert response.status_code == 200
    assert len(response.context["cl"].result_list) == 40
    for park in parks:
        assert park.name in response.content.decode()


@pytest.mark.parametrize("typed", ["川a 660p1", "川Ａ·660P1", "川A-660P1", "660p1", " 川A660P1 "])
def test_search_finds_a_plate_however_it_is_typed(admin_en, typed):
    WhitelistEntryFactory(plate="川A660P1")
    WhitelistEntryFactory(plate="川B12345")

    response = admin_en.get(CHANGELIST, {"q": typed})

    assert plates_listed(response) == ["川A660P1"]


def test_search_finds_the_holder(admin_en):
    WhitelistEntryFactory(plate="川A660P1", holder="李四")
    WhitelistEntryFactory(plate="川B12345", holder="王五")

    response = admin_en.get(CHANGELIST, {"q": "李四"})

    assert plates_listed(response) == ["川A660P1"]


@pytest.mark.parametrize("status", ["active", "not_yet_valid", "expired", "disabled"])
def test_status_filter_lists_only_that_status(admin_en, entry_in_each_status, status):
    response = admin_en.get(CHANGELIST, {"status": status})

    assert plates_listed(response) == [entry_in_each_status[status].plate]


def test_status_filter_counts_an_entry_ending_now_as_expired(admin_en, now):
    WhitelistEntryFactory(plate="川A00001", valid_from=now - timedelta(days=2), valid_until=now)

    assert plates_listed(admin_en.get(CHANGELIST, {"status": "expired"})) == ["川A00001"]
    assert plates_listed(admin_en.get(CHANGELIST, {"status": "active"})) == []


def test_park_filter_offers_the_parks_by_name_and_filters_exactly(admin_en):
    park = ParkFactory(name="太古里停车场")
    WhitelistEntryFactory(plate="川A00001", park_uuid=park.park_uuid)
    WhitelistEntryFactory(plate="川A00002", park_uuid="")
    WhitelistEntryFactory(plate="川A00003", park_uuid="unknown-park")

    page = admin_en.get(CHANGELIST)
    cl = page.context["cl"]
    (park_filter,) = [spec for spec in cl.filter_specs if spec.parameter_name == "park"]
    choices = [choice["display"] for choice in park_filter.choices(cl)]
    assert "太古里停车场" in choices and "unknown-park" in choices and "All parks" in choices

    assert plates_listed(admin_en.get(CHANGELIST, {"park": park.park_uuid})) == ["川A00001"]
    assert plates_listed(admin_en.get(CHANGELIST, {"park": "-"})) == ["川A00002"]
    assert plates_listed(admin_en.get(CHANGELIST, {"park": "unknown-park"})) == ["川A00003"]


def test_filters_show_counts_on_request(admin_en, entry_in_each_status):
    response = admin_en.get(CHANGELIST, {"_facets": "True"})

    assert response.status_code == 200
    assert "Expired (1)" in response.content.decode()


# --- add and change -----------------------------------------------------------------------------


def test_add_stores_the_plate_normalised(admin_en):
    response = admin_en.post(ADD, entry_form(plate="川a 660p1"))

    assert response.status_code == 302
    entry = WhitelistEntry.objects.get()
    assert entry.plate == "川A660P1"
    assert entry.holder == "张三"


def test_add_with_a_bad_plate_explains_the_rule(admin_en):
    response = admin_en.post(ADD, entry_form(plate="XA12345"))

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors["plate"]
    assert "“XA12345” does not start with a province abbreviation such as 京, 沪 or 粤." in errors
    assert not WhitelistEntry.objects.exists()


def test_add_with_valid_until_not_after_valid_from_is_refused(admin_en):
    start = timezone.now()
    response = admin_en.post(
        ADD,
        entry_form(
            valid_from_0=china(start)[0],
            valid_from_1="10:00:00",
            valid_until_0=china(start)[0],
            valid_until_1="10:00:00",
        ),
    )

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors["valid_until"]
    assert len(errors) == 1
    assert "must be later than “valid from”" in errors[0]
    assert not WhitelistEntry.objects.exists()


def test_add_with_an_unparseable_start_reports_only_that(admin_en):
    response = admin_en.post(ADD, entry_form(valid_from_0="tomorrow"))

    form = response.context["adminform"].form
    assert set(form.errors) == {"valid_from"}


def test_add_overlapping_entry_warns_but_saves(admin_en, now):
    park = ParkFactory()
    WhitelistEntryFactory(
        plate="川A660P1", park_uuid=park.park_uuid, valid_from=now - timedelta(days=30)
    )

    response = admin_en.post(ADD, entry_form(park_uuid=park.park_uuid), follow=True)

    assert WhitelistEntry.objects.filter(plate="川A660P1").count() == 2
    warnings = [m for m in response.context["messages"] if m.level_tag == "warning"]
    assert len(warnings) == 1
    assert "川A660P1 already has another enabled entry for the same park" in str(warnings[0])


@pytest.mark.parametrize(
    "other",
    [
        {"park_uuid": "another-park"},  # another park
        {"is_active": False},  # disabled
        {"valid_until_days": -2},  # ended before the new one starts
    ],
)
def test_add_without_overlap_does_not_warn(admin_en, now, other):
    other = dict(other)
    days = other.pop("valid_until_days", None)
    WhitelistEntryFactory(
        plate="川A660P1",
        valid_from=now - timedelta(days=30),
        valid_until=now + timedelta(days=days) if days else None,
        **other,
    )

    response = admin_en.post(ADD, entry_form(), follow=True)

    assert WhitelistEntry.objects.filter(plate="川A660P1").count() == 2
    assert not [m for m in response.context["messages"] if m.level_tag == "warning"]


def test_add_form_offers_known_parks_and_all_parks(admin_en):
    ParkFactory(name="来福士停车场", park_uuid="park-lfs")

    html = admin_en.get(ADD).content.decode()

    assert '<option value="park-lfs">来福士停车场 (park-lfs)</option>' in html
    assert "All parks" in html
    assert 'name="park_uuid_other"' in html


def test_add_accepts_a_park_uuid_not_seen_yet(admin_en):
    ParkFactory(park_uuid="park-known")

    response = admin_en.post(
        ADD, entry_form(park_uuid="park-known", park_uuid_other="  park-brand-new  ")
    )

    assert response.status_code == 302
    assert WhitelistEntry.objects.get().park_uuid == "park-brand-new"


def test_change_form_keeps_an_unknown_park_selectable(admin_en):
    entry = WhitelistEntryFactory(park_uuid="park-unknown")

    response = admin_en.get(f"{CHANGELIST}{entry.pk}/change/")

    assert '<option value="park-unknown" selected>park-unknown</option>' in (
        response.content.decode()
    )


def test_edit_records_history_with_the_user_and_the_changed_field(admin_en, superuser):
    entry = WhitelistEntryFactory(plate="川A660P1", holder="张三")
    form = entry_form(holder="李四")
    form["valid_from_0"], form["valid_from_1"] = china(entry.valid_from)

    assert admin_en.post(f"{CHANGELIST}{entry.pk}/change/", form).status_code == 302

    latest = entry.history.latest()
    assert latest.history_user == superuser
    assert latest.history_type == "~"
    assert [change.field for change in latest.diff_against(latest.prev_record).changes] == [
        "holder"
    ]
    page = admin_en.get(f"{CHANGELIST}{entry.pk}/history/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "root" in html
    assert "张三" in html and "李四" in html


# --- bulk actions -------------------------------------------------------------------------------


def action(client, name: str, entries, **extra):
    return client.post(
        CHANGELIST,
        {"action": name, "_selected_action": [entry.pk for entry in entries], **extra},
        follow=True,
    )


def test_disable_action_disables_records_history_and_touches_updated_at(admin_en, superuser):
    entries = [WhitelistEntryFactory(), WhitelistEntryFactory(), WhitelistEntryFactory()]
    before = {entry.pk: entry.updated_at for entry in entries}

    response = action(admin_en, "disable_entries", entries[:2], apply="1", reason="退租")

    assert "Disabled 2 entries (0 already disabled)." in messages_of(response)
    for entry in entries[:2]:
        entry.refresh_from_db()
        assert not entry.is_active
        assert entry.updated_at > before[entry.pk]
        record = entry.history.latest()
        assert (record.history_user, record.history_type, record.is_active) == (
            superuser,
            "~",
            False,
        )
        assert record.history_change_reason == "退租"  # the reason given, kept in the history
    entries[2].refresh_from_db()
    assert entries[2].is_active
    assert entries[2].history.count() == 1


def test_enable_action_enables_only_disabled_entries(admin_en):
    disabled = WhitelistEntryFactory(is_active=False)
    enabled = WhitelistEntryFactory()

    response = action(admin_en, "enable_entries", [disabled, enabled])

    assert "Enabled 1 entry (1 already enabled)." in messages_of(response)
    disabled.refresh_from_db()
    assert disabled.is_active
    assert disabled.history.latest().history_change_reason == "Bulk enable"
    assert enabled.history.count() == 1


def test_valid_until_action_first_asks_for_the_date_or_days(admin_en):
    entries = [WhitelistEntryFactory(plate="川A00001"), WhitelistEntryFactory(plate="川A00002")]

    response = action(admin_en, "change_valid_until", entries)

    assert response.status_code == 200
    html = response.content.decode()
    assert "This changes 2 entries" in html
    assert "川A00001" in html and "川A00002" in html
    assert 'name="extend_days"' in html and 'name="valid_until_0"' in html
    assert WhitelistEntry.objects.filter(valid_until__isnull=False).count() == 0


def test_valid_until_action_sets_the_new_end(admin_en, superuser):
    entries = [WhitelistEntryFactory(), WhitelistEntryFactory()]

    response = action(
        admin_en,
        "change_valid_until",
        entries,
        apply="1",
        valid_until_0="2030-06-30",
        valid_until_1="00:00:00",
        reason="合同到期",
    )

    assert "Set “valid until” of 2 entries to 2030-06-30 00:00." in messages_of(response)
    for entry in entries:
        entry.refresh_from_db()
        assert timezone.localtime(entry.valid_until).strftime("%Y-%m-%d %H:%M") == (
            "2030-06-30 00:00"
        )
        assert entry.history.latest().history_user == superuser


def test_valid_until_action_extends_by_days_and_leaves_open_ended_entries(admin_en, now):
    end = now + timedelta(days=3)
    ending = WhitelistEntryFactory(valid_until=end)
    open_ended = WhitelistEntryFactory(valid_until=None)

    response = action(
        admin_en, "change_valid_until", [ending, open_ended], apply="1", extend_days="30"
    )

    assert "Extended 1 entry by 30 days; 1 entry without an end was left as it is." in messages_of(
        response
    )
    ending.refresh_from_db()
    open_ended.refresh_from_db()
    assert ending.valid_until == end + timedelta(days=30)
    assert open_ended.valid_until is None
    assert ending.history.latest().history_change_reason == "Bulk extend by 30 days"
    assert open_ended.history.count() == 1


def test_valid_until_action_on_all_filtered_entries_changes_only_those(admin_en, now):
    expired = [
        WhitelistEntryFactory(
            valid_from=now - timedelta(days=9), valid_until=now - timedelta(days=2)
        )
        for _ in range(3)
    ]
    active = WhitelistEntryFactory(valid_until=now + timedelta(days=2))

    question = admin_en.post(
        CHANGELIST + "?status=expired",
        {"action": "change_valid_until", "_selected_action": [expired[0].pk], "select_across": "1"},
    )
    assert "This changes 3 entries" in question.content.decode()
    admin_en.post(
        CHANGELIST + "?status=expired",
        {
            "action": "change_valid_until",
            "_selected_action": [expired[0].pk],
            "select_across": "1",
            "apply": "1",
            "extend_days": "7",
        },
    )

    for entry in expired:
        entry.refresh_from_db()
        assert entry.valid_until == now + timedelta(days=5)
    active.refresh_from_db()
    assert active.valid_until == now + timedelta(days=2)


def test_valid_until_action_wants_exactly_one_of_date_and_days(admin_en):
    entry = WhitelistEntryFactory()

    response = action(
        admin_en,
        "change_valid_until",
        [entry],
        apply="1",
        extend_days="30",
        valid_until_0="2030-06-30",
        valid_until_1="00:00:00",
    )

    assert response.status_code == 200
    assert "not both" in response.content.decode()
    entry.refresh_from_db()
    assert entry.valid_until is None


def test_valid_until_action_before_an_entrys_start_changes_nothing(admin_en, now):
    early = WhitelistEntryFactory(plate="川A00001", valid_from=now - timedelta(days=5))
    late = WhitelistEntryFactory(plate="川A00002", valid_from=now + timedelta(days=50))
    until = now + timedelta(days=10)

    response = action(
        admin_en,
        "change_valid_until",
        [early, late],
        apply="1",
        valid_until_0=china(until)[0],
        valid_until_1=china(until)[1],
    )

    assert any("Nothing was changed" in m and "川A00002" in m for m in messages_of(response))
    assert not WhitelistEntry.objects.filter(valid_until__isnull=False).exists()


def test_operator_with_whitelist_permissions_can_use_every_page(operator_en, operator):
    entry = WhitelistEntryFactory()

    assert operator_en.get(CHANGELIST).status_code == 200
    assert operator_en.get(ADD).status_code == 200
    assert operator_en.get(CHANGELIST + "import/").status_code == 200
    assert operator_en.get(CHANGELIST + "export/").status_code == 200
    assert operator_en.get(f"{CHANGELIST}{entry.pk}/history/").status_code == 200
    action(operator_en, "disable_entries", [entry], apply="1", reason="退租")
    entry.refresh_from_db()
    assert not entry.is_active
    assert entry.history.latest().history_user == operator


def test_view_only_staff_can_neither_change_nor_import(viewer_en):
    entry = WhitelistEntryFactory()

    assert viewer_en.get(CHANGELIST).status_code == 200
    assert viewer_en.get(ADD).status_code == 403
    assert viewer_en.get(CHANGELIST + "import/").status_code == 403
    response = viewer_en.post(
        CHANGELIST, {"action": "disable_entries", "_selected_action": [entry.pk]}
    )
    assert response.status_code == 200  # the action is not offered: "No action selected."
    entry.refresh_from_db()
    assert entry.is_active
    assert "Import" not in viewer_en.get(CHANGELIST).content.decode()
