"""Reconciling several days or parks in the background: the job (``orders.reconcile``), the
admin's range form that starts it, and the command's range and progress. The platform is the
fake one over real HTTP; jobs run as a worker runs them (``run_queued_jobs``)."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone, translation

from orders.jobs import start_reconciliation
from orders.reconciliation import services
from orders.reconciliation.models import ReconciliationRun
from orders.tests.reconciliation.conftest import (
    DAY,
    RUN,
    RUN_PAGE,
    VIEW,
    china,
    messages_of,
    order,
)
from parkingops.formatting import CHINA
from parkingops.jobs import kinds
from parkingops.jobs.models import Job
from parkingops.jobs.progress import JobCancelled, Progress
from parkingops.jobs.testing import run_queued_jobs
from whitelist.tests.factories import ParkFactory

NEXT_DAY = DAY + timedelta(days=1)
JOB_PAGE = "/admin/parkingops/job/{}/change/"


@pytest.fixture
def west(park):
    return ParkFactory(park_uuid="park-west", name="西门停车场")


@pytest.fixture
def two_days_two_parks(park, west, pay, whitelisted_plate):
    """East: a matched payment on the 1st, one missing here on the 2nd; west: one payment of a
    plate not whitelisted on the 1st, nothing on the 2nd."""
    pay("EAST-1", pay_value=1000)
    order(park, "EAST-1", pay_value=1000)
    pay("EAST-2", pay_value=1500, pay_time=china(2026, 11, 2, 10, 0))
    pay("WEST-1", park_uuid="park-west", plate="川B12345", pay_value=700)
    return park, west


@pytest.fixture
def clerk(db):
    return User.objects.create_user("clerk", is_staff=True)


def _run(days, park=None, owner=None) -> Job:
    with translation.override("en"):
        job = start_reconciliation(days=days, park=park, owner=owner)
    run_queued_jobs()
    job.refresh_from_db()
    return job


def _lines(job: Job) -> list[str]:
    with translation.override("en"):
        return kinds.describe(job.kind, job.result)


# --- The job ------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_job_of_two_days_and_two_parks_runs_four_runs_with_progress(two_days_two_parks, clerk):
    job = _run([DAY, NEXT_DAY], owner=clerk)

    assert job.state == Job.State.SUCCEEDED, job.message
    assert (job.done, job.total) == (4, 4)
    assert job.stage == "Reconciling with the platform"
    runs = ReconciliationRun.objects.order_by("date", "park__name")
    assert [(run.date, run.park.park_uuid, run.status) for run in runs] == [
        (DAY, "park-east", "ok"),
        (DAY, "park-west", "ok"),
        (NEXT_DAY, "park-east", "ok"),
        (NEXT_DAY, "park-west", "ok"),
    ]
    assert {run.created_by for run in runs} == {clerk}
    assert [(run["day"], run["park_uuid"]) for run in job.result["runs"]] == [
        ("2026-11-01", "park-east"),
        ("2026-11-01", "park-west"),
        ("2026-11-02", "park-east"),
        ("2026-11-02", "park-west"),
    ]
    assert _lines(job) == [
        "4 park-days reconciled: 4 completed, 0 failed; differences: 1.",
        "2026-11-01 东门停车场 reconciled. Payments at the platform: 1; matched: 1; "
        "differences: 0; of plates not whitelisted: 0.",
        "2026-11-01 西门停车场 reconciled. Payments at the platform: 1; matched: 0; "
        "differences: 0; of plates not whitelisted: 1.",
        "2026-11-02 东门停车场 reconciled. Payments at the platform: 1; matched: 0; "
        "differences: 1; of plates not whitelisted: 0.",
        "2026-11-02 西门停车场 reconciled. Payments at the platform: 0; matched: 0; "
        "differences: 0; of plates not whitelisted: 0.",
    ]


@pytest.mark.django_db(transaction=True)
def test_a_park_the_platform_refuses_is_listed_failed_and_the_job_succeeds(
    two_days_two_parks, fake_platform
):
    fake_platform.fail_next("401")  # the first park-day: the 1st, 东门 (by name)

    job = _run([DAY, NEXT_DAY])

    assert job.state == Job.State.SUCCEEDED
    assert (job.done, job.total) == (4, 4)
    failed = ReconciliationRun.objects.get(status=ReconciliationRun.Status.FAILED)
    assert (failed.date, failed.park.park_uuid) == (DAY, "park-east")
    lines = _lines(job)
    assert lines[0] == "4 park-days reconciled: 3 completed, 1 failed; differences: 1."
    assert (
        lines[1]
        == "2026-11-01 东门停车场: failed: unknown app or wrong signature (simulated failure 401)"
    )


@pytest.mark.django_db(transaction=True)
def test_the_job_fails_when_every_park_day_failed(park, fake_platform):
    fake_platform.fail_next("1500", times=2)

    job = _run([DAY, NEXT_DAY], park=park)

    assert job.state == Job.State.FAILED
    assert job.message.startswith("Every reconciliation failed; the first: 2026-11-01 东门停车场")
    assert ReconciliationRun.objects.filter(status="failed").count() == 2


@pytest.mark.django_db(transaction=True)
def test_a_job_with_no_park_known_succeeds_saying_so(fake_platform):
    job = _run([DAY])

    assert (job.state, job.done, job.total) == (Job.State.SUCCEEDED, 0, 0)
    assert _lines(job) == ["No parks are known yet: nothing to do."]
    assert not fake_platform.calls


@pytest.mark.django_db(transaction=True)
def test_the_job_fails_without_a_platform_client(park, settings):
    settings.PLATFORM_API_BASE = ""

    job = _run([DAY])

    assert job.state == Job.State.FAILED
    assert job.message.startswith("The platform client is not configured:")
    assert "PLATFORM_API_BASE is not set" in job.message
    assert not ReconciliationRun.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_the_job_fails_for_a_park_gone_meanwhile(park):
    with translation.override("en"):
        job = start_reconciliation(days=[DAY], park=park)
    park.delete()
    run_queued_jobs()
    job.refresh_from_db()

    assert job.state == Job.State.FAILED
    assert job.message == "No park has the uuid “park-east”."


@pytest.mark.django_db(transaction=True)
def test_the_job_runs_in_the_language_of_whoever_started_it(two_days_two_parks):
    with translation.override("zh-hans"):
        job = start_reconciliation(days=[DAY], park=None)
    run_queued_jobs()
    job.refresh_from_db()

    assert job.stage == "与平台对账"
    with translation.override("zh-hans"):
        assert kinds.describe(job.kind, job.result)[0].startswith("已对账 2 个车场日")


class _CancelledAfter(Progress):
    """Progress whose user cancels once ``count`` items are done, as a job's would."""

    def __init__(self, count: int) -> None:
        self.count, self.done, self.total = count, 0, None

    def stage(self, label, total=None):
        self.total = total

    def advance(self, count=1):
        self.done += count
        if self.done >= self.count:
            raise JobCancelled


