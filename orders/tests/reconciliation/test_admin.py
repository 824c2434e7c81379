"""The reconciliation's admin: running, the run's page, permissions, search and filters of the
runs and differences, and creating the missing orders."""

import re
from datetime import date

import pytest

from orders.models import PayOrder
from orders.reconciliation import services
from orders.reconciliation.models import ReconciliationItem, ReconciliationRun
from orders.tests.reconciliation.conftest import (
    DAY,
    ITEMS,
    ORDERS,
    RESOLVE,
    RUN,
    RUN_PAGE,
    RUNS,
    VIEW,
    Category,
    messages_of,
    order,
    run_day,
)
from parkingops.pcloud.client import PlatformClient
from whitelist.tests.factories import ParkFactory

pytestmark = pytest.mark.django_db


# --- The admin: running, the run's page ---------------------------------------------------------


def test_run_page_runs_one_park_and_redirects_to_the_run(
    staff_client, park, pay, whitelisted_plate
):
    client = staff_client(VIEW, RUN, language="en")
    pay("NEVER-PUSHED", pay_value=1500)
    pay("STRANGER", plate="川B12345", pay_value=700)
    order(park, "MATCHED", pay_value=1000)
    pay("MATCHED", pay_value=1000)

    form = client.get(RUN_PAGE)
    assert form.status_code == 200
    assert 'name="date"' in form.content.decode()
    response = client.post(RUN_PAGE, {"date": "2026-11-01", "park": "park-east"})

    run = ReconciliationRun.objects.get()
    assert response.status_code == 302
    assert response.url == f"{RUNS}{run.pk}/change/"
    assert run.created_by == response.wsgi_request.user
    page = client.get(response.url)
    assert (
        "2026-11-01 东门停车场 reconciled. Payments at the platform: 3; matched: 1; "
        "differences: 1; of plates not whitelisted: 1."
    ) in messages_of(response)
    assert f'href="{RUN_PAGE}?date=2026-11-01&amp;park=park-east"' in page.content.decode()
    rows = re.findall(r'<tr class="reconciliation-([a-z_]+)">(.*?)</tr>', page.content.decode())
    cells = {
        category: [
            re.sub(r"<[^>]+>", "", cell).strip()
            for cell in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", html)
        ]
        for category, html in rows
    }
    assert cells["matched"] == ["matched", "1", "¥10.00", "¥10.00", "—"]
    assert cells["missing_here"] == ["missing here", "1", "¥15.00", "—", "1"]
    assert cells["missing_at_platform"] == ["missing at the platform", "0", "—", "¥0.00", "0"]
    assert cells["amount_differs"] == ["amount differs", "0", "¥0.00", "¥0.00", "0"]
    assert cells["plate_differs"] == ["plate differs", "0", "—", "—", "0"]
    assert cells["not_whitelisted"] == ["not whitelisted (counted only)", "1", "¥7.00", "—", "—"]
    assert cells["platform"][1:3] == ["3", "¥32.00"]
    assert cells["ours"][1] == "1"


def test_run_page_reports_a_platform_failure(staff_client, fake_platform, park):
    client = staff_client(VIEW, RUN, language="en")
    fake_platform.fail_next("401")

    response = client.post(RUN_PAGE, {"date": "2026-11-01", "park": "park-east"}, follow=True)

    run = ReconciliationRun.objects.get()
    assert run.status == ReconciliationRun.Status.FAILED
    # The platform's answer in words (``pcloud.codes``), as finance reads it.
    answer = "unknown app or wrong signature (simulated failure 401)"
    assert any(f"failed: {answer}" in message for message in messages_of(response))
    assert answer in response.content.decode()


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"date": "2026-13-01"}, "Enter a valid date."),
        ({"date": ""}, "This field is required."),
        ({"date": "2999-01-01"}, "This day has not begun yet in China time."),
        ({"date": "2026-11-01", "park": "nowhere"}, "Select a valid choice."),
    ],
)
def test_run_page_with_a_bad_form_answers_400_and_runs_nothing(
    staff_client, fake_platform, park, data, error
):
    response = staff_client(VIEW, RUN, language="en").post(RUN_PAGE, data)

    assert response.status_code == 400
    assert error in response.content.decode()
    assert not ReconciliationRun.objects.exists()
    assert not fake_platform.calls


def test_running_needs_the_run_permission(staff_client, fake_platform, park):
    viewer = staff_client(VIEW, language="en")

    assert viewer.get(RUN_PAGE).status_code == 403
    assert viewer.post(RUN_PAGE, {"date": "2026-11-01"}).status_code == 403
    assert "reconciliation-run" not in viewer.get(RUNS).content.decode()
    assert not fake_platform.calls
    runner = staff_client(VIEW, RUN, language="en")
    assert f'href="{RUN_PAGE}"' in runner.get(RUNS).content.decode()


