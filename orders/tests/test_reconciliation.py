"""Reconciliation against the platform's payment list, over real HTTP against the fake
platform: paging, every category, partial-day whitelisting, re-runs, failures, the command,
the admin pages, search, filters, the CSV export and creating the missing orders."""

import re
from datetime import date, datetime, timedelta

import pytest
from django.contrib.messages import get_messages
from django.core.management import call_command
from django.core.management.base import CommandError

from orders.models import PayOrder
from orders.reconciliation import services
from orders.reconciliation.models import ReconciliationItem, ReconciliationRun
from orders.tests.conftest import csv_rows
from orders.tests.factories import PayOrderFactory
from parkingops.formatting import CHINA
from parkingops.models import PlatformCall
from parkingops.pcloud.client import PlatformClient, record_to_database
from whitelist.tests.factories import ParkFactory, WhitelistEntryFactory

Category = ReconciliationItem.Category

DAY = date(2026, 11, 1)
RUNS = "/admin/orders/reconciliationrun/"
RUN_PAGE = "/admin/orders/reconciliationrun/run/"
ITEMS = "/admin/orders/reconciliationitem/"
ITEMS_EXPORT = "/admin/orders/reconciliationitem/export/"
RUNS_EXPORT = "/admin/orders/reconciliationrun/export/"
ORDERS = "/admin/orders/payorder/"

VIEW = "orders.view_reconciliationrun"
RUN = "orders.run_reconciliation"
RESOLVE = "orders.resolve_reconciliation"
EXPORT = "orders.export_orders"

ITEM_HEADER_EN = [
    "date",
    "park_uuid",
    "park_name",
    "category",
    "pay_serial",
    "plate",
    "pay_time",
    "platform_value_yuan",
    "platform_value_fen",
    "our_value_yuan",
    "our_value_fen",
    "parking_serial",
    "channel",
    "resolved_at",
]

pytestmark = pytest.mark.django_db


def china(*args) -> datetime:
    """An aware time given in China time (UTC+8, no DST)."""
    return datetime(*args, tzinfo=CHINA)


@pytest.fixture
def park(fake_platform):
    """A known park; the fake platform is serving and the settings point at it."""
    return ParkFactory(park_uuid="park-east", name="东门停车场")


@pytest.fixture
def whitelisted_plate(db):
    """川A660P1 is whitelisted for every park, from 2020 on."""
    return WhitelistEntryFactory(plate="川A660P1", valid_from=china(2020, 1, 1))


@pytest.fixture
def pay(fake_platform, park):
    """Seed a payment of ``park`` at the fake platform (keyword arguments override)."""

    def add(pay_serial: str, **fields):
        fields.setdefault("park_uuid", park.park_uuid)
        fields.setdefault("plate", "川A660P1")
        fields.setdefault("pay_value", 1000)
        fields.setdefault("pay_time", china(2026, 11, 1, 9, 0))
        return fake_platform.add_payment(pay_serial=pay_serial, **fields)

    return add


def order(park, pay_serial: str, **fields) -> PayOrder:
    fields.setdefault("pay_value", 1000)
    fields.setdefault("pay_time", china(2026, 11, 1, 9, 0))
    return PayOrderFactory(park=park, pay_serial=pay_serial, **fields)


def run_day(park, **options) -> ReconciliationRun:
    options.setdefault("client", PlatformClient.from_settings())
    return services.reconcile(day=DAY, park=park, **options)


def items_of(run) -> dict[str, tuple[str, int | None, int | None]]:
    """``{pay_serial: (category, platform_value, our_value)}`` of a run's differences."""
    return {
        item.pay_serial: (item.category, item.platform_value, item.our_value)
        for item in run.items.all()
    }


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


# --- Reconciling -------------------------------------------------------------------------------


def test_pages_through_a_multi_page_payment_list(fake_platform, park, pay):
    for minute in range(5):
        serial = f"S{minute}"
        pay(serial, pay_time=china(2026, 11, 1, 9, minute))
        order(park, serial, pay_time=china(2026, 11, 1, 9, minute))

    run = run_day(park, page_size=2)

    assert run.status == ReconciliationRun.Status.OK
    assert (run.platform_count, run.matched_count, run.matched_value) == (5, 5, 5000)
    assert run.items.count() == 0
    pages = [call["params"]["page_index"] for call in fake_platform.calls]
    assert pages == ["1", "2", "3"]
    assert {call["params"]["page_size"] for call in fake_platform.calls} == {"2"}
    assert PlatformCall.objects.count() == 3


