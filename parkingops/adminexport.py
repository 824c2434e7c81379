"""An admin list's "Export Excel" and "Export CSV": the whole filtered list, at
``<changelist>/export/xlsx/?<its query>`` and ``<changelist>/export/?<its query>``.

Exports reuse the list's own filtering (``adminquery.export_changelist``): what you see is what
you export. A query string the list refuses, a query the database refuses, or a list too long
for an Excel sheet is answered 400 with the reason, before any byte of a file.

A list of more than EXPORT_BACKGROUND_ROWS rows is exported in the background instead: the
request starts a job (``EXPORT_JOB``, run by ``parkingops.adminexport_jobs``) and goes to its
page on 我的任务, where the file is downloaded once written. The job rebuilds the same request
for the same user, so both write the file the same way (``FileExportMixin.export_file``),
masking included.
"""

from collections.abc import Iterator
from typing import IO

from django.conf import settings
from django.contrib import messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import PermissionDenied
from django.db import DataError, transaction
from django.db.models import QuerySet
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from parkingops import tabular, xlsx
from parkingops.adminkit import DateRangeFilter, describe_changelist
from parkingops.adminquery import bad_query_response, export_changelist, query_string_messages
from parkingops.jobs import runner
from parkingops.jobs.progress import NO_PROGRESS, Progress

# The kind of job of a list's export in the background (``parkingops.adminexport_jobs``).
EXPORT_JOB = "exports.admin_list"

INVALID_FILTERS = _("The export's filters are not valid.")


def count_rows(queryset: QuerySet, *, limit: int | None = None) -> int:
    """Return how many rows ``queryset`` has (at most ``limit``), or raise DataError.

    This runs the export's query once before the first byte of its file: one the database
    refuses (PostgreSQL: a value it cannot compare) is answered 400 (a failed job) here, not by
    a 200 whose file stops short. A savepoint, so a request in a transaction goes on.
    """
    # Neither the order nor the columns (the order list's totals are subqueries) change a count.
    rows = queryset.order_by().values("pk")
    with transaction.atomic(using=queryset.db):
        return rows[:limit].count() if limit is not None else rows.count()


class FileExportMixin:
    """Adds the two export URLs and their buttons' URLs (``export_xlsx_url`` first in the
    templates, then ``export_url``) to a ModelAdmin.

    A subclass writes the files (``export_csv``: CSV text pieces; ``export_xlsx``: an open
    file from ``parkingops.xlsx.workbook``), telling a ``progress`` the rows written, and may
    name them (``export_kind``, or ``export_filename``).
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
        limit = settings.EXPORT_BACKGROUND_ROWS
        try:
            # Counting no further than the limit: a million rows are not counted to learn
            # that they are more than the limit.
            rows = count_rows(changelist.queryset, limit=limit + 1)
        except DataError:
            return bad_query_response([gettext(INVALID_FILTERS)])
        if rows > limit:
            return self.start_export_job(request, changelist, file_format=file_format, part=part)
        try:
            # The XLSX is written whole before its response, its row count checked first; the
            # CSV is streamed as the response is read.
            with transaction.atomic(using=changelist.queryset.db):
                filename, content = self.export_file(
                    request, changelist, file_format=file_format, part=part
                )
        except DataError:
            return bad_query_response([gettext(INVALID_FILTERS)])
        except xlsx.TooManyRows as error:
            return bad_query_response([error.message])
        if file_format == "xlsx":
            return xlsx.xlsx_response(content, filename)
        return tabular.csv_response(content, filename)

    def export_file(
        self,
        request,
        changelist,
        *,
        file_format: str,
        part: str = "",
        progress: Progress = NO_PROGRESS,
    ) -> tuple[str, Iterator[str] | IO[bytes]]:
        """Return the file name and the content of the list's file ``part`` in ``file_format``:
        the CSV's text pieces (the rows are read as they are taken) or the XLSX's open
        temporary file. The download and the background job both write the file here;
        ``progress`` advances by the rows written. Raises ``xlsx.TooManyRows``."""
        _kind, write_csv, write_xlsx = self.export_writers(part)
        filename = self.download_name(request, changelist, file_format=file_format, part=part)
        queryset = changelist.queryset
        if file_format == "xlsx":
            about = xlsx.About(
                user=request.user.get_username(),
                at=timezone.now(),
                filters=describe_changelist(changelist),
            )
            return filename, write_xlsx(request, queryset, about, progress=progress)
        return filename, write_csv(request, queryset, progress=progress)

    def download_name(self, request, changelist, *, file_format: str, part: str = "") -> str:
        """Return the file name of the list's file ``part`` in ``file_format``."""
        kind, _write_csv, _write_xlsx = self.export_writers(part)
        filename = self.export_filename(request, changelist, kind)
        return xlsx.xlsx_filename(filename) if file_format == "xlsx" else filename

    def start_export_job(self, request, changelist, *, file_format: str, part: str):
        """Start the export of this list as a job and go to its page."""
        filename = self.download_name(request, changelist, file_format=file_format, part=part)
        # What the job needs to build the same request again: the list, the file, the query.
        params = {
            "app_label": self.opts.app_label,
            "model_name": self.opts.model_name,
            "part": part,
            "file_format": file_format,
            "path": request.path,
            "query": request.GET.urlencode(),
        }
        job = runner.unfinished(EXPORT_JOB, owner=request.user, params=params)
        if job is not None:
            messages.info(request, gettext("This export is already running: here it is."))
        else:
            job = runner.start_job(EXPORT_JOB, owner=request.user, subject=filename, params=params)
            messages.success(
                request,
                gettext(
                    "The list is long: it is exported in the background. Its progress, and "
                    "then its file, are on this page and in My jobs."
                ),
            )
        return redirect(reverse("admin:parkingops_job_change", args=[job.pk]))

    def export_csv(self, request, queryset, *, progress: Progress):
        """Return the list's CSV as text pieces (``parkingops.tabular.csv_text``), advancing
        ``progress`` by the rows written."""
        raise NotImplementedError

    def export_xlsx(self, request, queryset, about: xlsx.About, *, progress: Progress):
        """Return the list's XLSX as an open file (``parkingops.xlsx.workbook``), advancing
        ``progress`` by the rows written."""
        raise NotImplementedError
