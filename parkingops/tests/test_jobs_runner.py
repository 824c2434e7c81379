"""The job runner: a queued job runs in a worker with its progress written as it goes, can be
cancelled, and a job whose worker died is tried again, then failed, never lost."""

import time
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.core.files.base import ContentFile
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from parkingops.jobs import runner
from parkingops.jobs.kinds import JobFailed, job_kind
from parkingops.jobs.models import Job
from parkingops.jobs.testing import run_queued_jobs

pytestmark = pytest.mark.django_db(transaction=True)

SEEN: dict[str, object] = {}


@job_kind("tests.count", "Count")
def count(job: Job, progress) -> dict:
    """A sample kind: counts to ``params["to"]`` (pausing ``pause`` seconds at each number),
    failing or cancelling itself on request."""
    to = job.params["to"]
    progress.stage("counting", to)
    for number in progress.iterate(range(to), every=10):
        if job.params.get("fail_at") == number:
            raise JobFailed(f"failed at {number}")
        if job.params.get("cancel_at") == number:
            Job.objects.filter(pk=job.pk).update(cancel_requested=True)
            SEEN["cancel_asked"] = True
            # The heartbeat thread reads the flag within a beat.
            time.sleep(1.5)
        if job.params.get("pause"):
            time.sleep(job.params["pause"])
    if job.params.get("file"):
        runner.attach_file(job, ContentFile(b"a,b\n"), "counted.csv")
    SEEN["language"] = __import__("django.utils.translation").utils.translation.get_language()
    return {"counted": to}


@pytest.fixture
def user():
    return User.objects.create_user("clerk", password="pw", is_staff=True)


def test_a_job_runs_in_the_worker_and_records_its_result(user):
    job = runner.start_job("tests.count", owner=user, subject="to 25", params={"to": 25})
    assert Job.objects.get(pk=job.pk).state == Job.State.QUEUED
    assert DBTaskResult.objects.filter(pk=Job.objects.get(pk=job.pk).task_id).exists()
    run_queued_jobs()
    job.refresh_from_db()
    assert job.state == Job.State.SUCCEEDED
    assert (job.done, job.total, job.stage) == (25, 25, "counting")
    assert job.result == {"counted": 25}
    assert job.attempts == 1 and job.finished_at >= job.started_at
    assert SEEN["language"] == "zh-hans"


def test_the_job_runs_in_the_language_of_whoever_started_it(user):
    from django.utils import translation

    with translation.override("en"):
        runner.start_job("tests.count", owner=user, params={"to": 1})
    run_queued_jobs()
    assert SEEN["language"] == "en"


def test_a_kind_that_fails_records_its_message(user):
    job = runner.start_job("tests.count", owner=user, params={"to": 50, "fail_at": 30})
    run_queued_jobs()
    job.refresh_from_db()
    assert job.state == Job.State.FAILED
    assert job.message == "failed at 30"


def test_an_unexpected_error_is_a_failure_named_without_its_traceback(user):
    job = runner.start_job("tests.count", owner=user, params={"to": None})
    run_queued_jobs()
    job.refresh_from_db()
    assert job.state == Job.State.FAILED
    assert "TypeError" in job.message and "Traceback" not in job.message


def test_a_running_job_stops_when_cancelled(user):
    job = runner.start_job("tests.count", owner=user, params={"to": 100, "cancel_at": 20})
    run_queued_jobs()
    job.refresh_from_db()
    assert job.state == Job.State.CANCELLED
    assert job.done < 100


def test_a_queued_job_cancelled_never_runs(user):
    job = runner.start_job("tests.count", owner=user, params={"to": 5})
    assert runner.request_cancel(job)
    run_queued_jobs()
    job.refresh_from_db()
    assert job.state == Job.State.CANCELLED and job.attempts == 0
    assert not runner.request_cancel(job)  # finished: nothing to cancel


def test_an_exported_file_is_kept_for_its_days(user, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    job = runner.start_job("tests.count", owner=user, params={"to": 1, "file": True})
    run_queued_jobs()
    job.refresh_from_db()
    assert job.file_name == "counted.csv"
    assert job.file.open("rb").read() == b"a,b\n"
    assert timedelta(days=6) < job.expires_at - timezone.now() <= timedelta(days=7)


def test_an_input_file_is_deleted_when_the_job_ends(user, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    job = runner.start_job(
        "tests.count", owner=user, params={"to": 1}, input_file=ContentFile(b"plates")
    )
    path = job.input_file.path
    run_queued_jobs()
    job.refresh_from_db()
    assert job.state == Job.State.SUCCEEDED
    assert not job.input_file
    assert not __import__("os").path.exists(path)


def _running_with_a_dead_worker(job: Job, *, attempts: int) -> None:
    Job.objects.filter(pk=job.pk).update(
        state=Job.State.RUNNING,
        attempts=attempts,
        worker="gone:1",
        heartbeat_at=timezone.now() - timedelta(hours=1),
    )


def test_a_job_whose_worker_died_is_tried_again_then_failed(user, settings):
    settings.JOB_MAX_ATTEMPTS = 2
    job = runner.start_job("tests.count", owner=user, params={"to": 5})
    _running_with_a_dead_worker(job, attempts=1)
    assert [reaped.pk for reaped in runner.reap_lost_jobs()] == [job.pk]
    job.refresh_from_db()
    assert job.state == Job.State.QUEUED
    assert "gone:1" in job.message
    run_queued_jobs()  # the new attempt
    job.refresh_from_db()
    assert (job.state, job.attempts) == (Job.State.SUCCEEDED, 2)

    again = runner.start_job("tests.count", owner=user, params={"to": 5})
    _running_with_a_dead_worker(again, attempts=2)
    runner.reap_lost_jobs()
    again.refresh_from_db()
    assert again.state == Job.State.FAILED
    assert "2" in again.message and again.finished_at is not None


def test_a_job_with_a_recent_heartbeat_is_left_alone(user):
    job = runner.start_job("tests.count", owner=user, params={"to": 5})
    Job.objects.filter(pk=job.pk).update(state=Job.State.RUNNING, heartbeat_at=timezone.now())
    assert runner.reap_lost_jobs() == []