def test_asks_for_the_china_time_day_from_000000_to_235959(fake_platform, park):
    run = run_day(park)

    (call,) = fake_platform.calls  # an empty day: the platform answers 1002, no error
    assert call["params"]["park_uuid"] == "park-east"
    assert call["params"]["start_time"] == "20261101000000"
    assert call["params"]["end_time"] == "20261101235959"
    assert run.status == ReconciliationRun.Status.OK
    assert run.platform_count == 0


def test_finds_every_category_and_counts_matched_and_not_whitelisted(park, pay, whitelisted_plate):
    pay("MATCHED", pay_value=1000)
    order(park, "MATCHED", pay_value=1000)
    pay("NEVER-PUSHED", plate="川a 660p1", pay_value=1500)  # listed in another spelling
    order(park, "ONLY-OURS", pay_value=800, plate="川A660P1")
    pay("OTHER-AMOUNT", pay_value=1200)
    order(park, "OTHER-AMOUNT", pay_value=1000)
    pay("STRANGER", plate="川B12345", pay_value=700)

    run = run_day(park)

    assert items_of(run) == {
        "NEVER-PUSHED": (Category.MISSING_HERE, 1500, None),
        "ONLY-OURS": (Category.MISSING_AT_PLATFORM, None, 800),
        "OTHER-AMOUNT": (Category.AMOUNT_DIFFERS, 1200, 1000),
    }
    assert (run.platform_count, run.platform_value) == (4, 1000 + 1500 + 1200 + 700)
    assert (run.ours_count, run.ours_value) == (3, 1000 + 800 + 1000)
    assert (run.matched_count, run.matched_value) == (1, 1000)
    assert (run.not_whitelisted_count, run.not_whitelisted_value) == (1, 700)
    missing = run.items.get(pay_serial="NEVER-PUSHED")
    assert missing.plate == "川A660P1"  # normalised
    assert missing.pay_time == china(2026, 11, 1, 9, 0)
    assert missing.payment["plate"] == "川a 660p1"  # the listed row, as listed
    assert missing.order is None
    only_ours = run.items.get(pay_serial="ONLY-OURS")
    assert only_ours.order == PayOrder.objects.get(pay_serial="ONLY-OURS")
    assert only_ours.payment == {}
    assert run.items.get(pay_serial="OTHER-AMOUNT").order.pay_serial == "OTHER-AMOUNT"


def test_a_plate_whitelisted_for_part_of_the_day(park, pay):
    WhitelistEntryFactory(
        plate="川A660P1", valid_from=china(2026, 11, 1, 10, 0), valid_until=china(2026, 11, 1, 12)
    )
    pay("BEFORE", pay_time=china(2026, 11, 1, 9, 59, 59))
    pay("INSIDE", pay_time=china(2026, 11, 1, 11, 0))
    pay("AT-THE-END", pay_time=china(2026, 11, 1, 12, 0))  # valid_until is exclusive
    pay("AFTER", pay_time=china(2026, 11, 1, 13, 0))

    run = run_day(park)

    assert items_of(run) == {"INSIDE": (Category.MISSING_HERE, 1000, None)}
    assert (run.not_whitelisted_count, run.not_whitelisted_value) == (3, 3000)


def test_an_entry_for_another_park_or_a_disabled_entry_does_not_whitelist(park, pay):
    WhitelistEntryFactory(plate="川A660P1", park_uuid="park-west", valid_from=china(2020, 1, 1))
    WhitelistEntryFactory(plate="川B12345", is_active=False, valid_from=china(2020, 1, 1))
    WhitelistEntryFactory(plate="川C12345", park_uuid="park-east", valid_from=china(2020, 1, 1))
    pay("OTHER-PARK", plate="川A660P1")
    pay("DISABLED", plate="川B12345")
    pay("THIS-PARK", plate="川C12345")

    run = run_day(park)

    assert items_of(run) == {"THIS-PARK": (Category.MISSING_HERE, 1000, None)}
    assert run.not_whitelisted_count == 2


def test_a_serial_held_under_another_day_or_park_counts_as_matched(park, pay, whitelisted_plate):
    pay("LATE", pay_time=china(2026, 11, 1, 23, 59, 59))
    order(park, "LATE", pay_time=china(2026, 11, 2, 0, 0, 1))  # we hold it on the next day
    pay("ELSEWHERE")
    order(ParkFactory(park_uuid="park-west"), "ELSEWHERE")

    run = run_day(park)

    assert run.items.count() == 0
    assert (run.matched_count, run.matched_value) == (2, 2000)
    assert run.ours_count == 0  # neither is an order of this park and day


