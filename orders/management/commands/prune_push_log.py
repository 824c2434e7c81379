"""Delete old push-log rows that produced no order (refusals, unreadable bodies)."""

from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.translation import gettext as _

from orders.push.services import prune_push_log


class Command(BaseCommand):
    help = "Delete push-log rows older than --older-than DAYS that produced no order."

    def add_arguments(self, parser):
        parser.add_argument("--older-than", type=int, required=True, metavar="DAYS")
        parser.add_argument("--batch-size", type=int, default=10_000)

    def handle(self, *args, older_than: int, batch_size: int, **options):
        if older_than < 1:
            raise CommandError(_("--older-than must be at least 1 day."))
        if batch_size < 1:
            raise CommandError(_("--batch-size must be positive."))
        before = timezone.now() - timedelta(days=older_than)
        deleted = prune_push_log(before=before, batch_size=batch_size)
        self.stdout.write(
            _("Deleted %(count)d push-log rows received before %(before)s without an order.")
            % {"count": deleted, "before": timezone.localtime(before).strftime("%Y-%m-%d %H:%M")}
        )
