"""Comparing every listed field with our order of the same serial, over real HTTP against the
fake platform: one difference per field, both values side by side, and hostile lists."""

import pytest
from django.utils import translation

from orders.models import MerchantCoupon
from orders.reconciliation.fields import values_display
from orders.reconciliation.models import ReconciliationRun
from orders.tests.factories import DiscountFactory, MerchantCouponFactory
from orders.tests.reconciliation.conftest import Category, china, order, run_day
from parkingops.pcloud.codes import BAD_PAYLOAD, answer_label

pytestmark = pytest.mark.django_db


def by_category(run) -> dict[str, tuple[str, str]]:
    """``{category: (ours, the platform's)}`` of a run's differences, as people read them."""
    return {item.category: values_display(item) for item in run.items.all()}


def test_a_payment_equal_in_every_field_is_matched_without_a_difference(park, pay):
    held = order(park, "SAME", pay_value=800, channel="200201")
    DiscountFactory(order=held, relief_value=200)
    MerchantCouponFactory(order=held, coupon_value=500)
    pay(
        "SAME",
        plate="川a·660p1",  # another spelling of the same plate
        pay_value=800,
        value=1500,
        free_value=200,
        discount_value=500,
        channel="200201",
        pay_time="2026-11-01T01:00:00Z",  # 09:00:00 China time
    )

    run = run_day(park)

    assert run.items.count() == 0
    assert (run.matched_count, run.matched_value) == (1, 800)


def test_each_differing_field_is_its_own_difference_with_both_values(park, pay):
    held = order(
        park,
        "DIFFERS",
        pay_value=1000,
        plate="川A660P1",
        parking_serial="PS-OURS",
        channel="200102",
        pay_time=china(2026, 11, 1, 9, 0, 0, 400_000),  # ms are ignored: compared to the second
    )
    DiscountFactory(order=held, relief_value=300)
    MerchantCouponFactory(order=held, coupon_value=200)
    pay(
        "DIFFERS",
        pay_value=1000,
        value=9900,
        free_value=100,
        discount_value=0,
        plate="川B12345",
        parking_serial="PS-THEIRS",
        channel="800071",
        pay_time="2026-11-01T01:00:07Z",
    )

    run = run_day(park)

    assert by_category(run) == {
        Category.ORDER_VALUE_DIFFERS: ("¥15.00", "¥99.00"),
        Category.FREE_VALUE_DIFFERS: ("¥3.00", "¥1.00"),
        Category.DISCOUNT_VALUE_DIFFERS: ("¥2.00", "¥0.00"),
        Category.PLATE_DIFFERS: ("川A660P1", "川B12345"),
        Category.PARKING_SERIAL_DIFFERS: ("PS-OURS", "PS-THEIRS"),
        Category.CHANNEL_DIFFERS: ("200102", "800071"),
        # The platform's UTC time shown in China time, never "…Z".
        Category.PAY_TIME_DIFFERS: ("2026-11-01 09:00:00", "2026-11-01 09:00:07"),
    }
    assert {item.field for item in run.items.all()} == {
        "value",
        "free_value",
        "discount_value",
        "plate",
        "parking_serial",
        "channel",
        "pay_time",
    }
    assert {item.order_id for item in run.items.all()} == {held.pk}
    # The paid amount agrees: the payment is matched, its other fields differ.
    assert (run.matched_count, run.matched_value) == (1, 1000)


def test_coupons_without_a_money_value_leave_order_value_and_merchant_discount_uncompared(
    park, pay
):
    held = order(park, "TIME-COUPON", pay_value=1000)
    MerchantCouponFactory(order=held, coupon_type=MerchantCoupon.CouponType.TIME, coupon_value=120)
    pay("TIME-COUPON", pay_value=1000, value=2000, discount_value=1000)

    run = run_day(park)

    assert run.items.count() == 0


def test_fields_the_platform_does_not_list_are_not_compared(park, pay, fake_platform):
    order(park, "SPARSE", pay_value=1000, channel="200102")
    payment = pay("SPARSE", pay_value=1000)
    for key in ("value", "free_value", "discount_value", "plate", "parking_serial"):
        del payment[key]
    payment["channel"] = None

    run = run_day(park)

    assert run.status == ReconciliationRun.Status.OK
    assert run.items.count() == 0


@pytest.mark.parametrize(
    ("field", "listed", "shown"),
    [
        ("free_value", -5, "-5"),
        ("free_value", 1.5, "1.5"),
        ("discount_value", "12元", '"12元"'),
        ("value", 10**30, str(10**30)),
        ("value", True, "true"),
        ("plate", ["川A660P1"], '["川A660P1"]'),
        ("channel", {"code": 1}, '{"code": 1}'),
        ("parking_serial", 1.0, "1.0"),
    ],
)
def test_a_listed_field_that_cannot_be_read_is_a_difference_not_a_crash(
    park, pay, field, listed, shown
):
    order(park, "ODD", pay_value=1000)
    pay("ODD", pay_value=1000, **{field: listed})

    run = run_day(park)

    assert run.status == ReconciliationRun.Status.OK
    (item,) = run.items.all()
    assert (item.category, item.field, item.platform_text) == (
        Category.FIELD_UNREADABLE,
        field,
        shown,
    )
    with translation.override("zh-hans"):
        assert item.get_category_display() == "平台字段无法读取"


@pytest.mark.parametrize(
    "changes",
    [
        {"pay_value": 10**30},
        {"pay_value": "99999999999999999999"},
        {"pay_value": None},
        {"pay_time": "3000-01-01T00:00:00Z"},
        {"pay_time": 1700000000},
        {"pay_serial": ["S"]},
        {"pay_serial": True},
    ],
)
def test_a_payment_without_a_readable_serial_amount_or_time_fails_the_run_with_a_message(
    park, pay, changes
):
    order(park, "BAD", pay_value=1000)
    pay("BAD", listed_at=china(2026, 11, 1, 9, 0)).update(changes)

    run = run_day(park)

    assert run.status == ReconciliationRun.Status.FAILED
    assert "pay_serial" in run.message or "pay_value" in run.message
    assert run.items.count() == 0


@pytest.mark.parametrize(
    "payload",
    [
        ["not", "an", "object"],
        {"row": "not a list", "paging_header": {"page_count": 1}},
        {"row": [], "paging_header": {"page_count": "many"}},
        {"row": [], "paging_header": {"page_count": 10**12}},
        {"row": [], "paging_header": ["x"]},
    ],
)
def test_a_payment_list_page_of_another_shape_fails_the_run_with_a_message(
    park, fake_platform, payload
):
    fake_platform.answer_next_list(payload)

    run = run_day(park)

    assert run.status == ReconciliationRun.Status.FAILED
    # Kept labelled, as finance reads it, with what could not be read.
    assert run.message.startswith(answer_label(BAD_PAYLOAD))
