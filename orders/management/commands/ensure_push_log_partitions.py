"""Create the push log's monthly partitions ahead (PostgreSQL; nothing to do on SQLite)."""

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from orders.push import partitions


class Command(BaseCommand):
    help = (
        "Create the push log's monthly partitions from the current month to --ahead months "
        f"after it (default: {partitions.AHEAD_MONTHS}); the migration, the nightly prune and "
        "this command run it. Nothing to do on SQLite."
    )

    def add_arguments(self, parser):
        parser.add_argument("--ahead", type=int, default=partitions.AHEAD_MONTHS, metavar="N")

    def handle(self, *args, ahead: int, **options):
        if ahead < 0:
            raise CommandError(_("--ahead must not be negative."))
        if not partitions.is_partitioned():
            self.stdout.write(_("The push log is not partitioned on this database."))
            return
        created = partitions.ensure_partitions(ahead=ahead)
        self.stdout.write(_("Push-log partitions created: %(count)d.") % {"count": len(created)})
        for name in created:
            self.stdout.write(name)
