"""The demo's reconciliation story, end to end: the fake platform lists the demo's payments and
one that was never pushed, and one with another channel; reconciling yesterday finds both, and the
missing one becomes an order."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from orders.demo.management.commands.fake_platform import (
    CHINA,
    DEMO_OTHER_CHANNEL,
    load_demo_payments,
)
from orders.models import PayOrder
from orders.reconciliation import services
from orders.reconciliation.models import ReconciliationItem


@pytest.mark.django_db
def test_the_demo_payment_never_pushed_is_found_missing_here_and_becomes_an_order(
    settings, fake_platform
):
    settings.DEBUG = True
    call_command("seed_demo", verbosity=0)
    message = load_demo_payments(fake_platform)
    yesterday = timezone.localtime(timezone.now(), CHINA).date() - timedelta(days=1)
    missing_serial = f"DEMO{yesterday:%Y%m%d}000000000000000001"
    assert missing_serial in message

    runs = services.reconcile_day(day=yesterday)

    items = ReconciliationItem.objects.filter(run__in=runs)
    (missing,) = items.filter(category=ReconciliationItem.Category.MISSING_HERE)
    assert missing.pay_serial == missing_serial
    # Every pushed demo order matched, field by field, but the one listed with another channel.
    (channel,) = items.exclude(pk=missing.pk)
    assert channel.category == ReconciliationItem.Category.CHANNEL_DIFFERS
    assert channel.platform_text == DEMO_OTHER_CHANNEL
    assert channel.our_text == PayOrder.objects.get(pay_serial=channel.pay_serial).channel
    assert channel.pay_serial in message
    resolution = services.create_missing_order(item_id=missing.pk)
    order = PayOrder.objects.get(pay_serial=missing_serial)
    assert resolution.created and order.source == PayOrder.Source.RECONCILIATION
    assert order.pay_value == 1800
