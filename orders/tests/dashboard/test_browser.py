"""The dashboard in a real browser: both charts are drawn (the vendored Chart.js, no network),
each has its numbers as a table, and at 1366×768 the page needs no horizontal scroll."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from orders.models import PushLog
from orders.push.outcomes import Outcome
from orders.tests.factories import PayOrderFactory
from parkingops.tests.browser import browser, staff_page  # noqa: F401 (a fixture)
from whitelist.tests.factories import ParkFactory

pytestmark = pytest.mark.django_db(transaction=True)

# Counts the canvas's pixels that are not transparent: a drawn chart has thousands.
PAINTED = """(canvas) => {
  const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  let painted = 0;
  for (let i = 3; i < data.length; i += 4) if (data[i]) painted++;
  return painted;
}"""


def test_the_charts_are_drawn_with_their_tables_and_fit_the_screen(browser, live_server):  # noqa: F811
    now = timezone.now()
    for n in range(7):
        park = ParkFactory(park_uuid=f"p-{n}", name=f"测试停车场{n}" if n else "")
        for day in range(0, 30, 3):
            PayOrderFactory(park=park, pay_time=now - timedelta(days=day), pay_value=1000 + n)
    for hour in range(24):
        for reason in (Outcome.ACCEPTED, Outcome.NOT_WHITELISTED):
            PushLog.objects.create(
                received_at=now - timedelta(hours=hour),
                code=reason.code,
                reason=reason.value,
                plate="川B99999",
            )
    User.objects.create_superuser("root", "root@example.com", "pw-root-1")
    page = staff_page(browser, live_server, "root", "pw-root-1")
    page.set_viewport_size({"width": 1366, "height": 768})
    page.reload()
    # Nothing is fetched from another host: the admin works offline.
    hosts = set()
    page.on("request", lambda request: hosts.add(request.url.split("/")[2]))
    page.reload()
    for chart in ("dashboard-finance-chart", "dashboard-push-chart"):
        canvas = page.locator(f'canvas[data-chart="{chart}"]')
        page.wait_for_selector(f'canvas[data-chart="{chart}"][data-drawn]')
        assert int(canvas.get_attribute("data-drawn")) >= 2  # datasets drawn
        assert canvas.evaluate(PAINTED) > 1000
        table = canvas.locator("xpath=ancestor::figure//details//table")
        assert table.count() == 1 and table.locator("tbody tr").count() in (24, 30)
    # Five parks and the others; the table is closed, so read its text, not what is shown.
    header = page.locator("#dashboard-finance .dashboard-numbers thead th").all_text_contents()
    assert header[0] == "日期" and header[-1] == "其他" and len(header) == 7
    assert hosts == {live_server.url.split("/")[2]}
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
