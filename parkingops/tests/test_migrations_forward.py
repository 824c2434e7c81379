"""A database migrated by the layout before the apps were layered migrates forward intact.

Parks moved from ``orders`` to ``whitelist`` and the platform's call log from ``orders`` to
``parkingops``: the tables keep their names and rows, the foreign keys keep pointing at them, and
the permissions granted on them stay granted (their content types are relabelled).
"""

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [
    ("orders", "0006_pushlog_reason_labels"),
    ("whitelist", "0003_platesync"),
    ("parkingops", "0001_initial"),
]


def _latest():
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


def _before():
    """Every app at its latest migration, but the three at their state before the move."""
    moved = {app for app, _name in BEFORE}
    return BEFORE + [(app, name) for app, name in _latest() if app not in moved]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return MigrationExecutor(connection).loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_parks_orders_calls_and_permissions_survive_the_move():
    old = _migrate(_before())
    content_types = old.get_model("contenttypes", "ContentType")
    permission_model = old.get_model("auth", "Permission")
    group_model = old.get_model("auth", "Group")
    park_type, _ = content_types.objects.get_or_create(app_label="orders", model="park")
    call_type, _ = content_types.objects.get_or_create(app_label="orders", model="platformcall")
    view_park, _ = permission_model.objects.get_or_create(
        content_type=park_type, codename="view_park", defaults={"name": "Can view park"}
    )
    finance = group_model.objects.create(name="财务")
    finance.permissions.add(view_park)

    park = old.get_model("orders", "Park").objects.create(park_uuid="P-OLD", name="老车场")
    order = old.get_model("orders", "PayOrder").objects.create(
        pay_serial="2026120500000000000000001",
        parking_serial="590000000000000001",
        park=park,
        plate="川A660P1",
        plate_raw="川A660P1",
        pay_value=1500,
        pay_time=datetime(2026, 12, 5, 8, tzinfo=UTC),
        channel="200102",
        app_id="op00961963581daa7",
        fingerprint="0" * 64,
    )
    old.get_model("orders", "PlatformCall").objects.create(
        method="POST", endpoint="gate/1.0/parking/whitelist", code="1001", duration_ms=12
    )

    new = _migrate(_latest())

    moved_park = new.get_model("whitelist", "Park").objects.get()
    assert (moved_park.pk, moved_park.park_uuid, moved_park.name) == (park.pk, "P-OLD", "老车场")
    moved_order = new.get_model("orders", "PayOrder").objects.get()
    assert (moved_order.pk, moved_order.park_id, moved_order.pay_value) == (order.pk, park.pk, 1500)
    call = new.get_model("parkingops", "PlatformCall").objects.get()
    assert (call.endpoint, call.code) == ("gate/1.0/parking/whitelist", "1001")

    types = new.get_model("contenttypes", "ContentType").objects
    assert types.get(pk=park_type.pk).app_label == "whitelist"
    assert types.get(pk=call_type.pk).app_label == "parkingops"
    granted = new.get_model("auth", "Group").objects.get(name="财务").permissions.get()
    assert (granted.content_type.app_label, granted.codename) == ("whitelist", "view_park")
