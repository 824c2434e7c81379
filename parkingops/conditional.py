"""Conditional requests on the integration API: validators (``ETag``, ``Last-Modified``) on
reads, ``304 Not Modified`` for a copy that is still current, ``412 Precondition Failed`` for a
write whose ``If-Match`` names another version.

The headers are read and the preconditions decided by Django's own
``django.utils.cache.get_conditional_response`` (RFC 9110, section 13.2.2, in its order); this
module only chooses the validators and answers a failed precondition in the API's JSON shape
instead of Django's empty 412.
"""

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime

from django.http import HttpRequest, HttpResponseBase
from django.utils.cache import get_conditional_response
from django.utils.http import http_date, parse_etags, quote_etag
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter
from rest_framework import exceptions, status
from rest_framework.response import Response

SAFE_METHODS = frozenset({"GET", "HEAD"})


class PreconditionFailed(exceptions.APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = _(
        "It is no longer the version that If-Match (or If-Unmodified-Since) names: it has "
        "changed since you read it. Read it again, then send your change with its new ETag."
    )
    default_code = "precondition_failed"


def strong_etag(*parts: object) -> str:
    """Return a strong ETag naming ``parts`` (a version: the same parts, the same tag on every
    host), opaque to the caller."""
    text = "\x1f".join(
        part.astimezone(UTC).isoformat() if isinstance(part, datetime) else str(part)
        for part in parts
    )
    return quote_etag(hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32])


def weak_etag(content: bytes) -> str:
    """Return a weak ETag of a rendered body: equal bodies, equal tags."""
    return "W/" + quote_etag(hashlib.sha256(content).hexdigest()[:32])


def evaluate(
    request: HttpRequest,
    *,
    etag: str,
    last_modified: datetime | None = None,
    response: HttpResponseBase | None = None,
) -> HttpResponseBase | None:
    """Decide the request's preconditions against the resource's current validators.

    Return ``None`` to go on, or a ``304`` (with the validators) for a ``GET``/``HEAD`` whose
    ``If-None-Match`` or ``If-Modified-Since`` shows the caller's copy is current. Raise
    ``PreconditionFailed`` when ``If-Match`` (or ``If-Unmodified-Since``) fails, and for an
    ``If-None-Match`` that matches on a write.

    An ``If-Match`` with no valid entity tag in it (``If-Match: 41``) matches nothing: the
    caller asked for a conditional write, so it is never written unconditionally. Other
    unreadable conditional headers are ignored, as Django ignores them. A 304 keeps the
    ``Vary`` and ``Cache-Control`` of ``response``, the answer it replaces, when given.
    """
    if_match = request.META.get("HTTP_IF_MATCH", "")
    if if_match.strip() and not parse_etags(if_match):
        raise PreconditionFailed
    seconds = int(last_modified.timestamp()) if last_modified is not None else None
    answer = get_conditional_response(request, etag=etag, last_modified=seconds, response=response)
    if answer is None or answer is response:
        return None
    if answer.status_code == status.HTTP_412_PRECONDITION_FAILED:
        raise PreconditionFailed
    set_validators(answer, etag=etag, last_modified=last_modified)
    return answer


def set_validators(
    response: HttpResponseBase, *, etag: str, last_modified: datetime | None = None
) -> None:
    response["ETag"] = etag
    if last_modified is not None:
        response["Last-Modified"] = http_date(last_modified.timestamp())


def conditional_get(
    request: HttpRequest,
    *,
    etag: str,
    last_modified: datetime | None = None,
    answer: Callable[[], HttpResponseBase],
) -> HttpResponseBase:
    """Return ``304`` when the caller's copy is current, else ``answer()``; either with the
    validators. The body is made only when it is sent."""
    response = evaluate(request, etag=etag, last_modified=last_modified) or answer()
    set_validators(response, etag=etag, last_modified=last_modified)
    return response


class ConditionalGetMixin:
    """A weak ``ETag`` on a view's ``200`` JSON answers to ``GET``, a hash of the rendered body;
    ``If-None-Match`` naming it is a ``304`` without the body.

    The page is still read and rendered (only the transfer is saved): a view that knows its
    object's version more cheaply (one entry, one order) answers with ``conditional_get`` and
    its own ETag, which this leaves alone. Files (``?format=csv``, ``xlsx``) have no ETag.
    """

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if not (
            request.method in SAFE_METHODS
            and isinstance(response, Response)
            and response.status_code == status.HTTP_200_OK
            and response.accepted_renderer.format == "json"
            and not response.has_header("ETag")
        ):
            return response
        response.render()
        etag = weak_etag(response.content)
        try:
            not_modified = evaluate(request, etag=etag, response=response)
        except PreconditionFailed as failed:
            error = self.handle_exception(failed)
            return super().finalize_response(request, error, *args, **kwargs)
        if not_modified is not None:
            return super().finalize_response(request, not_modified, *args, **kwargs)
        set_validators(response, etag=etag)
        return response


# --- In the schema (parkingops.schema.document_conditional_requests adds the answers) ----------

IF_MODIFIED_SINCE = OpenApiParameter(
    "If-Modified-Since",
    str,
    location=OpenApiParameter.HEADER,
    description=_(
        "The Last-Modified of your copy: 304 without a body when it is still current. "
        "If-None-Match, when sent too, decides instead."
    ),
)
IF_MATCH = OpenApiParameter(
    "If-Match",
    str,
    location=OpenApiParameter.HEADER,
    description=_(
        "The ETag of the version you read: the change is made only if the entry is still that "
        "version, else 412 and nothing is written. Without it the change is made whatever "
        "the entry's version."
    ),
)
# One object's read: its ETag (If-None-Match, added to every read) and its Last-Modified.
READ_PARAMETERS = [IF_MODIFIED_SINCE]
# A change of one object: only if it is still the version read.
WRITE_PARAMETERS = [IF_MATCH]
