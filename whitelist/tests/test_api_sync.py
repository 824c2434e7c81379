"""The whitelist's incremental sync for a system mirroring it (docs/api.md#incremental-sync):
``GET /api/v1/whitelist/?ordering=updated_at`` for the entries added and changed, and
``GET /api/v1/whitelist/deleted/`` for the deleted ones (tombstones, kept
WHITELIST_TOMBSTONE_DAYS, pruned by the nightly job). Real HTTP with real API keys; every write
goes through the API as the HR system's would."""

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client
from django.utils import timezone

from parkingops.jobs import runner
from parkingops.jobs.models import Job
from parkingops.jobs.testing import run_queued_jobs
from parkingops.roles import FINANCE, OPERATIONS
from whitelist.models import WhitelistEntry, WhitelistTombstone
from whitelist.services import entries as entry_services
from whitelist.tests.factories import WhitelistEntryFactory
from whitelist.tests.test_api import BULK, JSON, LIST, entry_url, key_client, make_user, post

DELETED = "/api/v1/whitelist/deleted/"


@pytest.fixture(autouse=True)
def window(settings):
    settings.API_SYNC_SETTLE_SECONDS = 60


@pytest.fixture
def hr(db) -> Client:
    """The HR system's key: its user is in the operations group."""
    return key_client(make_user(OPERATIONS))


@pytest.fixture
def finance(db) -> Client:
    return key_client(make_user(FINANCE))


def ago(**delta):
    return timezone.now() - timedelta(**delta)


def backdate(entry_id: int, **delta) -> None:
    """Make an entry's last change older (as if it happened that long ago)."""
    WhitelistEntry.objects.filter(pk=entry_id).update(updated_at=ago(**delta))


def pull(client: Client, url: str, params: dict | None = None) -> tuple[list[dict], str]:
    """Follow ``next`` to the end; return the rows and the last page's ``resume``."""
    rows: list[dict] = []
    response = client.get(url, params)
    while True:
        assert response.status_code == 200, response.content
        body = response.json()
        rows += body["results"]
        assert body["resume"]
        if body["next"] is None:
            return rows, body["resume"]
        response = client.get(body["next"])


def updated(client: Client, **params) -> tuple[list[int], str]:
    rows, resume = pull(client, LIST, {"ordering": "updated_at", **params})
    return [row["id"] for row in rows], resume


def test_an_hr_mirror_gets_additions_changes_and_deletions_once_each(hr):
    first = [WhitelistEntryFactory() for _ in range(5)]
    for minutes, entry in enumerate(first):
        backdate(entry.pk, minutes=60 - minutes)

    ids, resume = updated(hr, page_size=2)
    assert ids == [entry.pk for entry in first]
    deleted, deleted_resume = pull(hr, DELETED)
    assert deleted == []

    # A change, an addition (through the API) and a deletion, some minutes ago.
    changed = hr.patch(entry_url(first[1]), {"holder": "李四"}, content_type=JSON)
    assert changed.status_code == 200, changed.content
    added = post(hr, LIST, {"plate": "粤B12345", "holder": "王五"}).json()["id"]
    assert hr.delete(entry_url(first[3]), {"reason": "离职"}, content_type=JSON).status_code == 204
    backdate(first[1].pk, minutes=10)
    backdate(added, minutes=9)
    WhitelistTombstone.objects.update(deleted_at=ago(minutes=8))

    ids, resume = pull_ids(hr, resume)
    assert ids == [first[1].pk, added]
    rows, deleted_resume = pull(hr, deleted_resume)
    assert [(row["id"], row["plate"]) for row in rows] == [(first[3].pk, first[3].plate)]
    assert set(rows[0]) == {
        "id",
        "plate",
        "park_uuid",
        "valid_from",
        "valid_until",
        "holder",
        "deleted_at",
    }

    assert pull_ids(hr, resume)[0] == []
    assert pull(hr, deleted_resume)[0] == []


def pull_ids(client: Client, url: str) -> tuple[list[int], str]:
    rows, resume = pull(client, url)
    return [row["id"] for row in rows], resume


