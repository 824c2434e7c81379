"""The work that runs by the clock, in code rather than in a crontab the operator writes.

Each ``Schedule`` names a job kind, its parameters and when it is due: every ``every``, or
daily at ``hour`` China time (the hours and the interval come from the SCHEDULE_* settings).
``tick`` (``manage.py run_scheduler`` calls it every ``TICK_SECONDS``) starts the job of each
schedule's latest due slot that has not run yet, and gives the lost workers' jobs another try
(``runner.reap_lost_jobs``).

Several schedulers may run, one per host: a slot is recorded by inserting its ``ScheduleRun``
(unique per schedule and slot) in the same transaction that queues its job, so the first
scheduler to insert it runs it and the others skip it; each run happens once. A slot missed
while no scheduler ran is made up at the next tick if it is still within ``catch_up``.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from parkingops.formatting import CHINA
from parkingops.jobs import runner
from parkingops.jobs.models import ScheduleRun

logger = logging.getLogger("parkingops.jobs")

TICK_SECONDS = 30
EPOCH = datetime(2000, 1, 1, tzinfo=CHINA)


@dataclass(frozen=True)
class Schedule:
    name: str
    label: str | Promise
    kind: str
    params: Callable[[datetime], dict[str, Any]]
    every: timedelta | None = None
    hour: int | None = None  # daily, at this China-time hour

    @property
    def catch_up(self) -> timedelta:
        return self.every if self.every else timedelta(hours=12)

    def due_slot(self, now: datetime) -> datetime:
        """The latest slot at or before ``now``."""
        if self.every:
            periods = (now - EPOCH) // self.every
            return EPOCH + periods * self.every
        local = now.astimezone(CHINA)
        slot = local.replace(hour=self.hour, minute=0, second=0, microsecond=0)
        return slot if slot <= local else slot - timedelta(days=1)


def _yesterday(slot: datetime) -> dict[str, Any]:
    day = slot.astimezone(CHINA).date() - timedelta(days=1)
    return {"days": [day.isoformat()], "park": ""}


def schedules() -> list[Schedule]:
    """The schedules, as the settings time them."""
    return [
        Schedule(
            name="nightly_reconciliation",
            label=_("Nightly reconciliation of yesterday, every park"),
            kind="orders.reconcile",
            params=_yesterday,
            hour=settings.SCHEDULE_RECONCILE_HOUR % 24,
        ),
        Schedule(
            name="whitelist_sync",
            label=_("Whitelist sync with the platform"),
            kind="whitelist.sync",
            params=lambda slot: {"everything": False},
            every=timedelta(minutes=settings.SCHEDULE_SYNC_MINUTES),
        ),
        Schedule(
            name="roll_up_orders",
            label=_("Rolling up the orders per day"),
            kind="orders.roll_up",
            params=lambda slot: {},
            every=timedelta(minutes=1),
        ),
        Schedule(
            name="prune_push_log",
            label=_("Pruning the push log"),
            kind="orders.prune_push_log",
            params=lambda slot: {},
            hour=settings.SCHEDULE_PRUNE_HOUR % 24,
        ),
        Schedule(
            name="prune_whitelist_tombstones",
            label=_("Pruning the deleted whitelist entries"),
            kind="whitelist.prune_tombstones",
            params=lambda slot: {},
            hour=settings.SCHEDULE_PRUNE_HOUR % 24,
        ),
        Schedule(
            name="prune_jobs",
            label=_("Removing old jobs and their files"),
            kind="jobs.prune",
            params=lambda slot: {},
            hour=settings.SCHEDULE_PRUNE_HOUR % 24,
        ),
    ]


def label_of(name: str) -> str:
    return next((str(s.label) for s in schedules() if s.name == name), name)


def tick(now: datetime | None = None) -> list[ScheduleRun]:
    """Start the due runs no scheduler has started; return them."""
    now = now or timezone.now()
    runner.reap_lost_jobs()
    started = []
    for schedule in schedules():
        slot = schedule.due_slot(now)
        if now - slot > schedule.catch_up:
            continue
        try:
            with transaction.atomic():
                run = ScheduleRun.objects.create(schedule=schedule.name, due_at=slot)
                run.job = runner.start_job(
                    schedule.kind,
                    subject=f"{slot.astimezone(CHINA):%Y-%m-%d %H:%M}",
                    params=schedule.params(slot),
                )
                run.save(update_fields=["job"])
        except IntegrityError:
            continue  # another scheduler started this slot
        logger.debug("Schedule %s: started job %s for %s", schedule.name, run.job.pk, slot)
        started.append(run)
    return started
