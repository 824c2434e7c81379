"""A file over IMPORT_BACKGROUND_ROWS is previewed, then imported, by jobs (whitelist.jobs):
followed on its job's page, confirmed once by whoever previewed it, all rows or none.

Jobs write their progress on a second connection: the tests commit (transaction=True).
"""

import csv
import io
from datetime import datetime

import openpyxl
import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation

from parkingops.formatting import CHINA
from parkingops.jobs import kinds, runner
from parkingops.jobs.models import Job
from parkingops.jobs.testing import run_queued_jobs
from whitelist import jobs
from whitelist.models import WhitelistEntry
from whitelist.tests.conftest import CHANGELIST
from whitelist.tests.factories import WhitelistEntryFactory
from whitelist.tests.test_admin_import import HEADER, NOT_PENDING_ZH, chinese_client

pytestmark = pytest.mark.django_db(transaction=True)

IMPORT = CHANGELIST + "import/"


@pytest.fixture(autouse=True)
def job_pages(settings, tmp_path):
    """Files in a temporary folder, and a threshold of 5 rows."""
    settings.MEDIA_ROOT = tmp_path
    settings.IMPORT_BACKGROUND_ROWS = 5


@pytest.fixture
def admin_zh(superuser):
    return chinese_client(superuser)


def rows(count: int, *, holder: str = "张三", bad: int | None = None) -> str:
    return "".join(
        f"川A{n:05d},,{'someday' if n == bad else '2026-01-01'},,1,{holder},\r\n"
        for n in range(1, count + 1)
    )


def upload(client, content: bytes, name: str = "whitelist.csv"):
    return client.post(IMPORT, {"import_file": SimpleUploadedFile(name, content)})


def job_page(job) -> str:
    return reverse("admin:parkingops_job_change", args=[job.pk])