def test_a_bulk_upsert_and_a_bulk_disable_bring_the_entries_again(hr):
    entry = WhitelistEntryFactory(holder="张三")
    backdate(entry.pk, hours=1)
    _, resume = updated(hr)

    answer = post(hr, BULK, {"entries": [{"id": entry.pk, "holder": "张三丰"}]})
    assert answer.status_code == 200, answer.content
    assert pull_ids(hr, resume)[0] == []  # inside the settle window: not yet
    backdate(entry.pk, minutes=5)

    rows, resume = pull(hr, resume)
    assert [(row["id"], row["holder"]) for row in rows] == [(entry.pk, "张三丰")]

    entry_services.set_entries_active(
        entries=WhitelistEntry.objects.filter(pk=entry.pk), active=False, reason="停用"
    )
    backdate(entry.pk, minutes=4)
    rows, _ = pull(hr, resume)
    assert [(row["id"], row["is_active"]) for row in rows] == [(entry.pk, False)]


def test_a_deletion_inside_the_settle_window_waits(hr, settings):
    entry = WhitelistEntryFactory()
    assert hr.delete(entry_url(entry), {"reason": "离职"}, content_type=JSON).status_code == 204
    rows, resume = pull(hr, DELETED)
    assert rows == []
    assert "cursor" not in parse_qs(urlsplit(resume).query)

    settings.API_SYNC_SETTLE_SECONDS = 1
    WhitelistTombstone.objects.update(deleted_at=ago(seconds=2))
    rows, _ = pull(hr, resume)
    assert [row["id"] for row in rows] == [entry.pk]


def test_deletions_on_one_time_are_each_listed_once_across_pages(hr):
    doomed = [WhitelistEntryFactory() for _ in range(5)]
    entry_services.delete_entries(
        entries=WhitelistEntry.objects.filter(pk__in=[e.pk for e in doomed]), reason="批量删除"
    )
    WhitelistTombstone.objects.update(deleted_at=ago(minutes=5))  # one time for all five

    rows, _ = pull(hr, DELETED, {"page_size": 2})

    assert [row["id"] for row in rows] == sorted(e.pk for e in doomed)


def test_reading_deletions_needs_the_whitelist_view_permission(db, finance):
    assert finance.get(DELETED).status_code == 200
    stranger = key_client(make_user())
    assert stranger.get(DELETED).status_code == 403
    assert Client().get(DELETED).status_code == 401


@pytest.mark.parametrize(
    "value",
    [
        "",
        " ",
        "garbage",
        "0001-01-01",
        "0001-01-01T00:00:00",
        "2026-02-30",
        "9999-12-31T23:59:59-12:00",
    ],
)
def test_hostile_sync_filters_are_a_400_naming_them(hr, value):
    for url, name in (
        (LIST, "updated_after"),
        (LIST, "updated_before"),
        (DELETED, "deleted_after"),
        (DELETED, "deleted_before"),
    ):
        response = hr.get(url, {name: value})
        assert response.status_code == 400, (name, value, response.content)
        assert name in response.json()["fields"]


@pytest.mark.parametrize("value", ["9999-12-31", "0001-01-02", "2026-11-01T08:00:00+08:00"])
def test_far_sync_filters_answer(hr, value):
    for url, name in ((LIST, "updated_after"), (DELETED, "deleted_before")):
        assert hr.get(url, {name: value}).status_code == 200


def test_the_sync_filters_bound_the_lists(hr):
    old, new = WhitelistEntryFactory(), WhitelistEntryFactory()
    backdate(old.pk, days=3)
    backdate(new.pk, days=1)
    since = ago(days=2).isoformat()

    assert updated(hr, updated_after=since)[0] == [new.pk]
    assert updated(hr, updated_before=since)[0] == [old.pk]


@pytest.mark.django_db(transaction=True)
def test_the_nightly_job_prunes_tombstones_past_their_days(settings):
    settings.WHITELIST_TOMBSTONE_DAYS = 90
    entries = [WhitelistEntryFactory() for _ in range(2)]
    entry_services.delete_entries(
        entries=WhitelistEntry.objects.filter(pk__in=[e.pk for e in entries]), reason="离职"
    )
    old, kept = WhitelistTombstone.objects.order_by("entry_id")
    WhitelistTombstone.objects.filter(pk=old.pk).update(deleted_at=ago(days=91))
    WhitelistTombstone.objects.filter(pk=kept.pk).update(deleted_at=ago(days=89))

    job = runner.start_job("whitelist.prune_tombstones")
    run_queued_jobs()

    job.refresh_from_db()
    assert job.state == Job.State.SUCCEEDED, job.message
    assert job.result == {"deleted": 1}
    assert list(WhitelistTombstone.objects.values_list("entry_id", flat=True)) == [kept.entry_id]
