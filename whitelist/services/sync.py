"""Keeping the platform's copy of the whitelist in step with ours.

Every write marks the plates it touches pending (``PlateSync``) inside its transaction and, once
the transaction has committed, tries the platform once, briefly (``request_sync``). A platform
failure never undoes the change: the plate stays pending or failed, and
``python manage.py sync_whitelist`` (cron) sends it again (``sync_due``).
"""

import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext

from parkingops.iterables import chunked
from parkingops.jobs.progress import NO_PROGRESS, Progress
from parkingops.pcloud.client import (
    STATUS_DELETE,
    STATUS_DISABLE,
    STATUS_ENABLE,
    PlatformAuthError,
    PlatformClient,
    PlatformError,
    PlatformForbidden,
    PlatformUnavailable,
)
from whitelist import selectors
from whitelist.models import PlateSync

logger = logging.getLogger(__name__)

# An admin request tries the platform once, briefly, and for a limited number of plates: a
# long retry loop would hold the page. Whatever is left is sent by ``sync_whitelist``.
INLINE_TIMEOUT = 3
INLINE_LIMIT = 50

# The ``reason`` sent with each call: protocol text, not translated.
REASONS = {
    STATUS_ENABLE: "ParkingOps: the plate has an active whitelist entry",
    STATUS_DISABLE: "ParkingOps: no active whitelist entry",
    STATUS_DELETE: "ParkingOps: the plate's last whitelist entry was deleted",
}


class PlatformNotConfigured(Exception):
    """PLATFORM_API_BASE (or the app secret) is not set: nothing can be sent."""


@dataclass
class SyncReport:
    """What a sync did: plates ``synced``, ``failed`` (with the platform's message), and ``left``
    untried (the platform was unreachable or refused us, or over the inline limit)."""

    checked: int = 0
    synced: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    left: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failed and not self.left


@dataclass
class InlineOutcome:
    """What the inline syncs run while ``collect_inline_syncs`` was open did: the plates the
    platform refused (``failed``), those not sent (``left`` pending for the scheduled sync),
    and whether the platform was configured at all."""

    failed: list[str] = field(default_factory=list)
    left: list[str] = field(default_factory=list)
    not_configured: bool = False
    # What the platform answered for each failed plate, as ``PlateSync.message`` keeps it.
    answers: dict[str, str] = field(default_factory=dict)

    @property
    def unconfirmed(self) -> list[str]:
        return sorted({*self.failed, *self.left})

    @property
    def ok(self) -> bool:
        return not self.failed and not self.left


_collecting: ContextVar[InlineOutcome | None] = ContextVar("inline_syncs", default=None)


@contextmanager
def collect_inline_syncs() -> Iterator[InlineOutcome]:
    """Collect the outcome of the syncs that run after commit inside the block, so a page
    can tell its user when the platform did not confirm a change (the sync itself never fails
    the page: see ``request_sync``)."""
    outcome = InlineOutcome()
    token = _collecting.set(outcome)
    try:
        yield outcome
    finally:
        _collecting.reset(token)


def _unconfirmed(
    *, failed: Iterable[str] = (), left: Iterable[str] = (), not_configured: bool = False
) -> None:
    outcome = _collecting.get()
    if outcome is not None:
        outcome.failed += failed
        outcome.left += left
        outcome.not_configured |= not_configured
        if isinstance(failed, dict):
            outcome.answers.update(failed)


def _plates(plates: Iterable[str | None]) -> list[str]:
    return sorted({plate for plate in plates if plate})


def _ensure_rows(plates: list[str]) -> None:
    for chunk in chunked(plates):
        PlateSync.objects.bulk_create(
            [PlateSync(plate=plate) for plate in chunk], ignore_conflicts=True
        )


