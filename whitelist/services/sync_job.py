"""The whitelist sync as a background job (``parkingops.jobs``): the schedule runs it every
SCHEDULE_SYNC_MINUTES, and the admin's "Sync now" starts it for more plates than a request
sends inline (``sync.INLINE_LIMIT``).

The job is ``sync.sync_due`` with its progress: every plate pending, failed or whose window
began or ended is sent, so the plates marked pending just before are among them.
"""

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from parkingops.jobs.kinds import JobFailed, job_kind
from parkingops.jobs.models import Job
from parkingops.jobs.progress import Progress
from parkingops.jobs.runner import start_job
from parkingops.pcloud import codes
from parkingops.pcloud.client import PlatformClient, not_configured_message
from whitelist.services import sync

SYNC = "whitelist.sync"

# The failed plates kept in the result, with the platform's message.
SHOWN_FAILURES = 20


def start_sync(*, plates: Iterable[str | None], owner: Any = None) -> Job:
    """Mark ``plates`` pending and start the job that sends them (with any others due).

    Raise ``sync.PlatformNotConfigured`` (after marking) when the platform is not configured:
    the job could only fail.
    """
    plates = sync.mark_pending_now(plates=plates)
    if sync.inline_client() is None:
        raise sync.PlatformNotConfigured
    return start_job(
        SYNC,
        owner=owner,
        subject=ngettext("%(count)d plate", "%(count)d plates", len(plates))
        % {"count": len(plates)},
        params={"everything": False},
    )


def describe_sync(result: dict[str, Any]) -> list[str]:
    lines = [
        gettext(
            "Checked %(checked)d plates: synced %(synced)d, failed %(failed)d, left "
            "%(left)d for the next sync."
        )
        % result
    ]
    lines += [
        gettext("Failed: %(plate)s: %(message)s")
        % {"plate": plate, "message": codes.error_label(message)}
        for plate, message in result["failures"]
    ]
    return lines


@job_kind(SYNC, _("Whitelist sync with the platform"), describe=describe_sync)
def sync_whitelist(job: Job, progress: Progress) -> dict[str, Any]:
    """Send the plates due (every plate with ``params["everything"]``) to the platform."""
    try:
        client = PlatformClient.from_settings()
    except ImproperlyConfigured as exc:
        raise JobFailed(not_configured_message(exc)) from None
    report = sync.sync_due(
        client=client, everything=bool(job.params.get("everything")), progress=progress
    )
    return {
        "checked": report.checked,
        "synced": len(report.synced),
        "failed": len(report.failed),
        "left": len(report.left),
        "failures": list(report.failed.items())[:SHOWN_FAILURES],
    }
