"""The integration API's reads: orders, merchant coupons, their totals and the daily summary.

Real HTTP through Django's test client, authenticated with real API keys of users in the real
roles (``parkingops.roles``); the CSV variants are compared byte for byte with the admin's.
"""

import csv
import io
import itertools
import json
from datetime import datetime, timedelta
from urllib.parse import urlencode

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orders import selectors
from orders.models import Channel, PayOrder
from orders.tests.factories import DiscountFactory, MerchantCouponFactory, PayOrderFactory
from parkingops import api_keys
from parkingops.formatting import CHINA
from parkingops.roles import FINANCE, OPERATIONS, apply_roles
from whitelist.tests.factories import ParkFactory

ORDERS = "/api/v1/orders/"
COUPONS = "/api/v1/coupons/"
TOTALS = "/api/v1/coupons/totals/"
SUMMARY = "/api/v1/summary/daily/"
ORDERS_EXPORT = "/api/v1/orders/export/"

_names = itertools.count()


def china(*args) -> datetime:
    return datetime(*args, tzinfo=CHINA)


def make_user(*, groups: tuple[str, ...] = (), permissions: tuple[str, ...] = ()) -> User:
    user = User.objects.create_user(f"api{next(_names)}", is_staff=True)
    if groups:
        apply_roles()
        user.groups.set(Group.objects.filter(name__in=groups))
    for name in permissions:
        app_label, codename = name.split(".")
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )
    return user


def key_client(user: User, *, language: str = "en") -> Client:
    """A client sending a new API key of ``user`` with every request."""
    key = api_keys.create_api_key(user=user, name="BI tool").key
    return Client(HTTP_AUTHORIZATION=f"Api-Key {key}", HTTP_ACCEPT_LANGUAGE=language)


@pytest.fixture
def finance(db) -> Client:
    return key_client(make_user(groups=(FINANCE,)))


@pytest.fixture
def operations(db) -> Client:
    return key_client(make_user(groups=(OPERATIONS,)))


def results(response) -> list[dict]:
    assert response.status_code == 200, response.content
    return response.json()["results"]


def serials(response) -> list[str]:
    return [row["pay_serial"] for row in results(response)]


def streamed(response) -> bytes:
    assert response.status_code == 200
    assert response.streaming
    return b"".join(response.streaming_content)


def csv_rows(data: bytes) -> list[list[str]]:
    assert data.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(data.decode("utf-8")[1:], newline="")))


# --- Shape -----------------------------------------------------------------------------------


def test_order_list_nests_discounts_and_coupons_with_fen_and_china_time(finance):
    park = ParkFactory(park_uuid="49f0cc52-e8c7-41e3-b54d-af666b8cc11a", name="P云体验停车场")
    order = PayOrderFactory(park=park, pay_value=1250, pay_time=china(2026, 11, 1, 8, 30))
    DiscountFactory(order=order, mobile="13800138000", relief_value=500)
    MerchantCouponFactory(order=order, store_code="KFC01", coupon_value=1000)

    [row] = results(finance.get(ORDERS))

    assert row["pay_serial"] == order.pay_serial
    assert row["park"] == {"park_uuid": park.park_uuid, "name": "P云体验停车场"}
    assert row["pay_value"] == 1250 and isinstance(row["pay_value"], int)
    assert row["pay_time"] == "2026-11-01T08:30:00+08:00"
    assert row["received_at"].endswith("+08:00")
    [discount] = row["discounts"]
    assert discount["relief_value"] == 500
    assert discount["mobile"] == "138****8000"
    [coupon] = row["coupons"]
    assert coupon["store_code"] == "KFC01"
    assert coupon["coupon_value"] == 1000
    assert coupon["coupon_type_label"] == "amount"


def test_order_detail_is_found_by_pay_serial_with_its_parts(finance):
    order = PayOrderFactory(pay_serial="20210421164242075523115813")
    DiscountFactory(order=order)

    response = finance.get(f"{ORDERS}20210421164242075523115813/")

    assert response.status_code == 200
    assert response.json()["pay_serial"] == order.pay_serial
    assert len(response.json()["discounts"]) == 1


@pytest.mark.parametrize("serial", ["nope", "%00", "x" * 65])
def test_order_detail_of_an_unknown_serial_is_404(finance, serial):
    PayOrderFactory()

    assert finance.get(f"{ORDERS}{serial}/").status_code == 404


