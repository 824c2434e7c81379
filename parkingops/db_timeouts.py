"""The database's time limits, so a database that hangs cannot hang the workers with it.

On PostgreSQL every connection gets (``with_timeouts``, from the settings):

- ``connect_timeout``: connecting, including the server's first answer, gives up after
  ``DATABASE_CONNECT_TIMEOUT`` seconds (psycopg's own default is 130 s). A server that accepts
  connections and never answers is an ``OperationalError`` after that: the push answers 1503,
  ``/healthz`` and the API 503;
- TCP keepalives and ``tcp_user_timeout``: a connection whose host or network went silent is
  dropped after about twice as long, instead of waiting for an answer that never comes;
- ``statement_timeout`` (``DATABASE_STATEMENT_TIMEOUT`` seconds, 0 for none): the server
  cancels a statement that runs longer, e.g. one waiting for a lock.

The heavy reads (``parkingops.db_routers.heavy_reads``: exports, summaries, reconciliation
lists) and migrations may legitimately run for minutes: ``without_statement_timeout`` lifts
the limit on their connection while they run. SQLite has none of these (its ``timeout`` is
the wait for the write lock).
"""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

POSTGRESQL = "django.db.backends.postgresql"


def with_timeouts(config: dict[str, Any], *, connect: int, statement: int) -> dict[str, Any]:
    """Return a ``DATABASES`` entry with the time limits in its ``OPTIONS`` (PostgreSQL only).

    Values already given in the URL's query string (``?connect_timeout=…``) are kept; a
    statement limit is added to any ``options`` given there.
    """
    if config.get("ENGINE") != POSTGRESQL:
        return config
    options = dict(config.get("OPTIONS", {}))
    options.setdefault("connect_timeout", connect)
    # A host gone or a network cut: keepalive probes notice a silent peer while we wait for an
    # answer (after about twice ``connect``), and data it never acknowledges fails the
    # connection after as long (not so short that a busy server pausing its reads trips it).
    options.setdefault("keepalives", 1)
    options.setdefault("keepalives_idle", connect)
    options.setdefault("keepalives_interval", max(1, connect // 3))
    options.setdefault("keepalives_count", 3)
    options.setdefault("tcp_user_timeout", 2 * connect * 1000)
    if statement and "statement_timeout" not in options.get("options", ""):
        limit = f"-c statement_timeout={statement * 1000}"
        options["options"] = f"{options.get('options', '')} {limit}".strip()
    return {**config, "OPTIONS": options}


@contextmanager
def without_statement_timeout(using: str) -> Iterator[None]:
    """Run the block with no statement time limit on the connection ``using``.

    Session-level (the block may stream a response outside any transaction); the limit the
    connection started with is restored afterwards.
    """
    from django.conf import settings
    from django.db import DatabaseError, connections

    connection = connections[using]
    if connection.vendor != "postgresql" or not settings.DATABASE_STATEMENT_TIMEOUT:
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET statement_timeout = 0")
    try:
        yield
    finally:
        try:
            with connection.cursor() as cursor:
                cursor.execute("RESET statement_timeout")  # back to the connection's own
        except DatabaseError:
            # Inside a failed transaction its rollback undoes the SET as well; outside one
            # the connection's state is unknown, and a kept connection must not go without
            # its limit.
            if not connection.in_atomic_block:
                connection.close()
