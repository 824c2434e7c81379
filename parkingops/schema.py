"""How drf-spectacular describes our authentication and our error answers in the OpenAPI
schema."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.authentication import SessionScheme
from drf_spectacular.extensions import OpenApiAuthenticationExtension


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
                    error["content"]["application/json"]["schema"]["oneOf"].insert(
                        0, own["content"]["application/json"]["schema"]
                    )
                    error["description"] = f"{own['description']} {error['description']}"
                    own = None
                if own is None:
                    responses[code] = error
            operation["responses"] = dict(sorted(responses.items()))
    return result