def test_mobiles_are_unmasked_only_for_view_personal_data(db):
    DiscountFactory(mobile="13800138000", order__pay_time=china(2026, 11, 1, 9))
    reader = key_client(make_user(groups=(FINANCE,)))
    privileged = key_client(
        make_user(groups=(FINANCE,), permissions=("orders.view_personal_data",))
    )

    masked = results(reader.get(ORDERS))[0]["discounts"][0]["mobile"]
    whole = results(privileged.get(ORDERS))[0]["discounts"][0]["mobile"]
    masked_csv = csv_rows(streamed(reader.get(ORDERS_EXPORT)))[1][13]
    whole_csv = csv_rows(streamed(privileged.get(ORDERS_EXPORT)))[1][13]
    masked_zh = csv_rows(streamed(reader.get(ORDERS_EXPORT, {"lang": "zh"})))[1][11]
    whole_zh = csv_rows(streamed(privileged.get(ORDERS_EXPORT, {"lang": "zh"})))[1][11]

    assert (masked, whole) == ("138****8000", "13800138000")
    assert (masked_csv, whole_csv) == ("138****8000", "13800138000")
    assert (masked_zh, whole_zh) == ("138****8000", "13800138000")


def test_mobiles_nested_in_extra_fields_are_masked_too(finance):
    order = PayOrderFactory(extra={"payer": {"mobile": "13800138000"}})
    DiscountFactory(order=order)

    [row] = results(finance.get(ORDERS))

    assert row["extra"] == {"payer": {"mobile": "138****8000"}}


# --- Filters ---------------------------------------------------------------------------------


def test_park_plate_and_channel_filters(finance):
    park = ParkFactory()
    wanted = PayOrderFactory(park=park, plate="川A660P1", channel="200102")
    PayOrderFactory(plate="川A660P1", channel="200102")  # another park
    PayOrderFactory(park=park, plate="川A660P2", channel="200102")  # another plate
    PayOrderFactory(park=park, plate="川A660P1", channel="100101")  # another channel

    response = finance.get(
        ORDERS, {"park": park.park_uuid, "plate": "川a 660p1", "channel": "200102"}
    )

    assert serials(response) == [wanted.pay_serial]


def test_plate_filter_is_exact_or_a_prefix_with_a_star(finance):
    exact = PayOrderFactory(plate="川A660P1", pay_time=china(2026, 11, 1, 3))
    longer = PayOrderFactory(plate="川A660P12", pay_time=china(2026, 11, 1, 2))
    PayOrderFactory(plate="粤B12345", pay_time=china(2026, 11, 1, 1))

    assert serials(finance.get(ORDERS, {"plate": "川A660P1"})) == [exact.pay_serial]
    assert serials(finance.get(ORDERS, {"plate": "川ａ660*"})) == [
        exact.pay_serial,
        longer.pay_serial,
    ]


@pytest.mark.parametrize("plate", ["*", "  ", "川A*66*", "川A" + "1" * 20])
def test_a_plate_filter_that_is_no_plate_is_a_400(finance, plate):
    response = finance.get(ORDERS, {"plate": plate})

    # Blank too: an empty filter is refused, never read as "no filter".
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["plate"]


def test_pay_time_dates_are_china_days_and_before_includes_the_whole_day(finance):
    first = PayOrderFactory(pay_time=china(2026, 11, 1, 0, 0))  # 2026-10-31T16:00Z
    last = PayOrderFactory(pay_time=china(2026, 11, 1, 23, 59, 59, 999999))
    PayOrderFactory(pay_time=china(2026, 10, 31, 23, 59, 59, 999999))
    PayOrderFactory(pay_time=china(2026, 11, 2, 0, 0))

    response = finance.get(
        ORDERS, {"pay_time_after": "2026-11-01", "pay_time_before": "2026-11-01"}
    )

    assert serials(response) == [last.pay_serial, first.pay_serial]


def test_pay_time_times_are_iso_with_offset_after_inclusive_before_exclusive(finance):
    at_eight = PayOrderFactory(pay_time=china(2026, 11, 1, 8))
    PayOrderFactory(pay_time=china(2026, 11, 1, 9))
    PayOrderFactory(pay_time=china(2026, 11, 1, 7, 59, 59))

    for after, before in [
        ("2026-11-01T08:00:00+08:00", "2026-11-01T09:00:00+08:00"),
        ("2026-11-01T00:00:00Z", "2026-11-01T01:00:00Z"),  # the same, in UTC
        ("2026-11-01T08:00:00", "2026-11-01T09:00"),  # no offset: China time
        ("2026-11-01T08:00:00 08:00", "2026-11-01 09:00:00 08:00"),  # "+" sent unencoded
    ]:
        response = finance.get(ORDERS, {"pay_time_after": after, "pay_time_before": before})
        assert serials(response) == [at_eight.pay_serial], (after, before)


@pytest.mark.parametrize(
    "params",
    [
        {"pay_time_after": "2026-13-01"},
        {"pay_time_before": "yesterday"},
        {"pay_time_after": "0001-01-01"},  # year 0 in UTC: no database stores it
        {"min_value": "ten"},
        {"min_value": "10.5"},
        {"min_value": "10.0"},  # Django's own integer field takes it as 10
        {"max_value": "1e3"},
        {"max_value": "-1"},
        {"max_value": "1" * 30},
        {"has_discounts": "maybe"},
        {"has_coupons": "2"},
        {"ordering": "plate"},
        {"page_size": "0"},
        {"page_size": "501"},
        {"page_size": "many"},
        {"cursor": "not-a-cursor"},
        {"channel": "a\x00b"},
    ],
)
def test_bad_input_is_a_400_naming_the_parameter(finance, params):
    PayOrderFactory()

    response = finance.get(ORDERS, params)

    assert response.status_code == 400
    assert list(response.json()["fields"]) == list(params)
    assert all(
        isinstance(message, str) for message in response.json()["fields"][next(iter(params))]
    )


