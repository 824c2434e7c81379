"""The whitelist's jobs: an import too large to check and write within a request.

A file of more than ``IMPORT_BACKGROUND_ROWS`` rows is previewed by the job
``whitelist.import_preview`` (started by the import page, ``admin_import``). Its result keeps
on the server (``parkingops.uploads``, never in the result itself) the preview to page through
and, when every row is valid, the file; ``next_url`` is the page showing that preview
(``import/job/<id>/`` of the whitelist admin), whose confirmation takes the file, once
(``confirm_preview``), into the job ``whitelist.import``: all rows or none.
"""

from typing import Any

from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from parkingops.jobs import runner
from parkingops.jobs.kinds import JobFailed, job_kind
from parkingops.jobs.models import Job
from parkingops.jobs.progress import Progress
from parkingops.uploads import discard_upload, keep_upload, take_upload
from whitelist.import_preview import (
    NO_LONGER_VALID,
    ShownPreview,
    import_counts,
    imported_message,
)
from whitelist.services import (
    entries,
    importing,
    sync_job,  # noqa: F401 (the platform sync's kind, beside the sync)
    upsert,
)
from whitelist.services.reasons import ReasonRequired
from whitelist.spreadsheet import FileRefused

PREVIEW = "whitelist.import_preview"
IMPORT = "whitelist.import"
PRUNE_TOMBSTONES = "whitelist.prune_tombstones"


def start_preview(*, data: bytes, name: str, user) -> Job:
    """Start previewing the uploaded file ``data`` (named ``name``) in the background."""
    return runner.start_job(
        PREVIEW,
        owner=user,
        subject=name,
        params={"name": name},
        input_file=ContentFile(data),
        input_name=name,
    )


def describe_preview(result: dict[str, Any]) -> list[str]:
    totals = result["totals"]
    lines = [
        _("%(new)s new, %(updated)s updated, %(skipped)s unchanged, %(invalid)s invalid.")
        % {
            "new": totals["new"],
            "updated": totals["update"],
            "skipped": totals["skip"],
            "invalid": totals["invalid"],
        }
    ]
    if not result["valid"]:
        lines.append(_("Nothing will be imported until every row is valid."))
    return lines


def _preview_link(result: dict[str, Any]) -> str:
    if result.get("valid"):
        return _("See the preview and confirm")
    return _("See the invalid rows")


@job_kind(
    PREVIEW,
    gettext_lazy("Whitelist import preview"),
    describe=describe_preview,
    next_step=_preview_link,
)
def preview_import(job: Job, progress: Progress) -> dict[str, Any]:
    """Check the file as the import page would; keep its preview and, if valid, the file."""
    name = job.params["name"]
    data = _input(job)
    try:
        preview = importing.preview_import(data=data, name=name, progress=progress)
    except FileRefused as error:
        raise JobFailed(str(error)) from None
    shown = ShownPreview.of(preview)
    result = {
        "file": name,
        "totals": shown.totals,
        "valid": shown.valid,
        "narrowing": shown.narrowing,
        # The keys of what is kept: read by the preview's page, never shown.
        "preview": shown.keep(),
        "next_url": reverse("admin:whitelist_whitelistentry_import_job", args=[job.pk]),
    }
    if shown.valid:
        result["upload"] = keep_upload(data)
    return result


def confirm_preview(preview: Job, *, user, change_reason: str = "") -> Job | None:
    """Start importing the file ``preview`` (a succeeded preview job) checked; return the
    import's job, or None when the preview no longer waits for confirmation (confirmed
    already, invalid, or forgotten after a day). ``change_reason``: for the rows that disable
    or shorten an entry (``reasons``), checked by the caller, given to the import.

    Once: of two simultaneous confirmations only one takes the file (``take_upload``).
    """
    key = preview.result.get("upload")
    data = take_upload(key) if key else None
    if data is None:
        return None
    if preview.result.get("preview"):
        discard_upload(preview.result["preview"])
    name = preview.params["name"]
    job = runner.start_job(
        IMPORT,
        owner=user,
        subject=name,
        params={"name": name, "change_reason": change_reason},
        input_file=ContentFile(data),
        input_name=name,
    )
    # The preview's page now leads to the import.
    result = {**preview.result, "import_job": str(job.pk)}
    del result["upload"]
    Job.objects.filter(pk=preview.pk).update(result=result)
    return job


def describe_import(result: dict[str, Any]) -> list[str]:
    return [imported_message(result["file"], result)]


@job_kind(IMPORT, gettext_lazy("Whitelist import"), describe=describe_import)
def import_whitelist(job: Job, progress: Progress) -> dict[str, Any]:
    """Import the confirmed file, all rows or none (a cancel during the write undoes it)."""
    name = job.params["name"]
    try:
        result = importing.import_file(
            data=_input(job),
            file_name=name,
            user=job.owner,
            change_reason=job.params.get("change_reason", ""),
            progress=progress,
        )
    except (upsert.UpsertRejected, FileRefused, ReasonRequired):
        raise JobFailed(str(NO_LONGER_VALID)) from None
    return {"file": name, **import_counts(result)}


def _input(job: Job) -> bytes:
    if not job.input_file:
        raise JobFailed(_("The uploaded file is no longer kept: upload it again."))
    with job.input_file.open("rb") as file:
        return file.read()


def describe_prune_tombstones(result: dict[str, Any]) -> list[str]:
    return [
        ngettext(
            "%(count)d deleted entry's record removed.",
            "%(count)d deleted entries' records removed.",
            result["deleted"],
        )
        % {"count": result["deleted"]}
    ]


@job_kind(
    PRUNE_TOMBSTONES,
    gettext_lazy("Pruning the deleted whitelist entries"),
    describe=describe_prune_tombstones,
)
def prune_tombstones(job: Job, progress: Progress) -> dict[str, Any]:
    """Remove the deleted entries' records (the API's ``whitelist/deleted/``) past
    WHITELIST_TOMBSTONE_DAYS."""
    return {"deleted": entries.prune_tombstones()}
