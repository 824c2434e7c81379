"""How far an incremental sync of the integration API may read: the settle horizon.

A feed read "by arrival" (``ordering=received_at``, ``updated_at`` or ``deleted_at``) pages
on a time the application stamps when it builds the row (``received_at`` is the push's
``timezone.now()`` at the start of the request, ``updated_at`` the save's), which is *before*
the row's transaction commits. A row stamped at 10:00:00.000 may commit after one stamped at
10:00:00.500 is already visible; a reader whose cursor moved past 10:00:00.500 in between would
never see it. So the sync orderings serve only rows stamped before a horizon, late enough that
every row stamped earlier has committed:

- ``API_SYNC_SETTLE_SECONDS`` before now (default 60: longer than ``DATABASE_STATEMENT_TIMEOUT``,
  so a push's single statement, waiting for a lock as long as it may, has committed or failed
  by then, with room for the clocks of several hosts to differ by a few seconds);
- on PostgreSQL, also no later than the start of the oldest transaction still open that has
  written something (``pg_stat_activity``), less the same margin: a whitelist import of 50,000
  rows or a bulk admin action holds its rows uncommitted for longer than any fixed window,
  and every row it writes is stamped after its transaction began. (A role sees the
  transactions of its own sessions there; the application writes with one role. A transaction
  left open holds the sync back until it ends: ``idle_in_transaction_session_timeout`` ends
  forgotten ones.)

The price is a delay: a row shows up in the sync a settle window after it arrived (while a long
write is open, after that write commits). The lists' other orderings are not held back.

A commit-ordered sequence (a counter taken at commit) was not chosen: PostgreSQL hands out
sequence values at insert, not at commit, so it has the same gap, and a counter bumped under a
lock at commit would serialise every push.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import connections
from django.utils import timezone

# Transactions of this database, other than the reader's, that have written (an xid):
# their rows are not visible yet and were stamped after xact_start.
_OLDEST_WRITER = """
    SELECT min(xact_start) FROM pg_stat_activity
    WHERE datname = current_database() AND pid <> pg_backend_pid()
      AND backend_xid IS NOT NULL AND xact_start IS NOT NULL
"""


def settle_window() -> timedelta:
    return timedelta(seconds=settings.API_SYNC_SETTLE_SECONDS)


def settled_before(*, using: str) -> datetime:
    """Return the horizon of a sync read on the database ``using``: every row stamped before it
    has committed (see the module's docstring)."""
    window = settle_window()
    horizon = timezone.now() - window
    connection = connections[using]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(_OLDEST_WRITER)
            (oldest,) = cursor.fetchone()
        if oldest is not None:
            horizon = min(horizon, oldest - window)
    return horizon
