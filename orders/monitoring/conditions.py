"""The health conditions, judged from ``readings``: one list, for ``/metrics``
(``parkingops_alert_firing``) and ``manage.py check_health`` alike (docs/operations.md#alerts).
"""

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from orders.monitoring.readings import REFUSAL_WINDOW, Readings, reconcile_due_at


@dataclass(frozen=True)
class Condition:
    """One condition: its code (stable, for rules and scripts), whether it fires now, and a
    message for people saying what was found."""

    code: str
    firing: bool
    message: str


def _time(moment: datetime) -> str:
    return f"{timezone.localtime(moment):%Y-%m-%d %H:%M}"


def _minutes(readings: Readings, since: datetime) -> int:
    return int((readings.now - since).total_seconds() // 60)


def push_stream_stopped(readings: Readings) -> Condition:
    silence = settings.ALERT_PUSH_SILENCE_MINUTES
    last = readings.last_accepted_push_at
    silent = last is None or _minutes(readings, last) >= silence
    if last is None:
        message = _("No push has ever been accepted.")
    else:
        values = {"minutes": _minutes(readings, last), "time": _time(last)}
        if readings.push_expected:
            message = _(
                "Last accepted push %(minutes)d min ago (%(time)s); pushes usually come in at "
                "this time of day."
            )
        else:
            message = _(
                "Last accepted push %(minutes)d min ago (%(time)s); pushes are not usually "
                "received at this time of day."
            )
        message %= values
    return Condition("push_stream_stopped", silent and readings.push_expected, message)


def refusals_spiking(readings: Readings) -> Condition:
    total, refused = readings.recent_pushes, readings.recent_refusals
    percent = 100 * refused / total if total else 0
    firing = total >= settings.ALERT_REFUSAL_MIN_PUSHES and percent > settings.ALERT_REFUSAL_PERCENT
    message = _("%(refused)d of %(total)d pushes refused in the last %(minutes)d min.") % {
        "refused": refused,
        "total": total,
        "minutes": REFUSAL_WINDOW.seconds // 60,
    }
    return Condition("refusals_spiking", firing, message)


def sync_failing(readings: Readings) -> Condition:
    since = readings.sync_failing_since
    firing = since is not None and _minutes(readings, since) >= settings.ALERT_SYNC_FAILING_MINUTES
    values = {"failed": readings.syncs_failed, "pending": readings.syncs_pending}
    if since is None:
        message = _("Platform sync: %(failed)d plates failed, %(pending)d pending.") % values
    else:
        message = _(
            "Platform sync: %(failed)d plates failed (since %(time)s), %(pending)d pending."
        ) % {**values, "time": _time(since)}
    return Condition("sync_failing", firing, message)


def reconciliation_missing(readings: Readings) -> Condition:
    missing = readings.unreconciled_parks
    day = f"{readings.reconcile_day:%Y-%m-%d}"
    if missing:
        message = _("%(day)s is not reconciled for %(count)d parks (due %(due)s): %(parks)s.") % {
            "day": day,
            "count": len(missing),
            "due": _time(reconcile_due_at(readings.reconcile_day)),
            "parks": ", ".join(missing[:5]) + (" …" if len(missing) > 5 else ""),
        }
    else:
        message = _("%(day)s is reconciled for every park.") % {"day": day}
    return Condition("reconciliation_missing", bool(missing), message)


def reconciliation_differences(readings: Readings) -> Condition:
    count = readings.reconcile_day_open_differences
    message = _("%(day)s: %(count)d reconciliation differences not resolved.") % {
        "day": f"{readings.reconcile_day:%Y-%m-%d}",
        "count": count,
    }
    return Condition("reconciliation_differences", count > 0, message)


def jobs_stuck(readings: Readings) -> Condition:
    oldest = readings.oldest_queued_job_at
    firing = oldest is not None and _minutes(readings, oldest) >= settings.ALERT_JOB_QUEUED_MINUTES
    values = {"queued": readings.jobs_queued, "running": readings.jobs_running}
    if oldest is None:
        message = _("Jobs: %(queued)d queued, %(running)d running.") % values
    else:
        message = _("Jobs: %(queued)d queued (the oldest since %(time)s), %(running)d running.") % {
            **values,
            "time": _time(oldest),
        }
    return Condition("jobs_stuck", firing, message)


CHECKS = (
    push_stream_stopped,
    refusals_spiking,
    sync_failing,
    reconciliation_missing,
    reconciliation_differences,
    jobs_stuck,
)


def evaluate(readings: Readings) -> list[Condition]:
    """Judge every condition on ``readings``, in a fixed order."""
    return [check(readings) for check in CHECKS]
