"""``manage.py run_scheduler [--once]``: start the scheduled jobs when they are due.

Runs until stopped (SIGTERM or Ctrl+C), ticking every 30 seconds (``parkingops.jobs.schedules``);
``--once`` ticks once and exits, e.g. to check the schedules by hand. Safe on several hosts at
once: each scheduled run starts once.
"""

import signal
import threading

from django.core.management.base import BaseCommand
from django.db import DatabaseError, close_old_connections

from parkingops.jobs import schedules


class Command(BaseCommand):
    help = "Start the scheduled jobs (reconciliation, whitelist sync, pruning) when they are due."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="Tick once, then exit.")

    def handle(self, *args, once: bool, **options):
        stopping = threading.Event()
        if not once:
            for signum in (signal.SIGINT, signal.SIGTERM):
                signal.signal(signum, lambda *_: stopping.set())
            names = ", ".join(schedule.name for schedule in schedules.schedules())
            self.stdout.write(f"Scheduler started ({names}); every {schedules.TICK_SECONDS} s.")
        while True:
            close_old_connections()
            try:
                for run in schedules.tick():
                    self.stdout.write(f"{run.schedule}: started job {run.job_id} ({run.due_at})")
            except DatabaseError as error:  # the database briefly away: the next tick retries
                self.stderr.write(f"Tick failed: {error}")
            if once or stopping.wait(schedules.TICK_SECONDS):
                break
        if not once:
            self.stdout.write("Scheduler stopped.")
