"""Resolving differences with a note in the admin: the list's action and a difference's own page,
the required note, permissions, open counts, the report of days not reconciled, and two clerks
resolving at once over real HTTP."""

import http.cookiejar
import io
import re
import threading
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import date

import openpyxl
import pytest
from django.contrib.auth.models import Permission, User
from django.utils import timezone

from orders.models import Channel
from orders.reconciliation import services
from orders.reconciliation.models import ReconciliationItem, ReconciliationRun
from orders.tests.conftest import csv_rows
from orders.tests.reconciliation.conftest import (
    EXPORT,
    ITEMS,
    ITEMS_EXPORT,
    RESOLVE,
    RUNS,
    VIEW,
    Category,
    messages_of,
)
from whitelist.tests.factories import ParkFactory

pytestmark = pytest.mark.django_db

RESOLVE_DIFFERENCE = "orders.resolve_difference"


def resolve_url(item) -> str:
    return f"{ITEMS}{item.pk}/resolve/"


def test_a_difference_is_resolved_on_its_page_with_a_note_who_and_when(staff_client, two_runs):
    client = staff_client(VIEW, RESOLVE_DIFFERENCE, language="en")
    item = ReconciliationItem.objects.get(pay_serial="EAST-AMOUNT")

    page = client.get(f"{ITEMS}{item.pk}/change/")
    assert f'href="{resolve_url(item)}"' in page.content.decode()
    form = client.get(resolve_url(item))
    assert form.status_code == 200
    assert "¥10.00" in form.content.decode() and "¥12.00" in form.content.decode()
    response = client.post(resolve_url(item), {"post": "yes", "note": " 平台退款 200 分 "})

    assert response.status_code == 302
    assert response.url == f"{ITEMS}{item.pk}/change/"
    item.refresh_from_db()
    assert item.resolution_note == "平台退款 200 分"
    assert item.resolved_by == response.wsgi_request.user
    assert abs((timezone.now() - item.resolved_at).total_seconds()) < 60
    assert "1 difference marked resolved." in messages_of(response)
    assert 'href="' + resolve_url(item) not in client.get(response.url).content.decode()


@pytest.mark.parametrize("note", ["", "   \n "])
def test_resolving_with_an_empty_note_shows_a_message_and_changes_nothing(
    staff_client, two_runs, note
):
    client = staff_client(VIEW, RESOLVE_DIFFERENCE, language="en")
    item = ReconciliationItem.objects.get(pay_serial="EAST-AMOUNT")

    response = client.post(resolve_url(item), {"post": "yes", "note": note})

    assert response.status_code == 400
    assert "Write a note saying how the difference was resolved." in messages_of(response)
    item.refresh_from_db()
    assert item.resolved_at is None and item.resolution_note == ""


def test_the_list_action_asks_for_the_note_then_resolves_the_selection(staff_client, two_runs):
    client = staff_client(VIEW, RESOLVE_DIFFERENCE, language="en")
    items = list(ReconciliationItem.objects.filter(run__park__park_uuid="park-east"))
    selection = {"action": "resolve", "_selected_action": [item.pk for item in items]}

    confirm = client.post(ITEMS, selection)
    assert confirm.status_code == 200
    assert 'name="note"' in confirm.content.decode()
    empty = client.post(ITEMS, {**selection, "post": "yes", "note": ""})
    assert empty.status_code == 400
    assert not ReconciliationItem.objects.exclude(resolved_at=None).exists()
    done = client.post(ITEMS, {**selection, "post": "yes", "note": "已核对"})

    assert done.status_code == 302
    assert f"{len(items)} differences marked resolved." in messages_of(done)
    assert set(
        ReconciliationItem.objects.filter(pk__in=[i.pk for i in items]).values_list(
            "resolution_note", flat=True
        )
    ) == {"已核对"}
    assert ReconciliationItem.objects.filter(resolved_at=None).count() == 1  # the west one
    open_only = client.get(ITEMS, {"resolved": "0"})
    assert [row.pay_serial for row in open_only.context["cl"].result_list] == ["WEST-MISSING"]
    resolved = client.get(ITEMS, {"resolved": "1"})
    assert resolved.context["cl"].result_count == len(items)