def mark_pending(*, plates: Iterable[str | None], at: datetime | None = None) -> None:
    """Mark ``plates`` pending with the status they should now have; count the change.

    Call inside the transaction making the change, so the mark commits (or not) with it.
    """
    at = at or timezone.now()
    for chunk in chunked(_plates(plates)):
        _ensure_rows(chunk)
        wanted = selectors.wanted_statuses(at=at, plates=chunk)
        groups: dict[int, list[str]] = {}
        for plate in chunk:
            groups.setdefault(wanted.get(plate, STATUS_DELETE), []).append(plate)
        for status, group in groups.items():
            PlateSync.objects.filter(plate__in=group).update(
                wanted_status=status, state=PlateSync.State.PENDING, version=F("version") + 1
            )


def request_sync(*, plates: Iterable[str | None]) -> None:
    """Mark ``plates`` pending now and try the platform once the transaction has committed."""
    plates = _plates(plates)
    if not plates:
        return
    mark_pending(plates=plates)
    # robust: nothing that goes wrong talking to the platform may turn a saved change into an
    # error page; the plate simply stays pending.
    transaction.on_commit(lambda: _sync_after_commit(plates), robust=True)


def inline_client() -> PlatformClient | None:
    """Return a client for one short attempt inside a request, or None when not configured."""
    if not settings.PLATFORM_API_BASE or not settings.PLATFORM_APP_SECRET:
        return None
    return PlatformClient.from_settings(
        retries=0, timeout=min(settings.PLATFORM_API_TIMEOUT, INLINE_TIMEOUT)
    )


def _sync_after_commit(plates: list[str]) -> None:
    client = inline_client()
    if client is None:
        logger.warning(
            "platform sync skipped: PLATFORM_API_BASE is not set; %d plate(s) stay pending",
            len(plates),
        )
        _unconfirmed(left=plates, not_configured=True)
        return
    try:
        report = sync_plates(plates=plates, client=client, limit=INLINE_LIMIT)
    except Exception:
        _unconfirmed(left=plates)
        raise
    _unconfirmed(failed=report.failed, left=report.left)
    if report.left:
        logger.info("platform sync: %d plate(s) left pending for sync_whitelist", len(report.left))


def mark_pending_now(*, plates: Iterable[str | None]) -> list[str]:
    """Mark ``plates`` pending in a transaction of their own; return them, sorted, once each."""
    plates = _plates(plates)
    with transaction.atomic():
        mark_pending(plates=plates)
    return plates


def sync_now(*, plates: Iterable[str | None], limit: int = INLINE_LIMIT) -> SyncReport:
    """Mark ``plates`` pending and send them now (the first ``limit``; the rest wait for cron).

    Raise PlatformNotConfigured (after marking) when the platform is not configured.
    """
    plates = mark_pending_now(plates=plates)
    client = inline_client()
    if client is None:
        raise PlatformNotConfigured
    return sync_plates(plates=plates, client=client, limit=limit)


def sync_plates(
    *,
    plates: Iterable[str | None],
    client: PlatformClient,
    now: datetime | None = None,
    limit: int | None = None,
) -> SyncReport:
    """Send each of ``plates`` its wanted status at ``now`` (default: now), whatever its state.

    At most ``limit`` plates are tried; the others are reported as left.
    """
    plates = _plates(plates)
    tried, rest = (plates, []) if limit is None else (plates[:limit], plates[limit:])
    _ensure_rows(tried)
    # The versions are read before the wanted statuses: a change committed in between bumps
    # the version, so this sync will not mark the plate synced with a stale status.
    versions: dict[str, int] = {}
    for chunk in chunked(tried):
        versions.update(PlateSync.objects.filter(plate__in=chunk).values_list("plate", "version"))
    wanted = selectors.wanted_statuses(at=now or timezone.now(), plates=tried)
    # A row gone meanwhile (its removal confirmed by another sync) records nothing: version -1.
    plan = [(plate, wanted.get(plate, STATUS_DELETE), versions.get(plate, -1)) for plate in tried]
    report = _send(plan, client)
    report.checked = len(plates)
    report.left += rest
    return report


