"""The whitelist in the integration API: list, add, change, delete, bulk upsert, CSV.

Every write must behave as the admin's: the same plate rules, the same history (with the key's
user), the same platform sync after commit (seen arriving at the fake platform).
"""

import itertools
import json
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client
from django.utils import timezone

from parkingops import api_keys
from parkingops.roles import FINANCE, OPERATIONS, apply_roles
from whitelist.models import WhitelistEntry
from whitelist.services.upsert import MAX_UPSERT_ROWS
from whitelist.tests.factories import ParkFactory, WhitelistEntryFactory

LIST = "/api/v1/whitelist/"
EXPORT = "/api/v1/whitelist/export/"
BULK = "/api/v1/whitelist/bulk/"
JSON = "application/json"

_names = itertools.count()


def entry_url(entry: WhitelistEntry) -> str:
    return f"{LIST}{entry.pk}/"


def make_user(*groups: str) -> User:
    apply_roles()
    user = User.objects.create_user(f"wl{next(_names)}", is_staff=True)
    user.groups.set(Group.objects.filter(name__in=groups))
    return user


def key_client(user: User, *, language: str = "en") -> Client:
    key = api_keys.create_api_key(user=user, name="HR system").key
    return Client(HTTP_AUTHORIZATION=f"Api-Key {key}", HTTP_ACCEPT_LANGUAGE=language)


@pytest.fixture
def hr_user(db) -> User:
    return make_user(OPERATIONS)


@pytest.fixture
def hr(hr_user) -> Client:
    """The HR system's key: its user is in the operations group."""
    return key_client(hr_user)


@pytest.fixture
def finance(db) -> Client:
    return key_client(make_user(FINANCE))


def post(client: Client, url: str, data) -> object:
    return client.post(url, json.dumps(data), content_type=JSON)


def china_iso(*args) -> str:
    return datetime(*args).isoformat() + "+08:00"


# --- List ------------------------------------------------------------------------------------


def test_list_shows_entries_by_plate_with_status_park_name_and_sync_state(finance):
    park = ParkFactory(name="一号停车场")
    WhitelistEntryFactory(plate="粤B12345")
    WhitelistEntryFactory(plate="川A660P1", park_uuid=park.park_uuid)

    body = finance.get(LIST).json()

    assert [row["plate"] for row in body["results"]] == ["川A660P1", "粤B12345"]
    first = body["results"][0]
    assert first["park_name"] == "一号停车场"
    assert first["status"] == "active"
    assert first["sync_state"] == "pending"
    assert first["valid_from"].endswith("+08:00")


@pytest.mark.parametrize(
    "name", ["plate", "park", "status", "sync", "ordering", "cursor", "page_size", "format"]
)
def test_a_list_parameter_given_empty_is_a_400_naming_it(finance, name):
    WhitelistEntryFactory()

    response = finance.get(LIST, {name: ""})

    assert response.status_code == 400
    assert list(response.json()["fields"]) == [name]


def test_reads_leave_the_warnings_out_and_writes_give_them(hr):
    created = post(hr, LIST, {"plate": "川A660P1"})
    entry_id = created.json()["id"]

    assert created.status_code == 201
    assert created.json()["warnings"] == []
    assert "warnings" not in hr.get(entry_url(WhitelistEntry(pk=entry_id))).json()
    assert "warnings" not in hr.get(LIST).json()["results"][0]
    changed = hr.patch(entry_url(WhitelistEntry(pk=entry_id)), {"note": "x"}, content_type=JSON)
    assert changed.json()["warnings"] == []


def test_list_filters_as_the_admin_does(finance):
    now = timezone.now()
    park = ParkFactory()
    active = WhitelistEntryFactory(plate="川A00001", park_uuid=park.park_uuid)
    disabled = WhitelistEntryFactory(plate="川A00002", park_uuid=park.park_uuid, is_active=False)
    everywhere = WhitelistEntryFactory(plate="川A00003", valid_until=now - timedelta(days=1))

    def ids(**params):
        response = finance.get(LIST, params)
        assert response.status_code == 200, response.content
        return [row["id"] for row in response.json()["results"]]

    assert ids(status="active", park=park.park_uuid) == [active.pk]
    assert ids(park="-") == [everywhere.pk]
    assert ids(status="expired") == [everywhere.pk]
    assert ids(plate="川a 00001") == [active.pk]
    assert ids(plate="川A0000*", sync="pending") == [active.pk, disabled.pk, everywhere.pk]
    assert finance.get(LIST, {"status": "sleeping"}).status_code == 400


