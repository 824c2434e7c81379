"""``GET /api/v1/statements/`` (``orders.api.statements``): the admin's statement as JSON and CSV,
real API keys of users in the real roles."""

import csv
import io

import pytest

from orders.tests.api.test_views import key_client, make_user
from parkingops.roles import FINANCE, OPERATIONS

STATEMENTS = "/api/v1/statements/"


@pytest.fixture
def finance(db):
    return key_client(make_user(groups=(FINANCE,)))


def test_a_months_statement_per_holder_and_plate_in_fen(finance, november):
    response = finance.get(STATEMENTS, {"month": "2026-11"})

    assert response.status_code == 200
    body = response.json()
    assert (body["date_from"], body["date_to"], body["holder"], body["plate"]) == (
        "2026-11-01",
        "2026-11-30",
        "",
        "",
    )
    zhang = body["holders"][0]
    assert zhang["holder"] == "张三"
    assert zhang["total"] == {
        "order_count": 3,
        "pay_value": 1750,
        "discount_relief": 200,
        "coupon_value": 300,
        "renewal_count": 0,
        "renewal_value": 0,
        "stay_count": 0,
        "stay_minutes": 0,
        "stay_gap": 0,
    }
    assert [(p["plate"], p["order_count"], p["pay_value"]) for p in zhang["plates"]] == [
        ("川A12345", 1, 250),
        ("川A660P1", 2, 1500),
    ]
    assert zhang["plates"][1]["orders_url"] == (
        "http://testserver/api/v1/orders/?plate=%E5%B7%9DA660P1"
        "&pay_time_after=2026-11-01&pay_time_before=2026-11-30"
    )
    assert [h["holder"] for h in body["holders"]] == ["张三", "李四"]
    assert body["total"]["pay_value"] == 2450


def test_a_plates_orders_url_lists_exactly_the_plates_orders_of_the_period(finance, november):
    body = finance.get(STATEMENTS, {"month": "2026-11", "holder": "张三"}).json()

    url = body["holders"][0]["plates"][1]["orders_url"]
    orders = finance.get(url.removeprefix("http://testserver")).json()["results"]

    assert sorted(order["pay_value"] for order in orders) == [500, 1000]


def test_the_csv_is_the_admins_export(finance, november, staff_client):
    query = {"from": "2026-11-01", "to": "2026-11-30"}
    api = finance.get(STATEMENTS + "export/", {**query, "lang": "zh"})
    admin = staff_client("orders.view_payorder", "orders.export_orders", language="zh-hans").get(
        "/admin/orders/statement/export/", query
    )

    api_body = b"".join(api.streaming_content)
    assert api_body == b"".join(admin.streaming_content)
    rows = list(csv.reader(io.StringIO(api_body.decode().lstrip("\ufeff"))))
    assert [row[0] for row in rows].count("order") == 4
    assert (
        api["Content-Disposition"] == 'attachment; filename="statement_2026-11-01_2026-11-30.csv"'
    )


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"month": "0000-13"}, "month"),
        ({"month": "2026-13"}, "month"),
        ({"month": "1999-12"}, "month"),
        ({"from": "0001-01-01", "to": "2026-11-01"}, "from"),
        ({"from": "2026-11-01"}, "to"),
        ({"from": "2026-01-01", "to": "2026-12-31", "month": "2026-11"}, "month"),
        ({"holder": "nobody"}, "holder"),
        ({"holder": "张\x00三"}, "holder"),
        ({"plate": "x"}, "plate"),
        ({"month": ""}, "month"),
        ({"holder": " "}, "holder"),
    ],
)
def test_hostile_parameters_answer_400_naming_the_parameter(finance, november, query, field):
    for url in [STATEMENTS, STATEMENTS + "export/"]:
        response = finance.get(url, query)

        assert response.status_code == 400
        assert list(response.json()["fields"]) == [field]


def test_the_json_needs_view_orders_and_the_csv_export_orders(db, november):
    viewer = key_client(make_user(permissions=("orders.view_payorder",)))
    operations = key_client(make_user(groups=(OPERATIONS,)))

    assert viewer.get(STATEMENTS).status_code == 200
    assert viewer.get(STATEMENTS + "export/", {"format": "csv"}).status_code == 403
    assert viewer.get(STATEMENTS, {"format": "csv"}).status_code == 400  # the file is elsewhere
    assert operations.get(STATEMENTS).status_code == 403
