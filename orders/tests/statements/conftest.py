"""A month of orders for two companies' holders, and one order no whitelist entry admitted."""

from datetime import datetime

import pytest

from orders.tests.factories import DiscountFactory, MerchantCouponFactory, PayOrderFactory
from parkingops.formatting import CHINA
from whitelist.tests.factories import ParkFactory, WhitelistEntryFactory


def china(*args) -> datetime:
    return datetime(*args, tzinfo=CHINA)


@pytest.fixture
def november(db) -> dict:
    """张三 holds two plates, 李四 one; orders in and around November 2026 (China time)."""
    park = ParkFactory(park_uuid="p-1", name="东门")
    zhang_a = WhitelistEntryFactory(plate="川A660P1", holder="张三")
    zhang_b = WhitelistEntryFactory(plate="川A12345", holder="张三")
    li = WhitelistEntryFactory(plate="渝B5C8Q6", holder="李四")

    def order(entry, when, value, **kwargs):
        return PayOrderFactory(
            park=park,
            plate=entry.plate if entry else "京A00001",
            whitelist_entry=entry,
            pay_time=when,
            pay_value=value,
            **kwargs,
        )

    first = order(zhang_a, china(2026, 11, 1, 0, 0), 1000)
    DiscountFactory(order=first, relief_value=200)
    MerchantCouponFactory(order=first, coupon_type=1, coupon_value=300)
    MerchantCouponFactory(order=first, coupon_type=2, coupon_value=120)  # minutes: not money
    order(zhang_a, china(2026, 11, 30, 23, 59), 500)
    order(zhang_b, china(2026, 11, 15, 12), 250)
    third = order(li, china(2026, 11, 2, 8), 700)
    MerchantCouponFactory(order=third, coupon_type=6, coupon_value=50)  # a percentage
    order(li, china(2026, 10, 31, 23, 59), 9999)  # October
    order(li, china(2026, 12, 1, 0, 0), 9999)  # December
    order(None, china(2026, 11, 3, 8), 8888)  # admitted by no entry: in no statement
    return {"park": park, "zhang_a": zhang_a, "zhang_b": zhang_b, "li": li}
