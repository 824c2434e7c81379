"""The health conditions judged on the database at a fixed moment (``readings.read(now=)``)."""

from datetime import date, timedelta

import pytest
from django.utils import timezone, translation

from orders.monitoring import conditions, readings
from orders.push.outcomes import Outcome
from orders.reconciliation.models import ReconciliationItem, ReconciliationRun
from orders.tests.factories import PayOrderFactory
from orders.tests.monitoring.conftest import china, logged, usual_pushes
from parkingops.jobs.models import Job
from whitelist.models import PlateSync
from whitelist.tests.factories import ParkFactory

pytestmark = pytest.mark.django_db

NOW = china(2026, 11, 20, 14, 0)  # a Friday afternoon, China time


def judged(now=NOW) -> dict[str, conditions.Condition]:
    return {c.code: c for c in conditions.evaluate(readings.read(now=now))}


def firing(now=NOW) -> set[str]:
    return {code for code, condition in judged(now).items() if condition.firing}


# --- The push stream ---------------------------------------------------------------------------


def test_silence_at_a_time_without_usual_pushes_is_not_an_alert():
    logged(NOW - timedelta(days=1, hours=6))  # yesterday morning only

    assert "push_stream_stopped" not in firing()
    assert not readings.read(now=NOW).push_expected


def test_silence_at_a_usual_time_fires_after_the_silence_minutes(settings):
    settings.ALERT_PUSH_SILENCE_MINUTES = 30
    usual_pushes(NOW)
    logged(NOW - timedelta(minutes=29))
    assert "push_stream_stopped" not in firing()

    assert "push_stream_stopped" in firing(NOW + timedelta(minutes=1))


def test_pushes_are_expected_on_enough_of_the_last_seven_days(settings):
    settings.ALERT_PUSH_EXPECTED_DAYS = 4
    usual_pushes(NOW, days=3)
    assert not readings.push_expected(now=NOW)

    logged(NOW - timedelta(days=7, minutes=10))  # the fourth day
    assert readings.push_expected(now=NOW)


def test_only_accepted_pushes_show_the_stream_alive():
    usual_pushes(NOW)
    logged(NOW - timedelta(hours=1))
    logged(NOW - timedelta(minutes=1), Outcome.DUPLICATE)
    logged(NOW - timedelta(minutes=1), Outcome.BAD_SIGNATURE)

    condition = judged()["push_stream_stopped"]

    assert condition.firing
    assert "60" in condition.message


def test_the_busiest_parks_come_first_with_their_newest_pushed_order(settings):
    settings.METRICS_BUSIEST_PARKS = 2
    quiet, busy, busier = (ParkFactory(name=name) for name in ("安静", "繁忙", "更忙"))
    for park, count in ((quiet, 1), (busy, 2), (busier, 3)):
        for minutes in range(count):
            moment = NOW - timedelta(hours=count, minutes=minutes)
            PayOrderFactory(park=park, pay_time=moment, received_at=moment)
    PayOrderFactory(park=busy, pay_time=NOW - timedelta(days=8))  # outside the week

    parks = readings.busiest_parks(now=NOW)

    assert [(park.name, park.last_accepted_at) for park in parks] == [
        ("更忙", NOW - timedelta(hours=3)),
        ("繁忙", NOW - timedelta(hours=2)),
    ]


# --- Refusals ----------------------------------------------------------------------------------


def test_refusals_fire_over_the_share_once_there_are_enough_pushes(settings):
    settings.ALERT_REFUSAL_PERCENT = 20
    settings.ALERT_REFUSAL_MIN_PUSHES = 20
    logged(NOW - timedelta(minutes=5), Outcome.ACCEPTED, 15)
    logged(NOW - timedelta(minutes=5), Outcome.INVALID_FIELD, 4)
    logged(NOW - timedelta(minutes=20), Outcome.BAD_SIGNATURE, 50)  # before the window
    assert "refusals_spiking" not in firing()  # 19 pushes: too few to judge

    logged(NOW - timedelta(minutes=1), Outcome.UNAVAILABLE)  # 5 of 20 = 25 %

    assert "refusals_spiking" in firing()
    with translation.override("en"):
        assert judged()["refusals_spiking"].message.startswith("5 of 20")


