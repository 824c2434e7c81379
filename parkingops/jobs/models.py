"""The jobs people start and watch (``Job``), and the record of the schedules' runs."""

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Job(models.Model):
    """A piece of long work: who asked, what it is, how far it got, and what came of it.

    ``kind`` names a registered kind (``parkingops.jobs.kinds``), which does the work with
    ``params``; ``done`` of ``total`` is its progress within ``stage``. A finished export keeps
    its ``file`` until ``expires_at``; ``result`` holds what the kind reports (counts, errors).
    """

    class State(models.TextChoices):
        QUEUED = "queued", _("queued")
        RUNNING = "running", _("running")
        SUCCEEDED = "succeeded", _("done")
        FAILED = "failed", _("failed")
        CANCELLED = "cancelled", _("cancelled")

    FINISHED = (State.SUCCEEDED, State.FAILED, State.CANCELLED)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(_("kind"), max_length=64)
    subject = models.CharField(_("subject"), max_length=300, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="jobs",
        verbose_name=_("started by"),
    )
    # The owner's language when they asked: the job's messages and files are written in it.
    language = models.CharField(_("language"), max_length=16, default=settings.LANGUAGE_CODE)
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    state = models.CharField(
        _("state"), max_length=16, choices=State.choices, default=State.QUEUED, db_index=True
    )
    stage = models.CharField(_("stage"), max_length=100, blank=True)
    total = models.PositiveBigIntegerField(_("total"), null=True, blank=True)
    done = models.PositiveBigIntegerField(_("items done"), default=0)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    stage_started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(_("last sign of life"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    cancel_requested = models.BooleanField(_("cancel requested"), default=False)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    worker = models.CharField(_("worker"), max_length=200, blank=True)
    task_id = models.CharField(max_length=64, blank=True)
    message = models.TextField(_("message"), blank=True)
    result = models.JSONField(_("result"), default=dict, blank=True)
    input_file = models.FileField(upload_to="jobs/in/%Y/%m/", blank=True, max_length=300)
    file = models.FileField(_("file"), upload_to="jobs/out/%Y/%m/", blank=True, max_length=300)
    file_name = models.CharField(_("file name"), max_length=200, blank=True)
    expires_at = models.DateTimeField(_("kept until"), null=True, blank=True)

    class Meta:
        verbose_name = _("job")
        verbose_name_plural = _("my jobs")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["owner", "-created_at"], name="job_owner_recent")]

    def __str__(self) -> str:
        from parkingops.jobs.kinds import label_of

        return f"{label_of(self.kind)} {self.subject}".strip()

    @property
    def is_finished(self) -> bool:
        return self.state in self.FINISHED


class ScheduleRun(models.Model):
    """One run of a schedule (``parkingops.jobs.schedules``): the slot it is for, the job.

    The slot is unique: of several schedulers (one per host) only the first to insert a slot
    starts its job, so each run happens once.
    """

    schedule = models.CharField(_("schedule"), max_length=64)
    due_at = models.DateTimeField(_("due at"))
    created_at = models.DateTimeField(_("started at"), auto_now_add=True)
    job = models.ForeignKey(
        Job, on_delete=models.SET_NULL, null=True, blank=True, verbose_name=_("job")
    )

    class Meta:
        verbose_name = _("scheduled run")
        verbose_name_plural = _("scheduled runs")
        ordering = ["-due_at", "schedule"]
        constraints = [
            models.UniqueConstraint(fields=["schedule", "due_at"], name="schedule_run_once")
        ]

    def __str__(self) -> str:
        return f"{self.schedule} {self.due_at:%Y-%m-%d %H:%M}"