def test_runs_and_differences_need_the_view_permission(staff_client, park):
    run_day(park)
    client = staff_client("orders.view_payorder", language="en")

    assert client.get(RUNS).status_code == 403
    assert client.get(ITEMS).status_code == 403
    viewer = staff_client(VIEW, language="en")
    assert viewer.get(RUNS).status_code == 200
    assert viewer.get(ITEMS).status_code == 200


def test_no_one_may_add_change_or_delete_runs_or_differences(superuser_client, park, pay):
    pay("NEVER-PUSHED", plate="川B12345")
    order(park, "ONLY-OURS")
    run = run_day(park)
    item = run.items.get()

    for base, pk in [(RUNS, run.pk), (ITEMS, item.pk)]:
        assert superuser_client.get(f"{base}add/").status_code == 403
        assert superuser_client.post(f"{base}{pk}/change/", {}).status_code == 403
        assert superuser_client.post(f"{base}{pk}/delete/", {"post": "yes"}).status_code == 403
    assert ReconciliationItem.objects.filter(pk=item.pk).exists()


def test_runs_are_searchable_by_a_differences_serial_or_plate_and_filterable(
    staff_client, park, pay, whitelisted_plate
):
    west = ParkFactory(park_uuid="park-west")
    pay("EAST-1")
    east_run = run_day(park)
    west_run = services.reconcile(day=DAY, park=west, client=PlatformClient.from_settings())
    old_run = services.reconcile(
        day=date(2026, 10, 1), park=west, client=PlatformClient.from_settings()
    )
    client = staff_client(VIEW, language="en")

    def listed(params):
        return set(client.get(RUNS, params).context["cl"].result_list)

    assert listed({"q": "EAST-1"}) == {east_run}
    assert listed({"q": "川a660p1"}) == {east_run}
    assert listed({"park": "park-west"}) == {west_run, old_run}
    assert listed({"date_from": "2026-11-01", "date_to": "2026-11-01"}) == {east_run, west_run}
    assert listed({"status": "ok", "date_to": "2026-10-31"}) == {old_run}


# --- The admin: differences ---------------------------------------------------------------------


def test_difference_list_shows_each_difference_with_amounts_in_yuan(staff_client, two_runs):
    response = staff_client(VIEW, language="en").get(ITEMS, {"park": "park-east"})

    page = response.content.decode()
    assert response.status_code == 200
    for text in ["EAST-MISSING", "EAST-OURS", "EAST-AMOUNT", "¥15.00", "¥12.00", "¥8.00"]:
        assert text in page
    assert "2026-11-01 09:00:00" in page
    assert "WEST-MISSING" not in page


@pytest.mark.parametrize(
    ("params", "serials"),
    [
        ({"q": "EAST-AMOUNT"}, {"EAST-AMOUNT"}),
        ({"q": "川b 12345"}, {"EAST-OURS"}),
        ({"category": "missing_here"}, {"EAST-MISSING", "WEST-MISSING"}),
        ({"category": "amount_differs"}, {"EAST-AMOUNT"}),
        ({"park": "park-west"}, {"WEST-MISSING"}),
        ({"date_from": "2026-11-01"}, {"EAST-MISSING", "EAST-OURS", "EAST-AMOUNT"}),
        ({"date_to": "2026-10-31"}, {"WEST-MISSING"}),
        ({"resolved": "1"}, set()),
        ({"resolved": "0", "category": "missing_here", "park": "park-east"}, {"EAST-MISSING"}),
    ],
)
def test_differences_are_searchable_and_filterable(staff_client, two_runs, params, serials):
    response = staff_client(VIEW, language="en").get(ITEMS, params)

    assert {item.pay_serial for item in response.context["cl"].result_list} == serials


def test_a_bad_filter_value_shows_a_message_and_no_rows(staff_client, two_runs):
    response = staff_client(VIEW, language="en").get(ITEMS, {"category": "lost"})

    assert list(response.context["cl"].result_list) == []
    assert any("not a valid choice" in message for message in messages_of(response))


# --- The admin: creating the missing orders -----------------------------------------------------


def _action(client, items, **extra):
    data = {"action": "create_orders", "_selected_action": [item.pk for item in items], **extra}
    return client.post(ITEMS, data)