def test_only_orders_of_this_park_and_china_day_can_be_missing_at_the_platform(park, pay):
    order(park, "DAY-START", pay_time=china(2026, 11, 1, 0, 0, 0))
    order(park, "DAY-END", pay_time=china(2026, 11, 1, 23, 59, 59))
    order(park, "DAY-BEFORE", pay_time=china(2026, 10, 31, 23, 59, 59))
    order(park, "DAY-AFTER", pay_time=china(2026, 11, 2, 0, 0, 0))
    order(ParkFactory(park_uuid="park-west"), "OTHER-PARK")

    run = run_day(park)

    assert set(items_of(run)) == {"DAY-START", "DAY-END"}
    assert run.ours_count == 2


def test_a_serial_listed_twice_counts_once(park, pay):
    pay("TWICE")
    pay("TWICE")
    order(park, "TWICE")

    run = run_day(park, page_size=1)

    assert (run.platform_count, run.matched_count, run.matched_value) == (1, 1, 1000)


def test_rerunning_a_day_replaces_the_previous_run_of_that_park(park, pay, whitelisted_plate):
    other_park = ParkFactory(park_uuid="park-west")
    kept_other_park = services.reconcile(
        day=DAY, park=other_park, client=PlatformClient.from_settings()
    )
    kept_other_day = services.reconcile(
        day=DAY - timedelta(days=1), park=park, client=PlatformClient.from_settings()
    )
    pay("FIRST")
    first = run_day(park)
    assert set(items_of(first)) == {"FIRST"}

    order(park, "FIRST")  # pushed late
    pay("SECOND")
    second = run_day(park)

    assert list(ReconciliationRun.objects.filter(park=park, date=DAY)) == [second]
    assert set(items_of(second)) == {"SECOND"}
    assert second.matched_count == 1
    assert not ReconciliationItem.objects.filter(run_id=first.pk).exists()
    assert ReconciliationRun.objects.filter(pk=kept_other_park.pk).exists()
    assert ReconciliationRun.objects.filter(pk=kept_other_day.pk).exists()


def test_runs_never_change_or_delete_orders(park, pay, whitelisted_plate):
    order(park, "MATCHED")
    order(park, "ONLY-OURS")
    order(park, "OTHER-AMOUNT", pay_value=999)
    pay("MATCHED")
    pay("OTHER-AMOUNT")
    pay("NEVER-PUSHED")

    def snapshot():
        return list(PayOrder.objects.order_by("pk").values())

    before = snapshot()
    run_day(park)
    run_day(park)  # the re-run deletes the first run's items, which point at orders

    assert snapshot() == before


@pytest.mark.parametrize(
    ("failure", "code"),
    [("1500", "1500"), ("401", "401"), ("403", "403")],
)
def test_a_platform_failure_marks_the_run_failed_and_stores_nothing_else(
    fake_platform, park, pay, whitelisted_plate, failure, code
):
    pay("NEVER-PUSHED")
    order(park, "ONLY-OURS")
    # Retried twice without waiting: a 1500 that persists through every retry.
    client = PlatformClient.from_settings(retries=2, backoff=0)
    fake_platform.fail_next(failure, times=3)

    run = run_day(park, client=client)

    assert run.status == ReconciliationRun.Status.FAILED
    assert code in run.message
    assert run.finished_at is not None
    assert run.items.count() == 0
    assert (run.platform_count, run.ours_count, run.matched_count) == (0, 0, 0)
    expected_calls = 3 if failure == "1500" else 1
    assert PlatformCall.objects.filter(code=code).count() == expected_calls


def test_a_failure_on_a_later_page_keeps_nothing_of_the_earlier_pages(
    fake_platform, park, pay, whitelisted_plate
):
    pay("PAGE-1", pay_time=china(2026, 11, 1, 9, 0))
    pay("PAGE-2", pay_time=china(2026, 11, 1, 10, 0))
    previous = run_day(park)
    assert set(items_of(previous)) == {"PAGE-1", "PAGE-2"}

    def record_then_fail_the_next_page(record):
        record_to_database(record)
        if record.params.get("page_index") == "1":
            fake_platform.fail_next("1500")

    client = PlatformClient.from_settings(recorder=record_then_fail_the_next_page)
    run = run_day(park, client=client, page_size=1)

    assert run.status == ReconciliationRun.Status.FAILED
    assert run.items.count() == 0
    # The failed attempt is now the day's run for the park: the earlier one is replaced.
    assert list(ReconciliationRun.objects.filter(park=park, date=DAY)) == [run]
    assert ReconciliationItem.objects.count() == 0


