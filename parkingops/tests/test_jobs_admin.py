"""我的任务: each user sees, follows, downloads and cancels their own jobs, and only theirs."""

import json

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from parkingops.jobs import runner
from parkingops.jobs.models import Job
from parkingops.jobs.testing import run_queued_jobs
from parkingops.tests.test_jobs_runner import count  # noqa: F401 (registers tests.count)

pytestmark = pytest.mark.django_db(transaction=True)

LIST = "/admin/parkingops/job/"


@pytest.fixture
def clerk(client):
    user = User.objects.create_user("clerk", password="pw", is_staff=True)
    client.force_login(user)
    return user


@pytest.fixture
def other():
    return User.objects.create_user("other", password="pw", is_staff=True)


@pytest.fixture(autouse=True)
def _files(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def _job(owner, **params) -> Job:
    return runner.start_job(
        "tests.count", owner=owner, subject="sample", params={"to": 3, **params}
    )


def test_the_list_shows_a_users_own_jobs_only(client, clerk, other):
    mine, theirs = _job(clerk), _job(other, to=4)
    page = client.get(LIST)
    assert page.status_code == 200
    body = page.content.decode()
    assert f'data-job-id="{mine.pk}"' in body
    assert f'data-job-id="{theirs.pk}"' not in body
    assert "我的任务" in body and "排队中" in body


def test_another_users_job_is_not_found(client, clerk, other):
    theirs = _job(other)
    assert client.get(f"{LIST}{theirs.pk}/change/").status_code == 404
    assert client.post(f"{LIST}{theirs.pk}/cancel/").status_code == 404
    assert Job.objects.get(pk=theirs.pk).state == Job.State.QUEUED
    status = client.get(f"{LIST}status/", {"id": str(theirs.pk)}).json()
    assert status == {"jobs": []}


def test_a_superuser_sees_everyones_jobs(client, other):
    theirs = _job(other)
    client.force_login(User.objects.create_superuser("root", password="pw"))
    assert f'data-job-id="{theirs.pk}"' in client.get(LIST).content.decode()
    assert client.get(f"{LIST}{theirs.pk}/change/").status_code == 200


def test_the_job_page_shows_progress_and_the_result(client, clerk):
    job = _job(clerk, to=30)
    page = client.get(f"{LIST}{job.pk}/change/").content.decode()
    assert "排队中" in page and "取消任务" in page
    run_queued_jobs()
    page = client.get(f"{LIST}{job.pk}/change/").content.decode()
    assert "完成" in page and "30 / 30" in page and 'value="100"' in page
    assert "取消任务" not in page


def test_the_status_poll_answers_progress_as_json(client, clerk):
    job = _job(clerk, to=30)
    run_queued_jobs()
    answer = client.get(f"{LIST}status/", {"id": [str(job.pk)]})
    (status,) = answer.json()["jobs"]
    assert status["state"] == "succeeded" and status["finished"] is True
    assert (status["done"], status["total"], status["percent"]) == (30, 30, 100)


@pytest.mark.parametrize("value", ["nope", "", "1' or 1=1", "\x00", "9" * 500])
def test_a_bad_id_in_the_poll_is_a_400(client, clerk, value):
    answer = client.get(f"{LIST}status/", {"id": value})
    assert answer.status_code == 400
    assert json.loads(answer.content)["error"]


def test_the_owner_downloads_the_file_and_nobody_else(client, clerk, other):
    job = _job(clerk, file=True)
    run_queued_jobs()
    answer = client.get(f"{LIST}{job.pk}/download/")
    assert answer.status_code == 200
    assert b"".join(answer.streaming_content) == b"a,b\n"
    assert 'filename="counted.csv"' in answer["Content-Disposition"]
    listed = client.get(LIST).content.decode()
    assert f'href="{LIST}{job.pk}/download/"' in listed  # the list links the file too
    client.force_login(other)
    assert client.get(f"{LIST}{job.pk}/download/").status_code == 404


def test_an_expired_file_is_said_to_be_gone(client, clerk):
    job = _job(clerk, file=True)
    run_queued_jobs()
    Job.objects.get(pk=job.pk).file.delete(save=False)
    answer = client.get(f"{LIST}{job.pk}/download/", follow=True)
    assert "文件已不再保留" in answer.content.decode()


def test_cancelling_a_queued_job_from_its_page(client, clerk):
    job = _job(clerk)
    assert client.get(f"{LIST}{job.pk}/cancel/").status_code == 405
    answer = client.post(f"{LIST}{job.pk}/cancel/", follow=True)
    assert "已取消" in answer.content.decode()
    assert Job.objects.get(pk=job.pk).state == Job.State.CANCELLED


def test_nobody_adds_or_edits_a_job_here(client, clerk):
    job = _job(clerk)
    assert client.get(f"{LIST}add/").status_code == 403
    assert client.post(f"{LIST}{job.pk}/delete/").status_code in (403, 404)


def test_the_short_address_and_the_header_link(client, clerk):
    assert client.get("/admin/jobs/").url == LIST
    assert (
        f'href="{reverse("admin:parkingops_job_changelist")}"'
        in client.get("/admin/").content.decode()
    )