@pytest.mark.django_db
def test_a_cancelled_reconciliation_stops_between_park_days_keeping_those_done(
    two_days_two_parks, fake_platform
):
    progress = _CancelledAfter(1)

    with pytest.raises(JobCancelled):
        services.reconcile_days(days=[DAY, NEXT_DAY], progress=progress)

    assert progress.total == 4
    (run,) = ReconciliationRun.objects.all()
    assert (run.date, run.park.park_uuid, run.status) == (DAY, "park-east", "ok")
    assert len(fake_platform.calls) == 1


# --- The admin's form ---------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_range_of_days_starts_a_job_and_shows_its_page(staff_client, two_days_two_parks):
    client = staff_client(VIEW, RUN, language="en")

    form = client.get(RUN_PAGE).content.decode()
    assert 'name="date"' in form and 'name="date_to"' in form
    response = client.post(
        RUN_PAGE, {"date": "2026-11-01", "date_to": "2026-11-02", "park": "park-east"}
    )

    job = Job.objects.get()
    assert response.status_code == 302
    assert response.url == JOB_PAGE.format(job.pk)
    assert job.kind == "orders.reconcile"
    assert job.params == {"days": ["2026-11-01", "2026-11-02"], "park": "park-east"}
    assert job.subject == "2026-11-01 – 2026-11-02, 东门停车场"
    assert job.owner == response.wsgi_request.user
    assert (
        "The reconciliation started in the background: follow its progress here or in “My jobs”."
    ) in messages_of(response)
    assert not ReconciliationRun.objects.exists()  # nothing ran in the request

    run_queued_jobs()

    job.refresh_from_db()
    assert (job.state, job.done, job.total) == (Job.State.SUCCEEDED, 2, 2)
    assert sorted(ReconciliationRun.objects.values_list("date", flat=True)) == [DAY, NEXT_DAY]
    assert client.get(response.url).status_code == 200


