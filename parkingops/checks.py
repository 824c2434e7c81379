"""Deployment checks of our own, run by ``manage.py check --deploy`` beside Django's.

The throttles (the integration API's rate per key, the push's refusals per address) count in
Django's cache. In production gunicorn runs several worker processes, often on several hosts:
a cache in each process's memory lets each of them count alone, so a client gets the limit
once per process, and a cache that keeps nothing never limits at all.

The incremental sync's settle window (``parkingops.sync``) must outlast the statement time
limit, or a push stamped before a reader's horizon may still be waiting for a lock when the
reader moves past its time.
"""

from django.conf import settings
from django.core.checks import Tags, Warning, register

# Backends whose counts no other process sees, and the warning for each.
UNSHARED_CACHES = {
    "django.core.cache.backends.locmem.LocMemCache": (
        "parkingops.W001",
        "The cache (CACHE_URL) is each process's own memory: every gunicorn worker and every "
        "host counts the API's and the push's throttles alone, so a client gets the limit once "
        "per process.",
    ),
    "django.core.cache.backends.dummy.DummyCache": (
        "parkingops.W002",
        "The cache (CACHE_URL) keeps nothing: the API's and the push's throttles never limit.",
    ),
}
HINT = (
    "Set CACHE_URL to a Redis that every web host reaches, e.g. redis://cache.internal:6379/0 "
    "(docs/deployment.md#scaling)."
)


@register(Tags.caches, deploy=True)
def check_shared_cache(app_configs, **kwargs) -> list[Warning]:
    """Warn, with DEBUG off, when the default cache is not shared between processes."""
    if settings.DEBUG:
        return []
    unshared = UNSHARED_CACHES.get(settings.CACHES["default"]["BACKEND"])
    if unshared is None:
        return []
    check_id, message = unshared
    return [Warning(message, hint=HINT, id=check_id)]


@register(deploy=True)
def check_sync_settle_window(app_configs, **kwargs) -> list[Warning]:
    """Warn when API_SYNC_SETTLE_SECONDS does not outlast DATABASE_STATEMENT_TIMEOUT."""
    limit = settings.DATABASE_STATEMENT_TIMEOUT
    if settings.DEBUG or (limit and settings.API_SYNC_SETTLE_SECONDS > limit):
        return []
    return [
        Warning(
            f"API_SYNC_SETTLE_SECONDS ({settings.API_SYNC_SETTLE_SECONDS}) is not longer than "
            f"the statement time limit (DATABASE_STATEMENT_TIMEOUT: {limit or 'none'}): the "
            "incremental sync may pass a row still being written.",
            hint="Set API_SYNC_SETTLE_SECONDS above DATABASE_STATEMENT_TIMEOUT "
            "(docs/api.md#incremental-sync).",
            id="parkingops.W003",
        )
    ]