@pytest.mark.parametrize(
    "url, name",
    [
        (ORDERS, name)
        for name in [
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
        ]
    ]
    + [(COUPONS, name) for name in ["store_code", "coupon_type", "park", "cursor", "format"]]
    + [(TOTALS, name) for name in ["store_code", "park", "pay_time_after"]]
    + [(SUMMARY, name) for name in ["from", "to", "park", "format"]]
    + [(ORDERS_EXPORT, name) for name in ["park", "plate", "ordering", "format", "lang"]]
    + [(SUMMARY + "export/", name) for name in ["from", "to", "park", "view", "lang"]],
)
@pytest.mark.parametrize("empty", ["", "  "])
def test_a_parameter_given_empty_is_a_400_naming_it_never_no_filter(finance, url, name, empty):
    PayOrderFactory()

    response = finance.get(url, {name: empty})

    assert response.status_code == 400
    assert response.json()["fields"] == {
        name: ["This parameter must not be empty: leave it out instead."]
    }


@pytest.mark.parametrize("url", [COUPONS, TOTALS])
@pytest.mark.parametrize("value", ["1.0", "1e0", "one"])
def test_a_coupon_type_that_is_no_whole_number_is_a_400(finance, url, value):
    response = finance.get(url, {"coupon_type": value})

    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["coupon_type"]


@pytest.mark.parametrize("url", [ORDERS, COUPONS, SUMMARY, ORDERS + "x/"])
def test_an_unknown_format_is_a_400_naming_the_choices(finance, url):
    response = finance.get(url, {"format": "xml"})

    assert response.status_code == 400
    [message] = response.json()["fields"]["format"]
    assert message == "Choose one of: json."
    assert finance.get(ORDERS_EXPORT, {"format": "xml"}).json()["fields"] == {
        "format": ["Choose one of: csv, xlsx."]
    }


def test_the_export_refuses_page_size_and_a_cursor(db):
    client = key_client(make_user(groups=(FINANCE,), permissions=("orders.export_orders",)))

    for name, value in [("page_size", "10"), ("cursor", "abc"), ("page_size", "0")]:
        refused = client.get(ORDERS_EXPORT, {name: value})
        assert refused.status_code == 400
        assert refused.json()["fields"] == {
            name: [f"The export is the whole list, not a page: leave {name} out."]
        }
    assert client.get(ORDERS_EXPORT, {"ordering": "pay_value"}).status_code == 200


def test_the_last_day_of_the_calendar_as_before_means_no_end(finance):
    order = PayOrderFactory()

    assert serials(finance.get(ORDERS, {"pay_time_before": "9999-12-31"})) == [order.pay_serial]


def test_amount_filters_are_inclusive_fen(finance):
    PayOrderFactory(pay_value=999)
    low = PayOrderFactory(pay_value=1000, pay_time=china(2026, 11, 1, 2))
    high = PayOrderFactory(pay_value=2000, pay_time=china(2026, 11, 1, 1))
    PayOrderFactory(pay_value=2001)

    response = finance.get(ORDERS, {"min_value": "1000", "max_value": "2000"})

    assert serials(response) == [low.pay_serial, high.pay_serial]


def test_has_discounts_and_has_coupons(finance):
    plain = PayOrderFactory(pay_time=china(2026, 11, 1, 1))
    discounted = DiscountFactory(order__pay_time=china(2026, 11, 1, 2)).order
    couponed = MerchantCouponFactory(order__pay_time=china(2026, 11, 1, 3)).order

    assert serials(finance.get(ORDERS, {"has_discounts": "true"})) == [discounted.pay_serial]
    assert serials(finance.get(ORDERS, {"has_discounts": "0"})) == [
        couponed.pay_serial,
        plain.pay_serial,
    ]
    assert serials(finance.get(ORDERS, {"has_coupons": "1"})) == [couponed.pay_serial]
    assert serials(finance.get(ORDERS, {"has_coupons": "false", "has_discounts": "false"})) == [
        plain.pay_serial
    ]


def test_ordering_by_pay_time_or_pay_value(finance):
    a = PayOrderFactory(pay_value=300, pay_time=china(2026, 11, 1, 1))
    b = PayOrderFactory(pay_value=100, pay_time=china(2026, 11, 1, 2))
    c = PayOrderFactory(pay_value=200, pay_time=china(2026, 11, 1, 3))

    assert serials(finance.get(ORDERS)) == [c.pay_serial, b.pay_serial, a.pay_serial]
    assert serials(finance.get(ORDERS, {"ordering": "pay_time"})) == [
        a.pay_serial,
        b.pay_serial,
        c.pay_serial,
    ]
    assert serials(finance.get(ORDERS, {"ordering": "pay_value"})) == [
        b.pay_serial,
        c.pay_serial,
        a.pay_serial,
    ]
    assert serials(finance.get(ORDERS, {"ordering": "-pay_value"})) == [
        a.pay_serial,
        c.pay_serial,
        b.pay_serial,
    ]


