"""The admin's home page per role: finance sees its sections only, operations theirs, a superuser
both, a user without either a plain app list; every link of the dashboard opens its admin list,
filtered as the figure says."""

import re
from datetime import timedelta
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth.models import Group, User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from orders.models import PushLog
from orders.push.outcomes import Outcome
from orders.reconciliation.models import ReconciliationItem, ReconciliationRun
from orders.tests.factories import PayOrderFactory, StayFactory
from parkingops.formatting import CHINA
from parkingops.roles import FINANCE, OPERATIONS, apply_roles
from whitelist.models import PlateSync
from whitelist.tests.factories import ParkFactory, WhitelistEntryFactory

pytestmark = pytest.mark.django_db

FINANCE_MARK = 'id="dashboard-finance"'
OPERATIONS_MARK = 'id="dashboard-operations"'
STAYS_MARK = 'id="dashboard-stays"'


@pytest.fixture
def data(db):
    """A day of orders and pushes at two parks (one without a name), a refused plate, a
    whitelist entry failing at the platform and one ending soon, an open difference, a car in
    the park."""
    now = timezone.now()
    east = ParkFactory(park_uuid="p-east", name="东门")
    nameless = ParkFactory(park_uuid="p-nameless", name="")
    for n in range(3):
        PayOrderFactory(park=east, pay_time=now - timedelta(minutes=n), pay_value=1250)
    PayOrderFactory(park=nameless, pay_time=now - timedelta(days=1), pay_value=300)
    silent = ParkFactory(park_uuid="p-silent", name="西门")  # every 5 minutes until 3 hours ago
    for n in range(21):
        PayOrderFactory(park=silent, pay_time=now - timedelta(hours=3, minutes=5 * n))
    for n in range(4):
        PushLog.objects.create(
            received_at=now - timedelta(minutes=n),
            code=Outcome.NOT_WHITELISTED.code,
            reason=Outcome.NOT_WHITELISTED.value,
            plate="川B99999",
        )
    PushLog.objects.create(received_at=now, code="1001", reason=Outcome.ACCEPTED.value)
    StayFactory(park=east, enter_time=now - timedelta(hours=1))
    WhitelistEntryFactory(plate="川A00001", valid_until=now + timedelta(days=2))
    PlateSync.objects.create(plate="川A00001", state=PlateSync.State.FAILED)
    run = ReconciliationRun.objects.create(
        date=(now.astimezone(CHINA) - timedelta(days=2)).date(),
        park=east,
        status=ReconciliationRun.Status.OK,
    )
    ReconciliationItem.objects.create(
        run=run, category=ReconciliationItem.Category.MISSING_HERE, pay_serial="X1"
    )
    return now


