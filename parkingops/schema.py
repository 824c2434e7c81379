"""How drf-spectacular describes our authentication and our error answers in the OpenAPI
schema."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.authentication import SessionScheme
from drf_spectacular.extensions import OpenApiAuthenticationExtension

from parkingops.api_errors import ErrorCode


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "parkingops.authentication.ApiKeyAuthentication"
    name = "apiKeyAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": (
                "Send `Authorization: Api-Key <key>`. Keys are created in the admin (API keys); "
                "a key acts as its user, whose groups decide what it may read and change."
            ),
        }


class StaffSessionScheme(SessionScheme):
    target_class = "parkingops.authentication.StaffSessionAuthentication"


# --- The errors every API call can answer -----------------------------------------------------

ERROR = {"$ref": "#/components/schemas/Error"}


def _error_components() -> dict[str, dict]:
    """The one shape of every error answer (``parkingops.api_errors``)."""
    return {
        "Error": {
            "type": "object",
            "description": str(
                _(
                    "Every error answer: a stable machine code, a message in the request's "
                    "language, and the messages per parameter or field."
                )
            ),
            "properties": {
                "code": {"type": "string", "enum": [code.value for code in ErrorCode]},
                "detail": {"type": "string"},
                "fields": {
                    "type": "object",
                    "description": str(
                        _(
                            "Per parameter or body field, its messages; {} when the error is not "
                            "about one. A name inside the body is its path joined by dots: "
                            "entries.3.plate is the plate of the bulk upsert's row 3 (rows "
                            "numbered from 1)."
                        )
                    ),
                    "additionalProperties": {"type": "array", "items": {"type": "string"}},
                },
            },
            "required": ["code", "detail", "fields"],
        },
    }


def _answer(description, headers: dict | None = None) -> dict:
    response = {
        "description": str(description),
        "content": {"application/json": {"schema": ERROR}},
    }
    if headers:
        response["headers"] = headers
    return response


def _retry_after(description) -> dict:
    return {
        "Retry-After": {
            "description": str(description),
            "schema": {"type": "integer"},
            "required": True,
        }
    }


def _errors(operation: dict) -> dict[str, dict]:
    """Return the error answers ``operation`` can give, by status."""
    errors = {
        "400": _answer(
            _(
                "invalid: a parameter or field the API cannot use, one it does not know, a "
                "parameter given empty, or a body that is not readable JSON; “fields” names it."
            )
        ),
        "401": _answer(_("authentication_failed: no API key, or an unknown or revoked one.")),
        "403": _answer(
            _("permission_denied: the key's user lacks the permission this call needs.")
        ),
        "404": _answer(_("not_found: no such object, or no such address.")),
        "405": _answer(_("method_not_allowed: the call does not take this method.")),
        "406": _answer(_("not_acceptable: the Accept header names no type this call answers.")),
        "409": _answer(_("conflict: the change conflicts with what is stored.")),
        "412": _answer(_("precondition_failed: a precondition of the request does not hold.")),
        "429": _answer(
            _("throttled: over the rate limit (API_THROTTLE_RATE) of this key."),
            headers=_retry_after(_("Seconds to wait.")),
        ),
        "503": _answer(
            _(
                "unavailable: the database (or the cache) cannot be reached at the moment; try "
                "again after Retry-After seconds."
            ),
            headers=_retry_after(_("Seconds to wait.")),
        ),
    }
    if "requestBody" in operation:
        errors["413"] = _answer(_("too_large: the request body is too large."))
        errors["415"] = _answer(_("unsupported_media_type: the body is not application/json."))
    return errors


def document_errors(result, generator, request, public):
    """drf-spectacular postprocessing hook: add the error answers to every call that takes an
    API key, and say that a query parameter is never empty (``parkingops.api_params.refuse_empty``).

    Every error is the one ``Error`` component (``parkingops.api_errors``), whatever a view
    declares. The push (no API key) documents its own answers.
    """
    result.setdefault("components", {}).setdefault("schemas", {}).update(_error_components())
    for path in result.get("paths", {}).values():
        for operation in path.values():
            if not any("apiKeyAuth" in scheme for scheme in operation.get("security", [])):
                continue
            parameters = operation.get("parameters", [])
            for parameter in parameters:
                schema = parameter.get("schema", {})
                if (
                    parameter["in"] == "query"
                    and schema.get("type") == "string"
                    and not {"enum", "format", "pattern"} & set(schema)
                ):
                    schema["pattern"] = r"\S"
            responses = operation.setdefault("responses", {})
            responses.update(_errors(operation))
            operation["responses"] = dict(sorted(responses.items()))
    return result


# --- Conditional requests and the rate limit's headers ----------------------------------------

# Answers to requests the rate limit did not count carry no RateLimit-* headers: refused before
# it (no key, no right, an Accept nothing answers) or when its cache cannot be reached.
_NOT_COUNTED = {"401", "403", "406", "503"}


def _header(description, schema: dict | None = None) -> dict:
    return {"description": str(description), "schema": schema or {"type": "string"}}


def _rate_limit_headers() -> dict[str, dict]:
    number = {"type": "integer", "minimum": 0}
    return {
        "RateLimit-Limit": _header(_("Requests per window (API_THROTTLE_RATE)."), number),
        "RateLimit-Remaining": _header(_("Requests left in the window now."), number),
        "RateLimit-Reset": _header(
            _("Seconds until the oldest counted request leaves the window, giving one back."),
            number,
        ),
    }


def _etag_header() -> dict:
    return _header(
        _(
            "The version of this answer: send it back as If-None-Match (304 when unchanged) "
            "or, to change a whitelist entry, as If-Match."
        )
    )


def _last_modified_header() -> dict:
    return _header(_("When it last changed (HTTP date): send it back as If-Modified-Since."))


def _if_none_match() -> dict:
    return {
        "name": "If-None-Match",
        "in": "header",
        "required": False,
        "description": str(
            _("The ETag of your copy: 304 without a body when the answer would be the same.")
        ),
        "schema": {"type": "string"},
    }


def _takes_if_match(paths: dict, path: str) -> bool:
    """Whether the objects of the list at ``path`` (``path{id}/``) are changed with If-Match."""
    return any(
        parameter["name"] == "If-Match"
        for child, operations in paths.items()
        if child.startswith(path) and child[len(path) :].startswith("{")
        for operation in operations.values()
        for parameter in operation.get("parameters", [])
    )


def document_conditional_requests(result, generator, request, public):
    """drf-spectacular postprocessing hook: the conditional requests and the rate limit of every
    call that takes an API key (``parkingops.conditional``, ``parkingops.throttling``).

    Every read answers an ``ETag`` and takes ``If-None-Match`` (304); a read that declares
    ``If-Modified-Since`` answers ``Last-Modified``; a write that declares ``If-Match`` may
    answer 412, and answers the new ``ETag`` (as does adding to a list whose objects take
    ``If-Match``). Every answer the rate limit counted has its ``RateLimit-*`` headers. Runs
    after ``document_errors``, whose answers it completes.
    """
    paths = result.get("paths", {})
    for name, path in paths.items():
        for method, operation in path.items():
            if not any("apiKeyAuth" in scheme for scheme in operation.get("security", [])):
                continue
            parameters = operation.setdefault("parameters", [])
            names = {parameter["name"] for parameter in parameters if parameter["in"] == "header"}
            file = name.endswith("/export/")  # a file has no ETag (parkingops.api_exports)
            responses = operation.setdefault("responses", {})
            validators = {}
            if method == "post" and _takes_if_match(paths, name):
                validators["ETag"] = _etag_header()
            if method == "get" and not file:
                parameters.append(_if_none_match())
                validators["ETag"] = _etag_header()
                if "If-Modified-Since" in names:
                    validators["Last-Modified"] = _last_modified_header()
                responses["304"] = {
                    "description": str(_("Not modified: your copy is current (no body).")),
                    "headers": dict(validators),
                }
            if "If-Match" in names:
                if method != "delete":  # a change answers the entry's new version
                    validators["ETag"] = _etag_header()
                responses["412"] = _answer(
                    _(
                        "If-Match names another version than the entry's (it changed since you "
                        "read it): nothing is written."
                    )
                )
            for code, response in responses.items():
                headers = {**response.get("headers", {})}
                if code.startswith("2"):
                    headers.update(validators)
                if code not in _NOT_COUNTED:
                    headers.update(_rate_limit_headers())
                if headers:
                    response["headers"] = headers
            operation["responses"] = dict(sorted(responses.items()))
    return result
