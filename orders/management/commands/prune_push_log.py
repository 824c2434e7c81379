"""Remove the push log's rows past the retention (whole months on PostgreSQL) and old rows
that produced no order (refusals, unreadable bodies)."""

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from orders.push.services import PUSH_LOG_KEEP_DAYS, prune_push_log
from parkingops.jobs.progress import TerminalProgress


class Command(BaseCommand):
    help = (
        "Remove push-log rows older than the retention (--retention-months, default: "
        "PUSH_LOG_RETENTION_MONTHS; whole months on PostgreSQL), and rows older than "
        f"--older-than DAYS (default: {PUSH_LOG_KEEP_DAYS}) that produced no order."
    )

    def add_arguments(self, parser):
        parser.add_argument("--older-than", type=int, default=PUSH_LOG_KEEP_DAYS, metavar="DAYS")
        parser.add_argument("--retention-months", type=int, default=None, metavar="MONTHS")
        parser.add_argument("--batch-size", type=int, default=10_000)

    def handle(self, *args, older_than: int, retention_months, batch_size: int, **options):
        if older_than < 1:
            raise CommandError(_("--older-than must be at least 1 day."))
        if retention_months is not None and retention_months < 1:
            raise CommandError(_("--retention-months must be at least 1 month."))
        if batch_size < 1:
            raise CommandError(_("--batch-size must be positive."))
        progress = TerminalProgress(self.stderr)
        pruned = prune_push_log(
            older_than_days=older_than,
            retention_months=retention_months,
            batch_size=batch_size,
            progress=progress,
        )
        progress.close()
        for line in pruned.lines():
            self.stdout.write(line)
