"""factory-boy factories for every model, in one place (tests, benchmarks)."""

from datetime import UTC, datetime

import factory

from orders.models import Discount, MerchantCoupon, Park, PayOrder
from whitelist.models import WhitelistEntry


class WhitelistEntryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WhitelistEntry

    plate = factory.Sequence(lambda n: f"川A{n:05d}")
    park_uuid = ""
    valid_from = datetime(2020, 1, 1, tzinfo=UTC)
    valid_until = None
    is_active = True
    holder = factory.Faker("name", locale="zh_CN")


class ParkFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Park
        django_get_or_create = ("park_uuid",)

    park_uuid = factory.Faker("uuid4")
    name = factory.Sequence(lambda n: f"测试停车场{n}")


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
