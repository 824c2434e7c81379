"""The whitelist sync in the background (``whitelist.sync``): the job the schedule starts, the
admin's "Sync now" for more plates than a request sends, and the command's progress lines.
The platform is the fake one over real HTTP; jobs run as a worker runs them."""

import re
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import translation

from parkingops.jobs import kinds, runner
from parkingops.jobs.models import Job
from parkingops.jobs.testing import run_queued_jobs
from whitelist.models import PlateSync
from whitelist.services import sync, sync_job
from whitelist.tests.factories import WhitelistEntryFactory
from whitelist.tests.test_admin import action, messages_of

PLATES = ["川A00001", "川A00002", "川A00003"]


def _run(**params) -> Job:
    with translation.override("en"):
        job = runner.start_job(sync_job.SYNC, params=params)
    run_queued_jobs()
    job.refresh_from_db()
    return job


def _lines(job: Job) -> list[str]:
    with translation.override("en"):
        return kinds.describe(job.kind, job.result)


@pytest.mark.django_db(transaction=True)
def test_the_sync_job_sends_the_pending_plates_with_progress(fake_platform):
    for plate in PLATES:
        WhitelistEntryFactory(plate=plate)
    PlateSync.objects.create(plate="川A00009", state="failed", confirmed_status=1)  # deleted

    job = _run(everything=False)

    assert job.state == Job.State.SUCCEEDED, job.message
    assert (job.done, job.total, job.stage) == (4, 4, "Sending plates to the platform")
    assert {plate: fake_platform.status_of(plate) for plate in PLATES} == dict.fromkeys(PLATES, 1)
    assert fake_platform.status_of("川A00009") is None
    assert set(PlateSync.objects.values_list("plate", "state")) == {
        (plate, "synced") for plate in PLATES
    }
    assert job.result == {"checked": 4, "synced": 4, "failed": 0, "left": 0, "failures": []}
    assert _lines(job) == ["Checked 4 plates: synced 4, failed 0, left 0 for the next sync."]

    again = _run(everything=False)  # in step: nothing to send
    assert (again.done, again.total, again.result["synced"]) == (0, 0, 0)
    everything = _run(everything=True)
    assert (everything.total, everything.result["synced"]) == (3, 3)


@pytest.mark.django_db(transaction=True)
def test_plates_that_fail_are_listed_and_the_job_succeeds(fake_platform):
    for plate in PLATES:
        WhitelistEntryFactory(plate=plate)
    fake_platform.fail_next("1500")

    job = _run(everything=False)

    assert job.state == Job.State.SUCCEEDED
    assert job.result["failures"] == [["川A00001", "1500: simulated failure 1500"]]
    assert _lines(job) == [
        "Checked 3 plates: synced 2, failed 1, left 0 for the next sync.",
        "Failed: 川A00001: platform internal error (simulated failure 1500)",
    ]
    assert PlateSync.objects.get(plate="川A00001").state == "failed"


@pytest.mark.django_db(transaction=True)
def test_the_sync_job_fails_without_a_platform_address(settings):
    settings.PLATFORM_API_BASE = ""
    WhitelistEntryFactory(plate=PLATES[0])

    job = _run(everything=False)

    assert job.state == Job.State.FAILED
    assert job.message.startswith("The platform client is not configured:")
    assert "PLATFORM_API_BASE is not set" in job.message


@pytest.fixture
def small_inline_limit(monkeypatch):
    """Two plates at most are sent inside a request (50 in production)."""
    monkeypatch.setattr(sync, "INLINE_LIMIT", 2)


@pytest.mark.django_db(transaction=True)
def test_sync_now_of_more_plates_than_a_request_sends_starts_a_job(
    admin_en, superuser, fake_platform, small_inline_limit
):
    entries = [WhitelistEntryFactory(plate=plate) for plate in PLATES]
    PlateSync.objects.create(plate=PLATES[0], state="synced", wanted_status=1, confirmed_status=1)

    response = action(admin_en, "sync_now", entries)

    job = Job.objects.get()
    assert response.redirect_chain[0] == (f"/admin/parkingops/job/{job.pk}/change/", 302)
    assert (job.kind, job.params, job.owner, job.subject) == (
        "whitelist.sync",
        {"everything": False},
        superuser,
        "3 plates",
    )
    assert (
        "The sync of 3 plates started in the background: follow its progress here or in “My jobs”."
    ) in messages_of(response)
    # Marked pending at once (the synced one too: "Sync now" re-sends); nothing sent yet.
    assert set(PlateSync.objects.values_list("state", flat=True)) == {"pending"}
    assert not fake_platform.calls

    run_queued_jobs()

    job.refresh_from_db()
    assert (job.state, job.done, job.total) == (Job.State.SUCCEEDED, 3, 3)
    assert {plate: fake_platform.status_of(plate) for plate in PLATES} == dict.fromkeys(PLATES, 1)


@pytest.mark.django_db
def test_sync_now_within_the_limit_still_runs_at_once(admin_en, fake_platform, small_inline_limit):
    entries = [WhitelistEntryFactory(plate=plate) for plate in PLATES[:2]]

    response = action(admin_en, "sync_now", entries)

    assert "Synced 2 plates with the platform." in messages_of(response)
    assert not Job.objects.exists()


@pytest.mark.django_db
def test_sync_now_of_many_plates_without_a_platform_address_marks_them_pending(
    admin_en, settings, small_inline_limit
):
    settings.PLATFORM_API_BASE = ""
    entries = [WhitelistEntryFactory(plate=plate) for plate in PLATES]

    response = action(admin_en, "sync_now", entries)

    assert any("The platform is not configured" in m for m in messages_of(response))
    assert not Job.objects.exists()
    assert list(PlateSync.objects.values_list("state", flat=True)) == ["pending"] * 3


@pytest.mark.django_db
def test_sync_whitelist_logs_its_progress_when_not_on_a_terminal(fake_platform):
    for plate in PLATES:
        WhitelistEntryFactory(plate=plate)
    out, err = StringIO(), StringIO()

    with translation.override("en"):
        call_command("sync_whitelist", stdout=out, stderr=err)

    assert "Checked 3 plate(s): tried 3, synced 3, failed 0, left 0." in out.getvalue()
    lines = re.findall(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d (.*)$", err.getvalue(), re.M)
    assert lines == [
        "Sending plates to the platform: started 0/3",
        "Sending plates to the platform: done 3/3",
    ]
