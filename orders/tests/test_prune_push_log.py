"""prune_push_log: old refusals go, anything that produced an order stays."""

import re
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone, translation

from orders.models import PushLog
from orders.push.services import PUSH_LOG_KEEP_DAYS
from orders.tests.factories import PayOrderFactory
from parkingops.jobs import kinds, runner
from parkingops.jobs.models import Job
from parkingops.jobs.testing import run_queued_jobs


def log(days_ago: int, *, order=None, reason: str = "not_whitelisted") -> PushLog:
    return PushLog.objects.create(
        received_at=timezone.now() - timedelta(days=days_ago),
        code="1001" if order else "1403",
        reason=reason,
        order=order,
    )


def test_prune_deletes_old_rows_without_an_order_in_batches(db):
    order = PayOrderFactory()
    old_refusals = [log(40) for _ in range(5)]
    kept = [log(40, order=order, reason="accepted"), log(10), log(0)]
    out = StringIO()

    call_command("prune_push_log", older_than=30, batch_size=2, stdout=out)

    assert not PushLog.objects.filter(pk__in=[row.pk for row in old_refusals]).exists()
    assert set(PushLog.objects.values_list("pk", flat=True)) == {row.pk for row in kept}
    assert "5" in out.getvalue()


@pytest.mark.parametrize("days", [0, -3])
def test_prune_refuses_a_window_under_one_day(db, days):
    with pytest.raises(CommandError):
        call_command("prune_push_log", older_than=days)


def test_prune_without_a_window_keeps_the_default_days(db):
    old, recent = log(PUSH_LOG_KEEP_DAYS + 1), log(PUSH_LOG_KEEP_DAYS - 1)
    out, err = StringIO(), StringIO()

    with translation.override("en"):
        call_command("prune_push_log", stdout=out, stderr=err)

    assert list(PushLog.objects.values_list("pk", flat=True)) == [recent.pk]
    assert not PushLog.objects.filter(pk=old.pk).exists()
    assert out.getvalue().startswith("Deleted 1 push-log rows received before ")
    # Not a terminal: a plain line when the step starts and when it ends.
    assert re.findall(r"Deleting old push-log rows: (\w+ \d+)", err.getvalue()) == [
        "started 0",
        "done 1",
    ]


@pytest.mark.django_db(transaction=True)
def test_the_prune_job_deletes_what_the_command_deletes():
    order = PayOrderFactory()
    old = [log(PUSH_LOG_KEEP_DAYS + 5) for _ in range(3)]
    kept = [log(PUSH_LOG_KEEP_DAYS + 5, order=order, reason="accepted"), log(1)]

    with translation.override("en"):
        job = runner.start_job("orders.prune_push_log")
    run_queued_jobs()
    job.refresh_from_db()

    assert job.state == Job.State.SUCCEEDED
    assert not PushLog.objects.filter(pk__in=[row.pk for row in old]).exists()
    assert set(PushLog.objects.values_list("pk", flat=True)) == {row.pk for row in kept}
    assert job.result["deleted"] == 3 and job.done == 3
    with translation.override("en"):
        line, retention = kinds.describe(job.kind, job.result)
    assert line.startswith("Deleted 3 push-log rows received before ")
    assert retention.startswith("Removed 0 push-log rows received before ")


@pytest.mark.django_db
def test_a_day_count_past_the_calendar_deletes_nothing_and_does_not_overflow():
    kept = PushLog.objects.create(received_at=timezone.now() - timedelta(days=300))
    out = StringIO()
    with translation.override("en"):
        call_command("prune_push_log", "--older-than", "99999999", stdout=out, stderr=StringIO())
    assert out.getvalue().startswith("Deleted 0 push-log rows received before 2000-01-01 00:00")
    assert PushLog.objects.filter(pk=kept.pk).exists()
