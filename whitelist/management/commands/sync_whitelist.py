"""``manage.py sync_whitelist [--all]``: bring the platform's whitelist in step now.

Sends every plate that is pending or failed, never synced, or whose wanted status changed since
the platform confirmed it (a validity window began or ended); with ``--all``, every plate.
Prints a summary and exits with status 1 when some plate could not be synced; the progress goes
to stderr (a bar on a terminal, log lines otherwise). The schedule runs the same sync as a job
(``whitelist.services.sync_job``).
"""

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from parkingops.jobs.progress import TerminalProgress
from parkingops.pcloud.client import PlatformClient
from whitelist.services import sync


class Command(BaseCommand):
    help = (
        "Send the whitelist's pending changes to the platform, and enable or disable the plates "
        "whose validity windows began or ended. Exits with status 1 when some plate failed."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--all",
            action="store_true",
            dest="everything",
            help="Re-send every plate, even those the platform has confirmed.",
        )

    def handle(self, *args, everything: bool, **options):
        try:
            client = PlatformClient.from_settings()
        except ImproperlyConfigured as exc:
            raise CommandError(f"Cannot reach the platform: {exc}") from None
        progress = TerminalProgress(self.stderr)
        try:
            report = sync.sync_due(client=client, everything=everything, progress=progress)
        finally:
            progress.close()

        tried = len(report.synced) + len(report.failed)
        self.stdout.write(
            f"Checked {report.checked} plate(s): tried {tried}, synced {len(report.synced)}, "
            f"failed {len(report.failed)}, left {len(report.left)}."
        )
        for plate in report.synced:
            self.stdout.write(f"  synced  {plate}")
        for plate, message in report.failed.items():
            self.stdout.write(f"  FAILED  {plate}: {message}")
        if report.left:
            self.stdout.write(
                f"  {len(report.left)} plate(s) not tried: the platform was unreachable or "
                "refused our app; they are sent on the next run."
            )
        if not report.ok:
            raise CommandError(
                f"{len(report.failed) + len(report.left)} plate(s) are not in step with the "
                "platform; they are retried on the next run."
            )
