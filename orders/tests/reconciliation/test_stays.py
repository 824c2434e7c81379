"""The reconciliation against the stays, over real HTTP against the fake platform: the left
stays not paid in full and the orders without a stay, as categories of their own in the run, its
counts, the admin's lists and pages, the exports, and resolved with a note like the others."""

from datetime import timedelta

import pytest

from orders.reconciliation import selectors, services
from orders.reconciliation.models import ReconciliationRun
from orders.tests.conftest import csv_rows
from orders.tests.factories import StayFactory
from orders.tests.reconciliation.conftest import (
    EXPORT,
    ITEMS,
    ITEMS_EXPORT,
    RUNS,
    RUNS_EXPORT,
    VIEW,
    Category,
    china,
    order,
    run_day,
)
from whitelist.tests.factories import ParkFactory

pytestmark = pytest.mark.django_db


def paid(park, pay, pay_serial: str, parking_serial: str, pay_value: int, **fields):
    """A pay order held here and listed at the platform alike (no payment-list difference)."""
    fields.setdefault("pay_time", china(2026, 11, 1, 9, 0))
    pay(pay_serial, parking_serial=parking_serial, pay_value=pay_value, **fields)
    return order(park, pay_serial, parking_serial=parking_serial, pay_value=pay_value, **fields)


def left(park, parking_serial: str, leave_time, **fields):
    """A stay of ``park`` that left at ``leave_time`` (an hour's stay, ¥10.00 due by default)."""
    return StayFactory(
        park=park,
        parking_serial=parking_serial,
        left=True,
        enter_time=leave_time - timedelta(hours=1),
        leave_time=leave_time,
        **fields,
    )


@pytest.fixture
def stay_run(park, pay):
    """A run of 2026-11-01 (China time) of the east park with stays of every kind."""
    west = ParkFactory(park_uuid="park-west", name="西门停车场")
    # Not paid in full: ¥10.00 due, ¥3.00 paid by a pay order.
    left(park, "PS-SHORT", china(2026, 11, 1, 10, 0))
    paid(park, pay, "PAY-SHORT", "PS-SHORT", 300)
    # Paid in full by two pay orders: no difference.
    left(park, "PS-FULL", china(2026, 11, 1, 11, 0))
    paid(park, pay, "PAY-FULL-1", "PS-FULL", 600)
    paid(park, pay, "PAY-FULL-2", "PS-FULL", 400)
    # ¥15.00 fee less ¥2.00 discounts and ¥3.00 autopay, nothing pushed: ¥10.00 due, ¥0 paid.
    left(
        park,
        "PS-NONE",
        china(2026, 11, 1, 23, 59),
        total_value=1500,
        free_value=200,
        autopay_value=300,
    )
    # Covered by discounts and autopay: nothing due, nothing paid.
    left(park, "PS-FREE", china(2026, 11, 1, 12, 0), free_value=400, autopay_value=600)
    # In the park, left another China-time day, or of another park: not this run's.
    StayFactory(park=park, parking_serial="PS-INSIDE", enter_time=china(2026, 11, 1, 8, 0))
    left(park, "PS-YESTERDAY", china(2026, 10, 31, 23, 59))
    left(park, "PS-TOMORROW", china(2026, 11, 2, 0, 0))
    left(west, "PS-WEST", china(2026, 11, 1, 10, 0))
    # A pay order whose stay was never pushed; one without a parking serial is not counted.
    paid(park, pay, "PAY-LOST", "PS-LOST", 700, pay_time=china(2026, 11, 1, 13, 0))
    paid(park, pay, "PAY-NO-SERIAL", "", 500)
    return run_day(park)


def stay_items(run):
    return {
        item.pay_serial or item.parking_serial: (
            item.category,
            item.parking_serial,
            item.platform_value,
            item.our_value,
        )
        for item in run.items.filter(category__in=selectors.STAY_CATEGORIES)
    }


def test_a_run_finds_the_left_stays_not_paid_in_full_and_the_orders_without_a_stay(stay_run):
    assert stay_run.status == ReconciliationRun.Status.OK
    # (due, paid): the gap is their difference.
    assert stay_items(stay_run) == {
        "PS-SHORT": (Category.STAY_GAP, "PS-SHORT", 1000, 300),
        "PS-NONE": (Category.STAY_GAP, "PS-NONE", 1000, 0),
        "PAY-LOST": (Category.ORDER_WITHOUT_STAY, "PS-LOST", None, 700),
    }
    # The payment list itself matched: the stays add categories, not payment differences.
    assert stay_run.items.count() == 3
    assert stay_run.matched_count == 5
    short = stay_run.items.get(parking_serial="PS-SHORT")
    assert (short.pay_serial, short.plate) == ("", "川A660P1")
    assert short.pay_time == china(2026, 11, 1, 10, 0)  # the exit
    lost = stay_run.items.get(pay_serial="PAY-LOST")
    assert lost.order.pay_serial == "PAY-LOST"