def test_a_listed_payment_that_cannot_be_read_fails_the_run(park, pay):
    pay("GOOD")
    pay("BAD")["pay_value"] = "twelve"  # the fake's own row, changed in place

    run = run_day(park)

    assert run.status == ReconciliationRun.Status.FAILED
    assert "BAD" in run.message
    assert run.items.count() == 0


def test_reconcile_day_runs_every_known_park_and_a_failure_does_not_stop_the_others(
    fake_platform, park, pay, whitelisted_plate
):
    west = ParkFactory(park_uuid="park-west", name="西门停车场")
    pay("EAST-1")
    pay("WEST-1", park_uuid="park-west")
    fake_platform.fail_next("401")

    runs = services.reconcile_day(day=DAY)

    # The first park asked fails; the second is still reconciled.
    assert [run.status for run in runs] == [
        ReconciliationRun.Status.FAILED,
        ReconciliationRun.Status.OK,
    ]
    assert {run.park for run in runs} == {park, west}
    assert set(items_of(runs[1])) == ({"WEST-1"} if runs[1].park == west else {"EAST-1"})
    assert ReconciliationRun.objects.count() == 2


# --- Creating the missing orders (the service) --------------------------------------------------


@pytest.fixture
def missing_item(park, pay, whitelisted_plate):
    """A run with one "missing here" payment (川A660P1, ¥15.00) and one other difference."""
    pay(
        "NEVER-PUSHED",
        plate="川a·660p1",
        pay_value=1500,
        pay_time=china(2026, 11, 1, 9, 30, 15),
        parking_serial="591668151763415041",
        channel="200102",
        identity="5aeV05nlt6",
        free_value=100,
    )
    order(park, "ONLY-OURS")
    run = run_day(park)
    return run.items.get(category=Category.MISSING_HERE)


def test_create_missing_order_builds_the_order_from_the_listed_payment(
    missing_item, whitelisted_plate, park
):
    result = services.create_missing_order(item_id=missing_item.pk)

    assert result.created
    created = PayOrder.objects.get(pay_serial="NEVER-PUSHED")
    assert result.order == created
    assert created.source == PayOrder.Source.RECONCILIATION
    assert created.park == park
    assert created.plate == "川A660P1"
    assert created.plate_raw == "川a·660p1"
    assert created.pay_value == 1500
    assert created.pay_time == china(2026, 11, 1, 9, 30, 15)
    assert created.parking_serial == "591668151763415041"
    assert created.channel == "200102"
    assert created.identity == "5aeV05nlt6"
    assert created.whitelist_entry == whitelisted_plate
    assert created.extra["free_value"] == 100
    missing_item.refresh_from_db()
    assert missing_item.resolved_order == created
    assert missing_item.resolved_at is not None


def test_create_missing_order_twice_creates_one_order(missing_item):
    first = services.create_missing_order(item_id=missing_item.pk)
    again = services.create_missing_order(item_id=missing_item.pk)

    assert first.created and not again.created
    assert again.order == first.order
    assert PayOrder.objects.filter(pay_serial="NEVER-PUSHED").count() == 1


def test_create_missing_order_links_an_order_pushed_since_the_run(missing_item, park):
    pushed = order(park, "NEVER-PUSHED", pay_value=1500)

    result = services.create_missing_order(item_id=missing_item.pk)

    assert not result.created
    assert result.order == pushed
    assert pushed.source == PayOrder.Source.PUSH
    missing_item.refresh_from_db()
    assert missing_item.resolved_order == pushed


def test_create_missing_order_refuses_other_categories(missing_item):
    other = ReconciliationItem.objects.get(category=Category.MISSING_AT_PLATFORM)

    with pytest.raises(services.NotResolvable):
        services.create_missing_order(item_id=other.pk)


# --- The command -------------------------------------------------------------------------------


