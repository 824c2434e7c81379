"""Starting, running, cancelling and recovering jobs.

``start_job`` writes the ``Job`` row and queues the task ``run_job`` with its id; a worker
(``manage.py db_worker``) takes the task and calls ``execute``, which claims the row, runs the
kind with a ``JobProgress`` and records how it ended. A thread beside the work writes the
progress and a heartbeat to the row every ``JOB_PROGRESS_SECONDS`` on its own database
connection, so both show while the work holds a transaction open, and reads back whether the
user cancelled.

A worker that dies (killed, its host lost) stops the heartbeat: ``reap_lost_jobs`` (run by the
scheduler) queues such a job again while it has attempts left (``JOB_MAX_ATTEMPTS``), and marks
it failed, saying why, after that. A job is never silently lost, and an attempt that was given
up cannot record an outcome over the one that replaced it (``attempts`` guards each write).
"""

import logging
import os
import socket
import threading
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.files import File
from django.db import DatabaseError, connections, transaction
from django.db.models import F
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django_tasks import task

from parkingops.jobs.kinds import JobFailed, get_kind
from parkingops.jobs.models import Job
from parkingops.jobs.progress import JobCancelled, Progress

logger = logging.getLogger("parkingops.jobs")

WORKER_NAME = f"{socket.gethostname()}:{os.getpid()}"


class JobLost(Exception):
    """This attempt was given up (the reaper queued the job again): it stops, recording
    nothing."""


def start_job(
    kind: str,
    *,
    owner=None,
    subject: str = "",
    params: dict[str, Any] | None = None,
    input_file: File | None = None,
    input_name: str = "input",
) -> Job:
    """Create the job ``kind`` (a registered kind) for ``owner`` and queue it; return it.

    The job is written in the active language (the owner's, in a request). ``input_file``
    (an uploaded file to import) is kept in the default storage until the job ends.
    """
    get_kind(kind)  # KeyError now, not in the worker
    job = Job(
        kind=kind,
        subject=subject[: Job._meta.get_field("subject").max_length],
        owner=owner,
        params=params or {},
        language=translation.get_language() or settings.LANGUAGE_CODE,
    )
    if input_file is not None:
        job.input_file.save(input_name, input_file, save=False)
    job.save()
    _enqueue(job)
    return job


def unfinished(kind: str, *, owner, params: dict[str, Any]) -> Job | None:
    """Return ``owner``'s job ``kind`` with these ``params`` that is still queued or running:
    a second click on the same button goes to it rather than starting the work twice."""
    return (
        Job.objects.filter(
            kind=kind,
            owner=owner,
            params=params,
            state__in=[Job.State.QUEUED, Job.State.RUNNING],
        )
        .order_by("-created_at")
        .first()
    )


def _enqueue(job: Job) -> None:
    # With the database backend the task row commits with the job's (or the caller's)
    # transaction; another backend must not see the task before the job exists.
    def enqueue() -> None:
        result = run_job.enqueue(str(job.pk))
        Job.objects.filter(pk=job.pk).update(task_id=str(result.id))

    transaction.on_commit(enqueue, robust=False)


@task()
def run_job(job_id: str) -> str:
    """The task the workers run: the job ``job_id``. Returns how it ended."""
    return execute(job_id)


def execute(job_id: str) -> str:
    """Run the job ``job_id`` if it is queued; return its state afterwards (or "skipped")."""
    now = timezone.now()
    claimed = Job.objects.filter(pk=job_id, state=Job.State.QUEUED).update(
        state=Job.State.RUNNING,
        attempts=F("attempts") + 1,
        started_at=now,
        heartbeat_at=now,
        worker=WORKER_NAME,
        stage="",
        done=0,
        total=None,
    )
    if not claimed:  # cancelled while queued, or already taken
        return "skipped"
    job = Job.objects.get(pk=job_id)
    progress = JobProgress(job)
    state, message, result = Job.State.SUCCEEDED, "", {}
    try:
        with translation.override(job.language):
            try:
                result = get_kind(job.kind).run(job, progress) or {}
            except JobCancelled:
                state, message = Job.State.CANCELLED, _("Cancelled.")
            except JobFailed as error:
                state, message = Job.State.FAILED, str(error)
            except JobLost:
                return "lost"
            except Exception as error:
                logger.exception("Job %s (%s) failed", job.pk, job.kind)
                state = Job.State.FAILED
                message = _("The job stopped on an unexpected error (%(error)s).") % {
                    "error": type(error).__name__
                }
    finally:
        progress.stop()
    finished = _finish(job, state=state, message=message, result=result, progress=progress)
    return state if finished else "lost"


def _finish(job: Job, *, state: str, message: str, result: dict, progress: "JobProgress") -> bool:
    fields: dict[str, Any] = {
        "state": state,
        "message": message,
        "result": result,
        "finished_at": timezone.now(),
        "heartbeat_at": timezone.now(),
        **progress.snapshot(),
    }
    finished = bool(
        Job.objects.filter(pk=job.pk, state=Job.State.RUNNING, attempts=job.attempts).update(
            **fields
        )
    )
    if finished:
        _forget_input(job)
    return finished