def test_orders_paid_before_the_parks_first_stay_are_not_without_a_stay(park, pay):
    # The park's entries and exits are pushed from 10:00 on: the 9:00 order predates them.
    paid(park, pay, "PAY-EARLY", "PS-EARLY", 500, pay_time=china(2026, 11, 1, 9, 0))
    paid(park, pay, "PAY-LATE", "PS-LATE", 500, pay_time=china(2026, 11, 1, 11, 0))
    StayFactory(park=park, parking_serial="PS-OTHER", enter_time=china(2026, 11, 1, 10, 0))

    assert set(stay_items(run_day(park))) == {"PAY-LATE"}


def test_a_park_whose_stays_are_not_pushed_has_no_order_without_a_stay(park, pay):
    paid(park, pay, "PAY-1", "PS-1", 500)

    run = run_day(park)

    assert run.items.count() == 0


def test_counts_and_totals_per_category(stay_run):
    run = selectors.with_category_counts(ReconciliationRun.objects.all()).get()
    assert (run.stay_gaps, run.orders_without_stay, run.fields_differ) == (2, 1, 0)
    assert run.open_count == 3

    totals = {total.category: total for total in selectors.category_totals(run=stay_run)}
    gap = totals["stay_gap"]
    assert (gap.count, gap.open, gap.platform_value, gap.our_value) == (2, 2, 2000, 300)
    lost = totals["order_without_stay"]
    assert (lost.count, lost.platform_value, lost.our_value) == (1, None, 700)


def test_a_stay_difference_resolved_with_a_note_stays_resolved_when_run_again(
    stay_run, park, admin_user
):
    item = stay_run.items.get(parking_serial="PS-SHORT")
    services.resolve_differences(item_ids=[item.pk], user=admin_user, note="现金 ¥7.00 在岗亭")

    again = run_day(park)

    kept = again.items.get(parking_serial="PS-SHORT")
    assert (kept.resolution_note, kept.resolved_by) == ("现金 ¥7.00 在岗亭", admin_user)
    assert again.items.get(parking_serial="PS-NONE").resolved_at is None


def test_the_admin_shows_the_stay_categories_on_the_runs_list_the_run_and_the_differences(
    staff_client, stay_run
):
    client = staff_client(VIEW, language="en")

    runs = client.get(RUNS).content.decode()
    assert "stay not paid in full&nbsp;2" in runs
    assert "order without a stay&nbsp;1" in runs
    run_page = client.get(f"{RUNS}{stay_run.pk}/change/").content.decode()
    assert 'class="reconciliation-stay_gap"' in run_page
    assert 'class="reconciliation-order_without_stay"' in run_page

    gaps = client.get(ITEMS, {"category": "stay_gap"})
    assert gaps.status_code == 200
    page = gaps.content.decode()
    assert "PS-SHORT" in page and "PS-NONE" in page and "PAY-LOST" not in page
    assert "¥10.00" in page and "¥3.00" in page  # due and paid
    assert client.get(RUNS, {"q": "PS-NONE"}).context["cl"].result_count == 1
    assert client.get(RUNS, {"q": "PS-FULL"}).context["cl"].result_count == 0
    found = client.get(ITEMS, {"q": "PS-LOST"}).content.decode()
    assert "PAY-LOST" in found and "PS-SHORT" not in found
    item = stay_run.items.get(parking_serial="PS-SHORT")
    detail = client.get(f"{ITEMS}{item.pk}/change/").content.decode()
    assert "PS-SHORT" in detail


def test_the_exports_carry_the_stay_categories(staff_client, stay_run):
    client = staff_client(VIEW, EXPORT, language="en")

    rows = csv_rows(client.get(ITEMS_EXPORT, {"category": "stay_gap"}))
    header, *body = rows
    values = [dict(zip(header, row, strict=True)) for row in body]
    short = next(row for row in values if row["parking_serial"] == "PS-SHORT")
    assert short["category"] == "stay not paid in full"
    assert (short["platform_value_fen"], short["our_value_fen"]) == ("1000", "300")
    assert {row["parking_serial"] for row in values} == {"PS-SHORT", "PS-NONE"}

    runs = csv_rows(client.get(RUNS_EXPORT))
    (run,) = [dict(zip(runs[0], row, strict=True)) for row in runs[1:]]
    assert (run["stay_gap_count"], run["order_without_stay_count"]) == ("2", "1")
