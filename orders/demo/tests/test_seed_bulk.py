"""seed_bulk: the benchmark dataset, on whichever database the suite runs."""

import io

import pytest
from django.core.management import CommandError, call_command
from django.db.models import F
from django.utils import translation

from orders.models import DailyTakings, Discount, MerchantCoupon, PayOrder, PushLog, Stay
from whitelist.models import Park, WhitelistEntry
from whitelist.selectors import find_valid_entry


@pytest.mark.django_db(transaction=True)
def test_seed_bulk_adds_orders_with_children_that_the_push_rules_accept():
    progress, said = io.StringIO(), io.StringIO()
    with translation.override("en"):
        call_command(
            "seed_bulk", orders=600, parks=3, plates=40, days=30, stdout=said, stderr=progress
        )

    assert PayOrder.objects.count() == 600
    # The closing line tells where the time went (the benchmark quotes it).
    assert said.getvalue().startswith("Added 3 parks, ")
    assert "rows " in said.getvalue() and ", roll-up " in said.getvalue()
    # Not a terminal: a line as each table starts and ends.
    lines = [line.split(" ", 2)[2] for line in progress.getvalue().splitlines()]
    assert lines[:2] == ["pay orders: started 0/600", "pay orders: done 600/600"]
    stages = [line.split(": ")[0] for line in lines[::2]]
    assert [line.split(": ")[0] for line in lines[1::2]] == stages
    assert {"push log", "stays", "renewals", "daily takings"} <= set(stages)
    assert Park.objects.count() == 3
    assert 0 < Discount.objects.count() < 600
    assert 0 < MerchantCoupon.objects.count() < 600
    assert WhitelistEntry.objects.count() <= 40
    order = PayOrder.objects.order_by("?").first()
    assert find_valid_entry(plate=order.plate, park_uuid=order.park.park_uuid, at=order.pay_time)
    # Every order is its plate's entry's, whose holder the statements group by.
    assert not PayOrder.objects.exclude(whitelist_entry__plate=F("plate")).exists()
    assert not WhitelistEntry.objects.filter(holder="").exists()
    # Three push-log rows per order, its own accepted pay push first; stays for a share.
    assert PushLog.objects.count() == 1800
    assert PushLog.objects.filter(kind="pay", reason="accepted").count() == 600
    assert 300 < Stay.objects.count() < 600
    # The rollup holds every order: its sums are the orders'.
    assert sum(DailyTakings.objects.values_list("order_count", flat=True)) == 600
    assert sum(DailyTakings.objects.values_list("paid", flat=True)) == sum(
        PayOrder.objects.values_list("pay_value", flat=True)
    )
    # Sequences were moved past the copied ids: a normal insert still works.
    assert (
        PayOrder.objects.create(
            pay_serial="after-bulk",
            parking_serial="1",
            park=order.park,
            plate="川A660P1",
            plate_raw="川A660P1",
            pay_value=1,
            pay_time=order.pay_time,
            channel="1",
            app_id="a",
        ).pk
        > order.pk
    )


@pytest.mark.django_db(transaction=True)
def test_seed_bulk_refuses_to_run_twice_on_the_same_database():
    call_command("seed_bulk", orders=10, parks=1, plates=5, days=1)

    with pytest.raises(CommandError, match="already exist"):
        call_command("seed_bulk", orders=10, parks=1, plates=5, days=1)
