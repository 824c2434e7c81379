"""The push's refusal throttle: per source address, the refused pushes that prove nothing.

Past ``PUSH_REFUSAL_RATE`` such refusals in a window an address gets 429 (``THROTTLED``) without
a log row, so a flood cannot fill the push log. Which refusals count is the outcome's to say
(``Outcome.unauthenticated``). Counted in Django's cache (per process with the default
local-memory cache; configure a shared cache such as Redis when several processes serve).

A cache that cannot be reached does not stop the platform's pushes: the throttle is a shield
against floods, the pushes are the product. While Redis is down nothing is counted or refused
here, and a warning says so (at most once a minute per process).
"""

import logging
import time

from django.conf import settings
from django.core.cache import cache
from redis.exceptions import RedisError
from rest_framework.throttling import SimpleRateThrottle

from orders.push.outcomes import Outcome, PushResult

# Answered by the view, before the service runs, to an address over PUSH_REFUSAL_RATE.
THROTTLED = PushResult(Outcome.THROTTLED, "too many refused pushes from this address, retry later")


def _refusal_window(address: str) -> tuple[str, int, int]:
    count, seconds = SimpleRateThrottle.parse_rate(None, settings.PUSH_REFUSAL_RATE)
    window = int(time.time() // seconds)
    return f"push-refusals:{address}:{window}", count, seconds


logger = logging.getLogger(__name__)
_WARN_EVERY = 60.0  # seconds between two warnings of an unreachable cache, per process
_warned_at = -_WARN_EVERY


def _cache_unreachable(error: Exception) -> None:
    global _warned_at
    now = time.monotonic()
    if now - _warned_at >= _WARN_EVERY:
        _warned_at = now
        logger.warning(
            "The cache is unreachable (%s): refused pushes are not counted or throttled.",
            type(error).__name__,
        )


def push_refusals_exceeded(address: str) -> bool:
    """Tell whether ``address`` already sent PUSH_REFUSAL_RATE refused pushes this window
    (never, while the cache cannot be reached)."""
    key, limit, _seconds = _refusal_window(address)
    try:
        return cache.get(key, 0) >= limit
    except RedisError as error:
        _cache_unreachable(error)
        return False


def count_push_refusal(address: str, outcome: Outcome) -> None:
    """Count a refused push against its source address, if its outcome is one that counts."""
    if not outcome.unauthenticated:
        return
    key, _limit, seconds = _refusal_window(address)
    try:
        cache.add(key, 0, timeout=seconds * 2)
        try:
            cache.incr(key)
        except ValueError:  # expired between add and incr: start the window again
            cache.set(key, 1, timeout=seconds * 2)
    except RedisError as error:
        _cache_unreachable(error)
