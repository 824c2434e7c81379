"""The integration API's rate limit: ``API_THROTTLE_RATE`` requests per key (default 600/min).

Counted in Django's cache (per process with the default local-memory cache; configure a shared
cache such as Redis when several processes serve the API). Staff using the API with their browser
session are counted per user; requests with neither (the platform's push, whose refusals the
orders app counts per source address) are not counted.
"""

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
