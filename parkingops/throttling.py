"""The integration API's rate limit: ``API_THROTTLE_RATE`` requests per key (default 600/min).

Counted in Django's cache (per process with the default local-memory cache; configure a shared
cache such as Redis when several processes serve the API). Staff using the API with their browser
session are counted per user; requests with neither (the platform's push, whose refusals the
orders app counts per source address) are not counted.

Every counted request's answer says where its key stands: ``RateLimit-Limit`` (requests per
window), ``RateLimit-Remaining`` (left now) and ``RateLimit-Reset`` (seconds until the oldest
counted request leaves the window, giving one back); a 429 also has DRF's ``Retry-After``.
"""

import math

from django.conf import settings
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

    def allow_request(self, request, view) -> bool:
        allowed = super().allow_request(request, view)
        if getattr(self, "key", None) is not None:
            # DRF's view adds its ``headers`` to whatever it answers, a 429 or an error too.
            view.headers.update(self.rate_limit_headers())
        return allowed

    def rate_limit_headers(self) -> dict[str, str]:
        """Return the ``RateLimit-*`` headers of the request just checked (its count is in
        ``history``, newest first, as DRF keeps it)."""
        remaining = max(self.num_requests - len(self.history), 0)
        if self.history:
            reset = math.ceil(self.duration - (self.now - self.history[-1]))
        else:
            reset = 0
        return {
            "RateLimit-Limit": str(self.num_requests),
            "RateLimit-Remaining": str(remaining),
            "RateLimit-Reset": str(max(reset, 0)),
        }
