"""The job that keeps the job tables small: expired files, old jobs, old task rows."""

from datetime import timedelta
from importlib import import_module

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django_tasks_db.models import DBTaskResult

from parkingops.jobs.kinds import job_kind
from parkingops.jobs.models import Job, ScheduleRun


def _describe(result: dict) -> list[str]:
    return [
        ngettext("%(count)d file removed.", "%(count)d files removed.", result["files"])
        % {"count": result["files"]},
        ngettext("%(count)d old job removed.", "%(count)d old jobs removed.", result["jobs"])
        % {"count": result["jobs"]},
    ]


@job_kind("jobs.prune", _("Removing old jobs and their files"), describe=_describe)
def prune_jobs(job: Job, progress) -> dict:
    """Remove the files kept past their day and the finished jobs older than JOB_KEEP_DAYS
    (with the schedules' runs and the task queue's rows of that age), and the expired
    sessions (with the files of imports previewed and never confirmed: ``parkingops.uploads``)."""
    now = timezone.now()
    expired = Job.objects.filter(expires_at__lt=now).exclude(file="")
    progress.stage(gettext("Removing expired files"), expired.count())
    files = 0
    for old in progress.iterate(expired.iterator()):
        old.file.delete(save=False)
        Job.objects.filter(pk=old.pk).update(file="")
        files += 1
    keep_from = now - timedelta(days=settings.JOB_KEEP_DAYS)
    old_jobs = Job.objects.filter(state__in=Job.FINISHED, finished_at__lt=keep_from)
    for old in old_jobs.exclude(file="").exclude(pk=job.pk).iterator():
        old.file.delete(save=False)
    ScheduleRun.objects.filter(due_at__lt=keep_from).delete()
    jobs = old_jobs.exclude(pk=job.pk).delete()[0]
    DBTaskResult.objects.filter(
        status__in=["SUCCESSFUL", "FAILED"], finished_at__lt=keep_from
    ).delete()
    import_module(settings.SESSION_ENGINE).SessionStore.clear_expired()
    return {"files": files, "jobs": jobs}
