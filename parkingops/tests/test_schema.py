"""The OpenAPI schema (drf-spectacular) and its interactive page, which works offline."""

import pytest
import yaml
from django.core.management import call_command

from parkingops.api_errors import ErrorCode

PUSH = "/api/v1/push/pay-orders/"
# Every kind of push has its endpoint, documented alike (PLATFORM_PUSHES.md).
PUSHES = (PUSH, "/api/v1/push/entries/", "/api/v1/push/exits/", "/api/v1/push/renewals/")
# Every list with a file has its export operation.
LISTS_WITH_FILES = (
    "/api/v1/orders/",
    "/api/v1/coupons/",
    "/api/v1/coupons/totals/",
    "/api/v1/stays/",
    "/api/v1/renewals/",
    "/api/v1/summary/daily/",
    "/api/v1/statements/",
    "/api/v1/whitelist/",
)
EXPORTS = tuple(f"{path}export/" for path in LISTS_WITH_FILES)


def _generate(tmp_path_factory, django_db_blocker, *options: str) -> dict:
    """Generate a schema as CI would, failing on any warning."""
    path = tmp_path_factory.mktemp("schema") / "schema.yml"
    with django_db_blocker.unblock():
        call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(path), *options)
    return yaml.safe_load(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def schema(tmp_path_factory, django_db_blocker) -> dict:
    return _generate(tmp_path_factory, django_db_blocker)


@pytest.fixture(scope="module")
def platform_schema(tmp_path_factory, django_db_blocker) -> dict:
    """The platform's push, in its own document (/api/schema/platform/)."""
    return _generate(
        tmp_path_factory,
        django_db_blocker,
        "--custom-settings",
        "parkingops.settings.PLATFORM_SCHEMA_SETTINGS",
    )


def test_schema_generates_and_validates_without_warnings(schema):
    assert schema["openapi"].startswith("3.")
    assert set(schema["paths"]) == {
        "/api/v1/orders/",
        "/api/v1/orders/{pay_serial}/",
        "/api/v1/coupons/",
        "/api/v1/coupons/totals/",
        "/api/v1/stays/",
        "/api/v1/renewals/",
        "/api/v1/summary/daily/",
        "/api/v1/statements/",
        "/api/v1/whitelist/",
        "/api/v1/whitelist/{id}/",
        "/api/v1/whitelist/bulk/",
        "/api/v1/whitelist/deleted/",
        "/api/v1/push-outcomes/",
        *EXPORTS,
    }


def test_the_platform_document_holds_the_push_alone(platform_schema):
    assert set(platform_schema["paths"]) == set(PUSHES)
    assert {tag["name"] for tag in platform_schema["tags"]} == {"push"}
    # None of the integration API's error shapes: they would be unused components.
    assert "ErrorDetail" not in platform_schema["components"]["schemas"]


def test_schema_documents_the_statements_parameters_and_both_answers(schema):
    statements = schema["paths"]["/api/v1/statements/"]["get"]
    parameters = {p["name"]: p["schema"] for p in statements["parameters"] if p["in"] == "query"}

    assert set(parameters) == {"month", "from", "to", "holder", "plate"}
    assert parameters["month"]["pattern"] == "^[0-9]{4}-[0-9]{2}$"
    assert parameters["from"]["format"] == parameters["to"]["format"] == "date"
    assert set(statements["responses"]["200"]["content"]) == {"application/json"}
    export = schema["paths"]["/api/v1/statements/export/"]["get"]
    assert {p["name"] for p in export["parameters"]} == {*parameters, "format", "lang"}
    summary = schema["paths"]["/api/v1/summary/daily/export/"]["get"]
    view = next(p for p in summary["parameters"] if p["name"] == "view")
    assert view["schema"]["enum"] == ["rows", "pivot"]
    json_summary = schema["paths"]["/api/v1/summary/daily/"]["get"]
    assert {p["name"] for p in json_summary["parameters"] if p["in"] == "query"} == {
        "from",
        "to",
        "park",
    }


def test_schema_documents_the_api_key_header(schema):
    scheme = schema["components"]["securitySchemes"]["apiKeyAuth"]

    assert (scheme["type"], scheme["in"], scheme["name"]) == ("apiKey", "header", "Authorization")
    assert "Api-Key <key>" in scheme["description"]
    header = schema["components"]["securitySchemes"]["apiKeyHeader"]
    assert (header["type"], header["in"], header["name"]) == ("apiKey", "header", "X-Api-Key")
    security = schema["paths"]["/api/v1/orders/"]["get"]["security"]
    assert {"apiKeyAuth": []} in security and {"apiKeyHeader": []} in security


@pytest.mark.parametrize("path", PUSHES)
def test_schema_documents_the_push_with_its_codes_and_reasons(platform_schema, path):
    push = platform_schema["paths"][path]["post"]

    assert set(push["responses"]) == {
        "200",
        "400",
        "401",
        "403",
        "405",
        "409",
        "413",
        "429",
        "500",
        "503",
    }
    assert set(push["requestBody"]["content"]) == {
        "application/x-www-form-urlencoded",
        "application/json",
    }
    for reason in (
        "bad_method",
        "bad_body",
        "unknown_app",
        "bad_signature",
        "not_whitelisted",
        "conflict",
        "address_not_allowed",
        "throttled",
    ):
        assert reason in push["description"]
    assert push.get("security") in (None, [])  # no API key: the signature authenticates


MEDIA = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def test_schema_documents_filters_paging_and_the_csv_and_xlsx_variants(schema):
    get = schema["paths"]["/api/v1/orders/"]["get"]
    names = {parameter["name"] for parameter in get["parameters"] if parameter["in"] == "query"}

    assert {
        "park",
        "plate",
        "channel",
        "pay_time_after",
        "pay_time_before",
        "min_value",
        "max_value",
        "has_discounts",
        "has_coupons",
        "ordering",
        "cursor",
        "page_size",
    } <= names
    assert set(get["responses"]["200"]["content"]) == {"application/json"}
    export = schema["paths"]["/api/v1/orders/export/"]["get"]
    export_names = {parameter["name"] for parameter in export["parameters"]}
    assert names - {"cursor", "page_size"} | {"format", "lang"} == export_names


def test_exports_are_their_own_operations_answering_files_not_json(schema):
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            names = {parameter["name"] for parameter in operation.get("parameters", [])}
            content = {
                media: body
                for code, answer in operation["responses"].items()
                if code.startswith("2")
                for media, body in answer.get("content", {}).items()
            }
            if path in EXPORTS:
                assert set(content) == {"text/csv", MEDIA}, path
                # The CSV as text (a generated client reads it as a str), the XLSX as bytes.
                assert content["text/csv"]["schema"] == {"type": "string"}, path
                assert content[MEDIA]["schema"] == {"type": "string", "format": "binary"}, path
                (fmt,) = [p for p in operation["parameters"] if p["name"] == "format"]
                assert fmt["schema"]["enum"] == ["csv", "xlsx"], path
                (lang,) = [p for p in operation["parameters"] if p["name"] == "lang"]
                assert lang["schema"]["enum"] == ["en", "zh"], path
                # Refusals are JSON, as everywhere.
                assert set(operation["responses"]["403"]["content"]) == {"application/json"}
            elif content:
                assert set(content) == {"application/json"}, (path, method)
                assert "format" not in names, (path, method)


def test_schema_endpoint_and_offline_docs_page(client, db):
    schema = client.get("/api/schema/")
    platform = client.get("/api/schema/platform/")

    assert schema.status_code == platform.status_code == 200
    assert b"/api/v1/orders/" in schema.content and b"/api/v1/push/" not in schema.content
    assert b"/api/v1/push/pay-orders/" in platform.content
    assert b"/api/v1/orders/" not in platform.content
    for page, document in (
        ("/api/docs/", "/api/schema/"),
        ("/api/docs/platform/", "/api/schema/platform/"),
    ):
        docs = client.get(page)
        assert docs.status_code == 200
        html = docs.content.decode()
        assert "drf_spectacular_sidecar/swagger-ui-dist/" in html
        assert document in html
        assert "cdn." not in html and "https://" not in html


ERROR = {"$ref": "#/components/schemas/Error"}


def test_schema_documents_every_error_answer_of_the_api_with_one_error_component(schema):
    paths = schema["paths"]
    listed = paths["/api/v1/orders/"]["get"]["responses"]
    detail = paths["/api/v1/whitelist/{id}/"]["put"]["responses"]

    shared = {"400", "401", "403", "404", "405", "409", "412", "429", "503"}
    assert shared | {"406"} <= set(listed)
    assert shared | {"413", "415"} <= set(detail)
    assert listed["429"]["headers"]["Retry-After"]["required"] is True
    assert listed["503"]["headers"]["Retry-After"]["required"] is True
    for path, operations in paths.items():
        for method, operation in operations.items():
            if path.startswith("/api/v1/push/"):
                continue
            for status in shared:
                answer = operation["responses"][status]
                assert answer["content"]["application/json"]["schema"] == ERROR, (path, method)
    components = schema["components"]["schemas"]
    assert not {"ErrorDetail", "ValidationErrors", "BulkError"} & set(components)


def test_schema_error_component_lists_every_code(schema):
    error = schema["components"]["schemas"]["Error"]

    assert error["required"] == ["code", "detail", "fields"]
    assert set(error["properties"]["code"]["enum"]) == {code.value for code in ErrorCode}
    assert error["properties"]["fields"]["additionalProperties"] == {
        "type": "array",
        "items": {"type": "string"},
    }


def test_schema_says_the_bulk_400_is_the_shared_error(schema):
    bad = schema["paths"]["/api/v1/whitelist/bulk/"]["post"]["responses"]["400"]

    assert bad["content"]["application/json"]["schema"] == ERROR
    assert (
        "entries.3.plate"
        in schema["components"]["schemas"]["Error"]["properties"]["fields"]["description"]
    )


def test_schema_says_query_parameters_are_never_empty(schema):
    parameters = {
        parameter["name"]: parameter["schema"]
        for parameter in schema["paths"]["/api/v1/whitelist/"]["get"]["parameters"]
    }

    assert parameters["plate"]["pattern"] == parameters["cursor"]["pattern"] == r"\S"
    assert "" not in parameters["status"]["enum"]


def test_schema_requires_warnings_only_in_what_writes_answer(schema):
    components = schema["components"]["schemas"]

    assert "warnings" not in components["WhitelistEntry"]["properties"]
    assert "warnings" in components["SavedWhitelistEntry"]["required"]


def _headers(operation: dict, code: str) -> set[str]:
    return set(operation["responses"][code].get("headers", {}))


def _header_parameters(operation: dict) -> set[str]:
    return {p["name"] for p in operation.get("parameters", []) if p["in"] == "header"}


RATE_LIMIT = {"RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"}


def test_schema_documents_etags_304_if_match_412_and_the_rate_limit_headers(schema):
    api = {
        (path, method): operation
        for path, operations in schema["paths"].items()
        if path not in PUSHES
        for method, operation in operations.items()
    }
    for (path, method), operation in api.items():
        assert RATE_LIMIT <= _headers(operation, "429")
        assert "Retry-After" in _headers(operation, "429")
        assert not RATE_LIMIT & _headers(operation, "401")
        if path.endswith("/export/"):  # a file: no ETag
            assert "If-None-Match" not in _header_parameters(operation)
        elif method == "get":
            assert "If-None-Match" in _header_parameters(operation)
            assert {"ETag", *RATE_LIMIT} <= _headers(operation, "200")
            assert {"ETag", *RATE_LIMIT} <= _headers(operation, "304")
            assert "content" not in operation["responses"]["304"]
    for path in ("/api/v1/orders/{pay_serial}/", "/api/v1/whitelist/{id}/"):
        read = api[(path, "get")]
        assert "If-Modified-Since" in _header_parameters(read)
        assert "Last-Modified" in _headers(read, "200") & _headers(read, "304")
    assert "Last-Modified" not in _headers(api[("/api/v1/orders/", "get")], "200")
    for method in ("put", "patch", "delete"):
        write = api[("/api/v1/whitelist/{id}/", method)]
        assert "If-Match" in _header_parameters(write)
        assert "application/json" in write["responses"]["412"]["content"]
    assert "ETag" in _headers(api[("/api/v1/whitelist/{id}/", "put")], "200")
    assert "ETag" in _headers(api[("/api/v1/whitelist/", "post")], "201")
    assert "ETag" not in _headers(api[("/api/v1/whitelist/{id}/", "delete")], "204")
    assert not set(PUSHES) & set(schema["paths"])  # the push: its own document, no key


def test_schema_requires_every_field_an_answer_always_carries(schema):
    components = schema["components"]["schemas"]

    for name, component in components.items():
        optional = set(component.get("properties", {})) - set(component.get("required", []))
        if name.endswith("Request"):
            continue
        # The fields an answer may leave out: the bulk upsert's reason, when none is needed,
        # and a page's "resume", sent in the incremental sync's orderings only.
        if name.startswith("Paginated"):
            assert optional <= {"resume"}, name
        else:
            assert optional <= {"reason"} and (not optional or name == "BulkError"), name
    assert {"holder", "valid_until", "is_active"} <= set(components["WhitelistEntry"]["required"])


def test_schema_names_the_platforms_codes_and_lets_new_ones_through(schema):
    components = schema["components"]["schemas"]
    coupon_type = components["Coupon"]["properties"]["coupon_type"]
    channel = components["Order"]["properties"]["channel"]

    assert coupon_type["anyOf"] == [
        {"$ref": "#/components/schemas/CouponType"},
        {"type": "integer"},
    ]
    assert coupon_type["nullable"] is True
    assert channel["anyOf"][1] == {"type": "string"}
    assert components["CouponType"]["enum"] == [1, 2, 3, 4, 5, 6]
    assert components["CouponType"]["x-enum-varnames"][0] == "AMOUNT"
    assert components["VipType"]["enum"] == [1, 2, 3, 4, 5, 6, 7]
    assert "800072" in components["ChannelCode"]["enum"]
    renewal = components["Renewal"]["properties"]
    assert renewal["vip_type"]["anyOf"][0] == {"$ref": "#/components/schemas/VipType"}
    # The API's own values are closed enums with stable names.
    for name in ("WhitelistStatus", "SyncState", "CouponUnit", "UpsertResult", "PushReason"):
        assert components[name]["enum"], name


def test_schema_types_the_bulk_upserts_rows(schema):
    body = schema["paths"]["/api/v1/whitelist/bulk/"]["post"]["requestBody"]
    envelope = body["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    entries = schema["components"]["schemas"][envelope]["properties"]["entries"]

    assert entries["items"] == {"$ref": "#/components/schemas/WhitelistRowRequest"}
    row = schema["components"]["schemas"]["WhitelistRowRequest"]["properties"]
    assert {"id", "plate", "park_uuid", "valid_from", "valid_until", "is_active"} <= set(row)
