"""Serve the fake platform (whitelist endpoints and payment list) for the demo and manual tests."""

import threading

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from parkingops.fake_platform import FakePlatform


class Command(BaseCommand):
    help = "Serve a fake of the platform's open API on a local port (for the demo and tests)."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=9100)

    def handle(self, *args, host: str, port: int, **options):
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
            platform.stop()
