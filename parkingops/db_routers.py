"""Send the heavy reads to the read replica, when DATABASE_REPLICA_URL configures one.

Only reads marked with ``heavy_reads()`` go there (exports, summaries, reconciliation lists):
everything else, and every write, stays on the primary, so a page never reads its own write
from a lagging replica. Heavy reads also run without the statement time limit.
"""

import functools
import inspect
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS

from parkingops.db_timeouts import without_statement_timeout

_heavy = ContextVar("parkingops_heavy_reads", default=False)

F = TypeVar("F", bound=Callable[..., Any])


@contextmanager
def heavy_reads() -> Iterator[None]:
    """Mark the reads made inside as heavy: they go to the replica when there is one, without
    the statement time limit (an export may stream for minutes)."""
    if _heavy.get():  # already inside: the outermost block set everything up
        yield
        return
    token = _heavy.set(True)
    try:
        with without_statement_timeout(settings.READ_REPLICA or DEFAULT_DB_ALIAS):
            yield
    finally:
        _heavy.reset(token)


def on_replica(function: F) -> F:
    """Decorate a reader (or a generator, such as a streamed export) with ``heavy_reads()``."""
    if inspect.isgeneratorfunction(function):

        @functools.wraps(function)
        def generator(*args: Any, **kwargs: Any) -> Iterator[Any]:
            with heavy_reads():
                yield from function(*args, **kwargs)

        return generator  # type: ignore[return-value]

    @functools.wraps(function)
    def call(*args: Any, **kwargs: Any) -> Any:
        with heavy_reads():
            return function(*args, **kwargs)

    return call  # type: ignore[return-value]


class HeavyReadRouter:
    """Route heavy reads to the replica; leave everything else to the default database."""

    def db_for_read(self, model: Any, **hints: Any) -> str | None:
        if _heavy.get():
            return settings.READ_REPLICA  # None (the default database) without a replica
        return None

    def db_for_write(self, model: Any, **hints: Any) -> str | None:
        return None

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool | None:
        return True  # the replica holds the same rows

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool | None:
        # The replica follows the primary; it is never migrated itself.
        return db != settings.READ_REPLICA
