"""A big whitelist import as an operations clerk does it, in a real browser beside a real job
worker: upload, watch the preview's progress bar move, open the preview, confirm, watch the
import finish; the entries are there."""

import pytest
from django.contrib.auth.models import Permission, User

from parkingops.tests.browser import browser, staff_page  # noqa: F401 (a fixture)
from parkingops.tests.processes import job_worker
from whitelist.models import WhitelistEntry
from whitelist.tests.test_admin_import import HEADER

pytestmark = pytest.mark.django_db(transaction=True)

ROWS = 40_000


def _watch(page) -> set[str]:
    """Follow the job's page until it ends; return the progress texts seen meanwhile."""
    seen = set()
    for _ in range(600):
        state = page.locator(".job-state").inner_text()
        if state in ("完成", "失败", "已取消"):
            return seen
        bar = page.locator(".job-progress")
        seen.add(
            bar.locator(".job-progress-stage").inner_text()
            + " "
            + bar.locator(".job-progress-count").inner_text()
        )
        page.wait_for_timeout(200)
    raise AssertionError("the job did not finish")


def test_a_big_import_runs_in_the_background_with_a_moving_bar(browser, live_server, tmp_path):  # noqa: F811
    clerk = User.objects.create_user("ops", password="pw-ops-1", is_staff=True)
    clerk.user_permissions.set(
        Permission.objects.filter(
            content_type__app_label="whitelist",
            codename__in=["view_whitelistentry", "add_whitelistentry", "change_whitelistentry"],
        )
    )
    path = tmp_path / "白名单.csv"
    lines = (
        f"苏{'EF'[n // 100_000]}{n % 100_000:05d},,2026-01-01,,1,压测,\r\n" for n in range(ROWS)
    )
    path.write_text(HEADER + "".join(lines), encoding="utf-8")
    page = staff_page(browser, live_server, "ops", "pw-ops-1")

    with job_worker(JOB_PROGRESS_SECONDS="1"):
        page.goto(f"{live_server.url}/admin/whitelist/whitelistentry/import/")
        page.set_input_files("input[type=file]", str(path))
        page.click("input[type=submit]")
        page.wait_for_url("**/admin/parkingops/job/*/change/")
        assert "正在后台检查" in page.locator(".messagelist").inner_text()
        previewing = _watch(page)
        assert page.locator(".job-state").inner_text() == "完成"
        assert f"新增 {ROWS} 条" in page.locator(".job-result").inner_text()

        page.click("text=查看预览并确认")
        page.click("text=确认导入")
        page.wait_for_url("**/admin/parkingops/job/*/change/")
        importing = _watch(page)
        assert page.locator(".job-state").inner_text() == "完成"
        assert f"新增 {ROWS} 条" in page.locator(".job-result").inner_text()

    # The page is never reloaded: a count seen before the end was drawn by the page's own
    # polling, between the queued bar and the result. On a busy machine a step can end between
    # two polls, so one such count is what the test may ask for, not one per step.
    moving = {text for text in previewing | importing if "/" in text}
    assert moving, f"the bar never moved: {sorted(previewing | importing)}"
    assert WhitelistEntry.objects.count() == ROWS
