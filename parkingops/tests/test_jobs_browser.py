"""我的任务 in a real browser: the progress bar moves while a job runs in a real worker, and the
page shows the result when it ends, without the user reloading."""

import pytest
from django.contrib.auth.models import User

from parkingops.jobs import runner
from parkingops.jobs.models import Job
from parkingops.tests.browser import browser, staff_page  # noqa: F401 (a fixture)
from parkingops.tests.processes import job_worker
from parkingops.tests.test_jobs_runner import count  # noqa: F401 (registers tests.count)

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_progress_bar_moves_and_the_result_appears(browser, live_server):  # noqa: F811
    User.objects.create_user("clerk", password="pw-clerk-1", is_staff=True)
    page = staff_page(browser, live_server, "clerk", "pw-clerk-1")
    job = runner.start_job(
        "tests.count",
        owner=User.objects.get(username="clerk"),
        subject="样例",
        params={"to": 200, "pause": 0.03, "file": True},
    )
    page.goto(f"{live_server.url}/admin/parkingops/job/{job.pk}/change/")
    assert page.locator(".job-state").inner_text() == "排队中"

    seen, left = set(), set()
    with job_worker("parkingops.tests.test_jobs_runner", JOB_PROGRESS_SECONDS="1"):
        # The bar is redrawn by the page's own polling: no reload by the test.
        bar = page.locator(".job-progress progress")
        for _ in range(40):
            value = bar.get_attribute("value")
            if value is not None:
                seen.add(int(value))
            left.add(page.locator(".job-progress-left").inner_text())
            if page.locator(".job-state").inner_text() == "完成":
                break
            page.wait_for_timeout(250)
        page.wait_for_selector("text=下载 counted.csv", timeout=30_000)

    moving = sorted(value for value in seen if 0 < value < 100)
    assert len(moving) >= 2, f"the bar never moved: {sorted(seen)}"
    assert any(text.startswith("剩余约 0:00:") for text in left), left
    assert page.locator(".job-state").inner_text() == "完成"
    assert "200 / 200" in page.locator(".job-progress-count").inner_text()
    with page.expect_download() as download:
        page.click("text=下载 counted.csv")
    assert open(download.value.path(), "rb").read() == b"a,b\n"
    assert Job.objects.get(pk=job.pk).state == Job.State.SUCCEEDED
