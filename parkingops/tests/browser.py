"""A real browser for the tests of what staff see: Debian's Chromium driven by Playwright.

``staff_page(live_server, username, password)`` logs in through the admin's login form and
returns the page. Without a Chromium on the machine the browser tests skip, except where
``PARKINGOPS_REQUIRE_BROWSER`` is set (CI installs Chromium and sets it: ``.ci/run``), where
they fail; ``PARKINGOPS_CHROMIUM`` names another binary.

``browser`` is one browser per test; ``module_browser`` one for a whole module (the page
checks of ``test_browser_pages`` open a hundred pages: starting Chromium once saves minutes).
"""

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.db import connections

CHROMIUM = os.environ.get("PARKINGOPS_CHROMIUM") or shutil.which("chromium")
# What a skipped browser test says (``pytest -rs``), and what ``make test`` prints before the
# run when the binary is missing.
NO_CHROMIUM = (
    "no Chromium on this machine, so the browser tests are skipped "
    "(apt-get install chromium fonts-wqy-microhei, or set PARKINGOPS_CHROMIUM)"
)


def require_chromium() -> None:
    """Skip the test when there is no Chromium; fail instead where CI demands the browser."""
    if not CHROMIUM:
        if os.environ.get("PARKINGOPS_REQUIRE_BROWSER"):
            pytest.fail("no Chromium on this machine, and PARKINGOPS_REQUIRE_BROWSER is set")
        pytest.skip(NO_CHROMIUM)


@contextmanager
def _launched() -> Iterator:
    from playwright.sync_api import sync_playwright

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


@pytest.fixture
def browser(monkeypatch) -> Iterator:
    require_chromium()
    # Playwright's sync API runs an event loop in this thread; the test's own ORM calls are
    # still plain synchronous code.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with _launched() as launched:
        yield launched


@pytest.fixture(scope="module")
def module_browser() -> Iterator:
    """One browser for every test of the module (each test opens its own context)."""
    require_chromium()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # as in ``browser``
        with _launched() as launched:
            yield launched


def staff_page(browser, live_server, username: str, password: str):
    """A new page of ``browser``, logged in to the admin as ``username``, in Chinese."""
    page = browser.new_page(locale="zh-CN", viewport={"width": 1400, "height": 900})
    log_in(page, live_server.url, username, password)
    return page


def log_in(page, base_url: str, username: str, password: str) -> None:
    """Log ``page`` in to the admin at ``base_url`` through its login form."""
    page.goto(f"{base_url}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("input[type=submit]")
    page.wait_for_url(f"{base_url}/admin/")
