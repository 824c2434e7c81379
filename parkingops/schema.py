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

_DETAIL = {"$ref": "#/components/schemas/ErrorDetail"}
_FIELDS = {"$ref": "#/components/schemas/ValidationErrors"}


def _error_components() -> dict[str, dict]:
    return {
        "ErrorDetail": {
            "type": "object",
            "description": str(_("One message (DRF's usual shape).")),
            "properties": {"detail": {"type": "string"}},
            "required": ["detail"],
        },
        "ValidationErrors": {
            "type": "object",
            "description": str(
                _('Per parameter or field, its messages (DRF\'s usual shape): {"plate": ["…"]}.')
            ),
            "minProperties": 1,
            "additionalProperties": {
                "oneOf": [{"type": "array", "items": {"type": "string"}}, {"type": "object"}]
            },
        },
    }


def _answer(description, schema: dict, headers: dict | None = None) -> dict:
    response = {
        "description": str(description),
        "content": {"application/json": {"schema": schema}},
    }
    if headers:
        response["headers"] = headers
    return response


def _errors(operation: dict, has_path_parameters: bool) -> dict[str, dict]:
    """Return the error answers ``operation`` can give, by status."""
    errors = {
        "400": _answer(
            _(
                "A parameter or field the API cannot use, a parameter given empty, or a body that "
                "is not readable JSON; the answer names it."
            ),
            {"oneOf": [_FIELDS, _DETAIL]},
        ),
        "401": _answer(_("No API key, or an unknown or revoked one."), _DETAIL),
        "403": _answer(_("The key's user lacks the permission this call needs."), _DETAIL),
        "406": _answer(_("The Accept header names no type this call answers."), _DETAIL),
        "429": _answer(
            _("Over the rate limit (API_THROTTLE_RATE) of this key."),
            _DETAIL,
            headers={
                "Retry-After": {
                    "description": str(_("Seconds to wait.")),
                    "schema": {"type": "integer"},
                    "required": True,
                }
            },
        ),
        "503": _answer(
            _("The database (or the cache) cannot be reached at the moment; try again later."),
            _DETAIL,
        ),
    }
    if has_path_parameters:
        errors["404"] = _answer(_("No such object."), _DETAIL)
    if "requestBody" in operation:
        errors["413"] = _answer(_("The request body is too large."), _DETAIL)
        errors["415"] = _answer(_("The body is not application/json."), _DETAIL)
    return errors


def document_errors(result, generator, request, public):
    """drf-spectacular postprocessing hook: add the error answers to every call that takes an
    API key, and say that a query parameter is never empty (``parkingops.api_params.refuse_empty``).

    A call's own 400 (the bulk upsert's row errors) stays, as one more shape of its 400. The
    push (no API key) documents its own answers.
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
            has_path_parameters = any(parameter["in"] == "path" for parameter in parameters)
            for code, error in _errors(operation, has_path_parameters).items():
                own = responses.get(code)
                if code == "400" and own is not None:
                    # anyOf: the call's own shape (the bulk upsert's {"errors": [...]}) is
                    # also one of field messages, so an answer matches both.
                    shapes = error["content"]["application/json"]["schema"].pop("oneOf")
                    shapes.insert(0, own["content"]["application/json"]["schema"])
                    error["content"]["application/json"]["schema"]["anyOf"] = shapes
                    error["description"] = f"{own['description']} {error['description']}"
                    own = None
                if own is None:
                    responses[code] = error
            operation["responses"] = dict(sorted(responses.items()))
    return result
