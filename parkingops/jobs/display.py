"""What a job's page and list show of it: its progress, the time taken and left, its result.

One place for both the HTML pages and the JSON the pages poll while a job runs.
"""

from datetime import timedelta
from typing import Any

from django.urls import reverse
from django.utils import timezone

from parkingops.jobs import kinds
from parkingops.jobs.models import Job


def clock(delta: timedelta | None) -> str:
    """``0:03:20``: a duration without words, the same in every language."""
    if delta is None:
        return ""
    seconds = max(int(delta.total_seconds()), 0)
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def taken(job: Job, now=None) -> timedelta | None:
    if job.started_at is None:
        return None
    end = job.finished_at or now or timezone.now()
    return end - job.started_at


def left(job: Job, now=None) -> timedelta | None:
    """The time the running step still needs at its pace so far; None when not known."""
    if job.state != Job.State.RUNNING or not job.total or not job.done or not job.stage_started_at:
        return None
    spent = (now or timezone.now()) - job.stage_started_at
    return spent * ((job.total - job.done) / job.done)


def percent(job: Job) -> int | None:
    """How far the job got, 0 to 100; None only while it runs a step of unknown size (the bar
    then shows that it is busy)."""
    if job.state == Job.State.SUCCEEDED:
        return 100
    if job.total:
        return min(100, job.done * 100 // job.total)
    return None if job.state == Job.State.RUNNING else 0


def download_url(job: Job) -> str:
    if not job.file or job.state != Job.State.SUCCEEDED:
        return ""
    return reverse("admin:parkingops_job_download", args=[job.pk])


def status(job: Job) -> dict[str, Any]:
    """The job as the pages' polling reads it (``status/``)."""
    return {
        "id": str(job.pk),
        "state": job.state,
        "state_label": str(job.get_state_display()),
        "finished": job.is_finished,
        "stage": job.stage,
        "done": job.done,
        "total": job.total,
        "percent": percent(job),
        "taken": clock(taken(job)),
        "left": clock(left(job)),
    }


def result_lines(job: Job) -> list[str]:
    return kinds.describe(job.kind, job.result)