def test_duplicates_are_not_refusals(settings):
    settings.ALERT_REFUSAL_MIN_PUSHES = 1
    logged(NOW - timedelta(minutes=1), Outcome.DUPLICATE, 10)

    assert "refusals_spiking" not in firing()


# --- The platform sync -------------------------------------------------------------------------


def test_a_sync_failing_longer_than_the_limit_fires(settings):
    settings.ALERT_SYNC_FAILING_MINUTES = 30
    PlateSync.objects.create(plate="川A00001", state="pending")
    PlateSync.objects.create(
        plate="川A00002", state="failed", failing_since=NOW - timedelta(minutes=29)
    )
    state = readings.read(now=NOW)
    assert (state.syncs_pending, state.syncs_failed) == (1, 1)
    assert "sync_failing" not in firing()

    assert "sync_failing" in firing(NOW + timedelta(minutes=1))


# --- Jobs --------------------------------------------------------------------------------------


def test_a_job_queued_longer_than_the_limit_means_no_worker(settings):
    settings.ALERT_JOB_QUEUED_MINUTES = 15
    job = Job.objects.create(kind="whitelist.import")
    Job.objects.filter(pk=job.pk).update(created_at=NOW - timedelta(minutes=16))
    Job.objects.create(kind="whitelist.import", state=Job.State.RUNNING)

    state = readings.read(now=NOW)

    assert (state.jobs_queued, state.jobs_running) == (1, 1)
    assert "jobs_stuck" in firing()


# --- Reconciliation ----------------------------------------------------------------------------


def run(day: date, park, *, status=ReconciliationRun.Status.OK, open_items: int = 0):
    run = ReconciliationRun.objects.create(date=day, park=park, status=status)
    for number in range(open_items):
        ReconciliationItem.objects.create(
            run=run, category=ReconciliationItem.Category.MISSING_HERE, pay_serial=f"P{number}"
        )
    return run


def test_the_day_due_is_yesterday_only_after_the_nightly_run_and_its_grace(settings):
    settings.SCHEDULE_RECONCILE_HOUR = 3
    settings.ALERT_RECONCILE_GRACE_HOURS = 2

    assert readings.reconcile_day(now=china(2026, 11, 20, 4, 59)) == date(2026, 11, 18)
    assert readings.reconcile_day(now=china(2026, 11, 20, 5, 0)) == date(2026, 11, 19)


def test_a_park_without_a_completed_run_of_the_day_due_fires(settings):
    settings.SCHEDULE_RECONCILE_HOUR = 3
    settings.ALERT_RECONCILE_GRACE_HOURS = 2
    known = ParkFactory(name="老停车场", first_seen=NOW - timedelta(days=30))
    failed = ParkFactory(name="失败停车场", first_seen=NOW - timedelta(days=30))
    ParkFactory(name="新停车场", first_seen=NOW)  # seen today: not due yet
    run(date(2026, 11, 19), known)
    run(date(2026, 11, 19), failed, status=ReconciliationRun.Status.FAILED)

    condition = judged()["reconciliation_missing"]

    assert condition.firing
    assert "失败停车场" in condition.message and "新停车场" not in condition.message

    # The park's run again, completed this time (a re-run replaces the failed one).
    ReconciliationRun.objects.filter(park=failed).update(status=ReconciliationRun.Status.OK)
    assert "reconciliation_missing" not in firing()


def test_every_park_reconciled_does_not_fire_and_open_differences_do():
    park = ParkFactory(first_seen=NOW - timedelta(days=30))
    day_run = run(date(2026, 11, 19), park, open_items=2)
    run(date(2026, 11, 10), park, open_items=5)  # an older day: counted, not alerted

    state = readings.read(now=NOW)

    assert state.open_differences == 7
    assert state.reconcile_day_open_differences == 2
    assert state.reconcile_day_last_run_at == day_run.started_at
    assert firing() == {"reconciliation_differences"}

    day_run.items.update(resolved_at=timezone.now(), resolution_note="已核实")
    assert firing() == set()
