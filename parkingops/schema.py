"""How drf-spectacular describes the API in the OpenAPI schema: our authentication, what an
answer always carries, codes that stay open, the two documents (the integrators' and the
platform's push), and our error answers.
"""

from collections.abc import Iterable

from django.db.models import Choices
from django.utils.translation import gettext_lazy as _
from drf_spectacular.authentication import SessionScheme
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.plumbing import force_instance
from rest_framework import serializers

from parkingops.api_errors import ErrorCode

# The platform's push is not the integrators' business: its own document
# (``settings.PLATFORM_SCHEMA_SETTINGS``).
PUSH_PATH_PREFIX = "/api/v1/push/"
# Where ``manage.py spectacular`` (no request to tell the host) says the API is: ``make run``.
DEVELOPMENT_SERVER = "http://127.0.0.1:8000"


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "parkingops.authentication.ApiKeyAuthentication"
    name = "apiKeyAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": str(
                _(
                    "Send `Authorization: Api-Key <key>` (the word Api-Key, a space, the key; "
                    "with openapi-python-client: `AuthenticatedClient(base_url=…, token=key, "
                    'prefix="Api-Key")`). Keys are created in the admin (API keys); a key acts '
                    "as its user, whose groups decide what it may read and change."
                )
            ),
        }


class HeaderApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "parkingops.authentication.HeaderApiKeyAuthentication"
    name = "apiKeyHeader"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "X-Api-Key",
            "description": str(
                _(
                    "The same keys as a plain header, `X-Api-Key: <key>`, as client generators "
                    "send an API key (openapi-python-client: `AuthenticatedClient(base_url=…, "
                    'token=key, prefix="", auth_header_name="X-Api-Key")`).'
                )
            ),
        }


class StaffSessionScheme(SessionScheme):
    target_class = "parkingops.authentication.StaffSessionAuthentication"


class AutoSchema(SpectacularAutoSchema):
    """drf-spectacular's schema, saying what an answer always carries.

    A model serializer writes every field it has (the model instance has them all), so in an
    answer each field is required, the writable ones too: a client need not guess whether
    ``holder`` may be missing. A plain serializer may leave out a field it declares
    ``required=False`` (the bulk upsert's ``reason``), so only its own rule holds.
    """

    def _map_basic_serializer(self, serializer, direction):
        schema = super()._map_basic_serializer(serializer, direction)
        if direction == "response" and isinstance(
            force_instance(serializer), serializers.ModelSerializer
        ):
            schema["required"] = sorted(schema.get("properties", {}))
        return schema


# --- Codes that stay open: the known ones named, any other one still valid ------------------

_OPEN_ENUMS: dict[str, type[Choices]] = {}


def open_enum(name: str, choices: type[Choices]) -> dict:
    """Return the schema of a code the platform may extend: one of ``choices`` (the enum
    component ``name``, with their meanings) or any other value of the same type.

    The platform's codes (coupon types, fixed-car types, pay channels) are stored as sent, a new
    one too; a closed enum would make a generated client fail on the first code nobody
    documented. Use with ``extend_schema_field``; ``describe_document`` adds the component.
    """
    _OPEN_ENUMS[name] = choices
    return {"anyOf": [{"$ref": f"#/components/schemas/{name}"}, {"type": _json_type(choices)}]}


def _json_type(choices: type[Choices]) -> str:
    return "integer" if all(isinstance(value, int) for value in choices.values) else "string"


def _enum_component(choices: type[Choices]) -> dict:
    """Return the enum component of ``choices``, described in the language asked for."""
    return {
        "type": _json_type(choices),
        "enum": list(choices.values),
        "description": "\n".join(f"* `{value}` - {label}" for value, label in choices.choices),
        # The members' names in a generated client (CouponType.AMOUNT, not VALUE_1).
        "x-enum-varnames": list(choices.names),
    }


# --- The two documents ---------------------------------------------------------------------


def integration_endpoints(endpoints: Iterable[tuple]) -> list[tuple]:
    """drf-spectacular preprocessing hook of ``/api/schema/``: everything but the push."""
    return [endpoint for endpoint in endpoints if not endpoint[0].startswith(PUSH_PATH_PREFIX)]


def platform_endpoints(endpoints: Iterable[tuple]) -> list[tuple]:
    """drf-spectacular preprocessing hook of ``/api/schema/platform/``: the push alone."""
    return [endpoint for endpoint in endpoints if endpoint[0].startswith(PUSH_PATH_PREFIX)]


def describe_document(result, generator, request, public):
    """drf-spectacular postprocessing hook: the server this document came from, the tags its
    operations use (with their descriptions), and the open enums' components."""
    base = request.build_absolute_uri("/").rstrip("/") if request is not None else None
    result["servers"] = [
        {"url": base, "description": str(_("This server."))}
        if base
        else {"url": DEVELOPMENT_SERVER, "description": str(_("The development server."))}
    ]
    used = {
        tag
        for path in result.get("paths", {}).values()
        for op in path.values()
        for tag in op.get("tags", [])
    }
    result["tags"] = [tag for tag in result.get("tags", []) if tag["name"] in used]
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    refs = set(_refs(result))
    for name, choices in _OPEN_ENUMS.items():
        if f"#/components/schemas/{name}" in refs:
            schemas[name] = _enum_component(choices)
    result["components"]["schemas"] = dict(sorted(_used(schemas, result).items()))
    return result


def _used(schemas: dict, result: dict) -> dict:
    """Return the schema components that the operations use, directly or through another
    component (the push's document needs none of the API's error shapes)."""
    prefix = "#/components/schemas/"
    wanted = {
        ref[len(prefix) :] for ref in _refs(result.get("paths", {})) if ref.startswith(prefix)
    }
    seen: set[str] = set()
    while wanted - seen:
        name = (wanted - seen).pop()
        seen.add(name)
        wanted |= {ref[len(prefix) :] for ref in _refs(schemas.get(name, {}))}
    return {name: schema for name, schema in schemas.items() if name in seen}


def _refs(node) -> Iterable[str]:
    """Yield every ``$ref`` in a schema document."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)


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
