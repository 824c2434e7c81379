"""Fixtures for the orders back-office tests: staff users holding given permissions, CSV reading,
a month of orders for the statements per holder."""

import csv
import io
from datetime import datetime

import pytest
from django.test import Client

from orders.tests.factories import DiscountFactory, MerchantCouponFactory, PayOrderFactory
from parkingops.formatting import CHINA
from parkingops.pcloud.testing import fake_platform  # noqa: F401 (a fixture)
from whitelist.tests.factories import ParkFactory, WhitelistEntryFactory

VIEW_ALL = (
    "orders.view_payorder",
    "orders.view_discount",
    "orders.view_merchantcoupon",
    "whitelist.view_park",
    "orders.view_pushlog",
)
FINANCE = (*VIEW_ALL, "orders.export_orders")
OPERATIONS = ("whitelist.view_park", "orders.view_pushlog", "orders.replay_pushlog")

# The order CSV's header row, exactly as the issue specifies it, in both languages.
ORDER_HEADER_EN = [
    "pay_serial",
    "parking_serial",
    "park_uuid",
    "park_name",
    "plate",
    "pay_time",
    "pay_value_yuan",
    "pay_value_fen",
    "channel",
    "identity",
    "discount_relief_yuan",
    "discount_mobiles",
    "coupon_count",
    "coupon_value_total_fen",
    "received_at",
    "channel_name",
]
ORDER_HEADER_ZH = [
    "支付流水",
    "停车流水",
    "车场编号",
    "车场名称",
    "车牌",
    "支付时间",
    "支付金额(元)",
    "支付金额(分)",
    "支付渠道",
    "用户标识",
    "优惠抵扣(元)",
    "优惠手机号",
    "商户券张数",
    "商户券面额合计(分)",
    "接收时间",
    "支付渠道名称",
]


@pytest.fixture
def finance_client(staff_client) -> Client:
    """A finance user: views orders, coupons, the summary and the push log; exports."""
    return staff_client(*FINANCE)


def csv_text(response) -> str:
    """Return a streamed CSV download's text, checking it starts with the UTF-8 BOM."""
    assert response.streaming
    raw = b"".join(response.streaming_content)
    assert raw.startswith("\ufeff".encode())
    return raw.decode("utf-8")[1:]


def csv_rows(response) -> list[list[str]]:
    """Return a streamed CSV download as rows (the header first)."""
    return list(csv.reader(io.StringIO(csv_text(response), newline="")))


# --- Statements per holder --------------------------------------------------------------------


def _china(*args) -> datetime:
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

    first = order(zhang_a, _china(2026, 11, 1, 0, 0), 1000)
    DiscountFactory(order=first, relief_value=200)
    MerchantCouponFactory(order=first, coupon_type=1, coupon_value=300)
    MerchantCouponFactory(order=first, coupon_type=2, coupon_value=120)  # minutes: not money
    order(zhang_a, _china(2026, 11, 30, 23, 59), 500)
    order(zhang_b, _china(2026, 11, 15, 12), 250)
    third = order(li, _china(2026, 11, 2, 8), 700)
    MerchantCouponFactory(order=third, coupon_type=6, coupon_value=50)  # a percentage
    order(li, _china(2026, 10, 31, 23, 59), 9999)  # October
    order(li, _china(2026, 12, 1, 0, 0), 9999)  # December
    order(None, _china(2026, 11, 3, 8), 8888)  # admitted by no entry: in no statement
    return {"park": park, "zhang_a": zhang_a, "zhang_b": zhang_b, "li": li}