def role_client(role: str) -> Client:
    apply_roles()
    user = User.objects.create_user(f"user-{role}", is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(user)
    return client


def dashboard_links(html: str) -> list[str]:
    """Return every link inside the dashboard."""
    start = html.index('id="dashboard"')
    end = html.index('class="app-', start)
    return [unescape(href) for href in re.findall(r'href="([^"]+)"', html[start:end])]


def test_finance_sees_the_takings_and_the_reconciliation_only(data):
    html = role_client(FINANCE).get("/admin/").content.decode()
    assert FINANCE_MARK in html and OPERATIONS_MARK not in html
    assert "东门" in html and "p-nameless" in html  # the uuid stands in for a missing name
    assert "37.50" in html  # 3 × 12.50 yuan today at 东门
    assert 'id="dashboard-finance-chart"' in html  # the chart's data (json_script)
    assert "<details" in html  # and its numbers as a table
    assert "未处理差异" in html
    # The app list is still there, below.
    assert 'id="content-main"' in html and "app-orders" in html


def test_operations_sees_pushes_and_the_whitelist_only(data):
    html = role_client(OPERATIONS).get("/admin/").content.decode()
    assert OPERATIONS_MARK in html and FINANCE_MARK not in html
    assert "川B99999" in html
    assert 'id="dashboard-push-chart"' in html
    assert str(Outcome.NOT_WHITELISTED.label) in html or "未在白名单" in html
    assert "37.50" not in html


def test_a_superuser_sees_both(data):
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(User.objects.create_superuser("root", "r@example.com", "x"))
    html = client.get("/admin/").content.decode()
    assert FINANCE_MARK in html and OPERATIONS_MARK in html


@pytest.mark.parametrize("app", ["orders", "whitelist"])
def test_an_apps_own_index_lists_its_tables_without_the_dashboard(data, app):
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(User.objects.create_superuser("root", "r@example.com", "x"))
    html = client.get(f"/admin/{app}/").content.decode()
    assert FINANCE_MARK not in html and OPERATIONS_MARK not in html
    assert "chart.umd.min.js" not in html
    assert 'id="content-main"' in html and f"app-{app}" in html


def test_a_user_without_permissions_gets_the_plain_index(data, staff_client):
    response = staff_client()
    html = response.get("/admin/").content.decode()
    assert 'id="dashboard"' not in html
    assert 'id="content-main"' in html


def test_sections_follow_permissions_not_group_names(data, staff_client):
    # Operations' permissions without the group: the operations sections.
    html = (
        staff_client(
            "whitelist.change_whitelistentry",
            "whitelist.view_whitelistentry",
            "orders.view_pushlog",
        )
        .get("/admin/")
        .content.decode()
    )
    assert OPERATIONS_MARK in html and FINANCE_MARK not in html
    # Keeping the whitelist without reading the push log: no push figures, the whitelist's.
    html = (
        staff_client("whitelist.change_whitelistentry", "whitelist.view_whitelistentry")
        .get("/admin/")
        .content.decode()
    )
    assert OPERATIONS_MARK in html and "dashboard-push-chart" not in html
    # Orders without the reconciliation: the takings, no reconciliation box.
    html = staff_client("orders.view_payorder").get("/admin/").content.decode()
    assert FINANCE_MARK in html and "未处理差异" not in html


def test_an_empty_database_renders_every_section(db):
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(User.objects.create_superuser("root", "r@example.com", "x"))
    response = client.get("/admin/")
    assert response.status_code == 200
    html = response.content.decode()
    assert FINANCE_MARK in html and OPERATIONS_MARK in html
    assert "<canvas" not in html  # nothing to draw: the page says so instead


@pytest.mark.parametrize("role", [FINANCE, OPERATIONS])
def test_every_link_opens_its_list_filtered(data, role):
    client = role_client(role)
    links = dashboard_links(client.get("/admin/").content.decode())
    assert len(links) >= 5
    for link in links:
        response = client.get(link)
        assert response.status_code == 200, link
        query = parse_qs(urlsplit(link).query)
        changelist = response.context.get("cl") if response.context else None
        if changelist is not None:
            # Every parameter the link gives is one the list took (a refused one redirects
            # to ?e=1 instead of answering 200).
            for name, values in query.items():
                assert changelist.params.get(name) in (values[-1], values), (link, name)


def test_the_links_lead_to_the_figures_rows(data):
    client = role_client(OPERATIONS)
    links = dashboard_links(client.get("/admin/").content.decode())
    [refused] = [link for link in links if "q=" in link and "pushlog" in link][:1]
    rows = client.get(refused).context["cl"].result_list
    assert {row.plate for row in rows} == {"川B99999"} and len(rows) == 4
    [failed] = [link for link in links if "sync=failed" in link]
    assert [e.plate for e in client.get(failed).context["cl"].result_list] == ["川A00001"]
    [expiring] = [link for link in links if "expiring=7d" in link]
    assert [e.plate for e in client.get(expiring).context["cl"].result_list] == ["川A00001"]
    # Operations may not read orders: a silent park opens the park list, searched for it.
    [silent] = [link for link in links if "/whitelist/park/" in link]
    assert [p.park_uuid for p in client.get(silent).context["cl"].result_list] == ["p-silent"]

    client = role_client(FINANCE)
    links = dashboard_links(client.get("/admin/").content.decode())
    today = timezone.localtime(data, CHINA).date().isoformat()
    east_today = f"pay_date_from={today}&pay_date_to={today}&park=p-east"
    [link] = {link for link in links if link.endswith(east_today)}
    assert client.get(link).context["cl"].result_count == 3
    [open_differences] = [link for link in links if "resolved=0" in link]
    assert client.get(open_differences).context["cl"].result_count == 1


def test_hostile_query_strings_on_the_index_are_harmless(data, superuser_client):
    for query in ["?x=%00", "?e=1", "?q=' OR 1=1", "?_changelist_filters=%ff"]:
        assert superuser_client.get("/admin/" + query).status_code == 200


def test_the_page_costs_the_same_queries_however_many_parks(data, django_assert_num_queries):
    """No query per park, plate or day: more of each adds rows to the grouped reads only."""
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(User.objects.create_superuser("root", "r@example.com", "x"))
    client.get("/admin/")  # warm the caches (content types, translations)
    with CaptureQueriesContext(connection) as few:
        client.get("/admin/")
    now = timezone.now()
    for n in range(6):
        park = ParkFactory(park_uuid=f"p-more-{n}", name="")
        for day in range(0, 40, 4):
            PayOrderFactory(park=park, pay_time=now - timedelta(days=day))
        for minute in range(25):
            PayOrderFactory(park=park, pay_time=now - timedelta(hours=5, minutes=minute * 5))
        for week in range(9):
            StayFactory(park=park, left=True, enter_time=now - timedelta(weeks=week, hours=2))
        StayFactory(park=park)  # in the park
        PushLog.objects.create(
            received_at=now, code="1403", reason=Outcome.NOT_WHITELISTED.value, plate=f"京A{n}"
        )
    with django_assert_num_queries(len(few)):
        html = client.get("/admin/").content.decode()
    assert "p-more-5" in html  # the new parks are there (silent ones too)
    assert html.count("in_park=1") == 2 + 6  # all parks, 东门 and each new park's cars inside


def test_the_stays_show_the_cars_in_each_park_linked_and_the_mean_length_per_week(
    data, staff_client
):
    east = ParkFactory(park_uuid="p-stays", name="南门")
    now = timezone.now()
    for _ in range(3):
        StayFactory(park=east, enter_time=now - timedelta(minutes=30))
    StayFactory(
        park=east,
        left=True,
        enter_time=now - timedelta(hours=3),
        leave_time=now - timedelta(minutes=55),
        parking_time=7500,
    )

    html = staff_client("orders.view_stay").get("/admin/").content.decode()

    # Stays alone: neither finance's nor operations' sections come with them.
    assert STAYS_MARK in html and FINANCE_MARK not in html and OPERATIONS_MARK not in html
    links = dashboard_links(html)
    assert f"/admin/orders/stay/?park={east.park_uuid}&in_park=1" in links
    assert "/admin/orders/stay/?in_park=1" in links
    row = html.split("南门", 1)[1].split("</tr>", 1)[0]
    assert re.findall(r"<td[^>]*>(.*?)</td>", row)[-1] == "2 小时 05 分"
    assert 'in_park=1">3</a>' in row


def test_the_stays_need_their_own_permission(data, staff_client):
    StayFactory()
    html = staff_client("orders.view_payorder").get("/admin/").content.decode()
    assert FINANCE_MARK in html and STAYS_MARK not in html
