"""Fixtures for the reconciliation's tests: a park the fake platform serves, its payments, our
orders, runs with differences; the admin's addresses and permissions."""

from datetime import date, datetime

import pytest
from django.contrib.messages import get_messages

from orders.models import PayOrder
from orders.reconciliation import services
from orders.reconciliation.models import ReconciliationItem, ReconciliationRun
from orders.tests.factories import PayOrderFactory
from parkingops.formatting import CHINA
from parkingops.pcloud.client import PlatformClient
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
        # The same parking serial as ``order()`` gives: only the fields a test sets differ.
        fields.setdefault("parking_serial", f"PS-{pay_serial}")
        return fake_platform.add_payment(pay_serial=pay_serial, **fields)

    return add


def order(park, pay_serial: str, **fields) -> PayOrder:
    fields.setdefault("pay_value", 1000)
    fields.setdefault("pay_time", china(2026, 11, 1, 9, 0))
    fields.setdefault("parking_serial", f"PS-{pay_serial}")
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


@pytest.fixture
def two_runs(park, pay, whitelisted_plate):
    """Differences of two parks and two days."""
    west = ParkFactory(park_uuid="park-west", name="西门停车场")
    pay("EAST-MISSING", pay_value=1500)
    order(park, "EAST-OURS", pay_value=800, plate="川B12345")
    pay("EAST-AMOUNT", pay_value=1200, value=1000)  # only the paid amount differs
    order(park, "EAST-AMOUNT", pay_value=1000)
    pay("WEST-MISSING", park_uuid="park-west", pay_time=china(2026, 10, 31, 9, 0))
    return [
        run_day(park),
        services.reconcile(
            day=date(2026, 10, 31), park=west, client=PlatformClient.from_settings()
        ),
    ]