def messages(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def previewed_in_background(client, content: bytes, name: str = "whitelist.csv") -> Job:
    """Upload ``content``, run its preview job, return the job."""
    response = upload(client, content, name)
    job = Job.objects.get(kind=jobs.PREVIEW)
    assert (response.status_code, response["Location"]) == (302, job_page(job))
    run_queued_jobs()
    job.refresh_from_db()
    return job


def test_a_large_file_is_previewed_in_the_background_and_imported_once_confirmed(admin_zh):
    response = upload(admin_zh, (HEADER + rows(50)).encode())

    job = Job.objects.get()
    assert (job.kind, job.state, job.subject) == (jobs.PREVIEW, Job.State.QUEUED, "whitelist.csv")
    assert response.status_code == 302 and response["Location"] == job_page(job)
    assert messages(response) == [
        "文件超过 5 行，正在后台检查。可在“我的任务”查看进度，检查完成后在那里打开预览并确认导入。"
    ]
    assert not WhitelistEntry.objects.exists()

    run_queued_jobs()

    job.refresh_from_db()
    assert job.state == Job.State.SUCCEEDED
    assert (job.stage, job.done, job.total) == ("检查", 50, 50)
    assert not job.input_file  # the job's copy is gone; the preview keeps its own
    assert job.result["next_url"] == f"{IMPORT}job/{job.pk}/"
    assert job.result["totals"] == {"new": 50, "update": 0, "skip": 0, "invalid": 0}
    with translation.override("zh-hans"):
        assert kinds.describe(job.kind, job.result) == [
            "新增 50 条，更新 0 条，无变化 0 条，无效 0 条。"
        ]

    shown = admin_zh.get(job_page(job)).content.decode()
    assert f'href="{job.result["next_url"]}">查看预览并确认</a>' in shown

    page = admin_zh.get(job.result["next_url"])

    assert page.status_code == 200
    html = page.content.decode()
    assert "新增 50 条，更新 0 条，无变化 0 条，无效 0 条。" in html
    assert [row.number for row in page.context["result"].rows] == list(range(1, 51))
    # The confirmation posts to the job's page, naming no file.
    confirmation = html.split(f'<form action="{IMPORT}job/{job.pk}/" method="post">')[1]
    assert "whitelist.csv" not in confirmation.split("</form>")[0]

    confirmed = admin_zh.post(job.result["next_url"])

    importing = Job.objects.get(kind=jobs.IMPORT)
    assert confirmed.status_code == 302 and confirmed["Location"] == job_page(importing)
    assert importing.owner == job.owner and importing.input_file
    run_queued_jobs()
    importing.refresh_from_db()
    assert importing.state == Job.State.SUCCEEDED, importing.message
    assert (importing.stage, importing.done, importing.total) == ("写入", 50, 50)
    assert importing.result == {
        "file": "whitelist.csv",
        "created": 50,
        "updated": 0,
        "unchanged": 0,
    }
    with translation.override("zh-hans"):
        assert kinds.describe(importing.kind, importing.result) == [
            "已导入 whitelist.csv：新增 50 条，更新 0 条，未变 0 条。"
        ]
    assert WhitelistEntry.objects.count() == 50
    entry = WhitelistEntry.objects.get(plate="川A00007")
    assert entry.holder == "张三"
    record = entry.history.get()
    assert record.history_change_reason == "从 whitelist.csv 导入"
    assert record.history_user == job.owner


def test_a_file_of_as_many_rows_as_the_threshold_is_previewed_at_once(admin_zh):
    response = upload(admin_zh, (HEADER + rows(5) + ",,,,,,\r\n" * 3).encode())

    assert response.status_code == 200
    assert response.context["result"].totals["new"] == 5
    assert "confirm_form" in response.context
    assert not Job.objects.exists()


def test_confirming_twice_imports_once(admin_zh):
    preview = previewed_in_background(admin_zh, (HEADER + rows(20)).encode())
    url = preview.result["next_url"]

    first = admin_zh.post(url)
    second = admin_zh.post(url)

    assert Job.objects.filter(kind=jobs.IMPORT).count() == 1
    assert second.status_code == 302 and second["Location"] == IMPORT
    assert messages(second)[-1] == NOT_PENDING_ZH
    run_queued_jobs()
    assert WhitelistEntry.objects.count() == 20
    # The preview's page now leads to the import.
    assert admin_zh.get(url)["Location"] == first["Location"]


def test_only_who_previewed_sees_and_confirms_the_preview(admin_zh, django_user_model):
    preview = previewed_in_background(admin_zh, (HEADER + rows(20)).encode())
    url = preview.result["next_url"]
    other = chinese_client(
        django_user_model.objects.create_superuser("other", "other@example.com", "x")
    )

    assert other.get(url).status_code == 404
    assert other.post(url).status_code == 404
    assert not Job.objects.filter(kind=jobs.IMPORT).exists()
    assert admin_zh.post(url).status_code == 302  # still waiting for its own user


def test_a_preview_page_needs_a_succeeded_preview_job(admin_zh, superuser):
    running = runner.start_job(jobs.PREVIEW, owner=superuser, params={"name": "a.csv"})
    assert admin_zh.get(f"{IMPORT}job/{running.pk}/").status_code == 404
    # Not a job's address at all: the admin's own answer to an unknown object.
    assert admin_zh.get(f"{IMPORT}job/not-a-uuid/").status_code in (302, 404)
    other_kind = runner.start_job(jobs.IMPORT, owner=superuser, params={"name": "a.csv"})
    assert admin_zh.post(f"{IMPORT}job/{other_kind.pk}/").status_code == 404


def test_an_invalid_file_shows_its_invalid_rows_and_no_confirmation(admin_zh):
    preview = previewed_in_background(admin_zh, (HEADER + rows(30, bad=12)).encode())

    assert preview.state == Job.State.SUCCEEDED
    assert preview.result["totals"]["invalid"] == 1 and not preview.result["valid"]
    with translation.override("zh-hans"):
        assert kinds.describe(preview.kind, preview.result)[1] == "所有行都有效之后才会导入。"
    shown = admin_zh.get(job_page(preview)).content.decode()
    assert f'href="{preview.result["next_url"]}">查看无效的行</a>' in shown
    page = admin_zh.get(preview.result["next_url"])
    assert [row.number for row in page.context["result"].rows] == [12]
    assert "“someday”" in page.content.decode()
    assert "confirm_form" not in page.context

    refused = admin_zh.post(preview.result["next_url"])

    assert refused["Location"] == IMPORT and messages(refused)[-1] == NOT_PENDING_ZH
    assert not Job.objects.filter(kind=jobs.IMPORT).exists()


@pytest.mark.parametrize("encoding", ["gb18030", "utf-16"])
def test_chinese_files_in_other_encodings_import_in_the_background(admin_zh, encoding):
    content = (HEADER + rows(12, holder="王小明")).encode(encoding)
    preview = previewed_in_background(admin_zh, content)

    admin_zh.post(preview.result["next_url"])
    run_queued_jobs()

    assert WhitelistEntry.objects.filter(holder="王小明").count() == 12


def test_an_xlsx_file_imports_in_the_background(admin_zh):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["车牌", "生效时间", "持有人"])
    for n in range(1, 9):
        sheet.append([f"川B{n:05d}", "2026-01-01 08:00", "李四"])
    buffer = io.BytesIO()
    book.save(buffer)
    preview = previewed_in_background(admin_zh, buffer.getvalue(), "名单.xlsx")
    assert preview.subject == "名单.xlsx"

    admin_zh.post(preview.result["next_url"])
    run_queued_jobs()

    assert WhitelistEntry.objects.filter(holder="李四").count() == 8
    assert Job.objects.get(kind=jobs.IMPORT).state == Job.State.SUCCEEDED


