"""The demo's gates: live entries, pay orders and exits pushed over HTTP to our own endpoints,
with the fake platform listing what was paid."""

import io
import socket
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from orders.demo import gate
from orders.demo.gate import Car, DemoGate, whitelisted_cars
from orders.models import PayOrder
from orders.stays import selectors
from orders.stays.models import Stay
from orders.tests.factories import StayFactory
from parkingops.pcloud.fake import FakePlatform
from whitelist.tests.factories import ParkFactory, WhitelistEntryFactory


@pytest.fixture
def parks(db):
    return [
        ParkFactory(park_uuid="park-east", name="东门停车场"),
        ParkFactory(park_uuid="park-west", name="西门停车场"),
    ]


@pytest.fixture
def platform(settings):
    fake = FakePlatform(app_id=settings.PLATFORM_APP_ID, secrets=settings.PLATFORM_APP_SECRET)
    fake.start()
    yield fake
    fake.stop()


def a_gate(platform, settings, url: str, cars: list[Car], lines: list[str]) -> DemoGate:
    return DemoGate(
        platform=platform,
        base_url=url,
        app_id=settings.PLATFORM_APP_ID,
        secret=settings.PLATFORM_APP_SECRET[0],
        cars=cars,
        say=lines.append,
        seed=7,
    )


def test_whitelisted_cars_are_the_plates_and_parks_the_whitelist_admits_now(parks):
    now = timezone.now()
    WhitelistEntryFactory(plate="川A00001", park_uuid="")
    WhitelistEntryFactory(plate="川A00002", park_uuid="park-west")
    WhitelistEntryFactory(plate="川A00003", park_uuid="", is_active=False)
    WhitelistEntryFactory(
        plate="川A00004", park_uuid="", valid_from=now - timedelta(days=9), valid_until=now
    )
    cars = whitelisted_cars(at=now + timedelta(seconds=1))
    assert [(car.plate, car.park_uuid) for car in cars] == [
        ("川A00001", "park-east"),
        ("川A00001", "park-west"),
        ("川A00002", "park-west"),
    ]


def test_the_gates_push_stays_that_agree_with_their_pay_orders_and_the_platform(
    parks, platform, settings, live_server
):
    for plate in ("川A00001", "川A00002", "川A00003"):
        WhitelistEntryFactory(plate=plate, park_uuid="")
    cars = whitelisted_cars(at=timezone.now())
    lines: list[str] = []
    the_gate = a_gate(platform, settings, live_server.url, cars, lines)
    start = int(timezone.now().timestamp() * 1000) - 3_600_000 * 3
    pushed = []
    for tick in range(24):  # ten minutes a tick: some cars pay two hours
        pushed += the_gate.tick(now_ms=start + tick * 600_000)
    assert pushed and all(code == "1001" for _, code in pushed), pushed
    kinds = [kind for kind, _ in pushed]
    assert kinds.count("entry") == Stay.objects.count()
    assert kinds.count("exit") == Stay.objects.filter(leave_time__isnull=False).count() > 0
    assert kinds.count("pay") == kinds.count("exit") == PayOrder.objects.count()
    # A car is in one park at a time, and never more than MOST_IN_PARK are in.
    inside = Stay.objects.filter(leave_time__isnull=True)
    assert inside.count() == len(the_gate.parked) <= gate.MOST_IN_PARK
    assert len(set(inside.values_list("plate", flat=True))) == inside.count()
    # Every stay that left was paid in full by its pushed order: no gap.
    left = selectors.with_gap(Stay.objects.filter(leave_time__isnull=False))
    assert {stay.gap for stay in left} == {0}
    assert {stay.total_value % gate.FEE_PER_HOUR for stay in left} == {0}
    # The platform lists each pay order as a payment, as it would for a reconciliation.
    listed = {payment["pay_serial"] for payment in platform.payments}
    assert listed == set(PayOrder.objects.values_list("pay_serial", flat=True))
    assert len(lines) == len(pushed) and "1001" in lines[0]


def test_an_unreachable_receiver_parks_nobody_and_a_retried_exit_pays_once(
    parks, platform, settings, live_server
):
    WhitelistEntryFactory(plate="川A00001", park_uuid="park-east")
    cars = whitelisted_cars(at=timezone.now())
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{sock.getsockname()[1]}"
    lines: list[str] = []
    the_gate = a_gate(platform, settings, closed, cars, lines)
    assert the_gate.tick() == [("entry", "unreachable")]
    assert the_gate.parked == [] and "unreachable" in lines[0]
    # In through the real receiver; the exit then fails once after its order was taken.
    the_gate.base_url = live_server.url
    now = int(timezone.now().timestamp() * 1000)
    assert the_gate.tick(now_ms=now) == [("entry", "1001")]
    the_gate.parked[0].ticks = gate.LEAVES_AFTER_TICKS
    real_push = the_gate._push
    the_gate._push = lambda kind, params: (
        "unreachable" if kind == "exit" else real_push(kind, params)
    )
    assert the_gate.tick(now_ms=now + 60_000) == [("pay", "1001"), ("exit", "unreachable")]
    the_gate._push = real_push
    assert the_gate.tick(now_ms=now + 120_000) == [("exit", "1001")]
    assert PayOrder.objects.count() == 1 and len(platform.payments) == 1
    assert Stay.objects.get().leave_time is not None


@pytest.mark.parametrize(
    "args, message",
    [
        (["--push-to", "ftp://example.com"], "--push-to"),
        (["--push-to", "http://127.0.0.1:1", "--every", "0"], "--every"),
    ],
)
def test_fake_platform_refuses_a_bad_gate_option(args, message):
    with pytest.raises(CommandError, match=message):
        call_command("fake_platform", "--port", "0", *args, stdout=io.StringIO())


def test_cars_already_in_a_park_never_enter_twice_and_leave_in_their_turn(
    parks, platform, settings, live_server
):
    WhitelistEntryFactory(plate="川A00001", park_uuid="")
    entered = (timezone.now() - timedelta(minutes=90)).replace(microsecond=0)  # as pushed
    inside = StayFactory(park=parks[0], plate="川A00001", enter_time=entered)
    lines: list[str] = []
    the_gate = a_gate(platform, settings, live_server.url, whitelisted_cars(at=entered), lines)
    the_gate.park_the_cars_inside()
    assert [parked.parking_serial for parked in the_gate.parked] == [inside.parking_serial]
    now = int(timezone.now().timestamp() * 1000)
    pushed = [the_gate.tick(now_ms=now + tick * 1000) for tick in range(gate.LEAVES_AFTER_TICKS)]
    assert pushed[:-1] == [[]] * (gate.LEAVES_AFTER_TICKS - 1)  # its only car is inside
    assert pushed[-1] == [("pay", "1001"), ("exit", "1001")]
    inside.refresh_from_db()
    assert inside.leave_time is not None and not inside.needs_review
    assert inside.total_value == 2 * gate.FEE_PER_HOUR  # 90 minutes: two started hours
