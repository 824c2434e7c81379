"""factory-boy factories for the whitelist's models (the orders' factories build on them)."""

from datetime import UTC, datetime

import factory

from whitelist.models import Park, WhitelistEntry


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
