"""DATABASE_REPLICA_URL: heavy reads go to the replica, everything else stays on the primary."""

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext

from orders import selectors
from orders.exports.orders import orders_csv
from orders.models import MerchantCoupon, PayOrder
from orders.tests.factories import DiscountFactory, PayOrderFactory
from parkingops.db_routers import HeavyReadRouter, heavy_reads
from parkingops.formatting import CHINA

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "replica"])


@pytest.fixture
def replica(settings):
    settings.READ_REPLICA = "replica"


def test_without_a_replica_heavy_reads_stay_on_the_default_database():
    with heavy_reads():
        assert PayOrder.objects.all().db == "default"


def test_only_marked_reads_go_to_the_replica_and_writes_never(replica):
    router = HeavyReadRouter()
    assert PayOrder.objects.all().db == "default"
    with heavy_reads():
        assert PayOrder.objects.all().db == "replica"
        assert router.db_for_write(PayOrder) is None
    assert PayOrder.objects.all().db == "default"
    assert router.allow_migrate("replica", "orders") is False


def test_the_daily_summary_and_coupon_totals_read_from_the_replica(replica):
    order = PayOrderFactory()
    DiscountFactory(order=order)

    with (
        CaptureQueriesContext(connections["replica"]) as on_replica,
        CaptureQueriesContext(connections["default"]) as on_default,
    ):
        totals = selectors.coupon_totals(coupons=MerchantCoupon.objects.all())
        # The summary's days are China days: from 16:00 UTC on, the UTC date is the day before.
        day = order.pay_time.astimezone(CHINA).date()
        summary = selectors.daily_summary(date_from=day, date_to=day)

    assert totals.stores == []
    assert summary.total.orders == 1
    assert len(on_replica.captured_queries) >= 2
    assert on_default.captured_queries == []


def test_the_order_export_reads_from_the_replica(replica):
    order = PayOrderFactory()
    DiscountFactory(order=order)

    with CaptureQueriesContext(connections["replica"]) as on_replica:
        text = "".join(orders_csv(PayOrder.objects.order_by("-pay_time")))

    assert order.pay_serial in text
    assert on_replica.captured_queries
