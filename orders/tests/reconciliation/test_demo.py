"""The demo's reconciliation story, end to end: the fake platform lists the demo's payments and
one that was never pushed, and one with another channel; the demo's stays have one not paid in
full and one order whose stay was lost; reconciling yesterday finds all four, and the missing one
becomes an order."""

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
    # The stays: one not paid in full (¥5.00 short), one order without its stay.
    Category = ReconciliationItem.Category
    (short,) = items.filter(category=Category.STAY_GAP)
    assert short.platform_value - short.our_value == 500
    (lost,) = items.filter(category=Category.ORDER_WITHOUT_STAY)
    assert lost.order.parking_serial == lost.parking_serial
    # Every pushed demo order matched, field by field, but the one listed with another channel.
    (channel,) = items.exclude(pk__in=[missing.pk, short.pk, lost.pk])
    assert channel.category == ReconciliationItem.Category.CHANNEL_DIFFERS
    assert channel.platform_text == DEMO_OTHER_CHANNEL
    assert channel.our_text == PayOrder.objects.get(pay_serial=channel.pay_serial).channel
    assert channel.pay_serial in message
    resolution = services.create_missing_order(item_id=missing.pk)
    order = PayOrder.objects.get(pay_serial=missing_serial)
    assert resolution.created and order.source == PayOrder.Source.RECONCILIATION
    assert order.pay_value == 1800
