"""``manage.py import_whitelist FILE [--dry-run]``: import a file of whitelist entries from a
shell, as the admin's 导入 does (``services.importing``): every row or none.

For files too large to upload, or imports run by a script. Progress goes to stderr (a bar on a
terminal, plain lines in a log); the counts to stdout. Exits with status 1, listing the first
invalid rows, when any row is invalid: nothing is written then.
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from parkingops.jobs.progress import TerminalProgress
from whitelist.import_preview import import_counts, imported_message
from whitelist.services import importing, upsert
from whitelist.spreadsheet import FileRefused, column_label

# The invalid rows listed; the file's own preview in the admin shows the first 1,000.
LISTED_ERRORS = 20


class Command(BaseCommand):
    help = (
        "Import a CSV or XLSX file of whitelist entries, as the admin's import does: every row "
        "or none. Exits with status 1, listing the first invalid rows, when any row is invalid."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="The CSV or XLSX file.")
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Check the file and print what importing it would do; write nothing.",
        )

    def handle(self, *args, file: str, dry_run: bool, **options):
        path = Path(file)
        try:
            data = path.read_bytes()
        except OSError as error:
            raise CommandError(f"Cannot read {file}: {error.strerror or error}") from None
        progress = TerminalProgress(self.stderr)
        try:
            result = importing.import_file(
                data=data, file_name=path.name, dry_run=dry_run, progress=progress
            )
        except FileRefused as error:
            raise CommandError(str(error)) from None
        except upsert.UpsertRejected as error:
            progress.close()
            self._list(error.errors)
            raise CommandError(
                ngettext(
                    "Nothing was imported: %(count)d row is invalid.",
                    "Nothing was imported: %(count)d rows are invalid.",
                    len(error.errors),
                )
                % {"count": len(error.errors)}
            ) from None
        finally:
            progress.close()
        counts = import_counts(result)
        if dry_run:
            self.stdout.write(_("Dry run: nothing was written."))
            self.stdout.write(
                _("%(new)s new, %(updated)s updated, %(skipped)s unchanged, %(invalid)s invalid.")
                % {
                    "new": counts[upsert.CREATED],
                    "updated": counts[upsert.UPDATED],
                    "skipped": counts[upsert.UNCHANGED],
                    "invalid": 0,
                }
            )
        else:
            self.stdout.write(imported_message(path.name, counts))

    def _list(self, errors: list[dict]) -> None:
        for error in errors[:LISTED_ERRORS]:
            problems = [
                " ".join(messages)
                if name == "__all__"
                else f"{column_label(name)}: " + " ".join(messages)
                for name, messages in error.items()
                if name != "row"
            ]
            self.stderr.write(_("Row %(row)d: ") % {"row": error["row"]} + "; ".join(problems))
        if len(errors) > LISTED_ERRORS:
            more = len(errors) - LISTED_ERRORS
            self.stderr.write(
                ngettext(
                    "… and %(count)d more invalid row.", "… and %(count)d more invalid rows.", more
                )
                % {"count": more}
            )
