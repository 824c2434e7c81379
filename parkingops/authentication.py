"""How the integration API knows who calls: an API key for systems, the admin session for staff.

``Authorization: Api-Key <key>``, or the plain ``X-Api-Key: <key>`` that client generators send
for an ``apiKey`` scheme, authenticates as the key's user (see ``parkingops.api_keys``); a
logged-in staff member's browser session works too, with Django's CSRF check on writes.
"""

from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions

from parkingops import api_keys

KEYWORD = "Api-Key"
HEADER = "X-Api-Key"


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """``Authorization: Api-Key <key>``; ``request.auth`` is the ``ApiKey``."""

    keyword = KEYWORD

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None  # not ours: another scheme, or no header at all
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(
                _("Invalid Api-Key header: give the key after “Api-Key ”, without spaces.")
            )
        return _authenticate_key(header[1])

    def authenticate_header(self, request) -> str:
        # Makes a request without credentials a 401 (with this challenge) rather than a 403.
        return self.keyword


class HeaderApiKeyAuthentication(authentication.BaseAuthentication):
    """``X-Api-Key: <key>``, the same keys; ``request.auth`` is the ``ApiKey``."""

    header = HEADER

    def authenticate(self, request):
        raw = request.META.get("HTTP_" + self.header.upper().replace("-", "_"))
        if raw is None:
            return None  # not ours
        # WSGI hands headers over as latin-1 text: back to the bytes the client sent.
        return _authenticate_key(raw.encode("latin-1", errors="replace").strip())


def _authenticate_key(raw: bytes):
    """Return ``(user, api_key)`` for the key ``raw``, or refuse it (401)."""
    try:
        key = raw.decode("ascii")
    except UnicodeDecodeError:
        key = ""
    api_key = api_keys.find_api_key(key)
    if api_key is None:
        raise exceptions.AuthenticationFailed(_("Unknown or revoked API key."))
    if not api_key.user.is_active:
        raise exceptions.AuthenticationFailed(_("The API key's user is inactive."))
    api_keys.record_use(api_key=api_key)
    return api_key.user, api_key


class StaffSessionAuthentication(authentication.SessionAuthentication):
    """The admin's login, for staff trying the API in the browser (CSRF-checked writes)."""

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is None or not result[0].is_staff:
            return None
        return result