def test_list_pages_by_cursor_without_repeats(finance):
    entries = [WhitelistEntryFactory(plate=f"川A{n:05d}") for n in range(5)]

    seen, url = [], f"{LIST}?page_size=2&ordering=id"
    later = itertools.count(1)
    while url:
        body = finance.get(url).json()
        seen += [row["id"] for row in body["results"]]
        url = body["next"]
        # Inserted between pages, after the cursor (each its own start: its own identity).
        WhitelistEntryFactory(
            plate="川A00000", valid_from=datetime(2021, next(later), 1, tzinfo=UTC)
        )

    assert seen[:5] == [entry.pk for entry in entries]
    assert len(seen) == len(set(seen))


def test_whitelist_csv_is_the_admins_export_byte_for_byte(db):
    user = make_user(OPERATIONS)
    park = ParkFactory()
    WhitelistEntryFactory(plate="川A00001", park_uuid=park.park_uuid, note="=1+1")
    WhitelistEntryFactory(plate="川A00001", valid_from=datetime(2024, 1, 1, tzinfo=UTC))
    WhitelistEntryFactory(plate="川A00002", park_uuid=park.park_uuid, is_active=False)
    admin = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    admin.force_login(user)

    ours = key_client(user, language="zh-hans").get(
        EXPORT, {"lang": "zh", "park": park.park_uuid, "status": "active"}
    )
    theirs = admin.get(
        f"/admin/whitelist/whitelistentry/export/?park={park.park_uuid}&status=active"
    )

    assert theirs.status_code == 200
    assert ours.status_code == 200
    body = ours.getvalue()
    assert body == theirs.getvalue()
    assert body.startswith("\ufeff".encode())
    assert "车牌" in body.decode()
    assert body.decode().count("川A00001") == 1
    assert ours["Content-Disposition"] == theirs["Content-Disposition"]
    # Without filters, every entry in the admin's order.
    everything = key_client(user).get(EXPORT, {"format": "csv", "lang": "zh-Hans"})
    assert everything.getvalue() == admin.get("/admin/whitelist/whitelistentry/export/").getvalue()


# --- Add, change, delete ---------------------------------------------------------------------


def test_create_normalises_the_plate_records_history_and_syncs(
    hr, hr_user, fake_platform, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = post(
            hr,
            LIST,
            {"plate": "川a 660p1", "valid_from": "2026-01-01T08:00:00", "holder": "张三"},
        )

    assert response.status_code == 201, response.content
    body = response.json()
    entry = WhitelistEntry.objects.get()
    assert body["plate"] == entry.plate == "川A660P1"
    assert body["valid_from"] == "2026-01-01T08:00:00+08:00"  # no offset: China time
    assert body["is_active"] is True and body["park_uuid"] == ""
    assert body["warnings"] == []
    record = entry.history.get()
    assert record.history_user == hr_user
    assert "HR system" in record.history_change_reason
    assert fake_platform.status_of("川A660P1") == 1
    assert hr.get(entry_url(entry)).json()["sync_state"] == "synced"


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"plate": "A660P1"}, "plate"),
        ({"plate": "川A66"}, "plate"),
        ({"plate": ""}, "plate"),
        ({}, "plate"),
        (
            {
                "plate": "川A660P1",
                "valid_from": "2026-01-02T00:00:00+08:00",
                "valid_until": "2026-01-01T00:00:00+08:00",
            },
            "valid_until",
        ),
        ({"plate": "川A660P1", "valid_from": "soon"}, "valid_from"),
        ({"plate": "川A660P1", "is_active": "perhaps"}, "is_active"),
        ({"plate": "川A660P1", "park_uuid": "x" * 65}, "park_uuid"),
    ],
)
def test_create_refuses_what_the_admin_refuses_with_field_errors(hr, data, field):
    response = post(hr, LIST, data)

    assert response.status_code == 400
    assert field in response.json()["fields"]
    assert not WhitelistEntry.objects.exists()


def test_create_warns_of_an_overlapping_entry_like_the_admin(hr):
    WhitelistEntryFactory(plate="川A660P1", valid_from=datetime(2026, 1, 1, tzinfo=UTC))

    response = post(hr, LIST, {"plate": "川A660P1", "valid_from": "2026-06-01T00:00:00+08:00"})

    assert response.status_code == 201
    [warning] = response.json()["warnings"]
    assert "川A660P1" in warning and "overlaps" in warning