# --- Cursor paging ---------------------------------------------------------------------------


def walk(client: Client, params: dict, *, between=None) -> list[str]:
    """Follow the "next" links from the first page; call ``between(page)`` after each page."""
    seen, page, url = [], 0, f"{ORDERS}?{urlencode(params)}"
    while url:
        body = client.get(url).json()
        seen += [row["pay_serial"] for row in body["results"]]
        page += 1
        if between:
            between(page)
        url = body["next"]
        assert page < 50
    return seen


@pytest.mark.parametrize("ordering", ["-pay_time", "pay_time", "pay_value", "-pay_value"])
def test_cursor_paging_over_inserts_skips_and_repeats_nothing(finance, ordering):
    base = china(2026, 11, 1, 12)
    # Ties on purpose: several orders share a pay time and an amount.
    original = [
        PayOrderFactory(pay_time=base + timedelta(minutes=n // 2), pay_value=100 * (n % 3))
        for n in range(9)
    ]

    def insert(page: int) -> None:
        # Rows before, at and after the cursor, with the very same pay times and amounts.
        for n in range(3):
            PayOrderFactory(pay_time=base + timedelta(minutes=n * 2), pay_value=100 * n)

    seen = walk(finance, {"page_size": 2, "ordering": ordering}, between=insert)

    wanted = {order.pay_serial for order in original}
    seen_original = [serial for serial in seen if serial in wanted]
    assert len(seen) == len(set(seen)), "a row came twice"
    assert sorted(seen_original) == sorted(wanted), "a row was skipped"
    # And the original rows come in the order asked for.
    field = ordering.lstrip("-")
    expected = sorted(
        original, key=lambda o: (getattr(o, field), o.pk), reverse=ordering.startswith("-")
    )
    assert seen_original == [order.pay_serial for order in expected]


def test_previous_link_returns_to_the_page_before(finance):
    orders = [PayOrderFactory(pay_time=china(2026, 11, 1, n)) for n in range(7)]
    newest_first = [order.pay_serial for order in reversed(orders)]

    first = finance.get(ORDERS, {"page_size": 3}).json()
    second = finance.get(first["next"]).json()
    back = finance.get(second["previous"]).json()
    third = finance.get(second["next"]).json()

    assert first["previous"] is None
    assert [r["pay_serial"] for r in second["results"]] == newest_first[3:6]
    assert [r["pay_serial"] for r in back["results"]] == newest_first[:3]
    assert back["previous"] is None
    assert [r["pay_serial"] for r in third["results"]] == newest_first[6:]
    assert third["next"] is None


def test_a_cursor_of_another_ordering_is_a_400(finance):
    PayOrderFactory.create_batch(3)
    first = finance.get(ORDERS, {"page_size": 1}).json()
    cursor = first["next"].split("cursor=")[1]

    response = finance.get(ORDERS, {"cursor": cursor, "ordering": "pay_value"})

    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["cursor"]


def test_page_size_up_to_500(finance):
    PayOrderFactory.create_batch(3)

    body = finance.get(ORDERS, {"page_size": "500"}).json()

    assert len(body["results"]) == 3
    assert body["next"] is None


def test_a_page_costs_the_same_few_queries_whatever_its_size_and_never_counts(finance):
    def queries_for(count: int) -> list[str]:
        PayOrder.objects.all().delete()
        for order in PayOrderFactory.create_batch(count):
            DiscountFactory.create_batch(2, order=order)
            MerchantCouponFactory.create_batch(2, order=order)
        with CaptureQueriesContext(connection) as context:
            assert len(results(finance.get(ORDERS, {"page_size": 50}))) == count
        return [query["sql"] for query in context.captured_queries]

    finance.get(ORDERS)  # the key's first use records it (once a minute): not part of a page
    few, many = queries_for(2), queries_for(20)

    assert len(few) == len(many) <= 8
    assert not any("COUNT(" in sql.upper() for sql in many)


# --- Access ----------------------------------------------------------------------------------


def test_without_a_key_the_answer_is_401_with_the_api_key_challenge(db):
    response = Client().get(ORDERS)

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Api-Key"


def test_a_wrong_or_revoked_key_is_401(db):
    user = make_user(groups=(FINANCE,))
    new = api_keys.create_api_key(user=user, name="old")
    api_keys.revoke_api_keys(keys=type(new.api_key).objects.filter(pk=new.api_key.pk))
    wrong = new.key[:-1] + ("A" if new.key[-1] != "A" else "B")

    for key in [new.key, wrong, "garbage", ""]:
        response = Client(HTTP_AUTHORIZATION=f"Api-Key {key}").get(ORDERS)
        assert response.status_code == 401, key


def test_operations_may_not_read_orders_coupons_or_the_summary(operations):
    for url in [ORDERS, COUPONS, TOTALS, SUMMARY, f"{ORDERS}x/"]:
        assert operations.get(url).status_code == 403, url


def test_finance_reads_and_exports_orders(finance):
    PayOrderFactory()

    for url in [ORDERS, COUPONS, TOTALS, SUMMARY]:
        assert finance.get(url).status_code == 200, url
    for url in [ORDERS, COUPONS, SUMMARY]:
        assert finance.get(url + "export/", {"format": "csv"}).status_code == 200, url


def test_csv_needs_export_orders_and_is_refused_in_json(db):
    reader = key_client(
        make_user(permissions=("orders.view_payorder", "orders.view_merchantcoupon"))
    )

    for url in [ORDERS, COUPONS, SUMMARY]:
        response = reader.get(url + "export/", {"format": "csv"})
        assert response.status_code == 403, url
        assert response["Content-Type"] == "application/json"
        assert response.json()["code"] == "permission_denied"
    assert reader.get(ORDERS).status_code == 200


def test_a_csv_request_with_a_bad_filter_is_a_json_400(finance):
    response = finance.get(ORDERS_EXPORT, {"format": "csv", "min_value": "x"})

    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["min_value"]


def test_staff_may_use_their_admin_session(db):
    client = Client()
    client.force_login(make_user(groups=(FINANCE,)))

    assert client.get(ORDERS).status_code == 200


def test_a_session_of_a_user_who_is_not_staff_is_not_accepted(db):
    user = make_user(groups=(FINANCE,))
    user.is_staff = False
    user.save()
    client = Client()
    client.force_login(user)

    assert client.get(ORDERS).status_code == 401


# --- CSV parity with the admin ---------------------------------------------------------------


@pytest.fixture
def finance_pair(db):
    """The same finance user through the admin (session) and the API (key), in Chinese."""
    user = make_user(groups=(FINANCE,))
    admin = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    admin.force_login(user)
    return admin, key_client(user, language="zh-hans"), user


@pytest.fixture
def tricky_orders(db):
    park = ParkFactory(name='=HYPERLINK("x")')
    orders = []
    for n in range(5):
        order = PayOrderFactory(
            park=park,
            plate="川A660P1" if n % 2 else "粤B12345",
            pay_time=china(2026, 11, 1 + n % 3, n),
            identity=f'+{n},"quoted"\n',
        )
        DiscountFactory(order=order, mobile="13800138000")
        MerchantCouponFactory(
            order=order, store_code="KFC01" if n % 2 else "@MCD", coupon_name="-1"
        )
        orders.append(order)
    return park


def test_orders_csv_is_the_admins_export_byte_for_byte(finance_pair, tricky_orders):
    admin, api, _user = finance_pair

    ours = api.get(
        ORDERS_EXPORT,
        {
            "lang": "zh",
            "park": tricky_orders.park_uuid,
            "pay_time_after": "2026-11-01",
            "pay_time_before": "2026-11-02",
        },
    )
    theirs = admin.get(
        "/admin/orders/payorder/export/",
        {
            "park": tricky_orders.park_uuid,
            "pay_date_from": "2026-11-01",
            "pay_date_to": "2026-11-02",
        },
    )

    body = streamed(ours)
    assert body == streamed(theirs)
    assert len(csv_rows(body)) == 1 + 4
    assert csv_rows(body)[0][0] == "支付流水"
    assert ours["Content-Disposition"] == theirs["Content-Disposition"]
    assert ours["Content-Type"] == "text/csv; charset=utf-8"


def test_coupons_csv_is_the_admins_export_byte_for_byte(finance_pair, tricky_orders):
    admin, api, _user = finance_pair

    ours = api.get(
        COUPONS + "export/", {"lang": "zh", "store_code": "@MCD", "pay_time_after": "2026-11-02"}
    )
    theirs = admin.get(
        "/admin/orders/merchantcoupon/export/", {"store": "@MCD", "pay_date_from": "2026-11-02"}
    )

    body = streamed(ours)
    assert body == streamed(theirs)
    assert len(csv_rows(body)) > 1
    assert ours["Content-Disposition"] == theirs["Content-Disposition"]


def test_summary_csv_is_the_admins_export_byte_for_byte(finance_pair, tricky_orders):
    admin, api, _user = finance_pair
    query = {"from": "2026-11-01", "to": "2026-11-03", "park": tricky_orders.park_uuid}

    ours = api.get(SUMMARY + "export/", {**query, "lang": "zh"})
    theirs = admin.get("/admin/orders/summary/daily/export/", query)

    assert streamed(ours) == streamed(theirs)
    assert ours["Content-Disposition"] == theirs["Content-Disposition"]


def test_csv_headers_are_english_for_machines_whatever_accept_language(finance_pair, tricky_orders):
    _admin, chinese, _user = finance_pair

    rows = csv_rows(streamed(chinese.get(ORDERS_EXPORT, {"format": "csv"})))

    assert rows[0][:2] == ["pay_serial", "parking_serial"]


# --- Coupons, totals, summary ----------------------------------------------------------------


def test_coupon_filters(finance):
    park = ParkFactory()
    wanted = MerchantCouponFactory(
        store_code="KFC01",
        coupon_type=1,
        order__park=park,
        order__pay_time=china(2026, 11, 1, 12),
    )
    MerchantCouponFactory(store_code="KFC02", order__park=park, order__pay_time=china(2026, 11, 1))
    MerchantCouponFactory(store_code="KFC01", coupon_type=2, order__park=park)
    MerchantCouponFactory(store_code="KFC01", coupon_type=1, order__pay_time=china(2026, 11, 1))
    MerchantCouponFactory(
        store_code="KFC01", coupon_type=1, order__park=park, order__pay_time=china(2026, 11, 2)
    )

    response = finance.get(
        COUPONS,
        {
            "store_code": "KFC01",
            "coupon_type": "1",
            "park": park.park_uuid,
            "pay_time_after": "2026-11-01",
            "pay_time_before": "2026-11-01",
        },
    )

    [row] = results(response)
    assert row["id"] == wanted.pk
    assert row["pay_serial"] == wanted.order.pay_serial
    assert row["pay_time"] == "2026-11-01T12:00:00+08:00"
    assert row["park_uuid"] == park.park_uuid
    assert finance.get(COUPONS, {"coupon_type": "one"}).status_code == 400


def test_coupons_are_paged_newest_first_without_repeats(finance):
    coupons = MerchantCouponFactory.create_batch(5)

    seen, url = [], f"{COUPONS}?page_size=2"
    while url:
        body = finance.get(url).json()
        seen += [row["id"] for row in body["results"]]
        url = body["next"]

    assert seen == sorted((coupon.pk for coupon in coupons), reverse=True)


def test_coupon_totals_per_store_for_the_filtered_period(finance):
    for store, value, day in [("KFC01", 1000, 1), ("KFC01", 500, 1), ("MCD", 300, 1)]:
        MerchantCouponFactory(
            store_code=store,
            store_name=store,
            coupon_value=value,
            order__pay_time=china(2026, 11, day, 9),
        )
    MerchantCouponFactory(store_code="KFC01", coupon_value=7, order__pay_time=china(2026, 11, 2))

    response = finance.get(
        TOTALS, {"pay_time_after": "2026-11-01", "pay_time_before": "2026-11-01"}
    )

    assert response.status_code == 200
    assert response.json()["results"] == [
        {
            "store_code": "KFC01",
            "store_name": "KFC01",
            "coupon_type": 1,
            "coupon_type_label": "amount",
            "unit": "fen",
            "coupons": 2,
            "value": 1500,
        },
        {
            "store_code": "MCD",
            "store_name": "MCD",
            "coupon_type": 1,
            "coupon_type_label": "amount",
            "unit": "fen",
            "coupons": 1,
            "value": 300,
        },
    ]
    assert response.json()["types"] == [
        {
            "store_code": "",
            "store_name": "",
            "coupon_type": 1,
            "coupon_type_label": "amount",
            "unit": "fen",
            "coupons": 3,
            "value": 1800,
        }
    ]
    assert (response.json()["coupons"], response.json()["amount_value"]) == (3, 1800)
    assert finance.get(TOTALS, {"pay_time_after": "soon"}).status_code == 400


def test_daily_summary_gives_the_admin_pages_numbers(finance_pair, tricky_orders):
    admin, api, _user = finance_pair
    PayOrderFactory(pay_time=china(2026, 11, 2, 23, 59), channel="100101", pay_value=77)
    query = {"from": "2026-11-01", "to": "2026-11-03"}

    body = api.get(SUMMARY, query).json()
    page = admin.get("/admin/orders/summary/daily/", query).context["summary"]

    assert body["date_from"] == "2026-11-01" and body["date_to"] == "2026-11-03"
    as_rows = [
        [
            r["date"],
            r["park_uuid"],
            r["channel"],
            r["order_count"],
            r["pay_value"],
            r["discount_relief"],
            r["coupon_count"],
            r["coupon_value_total"],
        ]
        for r in body["rows"]
    ]
    assert as_rows == [
        [
            r.day.isoformat(),
            r.park_uuid,
            r.channel,
            r.orders,
            r.paid,
            r.relief,
            r.coupons,
            r.coupon_value,
        ]
        for r in page.rows
    ]
    total = body["total"]
    assert (total["order_count"], total["pay_value"], total["date"]) == (
        page.total.orders,
        page.total.paid,
        None,
    )
    assert total["order_count"] == 6


def test_daily_summary_gives_subtotals_per_day_and_park_and_the_pivot_in_fen(finance):
    east = ParkFactory(park_uuid="p-e", name="东门")
    west = ParkFactory(park_uuid="p-w", name="西门")
    PayOrderFactory(park=east, pay_time=china(2026, 11, 1, 8), pay_value=1000)
    PayOrderFactory(park=east, pay_time=china(2026, 11, 1, 9), pay_value=1, channel="100101")
    PayOrderFactory(park=west, pay_time=china(2026, 11, 2, 9), pay_value=250)

    body = finance.get(SUMMARY, {"from": "2026-11-01", "to": "2026-11-02"}).json()

    assert [(r["date"], r["order_count"], r["pay_value"]) for r in body["day_subtotals"]] == [
        ("2026-11-01", 2, 1001),
        ("2026-11-02", 1, 250),
    ]
    assert [(r["park_uuid"], r["date"], r["pay_value"]) for r in body["park_subtotals"]] == [
        ("p-e", None, 1001),
        ("p-w", None, 250),
    ]
    assert body["pivot"] == {
        "parks": [
            {"park_uuid": "p-e", "park_name": "东门", "pay_value": 1001},
            {"park_uuid": "p-w", "park_name": "西门", "pay_value": 250},
        ],
        "days": [
            {"date": "2026-11-01", "pay_values": [1001, 0], "total": 1001},
            {"date": "2026-11-02", "pay_values": [0, 250], "total": 250},
        ],
        "total": 1251,
    }


def test_daily_summary_csv_gives_the_views_file(finance):
    PayOrderFactory(pay_time=china(2026, 11, 1, 8), pay_value=1000)
    query = {"from": "2026-11-01", "to": "2026-11-01", "format": "csv"}
    export = SUMMARY + "export/"

    rows = list(
        csv.reader(
            io.StringIO(
                b"".join(finance.get(export, query).streaming_content).decode().lstrip("\ufeff")
            )
        )
    )
    pivot = finance.get(export, {**query, "view": "pivot"})

    assert [row[0] for row in rows] == [
        "row_kind",
        "detail",
        "day_subtotal",
        "park_subtotal",
        "total",
    ]
    assert pivot["Content-Disposition"].endswith('daily_summary_pivot_2026-11-01_2026-11-01.csv"')


@pytest.mark.parametrize("view", ["table", "", "PIVOT"])
def test_daily_summary_export_refuses_an_unknown_view(finance, view):
    response = finance.get(SUMMARY + "export/", {"view": view})

    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["view"]


def test_daily_summary_defaults_to_the_last_seven_days(finance):
    today = timezone.now().astimezone(CHINA).date()

    body = finance.get(SUMMARY).json()

    assert body["date_to"] == today.isoformat()
    assert body["date_from"] == (today - timedelta(days=6)).isoformat()


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"from": "2026-11-31"}, "from"),
        ({"to": "11/01/2026"}, "to"),
        ({"from": "2026-11-02", "to": "2026-11-01"}, "from"),
        ({"from": "2025-01-01", "to": "2026-11-01"}, "from"),
        ({"park": "no-such-park"}, "park"),
        ({"from": "0001-01-01", "to": "0001-01-02"}, "from"),
        ({"from": "9999-12-30", "to": "9999-12-31"}, "from"),
    ],
)
def test_daily_summary_refuses_bad_days_and_parks_with_field_errors(finance, query, field):
    response = finance.get(SUMMARY, query)

    assert response.status_code == 400
    assert list(response.json()["fields"]) == [field]