def test_command_reconciles_every_known_park(capsys, park, pay, whitelisted_plate):
    ParkFactory(park_uuid="park-west", name="西门停车场")
    pay("NEVER-PUSHED")
    pay("WEST-1", park_uuid="park-west", plate="川B12345", pay_value=500)

    call_command("reconcile", "--date", "2026-11-01")

    out = capsys.readouterr().out
    assert "2026-11-01 东门停车场 (park-east): platform 1 (¥10.00)" in out
    assert "missing here 1" in out
    assert "2026-11-01 西门停车场 (park-west)" in out
    assert "not whitelisted 1 (¥5.00)" in out
    assert ReconciliationRun.objects.filter(date=DAY).count() == 2


def test_command_with_park_reconciles_only_that_park(capsys, park, pay):
    ParkFactory(park_uuid="park-west")
    pay("EAST-1")

    call_command("reconcile", "--date", "2026-11-01", "--park", "park-east", "--page-size", "1")

    assert list(ReconciliationRun.objects.values_list("park__park_uuid", flat=True)) == [
        "park-east"
    ]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        # The message is in the active language (Chinese by default); both name the format.
        (["--date", "2026-13-01"], "“2026-13-01”"),
        (["--date", "01/11/2026"], "YYYY-MM-DD"),
        (["--date", "2026-11-01", "--park", "nowhere"], "No park has the uuid 'nowhere'"),
        (["--date", "2999-01-01"], "has not begun yet in China time"),
    ],
)
def test_command_refuses_bad_arguments_clearly(park, fake_platform, arguments, message):
    with pytest.raises(CommandError, match=re.escape(message)):
        call_command("reconcile", *arguments)
    assert not ReconciliationRun.objects.exists()
    assert not fake_platform.calls


def test_command_exits_non_zero_when_a_park_fails(capsys, fake_platform, park):
    fake_platform.fail_next("401")

    with pytest.raises(CommandError, match="1 of 1 parks failed"):
        call_command("reconcile", "--date", "2026-11-01")

    assert "failed: 401: simulated failure 401" in capsys.readouterr().err
    assert ReconciliationRun.objects.get().status == ReconciliationRun.Status.FAILED


def test_command_without_a_platform_base_url_says_so(settings, park):
    settings.PLATFORM_API_BASE = ""

    with pytest.raises(CommandError, match="PLATFORM_API_BASE is not set"):
        call_command("reconcile", "--date", "2026-11-01")


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
    assert cells["matched"] == ["matched", "1", "¥10.00", "¥10.00"]
    assert cells["missing_here"] == ["missing here", "1", "¥15.00", "—"]
    assert cells["missing_at_platform"] == ["missing at the platform", "0", "—", "¥0.00"]
    assert cells["amount_differs"] == ["amount differs", "0", "¥0.00", "¥0.00"]
    assert cells["not_whitelisted"] == ["not whitelisted (counted only)", "1", "¥7.00", "—"]
    assert cells["platform"][1:3] == ["3", "¥32.00"]
    assert cells["ours"][1] == "1"


def test_run_page_for_every_park_redirects_to_the_days_runs(staff_client, park):
    ParkFactory(park_uuid="park-west")
    client = staff_client(VIEW, RUN, language="en")

    response = client.post(RUN_PAGE, {"date": "2026-11-01", "park": ""})

    assert response.status_code == 302
    assert response.url == f"{RUNS}?date_from=2026-11-01&date_to=2026-11-01"
    assert ReconciliationRun.objects.filter(date=DAY).count() == 2
    listed = client.get(response.url)
    assert len(listed.context["cl"].result_list) == 2


def test_run_page_reports_a_platform_failure(staff_client, fake_platform, park):
    client = staff_client(VIEW, RUN, language="en")
    fake_platform.fail_next("401")

    response = client.post(RUN_PAGE, {"date": "2026-11-01", "park": "park-east"}, follow=True)

    run = ReconciliationRun.objects.get()
    assert run.status == ReconciliationRun.Status.FAILED
    assert any("failed: 401" in message for message in messages_of(response))
    assert "401: simulated failure 401" in response.content.decode()


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


@pytest.fixture
def two_runs(park, pay, whitelisted_plate):
    """Differences of two parks and two days."""
    west = ParkFactory(park_uuid="park-west", name="西门停车场")
    pay("EAST-MISSING", pay_value=1500)
    order(park, "EAST-OURS", pay_value=800, plate="川B12345")
    pay("EAST-AMOUNT", pay_value=1200)
    order(park, "EAST-AMOUNT", pay_value=1000)
    pay("WEST-MISSING", park_uuid="park-west", pay_time=china(2026, 10, 31, 9, 0))
    return [
        run_day(park),
        services.reconcile(
            day=date(2026, 10, 31), park=west, client=PlatformClient.from_settings()
        ),
    ]


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


