"""Reading the platform's payment list: orders.reconciliation.payments, with no database."""

from datetime import UTC, datetime

import pytest

from orders.reconciliation.payments import BadPaymentList, read_payment

ROW = {"pay_serial": "S1", "pay_value": "100", "plate": "川a660p1"}


def test_a_listed_pay_time_is_read_as_iso_8601():
    payment = read_payment({**ROW, "pay_time": "2026-11-01T09:00:00+08:00"})

    assert payment.pay_time == datetime(2026, 11, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    "pay_time",
    ["9999-12-31T23:59:59+00:00", "1999-12-31T15:59:59+00:00", "2100-01-01T00:00:00+08:00"],
)
def test_a_listed_pay_time_outside_the_products_span_is_unreadable(pay_time):
    with pytest.raises(BadPaymentList, match="S1"):
        read_payment({**ROW, "pay_time": pay_time})
