"""Rate limits: the integration API's per key, and the push's refusals per source address.

``API_THROTTLE_RATE`` requests per key (default 600/min).

Counted in Django's cache (per process with the default local-memory cache; configure a shared
cache such as Redis when several processes serve the API). Staff using the API with their browser
session are counted per user; requests with neither (the platform's push) are not counted.
"""

import time

from django.conf import settings
from django.core.cache import cache
from rest_framework.throttling import SimpleRateThrottle

from parkingops.models import ApiKey


class ApiKeyRateThrottle(SimpleRateThrottle):
    scope = "api_key"

    def get_rate(self) -> str:
        # Read when each request is checked (never at import), so the setting can change.
        return settings.API_THROTTLE_RATE

    def get_cache_key(self, request, view) -> str | None:
        if isinstance(request.auth, ApiKey):
            ident = f"key-{request.auth.pk}"
        elif request.user is not None and request.user.is_authenticated:
            ident = f"user-{request.user.pk}"
        else:
            return None
        return self.cache_format % {"scope": self.scope, "ident": ident}


# --- Refused pushes, per source address ------------------------------------------------------

# The refusals that say nothing about the platform itself: a flood of these from one address
# is someone else. Refusals of signed pushes (invalid_field, not_whitelisted) are never counted,
# so the real platform is not slowed for pushes it will retry anyway.
UNAUTHENTICATED_REFUSALS = frozenset(
    {"bad_body", "unknown_app", "bad_signature", "stale_timestamp"}
)


def _refusal_window(address: str) -> tuple[str, int, int]:
    count, seconds = SimpleRateThrottle.parse_rate(None, settings.PUSH_REFUSAL_RATE)
    window = int(time.time() // seconds)
    return f"push-refusals:{address}:{window}", count, seconds


def push_refusals_exceeded(address: str) -> bool:
    """Tell whether ``address`` already sent PUSH_REFUSAL_RATE refused pushes this window."""
    key, limit, _seconds = _refusal_window(address)
    return cache.get(key, 0) >= limit


def count_push_refusal(address: str, reason: str) -> None:
    """Count a refused push against its source address, if the reason is one that counts."""
    if reason not in UNAUTHENTICATED_REFUSALS:
        return
    key, _limit, seconds = _refusal_window(address)
    cache.add(key, 0, timeout=seconds * 2)
    try:
        cache.incr(key)
    except ValueError:  # expired between add and incr: start the window again
        cache.set(key, 1, timeout=seconds * 2)