def test_resolving_needs_the_resolve_difference_permission(staff_client, two_runs):
    client = staff_client(VIEW, RESOLVE, language="en")  # may create orders, not resolve
    item = ReconciliationItem.objects.get(pay_serial="EAST-AMOUNT")

    assert client.get(resolve_url(item)).status_code == 403
    assert client.post(resolve_url(item), {"post": "yes", "note": "x"}).status_code == 403
    action = client.post(ITEMS, {"action": "resolve", "_selected_action": [item.pk]})
    assert action.status_code == 403
    assert (
        'href="' + resolve_url(item) not in client.get(f"{ITEMS}{item.pk}/change/").content.decode()
    )
    item.refresh_from_db()
    assert item.resolved_at is None


def test_finance_holds_the_resolve_difference_permission():
    from django.core.management import call_command

    call_command("setup_roles", verbosity=0)
    finance = Permission.objects.filter(group__name="财务")
    assert finance.filter(codename="resolve_difference").exists()


def test_a_difference_already_resolved_is_left_as_it_is_with_a_message(staff_client, two_runs):
    item = ReconciliationItem.objects.get(pay_serial="EAST-AMOUNT")
    first = User.objects.create_user("first-clerk")
    services.resolve_differences(item_ids=[item.pk], user=first, note="第一位")
    client = staff_client(VIEW, RESOLVE_DIFFERENCE, language="en")

    response = client.post(resolve_url(item), {"post": "yes", "note": "第二位"})

    assert response.status_code == 302
    (message,) = messages_of(response)
    assert message.startswith("EAST-AMOUNT (amount differs) was already resolved by first-clerk")
    item.refresh_from_db()
    assert (item.resolution_note, item.resolved_by) == ("第一位", first)


def test_creating_the_missing_order_resolves_its_difference_with_a_note(missing_item):
    result = services.create_missing_order(item_id=missing_item.pk)

    missing_item.refresh_from_db()
    assert missing_item.resolved_at is not None
    assert result.order.pay_serial in missing_item.resolution_note


def test_the_run_page_list_and_admin_index_show_how_many_are_open(staff_client, two_runs):
    client = staff_client(VIEW, RESOLVE_DIFFERENCE, language="en")
    east = two_runs[0]
    services.resolve_differences(
        item_ids=[east.items.get(pay_serial="EAST-AMOUNT").pk], user=None, note="ok"
    )

    runs = client.get(RUNS)
    counts = {run.pk: run.open_count for run in runs.context["cl"].result_list}
    assert counts == {east.pk: 2, two_runs[1].pk: 1}
    page = client.get(f"{RUNS}{east.pk}/change/").content.decode()
    assert f"?run__id__exact={east.pk}&amp;resolved=0" in page
    index = client.get("/admin/").content.decode()
    assert "3 open differences" in index
    with_open = client.get(RUNS, {"open": "1"})
    assert with_open.context["cl"].result_count == 2
    services.resolve_differences(
        item_ids=list(east.items.values_list("pk", flat=True)), user=None, note="ok"
    )
    assert [r.date for r in client.get(RUNS, {"open": "1"}).context["cl"].result_list] == [
        date(2026, 10, 31)
    ]


