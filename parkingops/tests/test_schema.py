"""The OpenAPI schema (drf-spectacular) and its interactive page, which works offline."""

import pytest
import yaml
from django.core.management import call_command

PUSH = "/api/v1/push/pay-orders/"
# Every kind of push has its endpoint, documented alike (PLATFORM_PUSHES.md).
PUSHES = (PUSH, "/api/v1/push/entries/", "/api/v1/push/exits/", "/api/v1/push/renewals/")


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
        "/api/v1/push-outcomes/",
    }


def test_the_platform_document_holds_the_push_alone(platform_schema):
    assert set(platform_schema["paths"]) == set(PUSHES)
    assert {tag["name"] for tag in platform_schema["tags"]} == {"push"}
    # None of the integration API's error shapes: they would be unused components.
    assert "ErrorDetail" not in platform_schema["components"]["schemas"]


def test_schema_documents_the_statements_parameters_and_both_answers(schema):
    statements = schema["paths"]["/api/v1/statements/"]["get"]
    parameters = {p["name"]: p["schema"] for p in statements["parameters"]}

    assert set(parameters) == {"month", "from", "to", "holder", "plate", "format"}
    assert parameters["month"]["pattern"] == "^[0-9]{4}-[0-9]{2}$"
    assert parameters["from"]["format"] == parameters["to"]["format"] == "date"
    assert set(statements["responses"]["200"]["content"]) == {
        "application/json",
        "text/csv",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    }
    summary = schema["paths"]["/api/v1/summary/daily/"]["get"]
    view = next(p for p in summary["parameters"] if p["name"] == "view")
    assert view["schema"]["enum"] == ["rows", "pivot"]


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
    names = {parameter["name"] for parameter in get["parameters"]}

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
        "format",
    } <= names
    assert set(get["responses"]["200"]["content"]) == {"application/json", "text/csv", MEDIA}
    # Every path offering CSV offers XLSX, and its format parameter says so.
    for path, operations in schema["paths"].items():
        get = operations.get("get", {})
        if "text/csv" in get.get("responses", {}).get("200", {}).get("content", {}):
            assert MEDIA in get["responses"]["200"]["content"], path
            (fmt,) = [p for p in get["parameters"] if p["name"] == "format"]
            assert set(fmt["schema"]["enum"]) == {"json", "csv", "xlsx"}, path


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


def test_schema_documents_every_error_answer_of_the_api(schema):
    paths = schema["paths"]
    listed = paths["/api/v1/orders/"]["get"]["responses"]
    detail = paths["/api/v1/whitelist/{id}/"]["put"]["responses"]

    assert {"400", "401", "403", "406", "429", "503"} <= set(listed)
    assert "404" not in listed  # no path parameter
    assert {"404", "413", "415"} <= set(detail)
    assert listed["429"]["headers"]["Retry-After"]["required"] is True
    assert listed["503"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ErrorDetail"
    }


def test_schema_says_the_bulk_400_is_row_errors_or_an_unusable_body(schema):
    bad = schema["paths"]["/api/v1/whitelist/bulk/"]["post"]["responses"]["400"]
    shapes = bad["content"]["application/json"]["schema"]["anyOf"]

    assert shapes == [
        {"$ref": "#/components/schemas/BulkError"},
        {"$ref": "#/components/schemas/ValidationErrors"},
        {"$ref": "#/components/schemas/ErrorDetail"},
    ]
    row = schema["components"]["schemas"]["BulkError"]["properties"]["errors"]["items"]
    assert row["required"] == ["row"]


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


def test_schema_requires_every_field_an_answer_always_carries(schema):
    components = schema["components"]["schemas"]

    for name, component in components.items():
        optional = set(component.get("properties", {})) - set(component.get("required", []))
        if name.endswith("Request"):
            continue
        # The one field an answer may leave out: the bulk upsert's reason, when none is needed.
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