def test_difference_csv_follows_the_order_export_conventions(staff_client, two_runs, park):
    order(park, "=HYPERLINK(1)", plate="@SUM(A1)", pay_value=5)
    run_day(park)
    client = staff_client(VIEW, EXPORT, language="en")

    response = client.get(ITEMS_EXPORT, {"park": "park-east", "date_from": "2026-11-01"})

    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "reconciliation_differences_2026-11-01_" in response["Content-Disposition"]
    rows = csv_rows(response)  # checks the BOM
    assert rows[0] == ITEM_HEADER_EN
    by_serial = {row[4]: row for row in rows[1:]}
    assert set(by_serial) == {"EAST-MISSING", "EAST-OURS", "EAST-AMOUNT", "'=HYPERLINK(1)"}
    assert by_serial["EAST-MISSING"] == [
        "2026-11-01",
        "park-east",
        "东门停车场",
        "missing here",
        "EAST-MISSING",
        "川A660P1",
        "2026-11-01 09:00:00",
        "15.00",
        "1500",
        "",
        "",
        by_serial["EAST-MISSING"][11],  # the fake platform's parking serial
        "200102",
        "",
    ]
    assert by_serial["EAST-AMOUNT"][7:11] == ["12.00", "1200", "10.00", "1000"]
    assert by_serial["EAST-OURS"][3] == "missing at the platform"
    assert by_serial["EAST-OURS"][7:11] == ["", "", "8.00", "800"]
    assert by_serial["'=HYPERLINK(1)"][5] == "'@SUM(A1)"
    assert by_serial["'=HYPERLINK(1)"][9:11] == ["0.05", "5"]  # numbers never escaped


def test_difference_csv_header_is_chinese_by_default(staff_client, two_runs):
    response = staff_client(VIEW, EXPORT).get(ITEMS_EXPORT)

    header = csv_rows(response)[0]
    # The columns shared with the order export carry its Chinese names.
    assert header[4:7] == ["支付流水", "车牌", "支付时间"]
    assert len(header) == len(ITEM_HEADER_EN)


def test_run_csv_has_one_row_per_run_with_counts_and_amounts(staff_client, two_runs):
    response = staff_client(VIEW, EXPORT, language="en").get(RUNS_EXPORT, {"park": "park-east"})

    rows = csv_rows(response)
    assert rows[0][:6] == ["date", "park_uuid", "park_name", "status", "message", "platform_count"]
    (row,) = rows[1:]
    values = dict(zip(rows[0], row, strict=True))
    assert values["date"] == "2026-11-01"
    assert values["status"] == "completed"
    assert (values["platform_count"], values["platform_value_fen"]) == ("2", "2700")
    assert values["platform_value_yuan"] == "27.00"
    assert (values["our_count"], values["our_value_fen"]) == ("2", "1800")
    assert (values["missing_here_count"], values["missing_at_platform_count"]) == ("1", "1")
    assert values["amount_differs_count"] == "1"
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", values["finished_at"])


def test_exports_need_the_export_permission(staff_client, two_runs):
    viewer = staff_client(VIEW, language="en")

    assert viewer.get(ITEMS_EXPORT).status_code == 403
    assert viewer.get(RUNS_EXPORT).status_code == 403
    assert "/export/" not in viewer.get(ITEMS).content.decode()
    exporter = staff_client(VIEW, EXPORT, language="en")
    assert (
        f'href="{ITEMS_EXPORT}?category=missing_here"'
        in exporter.get(ITEMS, {"category": "missing_here"}).content.decode()
    )


def test_export_with_a_bad_filter_answers_400(staff_client, two_runs):
    response = staff_client(VIEW, EXPORT, language="en").get(ITEMS_EXPORT, {"date_from": "x"})

    assert response.status_code == 400


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

    ran = superuser_client.post(RUN_PAGE, {"date": "2026-11-01", "park": "park-east"}, follow=True)
    rerun_item = ReconciliationItem.objects.get(category=Category.MISSING_HERE)
    created = _action(superuser_client, [rerun_item], post="yes")

    assert ran.status_code == 200
    assert len(messages_of(ran)) == 1
    assert created.status_code == 302
    assert PayOrder.objects.get(pay_serial="NEVER-PUSHED").source == PayOrder.Source.RECONCILIATION