def test_the_difference_csv_carries_both_values_and_the_resolution(staff_client, two_runs):
    item = ReconciliationItem.objects.get(pay_serial="EAST-AMOUNT")
    user = User.objects.create_user("clerk")
    services.resolve_differences(item_ids=[item.pk], user=user, note="平台已退款")
    client = staff_client(VIEW, EXPORT, language="en")

    rows = csv_rows(client.get(ITEMS_EXPORT))
    values = [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
    (amount,) = [row for row in values if row["pay_serial"] == "EAST-AMOUNT"]
    assert (amount["category"], amount["field"]) == ("amount differs", "pay_value")
    assert (amount["ours"], amount["platform"]) == ("¥10.00", "¥12.00")
    assert (amount["state"], amount["resolved_by"]) == ("resolved", "clerk")
    assert amount["resolution_note"] == "平台已退款"
    (missing,) = [row for row in values if row["pay_serial"] == "EAST-MISSING"]
    assert (missing["state"], missing["resolution_note"]) == ("open", "")


def test_the_difference_excel_file_has_the_csvs_rows_and_resolution(staff_client, two_runs):
    item = ReconciliationItem.objects.get(pay_serial="EAST-AMOUNT")
    services.resolve_differences(
        item_ids=[item.pk], user=User.objects.create_user("clerk"), note="已核"
    )
    client = staff_client(VIEW, EXPORT, language="en")
    csv_header, *csv_lines = csv_rows(client.get(ITEMS_EXPORT))

    response = client.get(ITEMS_EXPORT + "xlsx/")

    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.getvalue())).worksheets[0]
    header, *rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert header == csv_header
    assert len(rows) == len(csv_lines)
    (amount,) = [dict(zip(header, row, strict=True)) for row in rows if "EAST-AMOUNT" in row]
    assert (amount["state"], amount["resolved_by"], amount["resolution_note"]) == (
        "resolved",
        "clerk",
        "已核",
    )


def test_days_not_reconciled_are_listed_per_park(staff_client, park, fake_platform):
    west = ParkFactory(park_uuid="park-west", name="西门停车场")
    for current in (park, west):
        current.first_seen = timezone.make_aware(timezone.datetime(2026, 10, 1))
        current.save()
    ReconciliationRun.objects.create(date=date(2026, 11, 1), park=park, status="ok")
    ReconciliationRun.objects.create(date=date(2026, 11, 1), park=west, status="failed")
    client = staff_client(VIEW, language="en")

    response = client.get(
        f"{RUNS}unreconciled/", {"date_from": "2026-10-31", "date_to": "2026-11-01"}
    )

    assert response.status_code == 200
    gaps = [(gap.day, gap.park.park_uuid, gap.failed) for gap in response.context["gaps"]]
    assert gaps == [
        (date(2026, 11, 1), "park-west", True),
        (date(2026, 10, 31), "park-east", False),
        (date(2026, 10, 31), "park-west", False),
    ]
    bad = client.get(f"{RUNS}unreconciled/", {"date_from": "2026-11-02", "date_to": "2026-11-01"})
    assert bad.status_code == 400
    assert client.get(f"{RUNS}unreconciled/", {"date_from": "9999-01-01"}).status_code == 400


# --- Two clerks at once, over real HTTP --------------------------------------------------------


class Clerk:
    """A browser of one clerk: its own cookies, logging in and posting forms with their token."""

    def __init__(self, base: str, username: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.ProxyHandler({}),
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()),
        )
        self.post("/admin/login/", {"username": username, "password": "pw", "next": "/admin/"})

    def get(self, path: str) -> str:
        with self.opener.open(self.base + path, timeout=60) as response:  # noqa: S310
            return response.read().decode()

    def post(self, path: str, data: dict, *, token_from: str | None = None) -> tuple[int, str]:
        page = self.get(token_from or path)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        body = urllib.parse.urlencode({**data, "csrfmiddlewaretoken": token}).encode()
        with self.opener.open(self.base + path, data=body, timeout=60) as response:  # noqa: S310
            return response.status, response.read().decode()


