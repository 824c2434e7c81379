"""How drf-spectacular describes our authentication in the OpenAPI schema."""

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
