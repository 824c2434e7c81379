"""Pushes arriving at the same instant, over real HTTP (pytest-django's live server).

These run on both databases; on SQLite the test database is a file (settings_test.py), so
WAL, the busy timeout and IMMEDIATE transactions are really exercised.
"""

import json
from datetime import UTC, datetime

import pytest
from django.db import connection

from conftest import FORM, JSON, PUSH_URL, form_body, json_body
from orders.demo import simulator
from orders.models import Discount, PayOrder, PushLog
from orders.tests.push.racing import post_all_at_once
from whitelist.tests.factories import WhitelistEntryFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def url(live_server) -> str:
    return live_server.url + PUSH_URL


@pytest.fixture
def plate_whitelisted():
    WhitelistEntryFactory(plate="川A660P1", valid_from=datetime(2020, 1, 1, tzinfo=UTC))


def test_twenty_identical_pushes_at_once_make_one_order_and_twenty_1001(
    url, plate_whitelisted, app_id, secret
):
    params = simulator.build_push(
        app_id=app_id,
        discounts=[{"type": "1", "relief_value": "500", "mobile": "13800138000"}],
        mcoupons=[{"coupon_type": "1", "coupon_value": "1000", "store_code": "K1"}],
    )
    body = simulator.encode_push(params, secret=secret)

    results = post_all_at_once(url, [(body.body.decode(), body.content_type)] * 20)

    assert [(status, reply.get("code")) for status, reply in results] == [(200, "1001")] * 20
    reasons = sorted(reply["reason"] for _, reply in results)
    assert reasons == ["accepted"] + ["duplicate"] * 19
    order = PayOrder.objects.get()
    assert order.discounts.count() == order.mcoupons.count() == 1
    assert PushLog.objects.count() == 20
    assert set(PushLog.objects.values_list("order_id", flat=True)) == {order.pk}


def test_many_different_pushes_at_once_are_all_answered_without_errors(
    url, plate_whitelisted, app_id, secret
):
    if connection.vendor == "sqlite":
        # An in-memory database would share one connection and show no locking at all.
        assert not connection.is_in_memory_db()
    bodies = []
    for index in range(12):
        params = simulator.build_push(
            app_id=app_id,
            pay_serial=f"C{index:03d}",
            discounts=[{"type": "1", "relief_value": str(index)}],
        )
        form = {**params, "discounts": json.dumps(params["discounts"])}
        if index % 2:
            bodies.append((json_body(params, secret), JSON))
        else:
            bodies.append((form_body(form, secret), FORM))
    # Refusals write their log rows at the same time as the orders are written.
    bodies.append((form_body({**form, "pay_serial": "R1", "plate": "川A000000"}, secret), FORM))
    bodies.append((form_body({**form, "pay_serial": "R2"}, "wrong-secret"), FORM))
    bodies.append(("{", JSON))

    results = post_all_at_once(url, bodies)

    statuses = [status for status, _ in results]
    assert all(status < 500 for status in statuses), results
    assert "locked" not in json.dumps(results)
    assert [reply["reason"] for _, reply in results] == ["accepted"] * 12 + [
        "not_whitelisted",
        "bad_signature",
        "bad_body",
    ]
    assert PayOrder.objects.count() == Discount.objects.count() == 12
    assert PushLog.objects.count() == 15


def test_the_same_push_in_two_encodings_at_once_is_stored_once(
    url, plate_whitelisted, app_id, secret
):
    params = simulator.build_push(app_id=app_id, discounts="[]")
    as_json = {**params, "pay_value": int(params["pay_value"]), "discounts": []}
    bodies = [(form_body(params, secret), FORM), (json_body(as_json, secret), JSON)] * 4

    results = post_all_at_once(url, bodies)

    assert {(status, reply["code"]) for status, reply in results} == {(200, "1001")}
    assert sorted(reply["reason"] for _, reply in results) == ["accepted"] + ["duplicate"] * 7
    assert PayOrder.objects.count() == 1
