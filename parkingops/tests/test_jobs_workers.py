"""Real ``db_worker`` processes on the test database: two share one queue and run each job
once; one killed mid-job (``kill -9``) does not lose its job: it shows running with no sign of
life, the scheduler's reaper queues it again and a live worker finishes it; out of attempts,
it is marked failed, saying why."""

import os
import signal
import time
from collections.abc import Callable

import pytest
from django.contrib.auth.models import User

from parkingops.jobs import runner
from parkingops.jobs.models import Job
from parkingops.tests.processes import job_worker
from parkingops.tests.test_jobs_runner import count  # noqa: F401 (registers tests.count)

pytestmark = pytest.mark.django_db(transaction=True)

KINDS = "parkingops.tests.test_jobs_runner"  # registers tests.count in the worker


def _wait_for(job: Job, condition: Callable[[Job], bool], seconds: float = 60) -> Job:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if condition(job):
            return job
        time.sleep(0.2)
    raise AssertionError(f"job never got there: {job.state} {job.done}/{job.total}")


def _kill_mid_job(job: Job) -> None:
    with job_worker(KINDS, JOB_PROGRESS_SECONDS="1") as worker:
        _wait_for(job, lambda j: j.state == Job.State.RUNNING and j.done > 0)
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait()


def _reap_once_silent(job: Job, lost_after: int) -> None:
    """Wait until the dead worker's heartbeat is older than ``lost_after``, then reap."""
    _wait_for(job, lambda j: True)
    time.sleep(lost_after + 1.5)
    assert [reaped.pk for reaped in runner.reap_lost_jobs()] == [job.pk]


@pytest.fixture
def owner():
    return User.objects.create_user("clerk", is_staff=True)


def test_a_killed_workers_job_is_tried_again_and_finished(settings, owner):
    settings.JOB_LOST_AFTER, settings.JOB_MAX_ATTEMPTS = 2, 2
    job = runner.start_job("tests.count", owner=owner, params={"to": 300, "pause": 0.02})

    _kill_mid_job(job)
    job.refresh_from_db()
    assert job.state == Job.State.RUNNING and 0 < job.done < 300  # stuck, visibly

    _reap_once_silent(job, settings.JOB_LOST_AFTER)
    job.refresh_from_db()
    assert job.state == Job.State.QUEUED
    assert "已停止" in job.message and "重新排队" in job.message

    with job_worker(KINDS, JOB_PROGRESS_SECONDS="1"):
        job = _wait_for(job, lambda j: j.is_finished)
    assert (job.state, job.attempts, job.done, job.result) == (
        Job.State.SUCCEEDED,
        2,
        300,
        {"counted": 300},
    )


def test_a_job_out_of_attempts_is_marked_failed_saying_why(settings, owner):
    settings.JOB_LOST_AFTER, settings.JOB_MAX_ATTEMPTS = 2, 1
    job = runner.start_job("tests.count", owner=owner, params={"to": 300, "pause": 0.02})

    _kill_mid_job(job)
    _reap_once_silent(job, settings.JOB_LOST_AFTER)

    job.refresh_from_db()
    assert job.state == Job.State.FAILED and job.finished_at is not None
    assert "已停止" in job.message and "放弃" in job.message


def test_two_workers_share_the_queue_and_run_each_job_once(owner):
    jobs = [
        runner.start_job("tests.count", owner=owner, params={"to": 50, "pause": 0.02})
        for _ in range(8)
    ]
    with job_worker(KINDS), job_worker(KINDS):
        for job in jobs:
            _wait_for(job, lambda j: j.is_finished)
    finished = Job.objects.filter(pk__in=[job.pk for job in jobs])
    assert {(job.state, job.attempts, job.done) for job in finished} == {
        (Job.State.SUCCEEDED, 1, 50)
    }
    assert len({job.worker for job in finished}) == 2  # both took jobs from the one queue
