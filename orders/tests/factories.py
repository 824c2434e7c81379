"""factory-boy factories for the orders' models (the whitelist's: whitelist.tests.factories)."""

from datetime import UTC, datetime

import factory

from orders.models import Discount, MerchantCoupon, PayOrder
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
