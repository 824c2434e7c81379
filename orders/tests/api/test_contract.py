"""The OpenAPI schema says what the API does: schemathesis generates requests from
``/api/schema/`` (valid and invalid ones) and checks every answer against it.

The WSGI application is called in this process (so the test's database transaction holds the
rows below), authenticated with a superuser's API key, with orders, coupons and whitelist
entries in the database so lists answer rows. Every check applies except
``positive_data_acceptance``: the schema cannot say a plate's syntax or that ``valid_until``
follows ``valid_from``, so some schema-valid values are refused with a documented 400.

The push is tested too, from its own document (``/api/schema/platform/``): it answers each
outcome with its documented HTTP status and ``{"code", "reason", "message"}``, which its schema
(``orders/push/schema.py``) describes.
"""

from datetime import UTC, datetime, timedelta

import pytest
import schemathesis
from django.contrib.auth.models import User
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from orders.tests.factories import (
    DiscountFactory,
    MerchantCouponFactory,
    PayOrderFactory,
    RenewalFactory,
    StayFactory,
)
from parkingops import api_keys
from parkingops.wsgi import application
from whitelist.tests.factories import ParkFactory, WhitelistEntryFactory


@pytest.fixture
def api_key(db, settings) -> str:
    """A superuser's key, with rows of every kind for the lists to answer."""
    settings.API_THROTTLE_RATE = "1000000/min"
    now = datetime.now(UTC)
    park = ParkFactory(park_uuid="49f0cc52-e8c7-41e3-b54d-af666b8cc11a", name="天府广场停车场")
    for days in range(3):
        order = PayOrderFactory(park=park, pay_time=now - timedelta(days=days))
        DiscountFactory(order=order)
        MerchantCouponFactory(order=order)
        StayFactory(park=park, left=bool(days), parking_serial=order.parking_serial)
        RenewalFactory(park=park, pay_time=now - timedelta(days=days))
    WhitelistEntryFactory(plate="川A660P1", valid_from=now - timedelta(days=30))
    WhitelistEntryFactory(plate="渝B5C8Q6", park_uuid=park.park_uuid, valid_from=now)
    user = User.objects.create_superuser("contract", "contract@example.com", "x")
    return api_keys.create_api_key(user=user, name="schemathesis").key


@pytest.fixture
def _test_client_connections():
    """Keep the test's connection (and its transaction) open across requests, as Django's
    test client does: the WSGI handler would otherwise close it at each request's start."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


# Generating the schema reads no table: it can be loaded while the tests are collected.
schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)
# The platform's push has a document of its own.
platform_schema = schemathesis.openapi.from_wsgi("/api/schema/platform/?format=json", application)

examples = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)


@schema.parametrize()
@examples
def test_api_answers_as_its_schema_says(case, api_key, _test_client_connections):
    case.call_and_validate(
        headers={"Authorization": f"Api-Key {api_key}"},
        excluded_checks=[positive_data_acceptance],
    )


@platform_schema.parametrize()
@examples
def test_the_push_answers_as_its_schema_says(case, api_key, _test_client_connections):
    case.call_and_validate(excluded_checks=[positive_data_acceptance])