def _forget_input(job: Job) -> None:
    """An import's uploaded file is gone once its job ended (it may hold personal data)."""
    if job.input_file:
        job.input_file.delete(save=False)
        Job.objects.filter(pk=job.pk).update(input_file="")


def attach_file(job: Job, file: File, file_name: str) -> None:
    """Keep ``file`` as the job's result, downloaded as ``file_name`` for JOB_FILE_DAYS."""
    job.file.save(file_name, file, save=False)
    job.file_name = file_name
    job.expires_at = timezone.now() + timedelta(days=settings.JOB_FILE_DAYS)
    Job.objects.filter(pk=job.pk).update(
        file=job.file.name, file_name=file_name, expires_at=job.expires_at
    )


def request_cancel(job: Job) -> bool:
    """Cancel ``job``: at once when still queued, at its next progress step when running.
    Return False when it had already finished."""
    if Job.objects.filter(pk=job.pk, state=Job.State.QUEUED).update(
        state=Job.State.CANCELLED,
        finished_at=timezone.now(),
        message=_("Cancelled before it started."),
    ):
        _forget_input(job)
        return True
    return bool(
        Job.objects.filter(pk=job.pk, state=Job.State.RUNNING).update(cancel_requested=True)
    )


def reap_lost_jobs() -> list[Job]:
    """Queue again, or fail, the running jobs whose worker stopped beating
    (``JOB_LOST_AFTER`` seconds without a sign of life). Return them."""
    limit = timezone.now() - timedelta(seconds=settings.JOB_LOST_AFTER)
    reaped = []
    for job in Job.objects.filter(state=Job.State.RUNNING, heartbeat_at__lt=limit):
        with translation.override(job.language):
            lost = _("The worker running attempt %(attempt)d (%(worker)s) stopped.") % {
                "attempt": job.attempts,
                "worker": job.worker,
            }
            again = job.attempts < settings.JOB_MAX_ATTEMPTS
            if again:
                fields = {"state": Job.State.QUEUED, "message": lost + " " + _("Tried again.")}
            else:
                fields = {
                    "state": Job.State.FAILED,
                    "finished_at": timezone.now(),
                    "message": lost
                    + " "
                    + _("Given up after %(attempts)d attempts.") % {"attempts": job.attempts},
                }
        taken = Job.objects.filter(
            pk=job.pk, state=Job.State.RUNNING, attempts=job.attempts, heartbeat_at=job.heartbeat_at
        ).update(**fields)
        if not taken:
            continue
        _fail_task_result(job.task_id)
        logger.warning("Job %s (%s): worker %s lost", job.pk, job.kind, job.worker)
        if again:
            _enqueue(job)
        else:
            _forget_input(job)
        reaped.append(job)
    return reaped


def _fail_task_result(task_id: str) -> None:
    """Mark the dead worker's task failed in the task backend's table too."""
    if not task_id:
        return
    from django_tasks_db.models import DBTaskResult

    DBTaskResult.objects.filter(pk=task_id, status="RUNNING").update(
        status="FAILED",
        finished_at=timezone.now(),
        exception_class_path="parkingops.jobs.runner.JobLost",
        traceback="The worker stopped while running this task.",
    )


class JobProgress(Progress):
    """A job's progress: counted here, written to its row by a thread (its own connection)
    every JOB_PROGRESS_SECONDS, with the heartbeat; ``advance`` raises ``JobCancelled`` once
    the row says the user cancelled, ``JobLost`` once this attempt was given up."""

    def __init__(self, job: Job) -> None:
        self.job_id, self.attempt = job.pk, job.attempts
        self._lock = threading.Lock()
        self._stage, self._total, self._done = "", None, 0
        self._stage_started_at = timezone.now()
        self._cancelled = threading.Event()
        self._lost = threading.Event()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"job-{job.pk}", daemon=True)
        self._thread.start()

    def stage(self, label: str, total: int | None = None) -> None:
        with self._lock:
            self._stage, self._done = str(label), 0
            self._total = None if total is None else max(int(total), 0)
            self._stage_started_at = timezone.now()
        self._check()

    def advance(self, count: int = 1) -> None:
        with self._lock:
            self._done += count
        self._check()

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "stage": self._stage[:100],
                "total": self._total,
                "done": self._done,
                "stage_started_at": self._stage_started_at,
            }

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(timeout=settings.JOB_PROGRESS_SECONDS * 10)

    def _check(self) -> None:
        if self._lost.is_set():
            raise JobLost
        if self._cancelled.is_set():
            raise JobCancelled

    def _beat(self) -> None:
        try:
            while not self._stopping.wait(settings.JOB_PROGRESS_SECONDS):
                self._write()
        finally:
            connections.close_all()  # this thread's own connections

    def _write(self) -> None:
        try:
            rows = Job.objects.filter(
                pk=self.job_id, state=Job.State.RUNNING, attempts=self.attempt
            )
            if not rows.update(heartbeat_at=timezone.now(), **self.snapshot()):
                self._lost.set()
            elif rows.filter(cancel_requested=True).exists():
                self._cancelled.set()
        except DatabaseError:
            # SQLite while the work holds its write lock, or the database briefly away: the
            # next beat tries again (JOB_LOST_AFTER is much longer than a beat).
            logger.info("Job %s: progress not written this time", self.job_id, exc_info=True)