def test_put_and_patch_change_an_entry_through_the_service(
    hr, hr_user, fake_platform, django_capture_on_commit_callbacks
):
    entry = WhitelistEntryFactory(plate="川A660P1", holder="张三")

    with django_capture_on_commit_callbacks(execute=True):
        patched = hr.patch(
            entry_url(entry),
            json.dumps({"is_active": False, "reason": "退租"}),
            content_type=JSON,
        )
    assert patched.status_code == 200, patched.content
    assert patched.json()["status"] == "disabled"
    assert fake_platform.status_of("川A660P1") == 0

    with django_capture_on_commit_callbacks(execute=True):
        put = hr.put(
            entry_url(entry),
            json.dumps(
                {
                    "plate": "粤b 12345",
                    "valid_from": "2026-01-01T00:00:00+08:00",
                    "is_active": True,
                    "reason": "换车",
                }
            ),
            content_type=JSON,
        )
    assert put.status_code == 200, put.content
    entry.refresh_from_db()
    assert (entry.plate, entry.holder, entry.is_active) == ("粤B12345", "张三", True)
    assert fake_platform.status_of("粤B12345") == 1
    assert fake_platform.status_of("川A660P1") is None  # its last entry changed plate: removed
    assert [record.history_user for record in entry.history.all()] == [hr_user, hr_user, None]


def test_patch_refuses_an_empty_window(hr):
    entry = WhitelistEntryFactory(valid_from=datetime(2026, 1, 1, tzinfo=UTC))

    response = hr.patch(
        entry_url(entry),
        json.dumps({"valid_until": "2025-12-31T00:00:00Z"}),
        content_type=JSON,
    )

    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["valid_until"]


