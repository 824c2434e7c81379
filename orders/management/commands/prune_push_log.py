"""Delete old push-log rows that produced no order (refusals, unreadable bodies)."""

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from orders.push.services import PUSH_LOG_KEEP_DAYS, prune_push_log
from parkingops.jobs.progress import TerminalProgress


class Command(BaseCommand):
    help = (
        f"Delete push-log rows older than --older-than DAYS (default: {PUSH_LOG_KEEP_DAYS}) "
        "that produced no order."
    )

    def add_arguments(self, parser):
        parser.add_argument("--older-than", type=int, default=PUSH_LOG_KEEP_DAYS, metavar="DAYS")
        parser.add_argument("--batch-size", type=int, default=10_000)

    def handle(self, *args, older_than: int, batch_size: int, **options):
        if older_than < 1:
            raise CommandError(_("--older-than must be at least 1 day."))
        if batch_size < 1:
            raise CommandError(_("--batch-size must be positive."))
        progress = TerminalProgress(self.stderr)
        pruned = prune_push_log(
            older_than_days=older_than, batch_size=batch_size, progress=progress
        )
        progress.close()
        self.stdout.write(pruned.message())
