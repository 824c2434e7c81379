"""Print the health conditions (the alerts of /metrics) and exit 1 when one fires: for cron
and monitoring scripts at sites without Prometheus (docs/operations.md#alerts)."""

from django.conf import settings
from django.core.mail import mail_admins
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError
from django.utils.translation import gettext as _

from orders.monitoring import conditions, readings

# Exit statuses: 0 every condition is fine, 1 one fires, 2 the database cannot be read.
FIRING = 1
UNREADABLE = 2


class Command(BaseCommand):
    help = (
        "Check the health conditions (push stream, refusals, platform sync, reconciliation, "
        "jobs); exit 1 when one fires, 2 when the database cannot be read."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--mail", action="store_true", help="Mail the ADMINS when a condition fires."
        )
        parser.add_argument(
            "--quiet", action="store_true", help="Print only the conditions that fire."
        )

    def handle(self, *args, mail: bool, quiet: bool, **options):
        try:
            found = conditions.evaluate(readings.read())
        except DatabaseError as error:
            raise CommandError(
                _("The database cannot be read: %(error)s") % {"error": error},
                returncode=UNREADABLE,
            ) from None
        lines = [
            f"{'FIRING' if condition.firing else 'OK':<7} {condition.code:<27} {condition.message}"
            for condition in found
            if condition.firing or not quiet
        ]
        if lines:
            self.stdout.write("\n".join(lines))
        firing = [condition for condition in found if condition.firing]
        if not firing:
            return
        codes = ", ".join(condition.code for condition in firing)
        if mail:
            self._mail(codes, firing)
        raise CommandError(
            _("%(count)d conditions firing: %(codes)s") % {"count": len(firing), "codes": codes},
            returncode=FIRING,
        )

    def _mail(self, codes: str, firing: list[conditions.Condition]) -> None:
        if not settings.ADMINS:
            self.stderr.write(_("ADMINS is not set: no mail was sent."))
            return
        try:
            mail_admins(
                _("Health check: %(codes)s") % {"codes": codes},
                "\n".join(f"{c.code}: {c.message}" for c in firing) + "\n",
            )
        except OSError as error:  # smtplib's errors too: the exit status still tells
            self.stderr.write(_("The mail could not be sent: %(error)s") % {"error": error})