@pytest.mark.django_db(transaction=True)
def test_every_park_of_one_day_starts_a_job(staff_client, two_days_two_parks):
    client = staff_client(VIEW, RUN, language="en")

    response = client.post(RUN_PAGE, {"date": "2026-11-01", "park": ""})

    job = Job.objects.get()
    assert response.url == JOB_PAGE.format(job.pk)
    assert job.params == {"days": ["2026-11-01"], "park": ""}
    assert job.subject == "2026-11-01, All parks"
    # A second click while it waits goes to the same job.
    assert client.post(RUN_PAGE, {"date": "2026-11-01", "park": ""}).url == response.url
    assert Job.objects.count() == 1
    run_queued_jobs()
    assert ReconciliationRun.objects.filter(date=DAY).count() == 2


@pytest.mark.django_db
def test_every_park_when_only_one_is_known_runs_at_once(staff_client, park, pay):
    pay("EAST-1")

    response = staff_client(VIEW, RUN, language="en").post(RUN_PAGE, {"date": "2026-11-01"})

    run = ReconciliationRun.objects.get()
    assert response.url == f"/admin/orders/reconciliationrun/{run.pk}/change/"
    assert not Job.objects.exists()


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"date_to": "2026-13-01"}, "Enter a valid date."),
        ({"date_to": "not a day"}, "Enter a valid date."),
        ({"date_to": "0001-01-01"}, "0001-01-01 is out of range"),
        ({"date_to": "9999-12-31"}, "This day has not begun yet in China time."),
        ({"date": "1999-12-31", "date_to": "2000-01-01"}, "1999-12-31 is out of range"),
        ({"date": "0001-01-01"}, "0001-01-01 is out of range"),
        ({"date_to": "2026-10-31"}, "The first day is after the last."),
        ({"date_to": "2026-12-02"}, "Choose at most 31 days."),
    ],
)
@pytest.mark.django_db
def test_a_bad_range_answers_400_and_starts_nothing(staff_client, fake_platform, park, data, error):
    data = {"date": "2026-11-01", "park": "", **data}

    response = staff_client(VIEW, RUN, language="en").post(RUN_PAGE, data)

    assert response.status_code == 400
    assert error in response.content.decode()
    assert not Job.objects.exists()
    assert not ReconciliationRun.objects.exists()
    assert not fake_platform.calls


@pytest.mark.django_db
def test_a_range_ending_tomorrow_is_refused(staff_client, park):
    today = timezone.now().astimezone(CHINA).date()
    data = {"date": str(today - timedelta(days=1)), "date_to": str(today + timedelta(days=1))}

    response = staff_client(VIEW, RUN, language="en").post(RUN_PAGE, data)

    assert response.status_code == 400
    assert "This day has not begun yet in China time." in response.content.decode()
    assert not Job.objects.exists()


@pytest.mark.django_db
def test_thirty_one_days_are_allowed(staff_client, park):
    response = staff_client(VIEW, RUN, language="en").post(
        RUN_PAGE, {"date": "2026-10-01", "date_to": "2026-10-31", "park": "park-east"}
    )

    assert response.status_code == 302
    assert len(Job.objects.get().params["days"]) == 31


# --- The command --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_command_reconciles_a_range_and_logs_its_progress(capsys, two_days_two_parks):
    with translation.override("zh-hans"):  # the default, whatever a test before activated
        call_command("reconcile", "--date", "2026-11-01", "--date-to", "2026-11-02")

    captured = capsys.readouterr()
    assert ReconciliationRun.objects.count() == 4
    assert "2026-11-02 东门停车场 (park-east): platform 1 (¥15.00)" in captured.out
    # Not a terminal: plain lines, when the step starts and when it ends.
    progress = re.findall(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d (.*)$", captured.err, re.M)
    assert progress == ["与平台对账: 开始 0/4", "与平台对账: 完成 4/4"]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--date-to", "2026-10-31"], "开始日期晚于结束日期"),
        (["--date-to", "2026-12-02"], "最多选择 31 天"),
        (["--date-to", "9999-12-31"], "2000-01-01 至 2099-12-31"),
    ],
)
@pytest.mark.django_db
def test_command_refuses_a_bad_range(park, fake_platform, arguments, message):
    with translation.override("zh-hans"), pytest.raises(CommandError, match=re.escape(message)):
        call_command("reconcile", "--date", "2026-11-01", *arguments)
    assert not fake_platform.calls


@pytest.mark.django_db
def test_command_refuses_a_range_ending_tomorrow(park, fake_platform):
    today = timezone.now().astimezone(CHINA).date()
    tomorrow = str(today + timedelta(days=1))

    with pytest.raises(CommandError, match=f"{tomorrow} has not begun yet in China time"):
        call_command("reconcile", "--date", str(today), "--date-to", tomorrow)
    assert not fake_platform.calls
