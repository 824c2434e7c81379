"""``manage.py export_orders --from YYYY-MM-DD --to YYYY-MM-DD [--park UUID] [--output FILE]
[--format csv|xlsx]``

Writes the same CSV (or XLSX) as the admin's "Export CSV" ("Export Excel")
(``orders.exports.orders``): both days inclusive in China time, oldest first, discount mobiles
always masked (a command has no user to hold the personal-data permission). Without
``--output`` the CSV goes to standard output (an XLSX needs ``--output``). An XLSX of more
rows than a sheet holds is refused before anything is written. The progress goes to standard
error: a bar on a terminal, a line now and then otherwise (``TerminalProgress``).
"""

import shutil

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone, translation
from django.utils.translation import gettext

from orders import selectors
from orders.exports.orders import orders_csv, orders_xlsx
from parkingops import xlsx
from parkingops.formatting import parse_day
from parkingops.jobs.progress import TerminalProgress
from whitelist.models import Park


def _day(text: str):
    try:
        return parse_day(text)
    except ValueError as exc:
        raise CommandError(str(exc)) from None


class Command(BaseCommand):
    help = (
        "Export the pay orders of a China-time date range (both days inclusive) as the "
        "finance CSV: UTF-8 with BOM, mobile numbers masked."
    )

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="date_from", required=True, metavar="YYYY-MM-DD")
        parser.add_argument("--to", dest="date_to", required=True, metavar="YYYY-MM-DD")
        parser.add_argument("--park", default="", metavar="UUID", help="Only this park.")
        parser.add_argument(
            "--output", default="", metavar="FILE", help="Write here instead of stdout."
        )
        parser.add_argument(
            "--format",
            dest="file_format",
            default="csv",
            choices=["csv", "xlsx"],
            help="csv (default) or xlsx (Excel: typed cells, at most 1,048,575 rows).",
        )
        parser.add_argument(
            "--language",
            default="zh-hans",
            choices=["zh-hans", "en"],
            help="The header row's language (default: zh-hans).",
        )

    def handle(self, *args, date_from, date_to, park, output, language, file_format, **options):
        if file_format == "xlsx" and not output:
            raise CommandError("--format xlsx writes a binary file: give --output FILE.")
        first, last = _day(date_from), _day(date_to)
        if first > last:
            raise CommandError(f"--from {first} is after --to {last}.")
        if park and not Park.objects.filter(park_uuid=park).exists():
            raise CommandError(f"No park has the uuid {park!r}.")
        orders = selectors.orders_between(date_from=first, date_to=last, park_uuid=park).order_by(
            "pay_time", "pk"
        )
        # The stream under the command's wrapper, which would end each of tqdm's redraws (and
        # each of print's pieces) with a line feed of its own.
        progress = TerminalProgress(self.stderr._out)
        progress.stage(gettext("Writing the file"), orders.count())
        if file_format == "xlsx":
            self._write_xlsx(orders, output, language, first, last, park, progress)
            return
        with translation.override(language):
            pieces = orders_csv(orders, unmask=False, progress=progress)
        if output:
            # newline="": the csv module already ends rows with CRLF.
            with open(output, "w", encoding="utf-8", newline="") as file:
                for piece in pieces:
                    file.write(piece)
            progress.close()
            self.stderr.write(f"Wrote {output}.")
        else:
            for piece in pieces:
                self.stdout.write(piece, ending="")
            progress.close()

    def _write_xlsx(self, orders, output, language, first, last, park, progress) -> None:
        with translation.override(language):
            filters = [("from", first.isoformat()), ("to", last.isoformat())]
            if park:
                filters.append(("park", park))
            about = xlsx.About("manage.py export_orders", timezone.now(), filters)
            try:
                file = orders_xlsx(orders, about=about, unmask=False, progress=progress)
            except xlsx.TooManyRows as error:
                raise CommandError(error.message) from None
        progress.close()
        with file, open(output, "wb") as target:
            shutil.copyfileobj(file, target)
        self.stderr.write(f"Wrote {output}.")
