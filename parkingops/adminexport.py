"""An admin list's "Export Excel" and "Export CSV": the whole filtered list, at
``<changelist>/export/xlsx/?<its query>`` and ``<changelist>/export/?<its query>``.

Exports reuse the list's own filtering (``adminquery.export_changelist``): what you see is what
you export. A query string the list refuses, a query the database refuses, or a list too long
for an Excel sheet is answered 400 with the reason, before any byte of a file.
"""

from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import PermissionDenied
from django.db import DataError, transaction
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext

from parkingops import tabular, xlsx
from parkingops.adminkit import DateRangeFilter, describe_changelist
from parkingops.adminquery import bad_query_response, export_changelist, query_string_messages


class FileExportMixin:
    """Adds the two export URLs and their buttons' URLs (``export_xlsx_url`` first in the
    templates, then ``export_url``) to a ModelAdmin.

    A subclass writes the files (``export_csv``: CSV text pieces; ``export_xlsx``: an open
    file from ``parkingops.xlsx.workbook``) and may name them (``export_kind``, or
    ``export_filename``).
    """

    export_kind = ""

    def get_urls(self):
        name = f"{self.opts.app_label}_{self.opts.model_name}_export"
        view = self.admin_site.admin_view(self.export_view)
        return [
            path("export/", view, name=name),
            path("export/xlsx/", view, {"file_format": "xlsx"}, name=f"{name}_xlsx"),
            *super().get_urls(),
        ]

    def has_export_permission(self, request) -> bool:
        return self.has_view_permission(request)

    def changelist_view(self, request, extra_context=None):
        if self.has_export_permission(request):
            name = f"admin:{self.opts.app_label}_{self.opts.model_name}_export"
            extra_context = {
                **(extra_context or {}),
                "export_url": reverse(name),
                "export_xlsx_url": reverse(f"{name}_xlsx"),
            }
        return super().changelist_view(request, extra_context)

    def export_filename(self, request, changelist, kind: str | None = None) -> str:
        """Return the CSV's file name (the XLSX's ends ``.xlsx``): the kind and the days."""
        days = next(
            (spec for spec in changelist.filter_specs if isinstance(spec, DateRangeFilter)), None
        )
        return tabular.export_filename(
            kind or self.export_kind, days and days.date_from, days and days.date_to
        )

    def export_writers(self, part: str):
        """Return the file name's kind and the CSV and XLSX writers of the list's file ``part``:
        ``""`` is the list itself; an admin that offers another file of the same filtered list
        (the coupon totals) routes ``export_view`` with its ``part`` and answers it here."""
        return self.export_kind, self.export_csv, self.export_xlsx

    def export_view(self, request, file_format: str = "csv", part: str = ""):
        if not self.has_export_permission(request):
            raise PermissionDenied
        # The changelist itself reads the query string (filters, search ``q``, ordering
        # ``o``), so the export cannot drift from the list.
        try:
            changelist = export_changelist(self, request)
        except IncorrectLookupParameters as error:
            return bad_query_response(query_string_messages(error))
        kind, write_csv, write_xlsx = self.export_writers(part)
        filename = self.export_filename(request, changelist, kind)
        queryset = changelist.queryset
        try:
            # Run the query once before the first byte: one the database refuses (PostgreSQL:
            # a value it cannot compare) is answered 400 here, not by a 200 whose file stops
            # short. (Starting the stream itself here would hold a COPY open on the connection
            # until the response is read.) A savepoint, so a request in a transaction goes on.
            # The XLSX is written whole before its response, its row count checked first.
            with transaction.atomic(using=queryset.db):
                if file_format == "xlsx":
                    about = xlsx.About(
                        user=request.user.get_username(),
                        at=timezone.now(),
                        filters=describe_changelist(changelist),
                    )
                    file = write_xlsx(request, queryset, about)
                else:
                    queryset.exists()
        except DataError:
            return bad_query_response([gettext("The export's filters are not valid.")])
        except xlsx.TooManyRows as error:
            return bad_query_response([error.message])
        if file_format == "xlsx":
            return xlsx.xlsx_response(file, xlsx.xlsx_filename(filename))
        return tabular.csv_response(write_csv(request, queryset), filename)

    def export_csv(self, request, queryset):
        """Return the list's CSV as text pieces (``parkingops.tabular.csv_text``)."""
        raise NotImplementedError

    def export_xlsx(self, request, queryset, about: xlsx.About):
        """Return the list's XLSX as an open file (``parkingops.xlsx.workbook``)."""
        raise NotImplementedError
