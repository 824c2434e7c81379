"""Create the staff groups 财务 and 运营 and keep their permissions as parkingops/roles.py says."""

from django.core.management.base import BaseCommand, CommandError

from parkingops.roles import MissingPermissions, apply_roles


class Command(BaseCommand):
    help = (
        "Create the groups 财务 (finance) and 运营 (operations) and set their permissions to "
        "exactly those in parkingops/roles.py. Safe to run again; prints what changed."
    )

    def handle(self, *args, **options):
        try:
            changes = apply_roles()
        except MissingPermissions as exc:
            raise CommandError(str(exc)) from exc
        for change in changes:
            if not change.changed:
                self.stdout.write(f"{change.group}: unchanged")
                continue
            if change.created:
                self.stdout.write(self.style.SUCCESS(f"{change.group}: created"))
            for name in change.added:
                self.stdout.write(self.style.SUCCESS(f"{change.group}: + {name}"))
            for name in change.removed:
                self.stdout.write(self.style.WARNING(f"{change.group}: - {name}"))
