"""factory-boy factories for the orders' models (the whitelist's: whitelist.tests.factories)."""

from datetime import UTC, datetime, timedelta

import factory

from orders.models import Discount, MerchantCoupon, PayOrder
from orders.stays.models import Renewal, Stay
from whitelist.tests.factories import ParkFactory


class PayOrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PayOrder

    pay_serial = factory.Sequence(lambda n: f"2024{n:022d}")
    parking_serial = factory.Sequence(lambda n: f"59{n:016d}")
    park = factory.SubFactory(ParkFactory)
    plate = "川A660P1"
    plate_raw = factory.SelfAttribute("plate")
    pay_value = 1000
    pay_time = factory.LazyFunction(lambda: datetime.now(UTC))
    channel = "200102"
    identity = ""
    app_id = "op00961963581daa7"
    fingerprint = factory.Sequence(lambda n: f"{n:064x}")


class DiscountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Discount

    order = factory.SubFactory(PayOrderFactory)
    type = "1"
    mobile = "13800138000"
    relief_amount = 1
    relief_value = 500


class MerchantCouponFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MerchantCoupon

    order = factory.SubFactory(PayOrderFactory)
    coupon_name = "10元停车券"
    coupon_code = factory.Sequence(lambda n: f"C{n:06d}")
    store_name = "肯德基"
    store_code = "KFC01"
    coupon_type = MerchantCoupon.CouponType.AMOUNT
    coupon_value = 1000


class StayFactory(factory.django.DjangoModelFactory):
    """A stay with its entry; ``left=True`` adds the exit (an hour later, 10 yuan due)."""

    class Meta:
        model = Stay

    class Params:
        left = factory.Trait(
            leave_time=factory.LazyAttribute(lambda stay: stay.enter_time + timedelta(hours=1)),
            parking_time=3600,
            total_value=1000,
            free_value=0,
            autopay_value=0,
            exit_received_at=factory.LazyAttribute(lambda stay: stay.leave_time),
        )

    # Not the pay orders' sequence: a stay matches an order only when a test says so.
    parking_serial = factory.Sequence(lambda n: f"58{n:016d}")
    park = factory.SubFactory(ParkFactory)
    plate = "川A660P1"
    plate_raw = factory.SelfAttribute("plate")
    app_id = "op00961963581daa7"
    enter_time = factory.LazyFunction(lambda: datetime.now(UTC) - timedelta(hours=2))
    entry_received_at = factory.SelfAttribute("enter_time")


class RenewalFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Renewal

    pay_serial = factory.Sequence(lambda n: f"2025{n:022d}")
    park = factory.SubFactory(ParkFactory)
    plate = "川A660P1"
    plate_raw = factory.SelfAttribute("plate")
    vip_type = Renewal.VipType.MONTHLY
    quantity = 30
    pay_value = 30000
    pay_time = factory.LazyFunction(lambda: datetime.now(UTC))
    channel = "200102"
    app_id = "op00961963581daa7"
    fingerprint = factory.Sequence(lambda n: f"{n:064x}")