def test_rows_no_longer_valid_when_confirmed_fail_the_import_with_nothing_written(admin_zh):
    entry = WhitelistEntryFactory(plate="川A99999")
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["编号", "车牌", "生效时间"])
    writer.writerow([entry.pk, "川A99999", "2026-01-01"])
    for n in range(1, 10):
        writer.writerow(["", f"川A{n:05d}", "2026-01-01"])
    preview = previewed_in_background(admin_zh, out.getvalue().encode())
    assert preview.result["valid"]
    admin_zh.post(preview.result["next_url"], {"reason": "改起始时间"})
    entry.delete()

    run_queued_jobs()

    importing = Job.objects.get(kind=jobs.IMPORT)
    assert importing.state == Job.State.FAILED
    assert importing.message == "未导入任何数据：部分行已不再有效。请重新上传文件查看是哪些行。"
    assert not WhitelistEntry.objects.exists()


def test_a_cancelled_import_writes_nothing(admin_zh, monkeypatch):
    preview = previewed_in_background(admin_zh, (HEADER + rows(40)).encode())
    admin_zh.post(preview.result["next_url"])
    importing = Job.objects.get(kind=jobs.IMPORT)
    # Cancelled as it starts: its first step of progress stops it, once the heartbeat has
    # read the request (within JOB_PROGRESS_SECONDS).
    Job.objects.filter(pk=importing.pk).update(cancel_requested=True)
    advance = runner.JobProgress.advance

    def advance_once_the_cancel_is_read(self, count=1):
        self._cancelled.wait(timeout=10)
        return advance(self, count)

    monkeypatch.setattr(runner.JobProgress, "advance", advance_once_the_cancel_is_read)

    run_queued_jobs()

    importing.refresh_from_db()
    assert importing.state == Job.State.CANCELLED
    assert not WhitelistEntry.objects.exists()
    assert not importing.input_file


def test_a_background_import_that_disables_entries_asks_one_reason_on_confirming(admin_zh):
    entry = WhitelistEntryFactory(plate="川A00001", valid_from=datetime(2026, 1, 1, tzinfo=CHINA))
    content = (HEADER + rows(6).replace("2026-01-01,,1,", "2026-01-01,,0,", 1)).encode()
    preview = previewed_in_background(admin_zh, content)
    assert preview.result["narrowing"] == 1
    page = admin_zh.get(preview.result["next_url"]).content.decode()
    assert "有 1 行会停用或缩短现有条目" in page and 'name="reason"' in page

    refused = admin_zh.post(preview.result["next_url"], {"reason": " "}, follow=True)

    assert "请填写变更原因：此次变更会停用、删除或缩短白名单条目。" in messages(refused)
    assert not Job.objects.filter(kind=jobs.IMPORT).exists()

    admin_zh.post(preview.result["next_url"], {"reason": "年度清理"})
    run_queued_jobs()

    assert Job.objects.get(kind=jobs.IMPORT).state == Job.State.SUCCEEDED
    entry.refresh_from_db()
    assert not entry.is_active
    assert entry.history.latest().history_change_reason == "年度清理"
