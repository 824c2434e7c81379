"""A real browser for the tests of what staff see: Debian's Chromium driven by Playwright.

``staff_page(live_server, username, password)`` logs in through the admin's login form and
returns the page. Without a Chromium on the machine the browser tests skip, except where
``PARKINGOPS_REQUIRE_BROWSER`` is set (CI installs Chromium and sets it: ``.ci/run``), where
they fail; ``PARKINGOPS_CHROMIUM`` names another binary.
"""

import os
import shutil
from collections.abc import Iterator

import pytest
from django.db import connections

CHROMIUM = os.environ.get("PARKINGOPS_CHROMIUM") or shutil.which("chromium")


@pytest.fixture
def browser(monkeypatch) -> Iterator:
    if not CHROMIUM:
        if os.environ.get("PARKINGOPS_REQUIRE_BROWSER"):
            pytest.fail("no Chromium on this machine, and PARKINGOPS_REQUIRE_BROWSER is set")
        pytest.skip("no Chromium on this machine (CI installs it)")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the test's own ORM calls are
    # still plain synchronous code.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            yield browser
        finally:
            browser.close()
            # The test's own queries ran inside Playwright's context, on a connection of their
            # own (Django keeps connections per context): close it, or the database cannot be
            # dropped at the end of the run.
            connections.close_all()


def staff_page(browser, live_server, username: str, password: str):
    """A new page of ``browser``, logged in to the admin as ``username``, in Chinese."""
    page = browser.new_page(locale="zh-CN", viewport={"width": 1400, "height": 900})
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("input[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/")
    return page
