"""Fixtures for the orders back-office tests: staff users holding given permissions, CSV reading."""

import csv
import io

import pytest
from django.test import Client

from parkingops.pcloud.testing import fake_platform  # noqa: F401 (a fixture)

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
    "coupon_value_total",
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
    "商户券面额合计",
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