def test_create_orders_asks_for_confirmation_then_creates_them(staff_client, missing_item):
    client = staff_client(VIEW, RESOLVE, "orders.view_payorder", language="en")
    only_ours = ReconciliationItem.objects.get(category=Category.MISSING_AT_PLATFORM)

    confirm = _action(client, [missing_item, only_ours])

    assert confirm.status_code == 200
    page = confirm.content.decode()
    assert "NEVER-PUSHED" in page
    assert "¥15.00" in page
    assert "Not missing here, so skipped:" in page
    assert 'name="post" value="yes"' in page
    assert not PayOrder.objects.filter(pay_serial="NEVER-PUSHED").exists()

    done = _action(client, [missing_item, only_ours], post="yes")

    assert done.status_code == 302
    created = PayOrder.objects.get(pay_serial="NEVER-PUSHED")
    assert created.source == PayOrder.Source.RECONCILIATION
    missing_item.refresh_from_db()
    assert missing_item.resolved_order == created
    assert missing_item.resolved_by == done.wsgi_request.user
    assert (
        "Orders created: 1; already held and linked: 0; skipped (not missing here): 1."
        in messages_of(done)
    )
    # The order list marks it, filters by source, and its page shows the source.
    listed = client.get(ORDERS, {"source": "reconciliation"})
    assert [order.pk for order in listed.context["cl"].result_list] == [created.pk]
    assert "orders-source-reconciliation" in listed.content.decode()
    pushed = client.get(ORDERS, {"source": "push"})
    assert created not in list(pushed.context["cl"].result_list)
    detail = client.get(f"{ORDERS}{created.pk}/change/").content.decode()
    assert "reconciliation" in detail


def test_create_orders_again_only_links(staff_client, missing_item):
    client = staff_client(VIEW, RESOLVE, language="en")
    _action(client, [missing_item], post="yes")

    again = _action(client, [missing_item], post="yes")

    assert PayOrder.objects.filter(pay_serial="NEVER-PUSHED").count() == 1
    assert "Orders created: 0; already held and linked: 1" in messages_of(again)[-1]


def test_create_orders_is_refused_without_the_permission(staff_client, missing_item):
    client = staff_client(VIEW, language="en")

    assert _action(client, [missing_item]).status_code == 403
    assert _action(client, [missing_item], post="yes").status_code == 403
    assert not PayOrder.objects.filter(pay_serial="NEVER-PUSHED").exists()
    assert "create_orders" not in client.get(ITEMS).content.decode()


def test_the_admin_index_links_the_reconciliation(staff_client):
    viewer = staff_client(VIEW, language="en").get("/admin/").content.decode()
    runner = staff_client(VIEW, RUN, language="en").get("/admin/").content.decode()

    assert f'href="{RUNS}"' in viewer
    assert f'href="{RUN_PAGE}"' not in viewer
    assert f'href="{RUN_PAGE}"' in runner


def test_every_reconciliation_page_renders_in_chinese(superuser_client, missing_item):
    """The default language: every page and message renders with the Chinese catalogue."""
    run = missing_item.run
    pages = [
        superuser_client.get(RUNS),
        superuser_client.get(RUN_PAGE),
        superuser_client.get(f"{RUNS}{run.pk}/change/"),
        superuser_client.get(ITEMS),
        superuser_client.get(f"{ITEMS}{missing_item.pk}/change/"),
        _action(superuser_client, [missing_item]),
        superuser_client.get("/admin/parkingops/platformcall/"),
    ]
    assert [page.status_code for page in pages] == [200] * len(pages)
    table = pages[3].content.decode().split('id="result_list"', 1)[1].split("</thead>", 1)[0]
    headers = [re.sub(r"<[^>]+>|\s", "", h) for h in re.findall(r"<th.*?</th>", table, re.S)]
    assert not [h for h in headers if re.search(r"[A-Za-z]{3,}", h)], headers

    ran = superuser_client.post(RUN_PAGE, {"date": "2026-11-01", "park": "park-east"}, follow=True)
    rerun_item = ReconciliationItem.objects.get(category=Category.MISSING_HERE)
    created = _action(superuser_client, [rerun_item], post="yes")

    assert ran.status_code == 200
    assert len(messages_of(ran)) == 1
    assert created.status_code == 302
    assert PayOrder.objects.get(pay_serial="NEVER-PUSHED").source == PayOrder.Source.RECONCILIATION


def test_the_run_list_puts_each_sides_count_over_its_amount_and_names_the_differences(
    superuser_client, two_runs
):
    """Ten columns, to fit a 1366-pixel screen (issue 13): count and amount share a cell, the
    categories with differences share one, a line each; a run without any shows a dash."""
    page = superuser_client.get(RUNS, {"park": "park-east"}).content.decode()
    row = page.split('id="result_list"', 1)[1].split("</tbody>", 1)[0]
    cells = {
        name: re.sub(r"\s+", " ", value).strip()
        for name, value in re.findall(r'<td class="field-(\w+)">(.*?)</td>', row, re.S)
    }

    assert cells["platform_total"] == "2 笔<br>¥27.00"
    assert cells["ours_total"] == "2 笔<br>¥18.00"
    assert cells["differences"] == "本地缺失&nbsp;1<br>平台缺失&nbsp;1<br>金额不一致&nbsp;1"
    assert len(re.findall(r'<th [^>]*class="[^"]*column-', page)) == 10

    west = superuser_client.get(RUNS, {"park": "park-west"}).content.decode()
    assert '<td class="field-differences">本地缺失&nbsp;1</td>' in west
