"""The schedules: each due run starts once, however many schedulers tick, without a crontab."""

import threading
from datetime import datetime, timedelta

import pytest
from django.core.management import call_command
from django.db import connections

from parkingops.formatting import CHINA
from parkingops.jobs import kinds, schedules
from parkingops.jobs.models import Job, ScheduleRun

pytestmark = pytest.mark.django_db(transaction=True)

# 2026-12-05 03:10 China time: the nightly reconciliation (3:00) is due, the pruning (4:00) not
# yet (yesterday's 4:00 is too long ago to make up).
NOW = datetime(2026, 12, 5, 3, 10, tzinfo=CHINA)


def _schedule(name: str) -> schedules.Schedule:
    return next(s for s in schedules.schedules() if s.name == name)


def test_every_schedule_runs_a_registered_kind():
    for schedule in schedules.schedules():
        assert kinds.get_kind(schedule.kind)


def test_the_due_slots():
    sync = _schedule("whitelist_sync")
    assert sync.due_slot(NOW.replace(minute=7, second=30)) == NOW.replace(minute=5)
    nightly = _schedule("nightly_reconciliation")
    assert nightly.due_slot(NOW) == NOW.replace(minute=0)
    assert nightly.due_slot(NOW.replace(hour=2)) == NOW.replace(hour=3, minute=0) - timedelta(
        days=1
    )
    assert nightly.due_slot(NOW.replace(minute=0)) == NOW.replace(minute=0)


def test_a_tick_starts_each_due_run_once():
    started = schedules.tick(NOW)
    assert sorted(run.schedule for run in started) == [
        "nightly_reconciliation",
        "roll_up_orders",
        "whitelist_sync",
    ]
    nightly = ScheduleRun.objects.get(schedule="nightly_reconciliation")
    assert nightly.job.kind == "orders.reconcile"
    assert nightly.job.params == {"days": ["2026-12-04"], "park": ""}
    assert nightly.job.owner is None and nightly.job.state == Job.State.QUEUED
    assert schedules.tick(NOW + timedelta(seconds=30)) == []
    # The roll-up every minute, the next sync slot five minutes later, the pruning at 4:00, the
    # reconciliation tomorrow.
    assert [run.schedule for run in schedules.tick(NOW + timedelta(minutes=1))] == [
        "roll_up_orders"
    ]
    assert sorted(run.schedule for run in schedules.tick(NOW + timedelta(minutes=5))) == [
        "roll_up_orders",
        "whitelist_sync",
    ]
    assert sorted(run.schedule for run in schedules.tick(NOW.replace(hour=4, minute=1))) == [
        "prune_jobs",
        "prune_push_log",
        "prune_whitelist_tombstones",
        "roll_up_orders",
        "whitelist_sync",
    ]


def test_a_slot_missed_too_long_ago_is_not_made_up():
    late = NOW.replace(hour=16, minute=30)  # 13½ hours after 3:00, 12½ after 4:00
    assert sorted(run.schedule for run in schedules.tick(late)) == [
        "roll_up_orders",
        "whitelist_sync",
    ]


def test_two_schedulers_ticking_at_once_start_each_run_once():
    barrier = threading.Barrier(2)
    errors = []

    def scheduler():
        try:
            barrier.wait()
            schedules.tick(NOW)
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=scheduler) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert ScheduleRun.objects.count() == 3
    assert Job.objects.count() == 3


def test_the_command_ticks_once(capsys):
    call_command("run_scheduler", "--once")
    assert ScheduleRun.objects.filter(schedule="whitelist_sync").count() == 1
    assert "whitelist_sync: started job" in capsys.readouterr().out
