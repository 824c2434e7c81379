"""What a run found, as plain data and as the line a finance clerk reads.

The admin's "Run a reconciliation" page shows the line of each run it ran as a message; the
reconciliation job (``orders.jobs``) keeps the data in its result, which outlives the runs'
rows (a later run of the same park and day replaces them), and shows the same lines on its
page.
"""

from typing import Any

from django.utils.translation import gettext

from orders.reconciliation.models import ReconciliationRun


def summarize(run: ReconciliationRun) -> dict[str, Any]:
    """Return ``run``'s outcome as plain JSON data (one query: its differences counted)."""
    failed = run.status == ReconciliationRun.Status.FAILED
    return {
        "run": run.pk,
        "day": run.date.isoformat(),
        "park": str(run.park),
        "park_uuid": run.park.park_uuid,
        "failed": failed,
        "message": run.message if failed else "",
        "platform": run.platform_count,
        "matched": run.matched_count,
        "differences": 0 if failed else run.items.count(),
        "not_whitelisted": run.not_whitelisted_count,
    }


def describe(summary: dict[str, Any]) -> str:
    """Return the line telling ``summary`` (``summarize``'s), in the active language."""
    if summary["failed"]:
        return gettext("%(day)s %(park)s: failed: %(message)s") % summary
    return (
        gettext(
            "%(day)s %(park)s reconciled. Payments at the platform: %(platform)d; matched: "
            "%(matched)d; differences: %(differences)d; of plates not whitelisted: "
            "%(not_whitelisted)d."
        )
        % summary
    )