def test_delete_records_the_keys_user_and_removes_the_plate_at_the_platform(
    hr, hr_user, fake_platform, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        post(hr, LIST, {"plate": "川A660P1"})
    entry = WhitelistEntry.objects.get()
    assert fake_platform.status_of("川A660P1") == 1

    with django_capture_on_commit_callbacks(execute=True):
        response = hr.delete(entry_url(entry), {"reason": "退租"}, content_type=JSON)

    assert response.status_code == 204
    assert not WhitelistEntry.objects.exists()
    deleted = WhitelistEntry.history.filter(id=entry.pk, history_type="-").get()
    assert (deleted.history_user, deleted.history_change_reason) == (hr_user, "退租")
    assert fake_platform.status_of("川A660P1") is None


@pytest.mark.parametrize("pk", ["999999", "99999999999999999999999"])
def test_an_unknown_entry_is_404(hr, pk):
    assert hr.get(f"{LIST}{pk}/").status_code == 404


# --- Permissions -----------------------------------------------------------------------------


def test_finance_may_read_the_whitelist_but_not_write_it(finance):
    entry = WhitelistEntryFactory()

    assert finance.get(LIST).status_code == 200
    assert finance.get(entry_url(entry)).status_code == 200
    assert finance.get(EXPORT, {"format": "csv"}).status_code == 200
    assert post(finance, LIST, {"plate": "川A660P1"}).status_code == 403
    assert finance.patch(entry_url(entry), "{}", content_type=JSON).status_code == 403
    assert finance.delete(entry_url(entry)).status_code == 403
    assert post(finance, BULK, {"entries": [{"plate": "川A660P1"}]}).status_code == 403
    assert WhitelistEntry.objects.count() == 1


def test_without_a_key_nothing_is_read_or_written(db):
    assert Client().get(LIST).status_code == 401
    assert post(Client(), LIST, {"plate": "川A660P1"}).status_code == 401
    assert post(Client(), BULK, {"entries": []}).status_code == 401


def test_staff_session_writes_need_the_csrf_token(hr_user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(hr_user)

    refused = post(client, LIST, {"plate": "川A660P1"})
    client.get("/admin/")  # sets the CSRF cookie, as the docs page does
    token = client.cookies["csrftoken"].value
    accepted = client.post(
        LIST, json.dumps({"plate": "川A660P1"}), content_type=JSON, HTTP_X_CSRFTOKEN=token
    )

    assert refused.status_code == 403
    assert "CSRF" in refused.json()["detail"]
    assert accepted.status_code == 201


# --- Bulk upsert -----------------------------------------------------------------------------


def test_bulk_adds_updates_and_leaves_unchanged_rows(
    hr, hr_user, fake_platform, django_capture_on_commit_callbacks
):
    by_id = WhitelistEntryFactory(plate="川A00001", holder="旧")
    by_identity = WhitelistEntryFactory(
        plate="川A00002", park_uuid="p1", valid_from=datetime(2026, 1, 1, tzinfo=UTC)
    )
    same = WhitelistEntryFactory(plate="川A00003", holder="同")

    with django_capture_on_commit_callbacks(execute=True):
        response = post(
            hr,
            BULK,
            {
                "entries": [
                    {"plate": "川a 00004", "valid_from": "2026-02-01T00:00:00+08:00"},
                    {"id": by_id.pk, "holder": "新"},
                    {
                        "plate": "川A00002",
                        "park_uuid": "p1",
                        "valid_from": "2026-01-01T08:00:00+08:00",
                        "is_active": False,
                    },
                    {"id": same.pk, "holder": "同"},
                ],
                "reason": "停用一条",
            },
        )

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["created"], body["updated"], body["unchanged"]) == (1, 2, 1)
    created = WhitelistEntry.objects.get(plate="川A00004")
    assert body["rows"] == [
        {"row": 1, "id": created.pk, "result": "created"},
        {"row": 2, "id": by_id.pk, "result": "updated"},
        {"row": 3, "id": by_identity.pk, "result": "updated"},
        {"row": 4, "id": same.pk, "result": "unchanged"},
    ]
    by_id.refresh_from_db()
    by_identity.refresh_from_db()
    assert by_id.holder == "新"
    assert by_identity.is_active is False
    for entry in (created, by_id, by_identity):
        assert entry.history.latest().history_user == hr_user
    assert same.history.count() == 1  # untouched
    assert fake_platform.status_of("川A00004") == 1
    assert fake_platform.status_of("川A00002") == 0
    assert fake_platform.status_of("川A00003") is None  # unchanged rows are not sent


def test_bulk_is_all_or_nothing_with_per_row_errors(hr):
    existing = WhitelistEntryFactory(plate="川A00001", holder="旧")
    history_before = WhitelistEntry.history.count()

    response = post(
        hr,
        BULK,
        {
            "entries": [
                {"plate": "川A00005", "valid_from": "2026-02-01T00:00:00+08:00"},
                {"id": existing.pk, "holder": "新"},
                {"plate": "A12345", "valid_from": "2026-02-01T00:00:00+08:00"},
                {"plate": "川A00006"},
                {"id": 999999},
                {"plate": "川A00007", "valid_from": "tomorrow"},
                {"plate": "川A00005", "valid_from": "2026-02-01T00:00:00+08:00"},
                {
                    "plate": "川A00008",
                    "valid_from": "2026-02-01T00:00:00+08:00",
                    "valid_until": "2026-01-01T00:00:00+08:00",
                },
            ]
        },
    )

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    fields = body["fields"]
    # One stable shape: entries.<row from 1>.<field>, each with its messages.
    assert sorted({name.split(".")[1] for name in fields}, key=int) == [
        "3",
        "4",
        "5",
        "6",
        "7",
        "8",
    ]
    assert [name for name in fields if name.startswith("entries.3.")] == ["entries.3.plate"]
    assert "entries.4.valid_from" in fields
    assert "entries.5.id" in fields
    assert "entries.6.valid_from" in fields
    assert "row 1" in fields["entries.7.non_field_errors"][0]
    assert "entries.8.valid_until" in fields
    assert all(
        isinstance(messages, list) and all(isinstance(m, str) for m in messages)
        for messages in fields.values()
    )
    assert not WhitelistEntry.objects.filter(plate="川A00005").exists()
    existing.refresh_from_db()
    assert existing.holder == "旧"
    assert WhitelistEntry.history.count() == history_before


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"entries": []},
        {"entries": "川A660P1"},
        {"entries": ["川A660P1"]},
        {"entries": [{"plate": "川A660P1"}] * (MAX_UPSERT_ROWS + 1)},
        [{"plate": "川A660P1"}],
    ],
)
def test_bulk_refuses_a_malformed_body(hr, body):
    response = post(hr, BULK, body)

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert all(
        name == "entries" or name.startswith("entries.") or name == "non_field_errors"
        for name in response.json()["fields"]
    )
    assert not WhitelistEntry.objects.exists()


def test_bulk_refuses_a_body_that_is_not_json(hr):
    response = hr.post(BULK, "plate=川A660P1", content_type="application/x-www-form-urlencoded")

    assert response.status_code == 415


def test_bulk_needs_add_and_change(db):
    from django.contrib.auth.models import Permission

    user = User.objects.create_user("adder", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="add_whitelistentry"))

    response = post(
        key_client(user),
        BULK,
        {"entries": [{"plate": "川A660P1", "valid_from": "2026-01-01T00:00:00+08:00"}]},
    )

    assert response.status_code == 403
