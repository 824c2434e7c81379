"""The integration API's error answers, in one shape a program can act on:

    {"code": "<machine code>", "detail": "<human text>", "fields": {"<name>": ["…"]}}

``code`` is one of ``ErrorCode`` (stable English, one per HTTP status), ``detail`` follows the
request's language, ``fields`` is always there: per parameter or body field, its messages
(``{}`` when the error is not about one). A name inside a body is its path, joined by dots:
the bulk upsert's row 3 (numbered from 1) is ``entries.3``, its plate ``entries.3.plate``
(``flatten_fields``). The schema's ``Error`` component (``parkingops.schema``) is this shape.

- ``exception_handler`` (DRF's ``EXCEPTION_HANDLER``) answers every error of a DRF view so. A
  database that cannot be reached, or a cache that cannot (the rate limit's counts), is a 503
  with ``Retry-After`` instead of Django's HTML 500, wherever it happens in the request: the API
  key's lookup, the rate limit, the view. A body over ``DATA_UPLOAD_MAX_MEMORY_SIZE`` is a 413;
  what else Django finds suspicious while reading the request (more parameters than
  ``DATA_UPLOAD_MAX_NUMBER_FIELDS``) a 400. A view's ``not_found_message`` says what a 404 did
  not find ("No such order."), instead of Django's "No PayOrder matches the given query.".
- ``not_found``: an address under ``/api/`` that does not exist is a 404 in this shape.
- ``server_error``: an unexpected error under ``/api/`` is a 500 in this shape, not the
  back-office's HTML error page (``error_pages.server_error``).

The platform's push (``/api/v1/push/``) answers its own three-key JSON (docs/push-protocol.md):
what reaches these functions from there keeps the answer it always had.
"""

import enum
import logging
from collections.abc import Mapping

from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpRequest, JsonResponse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.csrf import csrf_exempt
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler

logger = logging.getLogger(__name__)

# A database that is down, refuses or drops the connection, or runs past a time limit, and
# the same of the Redis cache. Errors of the query itself (integrity, data) are bugs: a 500.
UNAVAILABLE_ERRORS = (OperationalError, InterfaceError, RedisConnectionError, RedisTimeoutError)

# The seconds a 503 asks a caller to wait (``Retry-After``): a restarting database or a
# failover takes about that long.
RETRY_AFTER_SECONDS = 30

# The platform's push has its own answers (docs/push-protocol.md), never this module's shape.
PUSH_PREFIX = "/api/v1/push/"


class ErrorCode(enum.StrEnum):
    """The ``code`` of an error answer, one per HTTP status; the schema's enum."""

    INVALID = "invalid"
    AUTHENTICATION_FAILED = "authentication_failed"
    PERMISSION_DENIED = "permission_denied"
    NOT_FOUND = "not_found"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    NOT_ACCEPTABLE = "not_acceptable"
    CONFLICT = "conflict"
    PRECONDITION_FAILED = "precondition_failed"
    TOO_LARGE = "too_large"
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
    THROTTLED = "throttled"
    SERVER_ERROR = "server_error"
    UNAVAILABLE = "unavailable"

    @property
    def status(self) -> int:
        return _STATUSES[self]

    @classmethod
    def of(cls, status_code: int) -> "ErrorCode":
        """Return the code of an HTTP error status (a 4xx without its own code is ``invalid``,
        a 5xx ``server_error``)."""
        for code, code_status in _STATUSES.items():
            if code_status == status_code:
                return code
        return cls.INVALID if status_code < 500 else cls.SERVER_ERROR


_STATUSES = {
    ErrorCode.INVALID: status.HTTP_400_BAD_REQUEST,
    ErrorCode.AUTHENTICATION_FAILED: status.HTTP_401_UNAUTHORIZED,
    ErrorCode.PERMISSION_DENIED: status.HTTP_403_FORBIDDEN,
    ErrorCode.NOT_FOUND: status.HTTP_404_NOT_FOUND,
    ErrorCode.METHOD_NOT_ALLOWED: status.HTTP_405_METHOD_NOT_ALLOWED,
    ErrorCode.NOT_ACCEPTABLE: status.HTTP_406_NOT_ACCEPTABLE,
    ErrorCode.CONFLICT: status.HTTP_409_CONFLICT,
    ErrorCode.PRECONDITION_FAILED: status.HTTP_412_PRECONDITION_FAILED,
    ErrorCode.TOO_LARGE: status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
    ErrorCode.UNSUPPORTED_MEDIA_TYPE: status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
    ErrorCode.THROTTLED: status.HTTP_429_TOO_MANY_REQUESTS,
    ErrorCode.SERVER_ERROR: status.HTTP_500_INTERNAL_SERVER_ERROR,
    ErrorCode.UNAVAILABLE: status.HTTP_503_SERVICE_UNAVAILABLE,
}


