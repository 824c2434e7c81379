"""Running a reconciliation over real HTTP against the fake platform: paging, every category,
partial-day whitelisting, re-runs, failures; and creating the missing orders."""

from datetime import timedelta

import pytest
from django.utils import translation

from orders.models import PayOrder
from orders.reconciliation import services
from orders.reconciliation.models import ReconciliationItem, ReconciliationRun
from orders.tests.reconciliation.conftest import (
    DAY,
    Category,
    china,
    items_of,
    order,
    run_day,
)
from parkingops.models import PlatformCall
from parkingops.pcloud.client import PlatformClient, record_to_database
from whitelist.tests.factories import ParkFactory, WhitelistEntryFactory

pytestmark = pytest.mark.django_db


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
    pay("OTHER-AMOUNT", pay_value=1200, value=1000)  # only the paid amount differs
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

    # Matched, not missing; the pay time is compared all the same.
    (late,) = run.items.all()
    assert (late.pay_serial, late.category) == ("LATE", Category.PAY_TIME_DIFFERS)
    assert (late.our_text, late.platform_text) == ("2026-11-02 00:00:01", "2026-11-01 23:59:59")
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


def test_a_platform_failure_is_kept_in_the_words_finance_reads(fake_platform, park):
    fake_platform.fail_next("401")

    with translation.override("zh-hans"):
        run = run_day(park, client=PlatformClient.from_settings(retries=0))

    assert run.status == ReconciliationRun.Status.FAILED
    assert run.message == "应用未登记或签名错误（simulated failure 401）"


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
