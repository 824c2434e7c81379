"""Conditional reads of orders and of every list: ``ETag`` (and an order's ``Last-Modified``),
``304`` without a body for a copy that is still current, never a 500 for odd headers."""

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from django.utils.http import http_date
from drf_spectacular.generators import SchemaGenerator

from orders.models import Channel
from orders.tests.api.test_views import ORDERS, key_client, make_user
from orders.tests.factories import DiscountFactory, PayOrderFactory
from parkingops.roles import FINANCE

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def empty_throttle_counts():
    """Throttle counts live in the cache, which outlives a test's database."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def finance():
    return key_client(make_user(groups=(FINANCE,)))


def order_url(order) -> str:
    return f"{ORDERS}{order.pay_serial}/"


def test_an_order_answers_its_etag_and_when_it_was_stored(finance):
    order = PayOrderFactory()

    response = finance.get(order_url(order))

    assert response.status_code == 200
    assert response["ETag"].startswith('"')
    assert response["Last-Modified"] == http_date(order.received_at.timestamp())
    assert finance.get(order_url(order))["ETag"] == response["ETag"]


def test_an_orders_current_copy_is_304_without_a_body(finance):
    order = PayOrderFactory()
    first = finance.get(order_url(order))

    by_tag = finance.get(order_url(order), HTTP_IF_NONE_MATCH=first["ETag"])
    by_tag_weakly = finance.get(order_url(order), HTTP_IF_NONE_MATCH=f"W/{first['ETag']}")
    by_time = finance.get(order_url(order), HTTP_IF_MODIFIED_SINCE=first["Last-Modified"])
    among_others = finance.get(order_url(order), HTTP_IF_NONE_MATCH=f'"x", {first["ETag"]}')

    for answer in (by_tag, by_tag_weakly, by_time, among_others):
        assert (answer.status_code, answer.content) == (304, b"")
        assert answer["ETag"] == first["ETag"]
    earlier = http_date(order.received_at.timestamp() - 1)
    assert finance.get(order_url(order), HTTP_IF_MODIFIED_SINCE=earlier).status_code == 200


def test_what_an_orders_page_shows_besides_the_order_is_in_its_etag(finance):
    order = PayOrderFactory(channel="200102")
    DiscountFactory(order=order, mobile="13800138000")
    plain = finance.get(order_url(order))["ETag"]

    Channel.objects.create(code="200102", name="微信支付", name_en="WeChat Pay")
    named = finance.get(order_url(order))
    order.park.name = "西门"
    order.park.save()
    renamed = finance.get(order_url(order))["ETag"]
    unmasked = key_client(
        make_user(groups=(FINANCE,), permissions=("orders.view_personal_data",))
    ).get(order_url(order))

    assert named.json()["channel_name"] == "WeChat Pay"
    assert len({plain, named["ETag"], renamed, unmasked["ETag"]}) == 4
    assert finance.get(order_url(order), HTTP_IF_NONE_MATCH=plain).status_code == 200


def test_an_unknown_order_is_404_whatever_the_preconditions(finance):
    for header in ("HTTP_IF_NONE_MATCH", "HTTP_IF_MATCH"):
        assert finance.get(f"{ORDERS}nope/", **{header: "*"}).status_code == 404


def read_paths() -> list[str]:
    """Every JSON read (GET) of the integration API the schema names, without path
    parameters (the export operations' files have no ETag)."""
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return sorted(
        path
        for path, operations in schema["paths"].items()
        if "get" in operations and "{" not in path and not path.endswith("/export/")
    )


def test_every_read_answers_a_weak_etag_and_304_for_a_current_copy(db):
    PayOrderFactory()
    client = key_client(User.objects.create_superuser("root", "root@example.com", "x"))
    paths = read_paths()
    assert len(paths) >= 9, paths

    for path in paths:
        first = client.get(path)
        assert first.status_code == 200, (path, first.content)
        assert first["ETag"].startswith('W/"'), path
        again = client.get(path, HTTP_IF_NONE_MATCH=first["ETag"])
        assert (again.status_code, again.content) == (304, b""), path
        assert again["ETag"] == first["ETag"]
        # Another language, another body: another tag.
        chinese = client.get(path, HTTP_IF_NONE_MATCH=first["ETag"], HTTP_ACCEPT_LANGUAGE="zh")
        assert chinese.status_code in {200, 304}, path
        assert "Accept-Language" in chinese["Vary"], path


def test_a_list_page_changes_its_etag_when_its_rows_do(finance):
    PayOrderFactory()
    first = finance.get(ORDERS)
    PayOrderFactory()

    again = finance.get(ORDERS, HTTP_IF_NONE_MATCH=first["ETag"])

    assert again.status_code == 200
    assert len(again.json()["results"]) == 2
    assert again["ETag"] != first["ETag"]


@pytest.mark.parametrize(
    "value",
    [
        "garbage",
        "*",
        'W/"x"',
        '"unterminated',
        "Sun, 06 Nov 1994 08:49:37 GMT",
        "Sun, 06 Nov 99999 08:49:37 GMT",
        "0",
        "\u00e9t\u00e9".encode().decode("latin-1"),
        '"' + "x" * 100_000 + '"',
        ",".join(['W/"a"'] * 20_000),
    ],
)
def test_hostile_conditional_headers_on_reads_are_never_a_500(finance, value):
    order = PayOrderFactory()

    for url in (order_url(order), ORDERS, f"{ORDERS}export/?format=csv"):
        for header in (
            "HTTP_IF_NONE_MATCH",
            "HTTP_IF_MATCH",
            "HTTP_IF_MODIFIED_SINCE",
            "HTTP_IF_UNMODIFIED_SINCE",
        ):
            response = finance.get(url, **{header: value})
            assert response.status_code in {200, 304, 412}, (url, header, response.status_code)
            if response.status_code == 412:
                assert response.json()["detail"]
