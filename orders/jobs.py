"""The orders' background jobs (``parkingops.jobs``): the reconciliation of several days or
parks, and pruning the push log. The schedules (``parkingops.jobs.schedules``) start both
nightly; the admin's "Run a reconciliation" page starts a reconciliation of more than one park's
day."""

from datetime import date, datetime
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from orders.push.services import PUSH_LOG_KEEP_DAYS, Pruned, prune_push_log
from orders.reconciliation import services, summaries
from orders.rollup.services import roll_up
from parkingops.jobs.kinds import JobFailed, job_kind
from parkingops.jobs.models import Job
from parkingops.jobs.progress import Progress
from parkingops.jobs.runner import start_job, unfinished
from parkingops.pcloud.client import not_configured_message
from whitelist.models import Park

RECONCILE = "orders.reconcile"
PRUNE_PUSH_LOG = "orders.prune_push_log"
ROLL_UP = "orders.roll_up"

# Lines of runs that went well shown on the job's page; every failed one is shown.
SHOWN_RUNS = 100


# --- Reconciliation ---------------------------------------------------------------------------


def start_reconciliation(*, days: list[date], park: Park | None, owner: Any = None) -> Job:
    """Start the reconciliation of ``days`` for ``park`` (None: every park) in the background;
    the same one of the same user still queued or running is returned instead."""
    first, last = days[0].isoformat(), days[-1].isoformat()
    span = first if first == last else f"{first} – {last}"
    params = {"days": [day.isoformat() for day in days], "park": park.park_uuid if park else ""}
    return unfinished(RECONCILE, owner=owner, params=params) or start_job(
        RECONCILE,
        owner=owner,
        subject=f"{span}, {park if park else gettext('All parks')}",
        params=params,
    )


def describe_reconciliation(result: dict[str, Any]) -> list[str]:
    """The totals, then each failed park-day, then the others (the first SHOWN_RUNS)."""
    runs = result["runs"]
    failed = [run for run in runs if run["failed"]]
    done = [run for run in runs if not run["failed"]]
    if not runs:
        return [gettext("No parks are known yet: nothing to do.")]
    lines = [
        gettext(
            "%(runs)d park-days reconciled: %(ok)d completed, %(failed)d failed; "
            "differences: %(differences)d."
        )
        % {
            "runs": len(runs),
            "ok": len(done),
            "failed": len(failed),
            "differences": sum(run["differences"] for run in done),
        }
    ]
    lines += [summaries.describe(run) for run in failed]
    lines += [summaries.describe(run) for run in done[:SHOWN_RUNS]]
    if len(done) > SHOWN_RUNS:
        more = len(done) - SHOWN_RUNS
        lines.append(
            gettext("… and %(count)d more; see the reconciliation runs.") % {"count": more}
        )
    return lines


@job_kind(RECONCILE, _("Reconciliation"), describe=describe_reconciliation)
def reconcile(job: Job, progress: Progress) -> dict[str, Any]:
    """Reconcile ``params["days"]`` (ISO days) for ``params["park"]`` (empty: every park).

    A park-day the platform refused is listed as failed and the others go on; the job fails
    only when the client is not configured or every park-day failed.
    """
    days = [date.fromisoformat(day) for day in job.params["days"]]
    park_uuid = job.params.get("park", "")
    try:
        runs = services.reconcile_days(
            days=days, park_uuid=park_uuid, created_by=job.owner, progress=progress
        )
    except ImproperlyConfigured as exc:
        raise JobFailed(not_configured_message(exc)) from None
    except Park.DoesNotExist:
        raise JobFailed(gettext("No park has the uuid “%(uuid)s”.") % {"uuid": park_uuid}) from None
    result = [summaries.summarize(run) for run in runs]
    if result and all(run["failed"] for run in result):
        raise JobFailed(
            gettext("Every reconciliation failed; the first: %(line)s")
            % {"line": summaries.describe(result[0])}
        )
    return {"runs": result}


# --- Pruning the push log ---------------------------------------------------------------------


def describe_prune(result: dict[str, Any]) -> list[str]:
    """The refusals' line, then the retention's (a job from before the retention: one line)."""
    expired_before = result.get("expired_before")
    pruned = Pruned(
        deleted=result["deleted"],
        before=datetime.fromisoformat(result["before"]),
        expired=result.get("expired", 0),
        expired_before=datetime.fromisoformat(expired_before) if expired_before else None,
        months=result.get("months", 0),
        left=tuple(result.get("left", ())),
    )
    return pruned.lines()


@job_kind(PRUNE_PUSH_LOG, _("Pruning the push log"), describe=describe_prune)
def prune(job: Job, progress: Progress) -> dict[str, Any]:
    """Remove the push-log rows past the retention (``params["retention_months"]``, default:
    PUSH_LOG_RETENTION_MONTHS), and those without an order older than
    ``params["older_than_days"]`` (default: PUSH_LOG_KEEP_DAYS)."""
    pruned = prune_push_log(
        older_than_days=job.params.get("older_than_days", PUSH_LOG_KEEP_DAYS),
        retention_months=job.params.get("retention_months"),
        progress=progress,
    )
    return {
        "deleted": pruned.deleted,
        "before": pruned.before.isoformat(),
        "expired": pruned.expired,
        "expired_before": pruned.expired_before.isoformat(),
        "months": pruned.months,
        "left": list(pruned.left),
    }


# --- The daily rollup --------------------------------------------------------------------------


def describe_roll_up(result: dict[str, Any]) -> list[str]:
    days = result["days"]
    if not days:
        return [gettext("No new orders: nothing to roll up.")]
    return [
        gettext("Orders received before %(mark)s rolled up; days rebuilt: %(days)s.")
        % {"mark": result["received_before"], "days": ", ".join(days)}
    ]


@job_kind(ROLL_UP, _("Rolling up the orders per day"), describe=describe_roll_up)
def roll_up_orders(job: Job, progress: Progress) -> dict[str, Any]:
    """Roll the orders received since the last run into the daily rollup (``orders.rollup``)."""
    rolled = roll_up(now=timezone.now())
    return {
        "received_before": rolled.received_before.isoformat(),
        "days": [day.isoformat() for day in rolled.days],
    }