class ServiceUnavailable(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = _("The database is unavailable at the moment; please try again later.")
    default_code = "unavailable"
    wait = RETRY_AFTER_SECONDS  # DRF's handler sends it as Retry-After


class BodyTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = _("The request body is too large.")
    default_code = "too_large"


def error_body(code: ErrorCode, detail: str, fields: Mapping[str, list[str]] | None = None):
    """Return an error answer's body (the module's shape)."""
    return {"code": code.value, "detail": str(detail), "fields": dict(fields or {})}


def flatten_fields(errors, prefix: str = "") -> dict[str, list[str]]:
    """Return DRF's (possibly nested) errors as ``{name: [messages]}``, a nested name being its
    path joined by dots: ``{"entries": {"3": {"plate": ["…"]}}}`` is
    ``{"entries.3.plate": ["…"]}``."""
    if isinstance(errors, Mapping):
        fields: dict[str, list[str]] = {}
        for key, value in errors.items():
            for name, messages in flatten_fields(
                value, f"{prefix}.{key}" if prefix else str(key)
            ).items():
                fields.setdefault(name, []).extend(messages)
        return fields
    if isinstance(errors, list | tuple):
        fields = {}
        for index, item in enumerate(errors):
            if isinstance(item, Mapping | list | tuple):
                for name, messages in flatten_fields(item, f"{prefix}.{index}").items():
                    fields.setdefault(name, []).extend(messages)
            else:
                fields.setdefault(prefix, []).append(str(item))
        return fields
    return {prefix: [str(errors)]}


def _invalid_detail(fields: Mapping[str, list[str]]) -> str:
    names = ", ".join(name if len(name) <= 64 else name[:63] + "…" for name in list(fields)[:10])
    return gettext("The request is not valid: see “fields” (%(names)s).") % {"names": names}


def _as_api_exception(exc, view):
    """Return the DRF exception ``exc`` stands for (Django's own, a database down…)."""
    if isinstance(exc, UNAVAILABLE_ERRORS):
        logger.warning("api: database or cache unavailable", exc_info=exc)
        return ServiceUnavailable()
    if isinstance(exc, RequestDataTooBig):
        return BodyTooLarge()
    if isinstance(exc, SuspiciousOperation):  # e.g. more parameters than Django reads
        return exceptions.ParseError(str(exc))
    if isinstance(exc, Http404):
        message = getattr(view, "not_found_message", None) or _("No such object.")
        return exceptions.NotFound(message)
    return exc


def _reshape(response: Response, exc) -> Response:
    """Put DRF's answer to ``exc`` into the module's shape (status and headers kept)."""
    code = ErrorCode.of(response.status_code)
    data = response.data
    if isinstance(exc, exceptions.ValidationError):
        errors = data if isinstance(data, Mapping) else {api_settings.NON_FIELD_ERRORS_KEY: data}
        fields = flatten_fields(errors)
        detail = _invalid_detail(fields)
    else:
        detail = data.get("detail", "") if isinstance(data, Mapping) else " ".join(map(str, data))
        fields = {}
    response.data = error_body(code, detail, fields)
    return response


def exception_handler(exc, context):
    """DRF's handler, answering in the module's shape: an unreachable database or cache 503
    (with ``Retry-After``), a body too large 413, a missing object the view's 404."""
    view = context.get("view")
    request = context.get("request")
    if request is not None and _is_push(request):
        return drf_exception_handler(_legacy(exc), context)
    exc = _as_api_exception(exc, view)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # a bug: Django's 500, answered by ``server_error``
    return _reshape(response, exc)


def _legacy(exc):
    """The push's fall-back answers as they always were (``{"detail": …}``)."""
    if isinstance(exc, UNAVAILABLE_ERRORS):
        logger.warning("api: database or cache unavailable", exc_info=exc)
        unavailable = ServiceUnavailable()
        unavailable.wait = None
        return unavailable
    if isinstance(exc, RequestDataTooBig):
        return BodyTooLarge()
    if isinstance(exc, SuspiciousOperation):
        return exceptions.ParseError(str(exc))
    return exc


def _is_push(request) -> bool:
    return request.path_info.startswith(PUSH_PREFIX)


@csrf_exempt  # any method: a PUT to an unknown address is a 404 too, not a CSRF refusal
def not_found(request: HttpRequest, path: str = "") -> JsonResponse:
    """Answer an unknown API address as the API answers an unknown object: JSON 404."""
    body = error_body(ErrorCode.NOT_FOUND, gettext("No such address in the API."))
    return JsonResponse(body, status=404)


def server_error(request: HttpRequest) -> JsonResponse:
    """Answer an unexpected error under ``/api/`` in JSON, as the API's other errors (the
    details are in the log, as for any 500)."""
    if _is_push(request):
        return JsonResponse({"detail": gettext("Server error.")}, status=500)
    return JsonResponse(error_body(ErrorCode.SERVER_ERROR, gettext("Server error.")), status=500)