@pytest.mark.django_db(transaction=True)
def test_two_clerks_resolving_at_once_one_wins_the_other_is_told(live_server, settings, two_runs):
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = False
    settings.LANGUAGE_CODE = "en"
    permissions = Permission.objects.filter(
        codename__in=["view_reconciliationrun", "resolve_difference"]
    )
    for name in ("clerk-a", "clerk-b"):
        user = User.objects.create_user(name, password="pw", is_staff=True)
        user.user_permissions.set(permissions)
    item = ReconciliationItem.objects.get(pay_serial="EAST-AMOUNT")
    clerks = [Clerk(live_server.url, "clerk-a"), Clerk(live_server.url, "clerk-b")]
    barrier = threading.Barrier(2)

    def resolve(clerk: Clerk, note: str) -> tuple[int, str]:
        page = clerk.get(resolve_url(item))
        barrier.wait(timeout=30)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        body = urllib.parse.urlencode(
            {"post": "yes", "note": note, "csrfmiddlewaretoken": token}
        ).encode()
        with clerk.opener.open(  # noqa: S310
            live_server.url + resolve_url(item), data=body, timeout=60
        ) as response:
            return response.status, response.read().decode()

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(resolve, clerks, ["note of a", "note of b"]))

    assert [status for status, _ in results] == [200, 200]  # the change page, after redirect
    item.refresh_from_db()
    winner = item.resolved_by.username
    assert item.resolution_note == f"note of {winner[-1]}"
    pages = dict(zip(["clerk-a", "clerk-b"], [html for _, html in results], strict=True))
    loser = "clerk-b" if winner == "clerk-a" else "clerk-a"
    assert "1 difference marked resolved." in pages[winner]
    assert f"was already resolved by {winner}" in pages[loser]
    assert ReconciliationItem.objects.get(pk=item.pk).category == Category.AMOUNT_DIFFERS


def test_running_the_day_again_keeps_the_resolution_of_a_difference_found_again(
    park, pay, two_runs, fake_platform
):
    from orders.tests.reconciliation.conftest import run_day

    east = two_runs[0]
    amount = east.items.get(pay_serial="EAST-AMOUNT")
    missing = east.items.get(pay_serial="EAST-MISSING")
    user = User.objects.create_user("clerk")
    services.resolve_differences(item_ids=[amount.pk, missing.pk], user=user, note="已核对")
    amount.refresh_from_db()
    fake_platform.payments[:] = [
        {**row, "pay_value": 1300} if row["pay_serial"] == "EAST-MISSING" else row
        for row in fake_platform.payments
    ]

    again = run_day(park)

    kept = again.items.get(pay_serial="EAST-AMOUNT")
    assert (kept.resolution_note, kept.resolved_by, kept.resolved_at) == (
        "已核对",
        user,
        amount.resolved_at,
    )
    # Another amount is another finding: open again.
    assert again.items.get(pay_serial="EAST-MISSING").resolved_at is None


def test_a_differences_page_shows_the_listed_times_in_china_time(staff_client, missing_item):
    client = staff_client(VIEW, language="en")

    page = client.get(f"{ITEMS}{missing_item.pk}/change/").content.decode()

    assert "2026-11-01 09:30:15" in page
    assert "2026-11-01T01:30:15Z" not in page


def test_the_service_refuses_a_blank_note(two_runs):
    item = ReconciliationItem.objects.get(pay_serial="EAST-AMOUNT")

    with pytest.raises(services.EmptyNote):
        services.resolve_differences(item_ids=[item.pk], user=None, note=" \t\n")

    item.refresh_from_db()
    assert item.resolved_at is None


def test_a_channel_difference_shows_each_sides_channel_by_name_with_its_code(
    staff_client, missing_item
):
    Channel.objects.update_or_create(code="200101", defaults={"name": "微信", "name_en": "WeChat"})
    item = ReconciliationItem.objects.create(
        run=missing_item.run,
        category=Category.CHANNEL_DIFFERS,
        field="channel",
        pay_serial="CHANNEL-DIFFERS",
        our_text="200101",
        platform_text="999999",
    )
    client = staff_client(VIEW, EXPORT, "orders.resolve_difference", language="en")

    listed = client.get(ITEMS, {"q": "CHANNEL-DIFFERS"}).content.decode()
    resolving = client.get(f"{ITEMS}{item.pk}/resolve/").content.decode()
    rows = csv_rows(client.get(ITEMS_EXPORT))

    for page in (listed, resolving):
        assert "WeChat (200101)" in page
        assert "999999" in page  # unnamed: the code alone
    (exported,) = [
        dict(zip(rows[0], row, strict=True)) for row in rows[1:] if "CHANNEL-DIFFERS" in row
    ]
    assert (exported["ours"], exported["platform"]) == ("WeChat (200101)", "999999")
