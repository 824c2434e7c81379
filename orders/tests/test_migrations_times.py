"""Times stored outside the product's span before it was enforced are brought back inside it
(``orders`` 0009), and the database keeps them there from then on (0010).

A coupon pushed with ``grant_time`` 253402300799999 (year 9999 in UTC, 10000 in China time)
broke the order and coupon lists, the API and every CSV export. The rows are written with raw
SQL at the state before the fix, as the old code could, on SQLite and PostgreSQL alike.
"""

from datetime import UTC, datetime

import pytest
from django.contrib.auth.models import User
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.test import Client

from orders.models import MerchantCoupon, PayOrder, PushLog
from parkingops import api_keys, timerange

BEFORE = ("orders", "0008_pushlog_reason_bad_method")


def _latest():
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


def _migrate(targets):
    MigrationExecutor(connection).migrate(targets)
    return MigrationExecutor(connection).loader.project_state(targets).apps


def _before():
    return [BEFORE] + [(app, name) for app, name in _latest() if app != "orders"]


def _year_10000() -> str:
    """Return a year-10000 time as each database's text for its column type."""
    if connection.vendor == "postgresql":
        return "10000-01-01 00:00:00+00"
    return "10000-01-01 00:00:00"  # Django's SQLite columns hold naive UTC text


def _year_9999_utc() -> str:
    """253402300799999 ms, as the old push stored it (year 10000 in China time)."""
    return "9999-12-31 23:59:59.999000" + ("+00" if connection.vendor == "postgresql" else "")


def _set(table: str, column: str, pk: int, value: str) -> None:
    with connection.cursor() as cursor:
        sql = f"UPDATE {table} SET {column} = %s WHERE id = %s"  # noqa: S608 (our names)
        cursor.execute(sql, [value, pk])


def _is_null(table: str, column: str, pk: int) -> bool:
    # Only whether it is NULL: the check never loads a bad value into Python either.
    with connection.cursor() as cursor:
        sql = f"SELECT {column} IS NULL FROM {table} WHERE id = %s"  # noqa: S608 (our names)
        cursor.execute(sql, [pk])
        return bool(cursor.fetchone()[0])


@pytest.mark.django_db(transaction=True)
def test_times_out_of_range_are_cleared_or_clamped_and_every_list_answers():
    old = _migrate(_before())
    park = old.get_model("whitelist", "Park").objects.create(park_uuid="P-1", name="南门停车场")
    order_model = old.get_model("orders", "PayOrder")
    late, early = (
        order_model.objects.create(
            pay_serial=serial,
            parking_serial="590000000000000001",
            park=park,
            plate="川A660P1",
            plate_raw="川A660P1",
            pay_value=1500,
            pay_time=datetime(2026, 12, 5, 8, tzinfo=UTC),
            channel="200102",
            app_id="op00961963581daa7",
            fingerprint=serial.rjust(64, "0"),
        )
        for serial in ("2026120500000000000000001", "2026120500000000000000002")
    )
    coupons = old.get_model("orders", "MerchantCoupon").objects
    far, farther = (
        coupons.create(order=late, coupon_code=code, grant_time_raw=raw)
        for code, raw in (("C1", "253402300799999"), ("C2", "10000-01-01 08:00:00"))
    )
    log = old.get_model("orders", "PushLog").objects.create(code="1001", reason="accepted")
    _set("orders_merchantcoupon", "grant_time", far.pk, _year_9999_utc())
    _set("orders_merchantcoupon", "grant_time", farther.pk, _year_10000())
    _set("orders_payorder", "pay_time", late.pk, _year_10000())
    _set("orders_payorder", "pay_time", early.pk, "1970-01-01 00:00:00")
    _set("orders_pushlog", "received_at", log.pk, _year_10000())

    _migrate(_latest())

    assert _is_null("orders_merchantcoupon", "grant_time", far.pk)
    assert _is_null("orders_merchantcoupon", "grant_time", farther.pk)
    assert MerchantCoupon.objects.get(pk=far.pk).grant_time_raw == "253402300799999"
    assert PayOrder.objects.get(pk=late.pk).pay_time == timerange.LATEST
    assert PayOrder.objects.get(pk=early.pk).pay_time == timerange.EARLIEST
    assert PushLog.objects.get(pk=log.pk).received_at == timerange.LATEST

    root = User.objects.create_superuser("root", "root@example.com", "x")
    admin = Client()
    admin.force_login(root)
    for url in (
        "/admin/orders/payorder/",
        f"/admin/orders/payorder/{late.pk}/change/",
        "/admin/orders/merchantcoupon/",
        "/admin/orders/pushlog/",
        "/admin/orders/payorder/export/",
        "/admin/orders/merchantcoupon/export/",
    ):
        response = admin.get(url)
        assert response.status_code == 200, url
        if response.streaming:
            b"".join(response.streaming_content)
    key = api_keys.create_api_key(user=root, name="BI tool").key
    api = Client(HTTP_AUTHORIZATION=f"Api-Key {key}")
    for url in ("/api/v1/orders/", "/api/v1/coupons/", "/api/v1/orders/export/?format=csv"):
        response = api.get(url)
        assert response.status_code == 200, url
        if response.streaming:
            b"".join(response.streaming_content)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("table", "column"),
    [
        ("orders_payorder", "pay_time"),
        ("orders_payorder", "received_at"),
        ("orders_merchantcoupon", "grant_time"),
        ("orders_pushlog", "received_at"),
    ],
)
def test_the_database_refuses_a_time_out_of_range(table, column):
    from orders.tests.factories import MerchantCouponFactory

    coupon = MerchantCouponFactory(grant_time=datetime(2026, 12, 5, tzinfo=UTC))
    log = PushLog.objects.create(code="1001", reason="accepted")
    pk = {"orders_payorder": coupon.order_id, "orders_merchantcoupon": coupon.pk}.get(table, log.pk)

    with pytest.raises(IntegrityError), transaction.atomic():
        _set(table, column, pk, _year_10000())
