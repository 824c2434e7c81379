"""jobs.prune: export files past their days and old jobs go; recent ones stay."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from parkingops.jobs import runner
from parkingops.jobs.models import Job
from parkingops.jobs.testing import run_queued_jobs
from parkingops.tests.test_jobs_runner import count  # noqa: F401 (registers tests.count)

pytestmark = pytest.mark.django_db(transaction=True)


def test_pruning_removes_expired_files_and_old_jobs(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    owner = User.objects.create_user("clerk", is_staff=True)
    expired, fresh, old = (
        runner.start_job("tests.count", owner=owner, params={"to": 1, "file": True})
        for _ in range(3)
    )
    run_queued_jobs()
    paths = {job.pk: Job.objects.get(pk=job.pk).file.path for job in (expired, fresh, old)}
    Job.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    Job.objects.filter(pk=old.pk).update(finished_at=timezone.now() - timedelta(days=31))

    prune = runner.start_job("jobs.prune")
    run_queued_jobs()

    prune.refresh_from_db()
    assert prune.state == Job.State.SUCCEEDED, prune.message
    assert prune.result == {"files": 1, "jobs": 1}
    assert not Job.objects.get(pk=expired.pk).file
    assert not (tmp_path / paths[expired.pk]).exists()
    assert not Job.objects.filter(pk=old.pk).exists()
    assert not (tmp_path / paths[old.pk]).exists()
    assert Job.objects.get(pk=fresh.pk).file.open("rb").read() == b"a,b\n"