def test_daily_summary_numbers_match_the_selector(finance):
    order = PayOrderFactory(pay_time=china(2026, 11, 1, 10), pay_value=1234)
    DiscountFactory(order=order, relief_value=100)

    body = finance.get(SUMMARY, {"from": "2026-11-01", "to": "2026-11-01"}).json()
    summary = selectors.daily_summary(
        date_from=datetime(2026, 11, 1).date(), date_to=datetime(2026, 11, 1).date()
    )

    assert body["total"]["pay_value"] == summary.total.paid == 1234
    assert body["total"]["discount_relief"] == summary.total.relief == 100


# --- Never a 500 -----------------------------------------------------------------------------

PARAMETERS = [
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
    "lang",
    "view",
    "store_code",
    "coupon_type",
    "from",
    "to",
    "status",
    "sync",
]
VALUES = st.one_of(
    st.text(max_size=30),
    st.sampled_from(
        [
            "csv",
            "xlsx",
            "json",
            "zh",
            "pivot",
            "true",
            "0",
            "-1",
            "500",
            "501",
            "2026-11-01",
            "0001-01-01",
            "9999-12-31",
            "9999-12-31T23:59:59-12:00",
            "0001-01-01T00:00:00+14:00",
            "2026-11-01T08:00:00+08:00",
            "川A66*",
            "-pay_value",
            "eyJvIjoiLXBheV90aW1lIiwidiI6WzEsMl0sInIiOjB9",
            "9" * 40,
        ]
    ),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
)
QUERIES = st.dictionaries(st.one_of(st.sampled_from(PARAMETERS), st.text(max_size=5)), VALUES)


