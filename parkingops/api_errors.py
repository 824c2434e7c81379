"""The integration API's error answers that DRF does not make by itself: always JSON.

- ``exception_handler`` (DRF's ``EXCEPTION_HANDLER``): a database that cannot be reached, or
  a cache that cannot (the rate limit's counts), is ``503 {"detail": …}`` instead of Django's
  HTML 500, wherever it happens in the request: the API key's lookup, the rate limit, the
  view. A body over Django's ``DATA_UPLOAD_MAX_MEMORY_SIZE`` is ``413 {"detail": …}``, and
  what else Django finds suspicious while reading the request (more parameters than
  ``DATA_UPLOAD_MAX_NUMBER_FIELDS``) ``400 {"detail": …}``, instead of Django's HTML 400.
  Other errors are DRF's own answers.
- ``not_found``: an address under ``/api/`` that does not exist is ``404 {"detail": …}``.
- ``server_error``: an unexpected error under ``/api/`` is ``500 {"detail": …}``, not the
  back-office's HTML error page (``error_pages.server_error``).
"""

import logging

from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, JsonResponse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.csrf import csrf_exempt
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from rest_framework import exceptions, status
from rest_framework.views import exception_handler as drf_exception_handler

logger = logging.getLogger(__name__)

# A database that is down, refuses or drops the connection, or runs past a time limit, and
# the same of the Redis cache. Errors of the query itself (integrity, data) are bugs: a 500.
UNAVAILABLE_ERRORS = (OperationalError, InterfaceError, RedisConnectionError, RedisTimeoutError)


class ServiceUnavailable(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = _("The database is unavailable at the moment; please try again later.")
    default_code = "unavailable"


class BodyTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = _("The request body is too large.")
    default_code = "too_large"


def exception_handler(exc, context):
    """Answer an unreachable database or cache 503 and a body too large 413 (JSON); anything
    else as DRF does."""
    if isinstance(exc, UNAVAILABLE_ERRORS):
        logger.warning("api: database or cache unavailable", exc_info=exc)
        exc = ServiceUnavailable()
    elif isinstance(exc, RequestDataTooBig):
        exc = BodyTooLarge()
    elif isinstance(exc, SuspiciousOperation):  # e.g. more parameters than Django reads
        exc = exceptions.ParseError(str(exc))
    return drf_exception_handler(exc, context)


@csrf_exempt  # any method: a PUT to an unknown address is a 404 too, not a CSRF refusal
def not_found(request: HttpRequest, path: str = "") -> JsonResponse:
    """Answer an unknown API address as the API answers an unknown object: JSON 404."""
    return JsonResponse({"detail": gettext("No such address in the API.")}, status=404)


def server_error(request: HttpRequest) -> JsonResponse:
    """Answer an unexpected error under ``/api/`` in JSON, as the API's other errors (the
    details are in the log, as for any 500)."""
    return JsonResponse({"detail": gettext("Server error.")}, status=500)
