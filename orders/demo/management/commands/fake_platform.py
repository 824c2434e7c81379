"""Serve the fake platform (whitelist endpoints and payment list) for the demo and manual tests."""

import threading
from datetime import datetime, time, timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from orders.demo import simulator
from orders.demo.gate import DemoGate, whitelisted_cars
from orders.models import MerchantCoupon, PayOrder
from parkingops.formatting import CHINA
from parkingops.pcloud.fake import FakePlatform

# The channel the demo's platform lists for yesterday's last order (ours differs): a field
# difference for the reconciliation demo.
DEMO_OTHER_CHANNEL = "800071"


class Command(BaseCommand):
    help = "Serve a fake of the platform's open API on a local port (for the demo and tests)."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=9100)
        parser.add_argument(
            "--demo",
            action="store_true",
            help=(
                "List our orders of the last 7 days as the platform's payments, plus one "
                "payment of yesterday that was never pushed and one listed with another "
                "channel (for the reconciliation demo)."
            ),
        )
        parser.add_argument(
            "--push-to",
            metavar="URL",
            help=(
                "Also play the parks' gates: push live entries, pay orders and exits of the "
                "whitelisted cars to the receiver at URL (e.g. http://127.0.0.1:8000), one "
                "event every --every seconds; the pay orders are listed as payments too."
            ),
        )
        parser.add_argument("--every", type=float, default=20.0, metavar="SECONDS")

    def handle(self, *args, host: str, port: int, demo: bool, **options):
        if options["push_to"] and not options["push_to"].startswith(("http://", "https://")):
            raise CommandError("--push-to must be an http(s) URL, e.g. http://127.0.0.1:8000")
        if options["every"] <= 0:
            raise CommandError("--every must be a positive number of seconds.")
        if not settings.PLATFORM_APP_ID or not settings.PLATFORM_APP_SECRET:
            raise CommandError("Set PLATFORM_APP_ID and PLATFORM_APP_SECRET first.")
        platform = FakePlatform(
            app_id=settings.PLATFORM_APP_ID, secrets=settings.PLATFORM_APP_SECRET
        )
        try:
            url = platform.start(host=host, port=port)
        except OSError as exc:
            raise CommandError(f"Cannot listen on {host}:{port}: {exc}") from None
        self.stdout.write(f"Fake platform serving on {url} (app id {settings.PLATFORM_APP_ID}).")
        if demo:
            self.stdout.write(load_demo_payments(platform))
        gate = self._gate(platform, options) if options["push_to"] else None
        self.stdout.write(
            "Control: POST /_fake/payments (JSON payment or list), POST /_fake/fail "
            '{"code": "1500", "times": 2}, POST /_fake/slow {"seconds": 5}, '
            "POST /_fake/reset, GET /_fake/state. Ctrl-C stops it."
        )
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass
        finally:
            if gate is not None:
                gate.stop()
            platform.stop()

    def _gate(self, platform: FakePlatform, options) -> DemoGate:
        """Start the gates' pushes (verbosity 2 prints each one)."""
        cars = whitelisted_cars(at=timezone.now())
        loud = options["verbosity"] >= 2
        gate = DemoGate(
            platform=platform,
            base_url=options["push_to"],
            app_id=settings.PLATFORM_APP_ID,
            secret=settings.PLATFORM_APP_SECRET[0],
            cars=cars,
            say=self.stdout.write if loud else lambda line: None,
        )
        gate.park_the_cars_inside()
        gate.start(options["every"])
        self.stdout.write(
            f"Gates: pushing entries, pay orders and exits of {len(cars)} whitelisted "
            f"(plate, park) pairs to {options['push_to']}, one every {options['every']:g} s "
            f"({len(gate.parked)} cars in the parks now)."
        )
        return gate


def _listed_discounts(order: PayOrder) -> dict[str, int]:
    """The platform's discount fields of an order, from what its push carried: ``free_value``
    is its discounts, ``discount_value`` its amount coupons, ``value`` the whole."""
    free = sum(discount.relief_value for discount in order.discounts.all())
    merchant = sum(
        coupon.coupon_value
        for coupon in order.mcoupons.all()
        if coupon.coupon_type == MerchantCoupon.CouponType.AMOUNT
    )
    return {
        "value": order.pay_value + free + merchant,
        "free_value": free,
        "discount_value": merchant,
    }


def load_demo_payments(platform: FakePlatform, *, now: datetime | None = None) -> str:
    """Give the fake platform a payment list that matches the demo, with one gap and one
    field that differs.

    Every order of the last 7 days is listed as paid, with its discounts; one payment of
    yesterday (China time) for a whitelisted demo plate is listed but was never pushed, and
    yesterday's last order is listed with another channel: reconciling yesterday finds both.
    """
    now = now or timezone.now()
    yesterday = timezone.localtime(now, CHINA).date() - timedelta(days=1)
    orders = (
        PayOrder.objects.filter(pay_time__gte=now - timedelta(days=7))
        .select_related("park")
        .prefetch_related("discounts", "mcoupons")
        .order_by("pay_time", "pk")
    )
    other_channel = None
    for order in orders:
        if timezone.localtime(order.pay_time, CHINA).date() == yesterday:
            other_channel = order
    for order in orders:
        platform.add_payment(
            park_uuid=order.park.park_uuid,
            park_name=order.park.name,
            plate=order.plate,
            parking_serial=order.parking_serial,
            pay_serial=order.pay_serial,
            pay_value=order.pay_value,
            pay_time=order.pay_time,
            channel=DEMO_OTHER_CHANNEL if order == other_channel else order.channel,
            identity=order.identity,
            **_listed_discounts(order),
        )
    sample = PayOrder.objects.filter(plate=simulator.DEMO_PLATE).select_related("park").first()
    if sample is None:
        return f"Listed {len(orders)} payments (no demo plate's order to copy a park from)."
    never_pushed = platform.add_payment(
        park_uuid=sample.park.park_uuid,
        park_name=sample.park.name,
        plate=simulator.DEMO_PLATE,
        pay_serial=f"DEMO{yesterday:%Y%m%d}000000000000000001",
        value=1800,
        pay_value=1800,
        pay_time=datetime.combine(yesterday, time(12, 0), tzinfo=CHINA),
        channel="200102",
    )
    differs = (
        f" {other_channel.pay_serial} is listed with channel {DEMO_OTHER_CHANNEL} "
        f"(ours: {other_channel.channel})."
        if other_channel is not None
        else ""
    )
    return (
        f"Listed {len(orders)} payments of the last 7 days, and {never_pushed['pay_serial']} "
        f"({simulator.DEMO_PLATE} at {sample.park.name}, {yesterday}) that was never pushed: "
        f"reconcile {yesterday} to find it.{differs}"
    )