@pytest.mark.django_db
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    url=st.sampled_from(
        [
            ORDERS,
            COUPONS,
            TOTALS,
            SUMMARY,
            "/api/v1/whitelist/",
            ORDERS_EXPORT,
            COUPONS + "export/",
            TOTALS + "export/",
            SUMMARY + "export/",
            "/api/v1/whitelist/export/",
        ]
    ),
    query=QUERIES,
)
def test_random_query_strings_never_give_a_500(api_superuser, url, query):
    response = api_superuser.get(f"{url}?{urlencode(query)}")
    if response.streaming:
        b"".join(response.streaming_content)

    assert response.status_code in {200, 400, 404}, (query, response.content)
    if response.status_code == 400:
        assert set(response.json()) == {"code", "detail", "fields"}


@pytest.fixture
def api_superuser(db):
    DiscountFactory(order__pay_time=china(2026, 11, 1, 8))
    MerchantCouponFactory(order__pay_time=china(2026, 11, 1, 9))
    user = User.objects.create_superuser(f"root{next(_names)}", "root@example.com", "x")
    return key_client(user)


def test_json_bodies_have_no_floats(finance):
    order = PayOrderFactory(pay_value=1)
    DiscountFactory(order=order, relief_value=1)
    MerchantCouponFactory(order=order, coupon_value=1)

    text = finance.get(ORDERS).content.decode()

    def no_floats(value):
        assert not isinstance(value, float)
        for item in (
            value.values() if isinstance(value, dict) else value if isinstance(value, list) else []
        ):
            no_floats(item)

    no_floats(json.loads(text))


