"""The payment gap of a stay, written once (orders.stays.selectors)."""

import pytest

from orders.stays import selectors
from orders.stays.models import Stay
from orders.tests.factories import PayOrderFactory, StayFactory

pytestmark = pytest.mark.django_db


def _gaps() -> dict[str, tuple[int, int | None]]:
    rows = selectors.with_gap(Stay.objects.all()).values_list(
        "parking_serial", "paid_by_pushes", "gap"
    )
    return {serial: (paid, gap) for serial, paid, gap in rows}


def test_the_gap_is_the_fee_less_discounts_autopay_and_the_pay_orders():
    paid_in_full = StayFactory(left=True, total_value=1500, free_value=300, autopay_value=200)
    PayOrderFactory(parking_serial=paid_in_full.parking_serial, pay_value=600)
    PayOrderFactory(parking_serial=paid_in_full.parking_serial, pay_value=400)
    short = StayFactory(left=True, total_value=1000, free_value=None, autopay_value=None)
    PayOrderFactory(parking_serial=short.parking_serial, pay_value=500)
    never_paid = StayFactory(left=True, total_value=800)
    in_park = StayFactory()
    PayOrderFactory(parking_serial=in_park.parking_serial, pay_value=300)  # paid at a kiosk

    assert _gaps() == {
        paid_in_full.parking_serial: (1000, 0),
        short.parking_serial: (500, 500),
        never_paid.parking_serial: (0, 800),
        in_park.parking_serial: (300, None),  # no fee told yet: no gap
    }


def test_only_left_stays_with_a_gap_other_than_zero_have_a_gap():
    overpaid = StayFactory(left=True, total_value=500)
    PayOrderFactory(parking_serial=overpaid.parking_serial, pay_value=700)
    even = StayFactory(left=True, total_value=0)
    StayFactory()  # in the park
    lost = StayFactory(left=True, total_value=900)

    found = dict(selectors.with_a_gap(Stay.objects.all()).values_list("parking_serial", "gap"))

    assert found == {overpaid.parking_serial: -200, lost.parking_serial: 900}
    assert even.parking_serial not in found
