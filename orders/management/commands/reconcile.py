"""``manage.py reconcile --date YYYY-MM-DD [--date-to YYYY-MM-DD] [--park UUID]``: reconcile
a China-time day, or each day of a range (at most MAX_RANGE_DAYS).

Runs the same reconciliation as the admin's "Run a reconciliation" page
(``orders.reconciliation.services``) for every known park, or the one given, and prints one line
per park and day; the progress goes to stderr (a bar on a terminal, log lines otherwise). Exits
non-zero when any park failed (the platform refused or could not be reached), after trying every
park and day.
"""

import datetime

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from orders.reconciliation import selectors, services
from orders.reconciliation.models import ReconciliationRun
from parkingops.formatting import CHINA, parse_day, yuan
from parkingops.jobs.progress import TerminalProgress
from whitelist.models import Park


class Command(BaseCommand):
    help = (
        "Compare a China-time day's orders with the platform's payment list, per park, and "
        "store the differences (replacing that day's previous run of each park)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--date", required=True, metavar="YYYY-MM-DD", help="China time.")
        parser.add_argument(
            "--date-to",
            default="",
            metavar="YYYY-MM-DD",
            help=f"The last day of a range from --date (at most {services.MAX_RANGE_DAYS} days).",
        )
        parser.add_argument("--park", default="", metavar="UUID", help="Only this park.")
        parser.add_argument(
            "--page-size",
            type=int,
            default=services.DEFAULT_PAGE_SIZE,
            help="Payments asked per page of the platform's list (default: %(default)s).",
        )

    def handle(self, *args, date, date_to, park, page_size, **options):
        days = self._days(date, date_to or date)
        if page_size < 1:
            raise CommandError("--page-size must be at least 1.")
        if park and not Park.objects.filter(park_uuid=park).exists():
            raise CommandError(f"No park has the uuid {park!r}.")
        progress = TerminalProgress(self.stderr)
        try:
            runs = services.reconcile_days(
                days=days, park_uuid=park, page_size=page_size, progress=progress
            )
        except ImproperlyConfigured as exc:
            raise CommandError(f"The platform client is not configured: {exc}") from None
        finally:
            progress.close()
        if not runs:
            self.stdout.write("No parks are known yet: nothing to reconcile.")
        failed = 0
        for run in runs:
            label = f"{run.date} {run.park.name} ({run.park.park_uuid})"
            if run.status == ReconciliationRun.Status.FAILED:
                failed += 1
                self.stderr.write(self.style.ERROR(f"{label}: failed: {run.message}"))
                continue
            totals = {total.category: total for total in selectors.category_totals(run=run)}
            other = sum(totals[category].count for category in selectors.OTHER_FIELDS)
            self.stdout.write(
                f"{label}: platform {run.platform_count} ({yuan(run.platform_value)}), "
                f"ours {run.ours_count} ({yuan(run.ours_value)}), "
                f"matched {run.matched_count} ({yuan(run.matched_value)}), "
                f"missing here {totals['missing_here'].count}, "
                f"missing at the platform {totals['missing_at_platform'].count}, "
                f"amount differs {totals['amount_differs'].count}, "
                f"other fields differ {other}, "
                f"stays not paid in full {totals['stay_gap'].count}, "
                f"orders without a stay {totals['order_without_stay'].count}, "
                f"not whitelisted {run.not_whitelisted_count} "
                f"({yuan(run.not_whitelisted_value)})"
            )
        if failed:
            raise CommandError(f"{failed} of {len(runs)} parks failed; see above.")

    def _days(self, first: str, last: str) -> list[datetime.date]:
        """The days asked, refused with the reason when unreadable, not begun or too many."""
        try:
            first_day, last_day = parse_day(first), parse_day(last)
            days = services.days_from_to(first_day, last_day)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        today = timezone.now().astimezone(CHINA).date()
        if days[-1] > today:
            raise CommandError(f"{days[-1]} has not begun yet in China time.")
        return days