def sync_due(
    *,
    client: PlatformClient,
    now: datetime | None = None,
    everything: bool = False,
    progress: Progress = NO_PROGRESS,
) -> SyncReport:
    """Send every plate whose platform status is not known to be what it should be at ``now``.

    That is each plate pending or failed, never synced, or whose wanted status changed since
    the platform confirmed it (a window began or ended); with ``everything``, every plate. The
    plates are found in a few queries whatever their number; ``progress`` counts the plates
    sent (a job cancelled stops between two plates: those sent are recorded).
    """
    _ensure_rows(selectors.unsynced_plates())
    rows = list(PlateSync.objects.values_list("plate", "state", "confirmed_status", "version"))
    wanted = selectors.wanted_statuses(at=now or timezone.now())
    plan = []
    for plate, state, confirmed, version in rows:
        status = wanted.get(plate, STATUS_DELETE)
        if everything or state != PlateSync.State.SYNCED or confirmed != status:
            plan.append((plate, status, version))
    report = _send(plan, client, progress=progress)
    report.checked = len(rows)
    return report


def _send(
    plan: list[tuple[str, int, int]], client: PlatformClient, *, progress: Progress = NO_PROGRESS
) -> SyncReport:
    """Send each ``(plate, status, version)``; record what the platform answered."""
    report = SyncReport()
    stopped = False
    progress.stage(gettext("Sending plates to the platform"), len(plan))
    for plate, status, version in progress.iterate(plan):
        if stopped:
            report.left.append(plate)
            continue
        try:
            if status == STATUS_DELETE:
                answer = client.delete_whitelist(plate=plate, reason=REASONS[status])
            else:
                answer = client.set_whitelist(plate=plate, status=status, reason=REASONS[status])
        except PlatformError as error:
            message = redact(str(error))
            _record_failure(plate=plate, version=version, message=message)
            report.failed[plate] = message
            logger.warning("platform sync of %s failed: %s", plate, message)
            # Unreachable, or our app refused: every other plate would fail the same way.
            stopped = isinstance(error, PlatformAuthError | PlatformForbidden) or (
                isinstance(error, PlatformUnavailable) and error.code == "network"
            )
            continue
        message = redact(str(answer.get("message", "")))
        _record_success(plate=plate, version=version, status=status, message=message)
        report.synced.append(plate)
        logger.info("platform sync of %s: status %d confirmed", plate, status)
    return report


def _record_success(*, plate: str, version: int, status: int, message: str) -> None:
    now = timezone.now()
    # Only when no change came in meanwhile is the plate settled; otherwise it stays pending
    # (that change's own sync, or the next run, sends the newer status).
    current = PlateSync.objects.filter(plate=plate, version=version)
    if status == STATUS_DELETE:
        # The platform no longer holds the plate: nothing is left to track.
        if current.delete()[0]:
            return
    elif current.update(
        state=PlateSync.State.SYNCED,
        wanted_status=status,
        confirmed_status=status,
        message=message[:500],
        attempted_at=now,
        synced_at=now,
        failing_since=None,
    ):
        return
    PlateSync.objects.filter(plate=plate).update(
        confirmed_status=status,
        message=message[:500],
        attempted_at=now,
        synced_at=now,
        failing_since=None,
    )


def _record_failure(*, plate: str, version: int, message: str) -> None:
    now = timezone.now()
    if PlateSync.objects.filter(plate=plate, version=version).update(
        state=PlateSync.State.FAILED,
        message=message[:500],
        attempted_at=now,
        # The first failure in a row starts the clock; retries keep it.
        failing_since=Coalesce(F("failing_since"), Value(now)),
    ):
        return
    PlateSync.objects.filter(plate=plate).update(message=message[:500], attempted_at=now)


def redact(text: str) -> str:
    """Return ``text`` with any of our app secrets blanked out, should the platform echo one."""
    for secret in settings.PLATFORM_APP_SECRET:
        if secret:
            text = text.replace(secret, "***")
    return text
