"""How long work says how far it got: to a job's page, to a terminal, or to nobody.

The services that can take long (an import, an export, a reconciliation, a sync) take a
``progress`` keyword and call ``progress.stage(label, total)`` when a step starts and
``progress.advance(n)`` as they go. ``NO_PROGRESS`` (the default) ignores both: work small
enough to answer a request at once. ``TerminalProgress`` draws a bar on a terminal (tqdm) and
writes plain log lines when the output is a file or a pipe (cron, systemd). A job's progress
(``runner.JobProgress``) writes its row, and ``advance`` raises ``JobCancelled`` once the user
cancelled it: the work stops there, and a transaction it was in rolls back.
"""

import sys
import time
from collections.abc import Iterable, Iterator
from typing import TypeVar

from django.utils.translation import gettext

T = TypeVar("T")


class JobCancelled(Exception):
    """The user cancelled the job: the work stops where it is."""


class Progress:
    """Progress that goes nowhere; the base of the others."""

    def stage(self, label: str, total: int | None = None) -> None:
        """A step starts: ``label`` says what it does, ``total`` how many items (None: unknown)."""

    def advance(self, count: int = 1) -> None:
        """``count`` more items of the step are done."""

    def iterate(self, items: Iterable[T], every: int = 1) -> Iterator[T]:
        """Yield ``items``, advancing by ``every`` each ``every`` items (and by the rest at
        the end)."""
        pending = 0
        for item in items:
            yield item
            pending += 1
            if pending >= every:
                self.advance(pending)
                pending = 0
        if pending:
            self.advance(pending)

    def close(self) -> None:
        """The work is over (a bar on a terminal ends its line)."""


NO_PROGRESS = Progress()


class TerminalProgress(Progress):
    """A tqdm bar when ``stream`` is a terminal; else a log line per step and at most one
    every ``log_every`` seconds between them."""

    def __init__(self, stream=None, *, log_every: float = 10.0) -> None:
        stream = stream if stream is not None else sys.stderr
        # A command's ``self.stderr`` (Django's OutputWrapper) ends every write with a newline:
        # tqdm's redrawn line would become a line per redraw, and each log line be followed by
        # an empty one. Write to the stream it wraps.
        self.stream = getattr(stream, "_out", stream)
        self.interactive = bool(getattr(self.stream, "isatty", lambda: False)())
        self.log_every = log_every
        self._bar = None
        self._label, self._total, self._done, self._logged_at = "", None, 0, 0.0

    def stage(self, label: str, total: int | None = None) -> None:
        self._end_stage()
        self._label, self._total, self._done = label, total, 0
        self._logged_at = time.monotonic()
        if self.interactive:
            from tqdm import tqdm

            self._bar = tqdm(total=total, desc=label, file=self.stream, unit="", leave=True)
        else:
            self._log(gettext("started"))

    def advance(self, count: int = 1) -> None:
        self._done += count
        if self._bar is not None:
            self._bar.update(count)
        elif time.monotonic() - self._logged_at >= self.log_every:
            self._log(gettext("running"))

    def close(self) -> None:
        self._end_stage()

    def _end_stage(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        elif self._label:
            self._log(gettext("done"))
        self._label = ""

    def _log(self, event: str) -> None:
        self._logged_at = time.monotonic()
        of = f"/{self._total}" if self._total is not None else ""
        at = time.strftime("%Y-%m-%d %H:%M:%S")
        print(f"{at} {self._label}: {event} {self._done}{of}", file=self.stream, flush=True)
