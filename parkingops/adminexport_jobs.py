"""The job of an admin list's export in the background (``adminexport.EXPORT_JOB``).

The export view starts it for a list of more than EXPORT_BACKGROUND_ROWS rows, with the list
(its app and model), the file (``part``, format) and the request's path and query string. The
worker builds that GET request again for the job's owner, checks again that they may export
the list (a permission taken away meanwhile fails the job), and writes the file through the
same ``FileExportMixin.export_file`` as the download: the same filters, columns, masking and
file name. The file goes to a temporary file, then to the job (kept JOB_FILE_DAYS days).

Registered at start-up by ``ParkingOpsConfig.ready``: it serves every app's admin lists.
"""

import tempfile
from collections.abc import Iterable
from typing import IO

from django.apps import apps
from django.contrib import admin
from django.contrib.admin.exceptions import NotRegistered
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.auth.models import AnonymousUser
from django.core.files import File
from django.db import DataError
from django.http import HttpRequest, QueryDict
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from parkingops.adminexport import EXPORT_JOB, INVALID_FILTERS, FileExportMixin, count_rows
from parkingops.adminquery import export_changelist, query_string_messages
from parkingops.jobs import runner
from parkingops.jobs.kinds import JobFailed, job_kind
from parkingops.jobs.models import Job
from parkingops.jobs.progress import Progress
from parkingops.xlsx import TooManyRows


def describe(result: dict) -> list[str]:
    rows = result["rows"]
    line = ngettext("%(rows)s row exported.", "%(rows)s rows exported.", rows)
    return [line % {"rows": f"{rows:,}"}]


@job_kind(EXPORT_JOB, _("Export of a list"), describe=describe)
def export_admin_list(job: Job, progress: Progress) -> dict:
    params = job.params
    model_admin = _model_admin(params.get("app_label", ""), params.get("model_name", ""))
    request = _owner_request(job)
    if not (
        model_admin.admin_site.has_permission(request)
        and model_admin.has_export_permission(request)
    ):
        raise JobFailed(gettext("You may no longer export this list."))
    try:
        changelist = export_changelist(model_admin, request)
        rows = count_rows(changelist.queryset)
    except IncorrectLookupParameters as error:
        raise JobFailed(" ".join(query_string_messages(error))) from None
    except DataError:
        raise JobFailed(gettext(INVALID_FILTERS)) from None
    file_format = "xlsx" if params.get("file_format") == "xlsx" else "csv"
    progress.stage(gettext("Writing the file"), rows)
    try:
        filename, content = model_admin.export_file(
            request,
            changelist,
            file_format=file_format,
            part=params.get("part", ""),
            progress=progress,
        )
    except TooManyRows as error:
        raise JobFailed(error.message) from None
    # The XLSX is a temporary file already; the CSV's pieces are written to one.
    with content if file_format == "xlsx" else _csv_file(content) as file:
        runner.attach_file(job, File(file), filename)
    return {"rows": rows}


def _csv_file(pieces: Iterable[str]) -> IO[bytes]:
    """Return a temporary file holding the CSV ``pieces`` in UTF-8 (as the download's response
    encodes them), open at its start; it is deleted when closed."""
    file = tempfile.TemporaryFile(suffix=".csv")  # noqa: SIM115 (handed on, closed by its reader)
    try:
        for piece in pieces:
            file.write(piece.encode())
        file.seek(0)
    except BaseException:  # a cancel, a failure: the file goes at once
        file.close()
        raise
    return file


def _model_admin(app_label: str, model_name: str) -> FileExportMixin:
    """Return the admin of the list to export; JobFailed when it exports no more."""
    try:
        model_admin = admin.site.get_model_admin(apps.get_model(app_label, model_name))
    except (LookupError, ValueError, NotRegistered):
        model_admin = None
    if not isinstance(model_admin, FileExportMixin):
        raise JobFailed(gettext("This list cannot be exported any more."))
    return model_admin


def _owner_request(job: Job) -> HttpRequest:
    """Return the GET request that started the export, made by the job's owner."""
    query = job.params.get("query", "")
    request = HttpRequest()
    request.method = "GET"
    request.path = request.path_info = job.params.get("path", "/")
    request.META = {"REQUEST_METHOD": "GET", "QUERY_STRING": query}
    request.GET = QueryDict(query)
    request.user = job.owner if job.owner is not None else AnonymousUser()
    return request