# --- Units and channel names -----------------------------------------------------------------


def test_orders_and_the_summary_carry_the_channels_name(finance):
    Channel.objects.create(code="200102", name="微信扫码付", name_en="WeChat scan")
    PayOrderFactory(channel="200102", pay_time=china(2026, 11, 1, 9))
    PayOrderFactory(channel="777777", pay_time=china(2026, 11, 1, 10))

    orders = {row["channel"]: row["channel_name"] for row in results(finance.get(ORDERS))}
    one = finance.get(f"{ORDERS}{PayOrder.objects.get(channel='200102').pay_serial}/").json()
    summary = finance.get(SUMMARY, {"from": "2026-11-01", "to": "2026-11-01"}).json()

    assert orders == {"200102": "WeChat scan", "777777": ""}
    assert one["channel_name"] == "WeChat scan"
    assert {row["channel"]: row["channel_name"] for row in summary["rows"]} == orders


def test_coupon_totals_keep_units_apart_and_their_csv_is_the_admins(finance_pair):
    admin, api, _user = finance_pair
    order = PayOrderFactory(pay_time=china(2026, 11, 1, 9))
    for kind, value in [(1, 500), (2, 120), (2, 30), (6, 80), (6, 85)]:
        MerchantCouponFactory(order=order, store_code="KFC01", coupon_type=kind, coupon_value=value)

    body = api.get(TOTALS).json()
    ours = api.get(TOTALS + "export/", {"lang": "zh", "pay_time_after": "2026-11-01"})
    theirs = admin.get(
        "/admin/orders/merchantcoupon/export-totals/", {"pay_date_from": "2026-11-01"}
    )

    assert [(t["coupon_type"], t["unit"], t["coupons"], t["value"]) for t in body["types"]] == [
        (1, "fen", 1, 500),
        (2, "minutes", 2, 150),
        (6, "percent", 2, None),  # percentages are never summed
    ]
    assert (body["coupons"], body["amount_value"]) == (5, 500)
    assert streamed(ours) == streamed(theirs)
    assert ours["Content-Disposition"] == theirs["Content-Disposition"]


def test_coupon_totals_csv_needs_the_export_permission(db):
    viewer = key_client(make_user(permissions=("orders.view_merchantcoupon",)))

    assert viewer.get(TOTALS).status_code == 200
    assert viewer.get(TOTALS + "export/", {"format": "csv"}).status_code == 403


def test_coupons_are_listed_newest_payment_first_across_pages(finance):
    times = [china(2026, 11, day, 9) for day in (3, 1, 5, 2, 4)]
    for moment in times:  # inserted out of time order
        MerchantCouponFactory(order=PayOrderFactory(pay_time=moment))

    seen, url, params = [], COUPONS, {"page_size": 2}
    while url:
        body = finance.get(url, params).json()
        seen += [row["pay_time"] for row in body["results"]]
        url, params = body["next"], {}
    oldest_first = [
        row["pay_time"] for row in results(finance.get(COUPONS, {"ordering": "pay_time"}))
    ]

    assert seen == sorted(seen, reverse=True) and len(seen) == 5
    assert oldest_first == sorted(seen)
    assert results(finance.get(COUPONS))[0]["coupon_unit"] == "fen"
