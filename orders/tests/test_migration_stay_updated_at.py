"""Migration 0021 gives every stay its last change (``updated_at``, read by the incremental
sync): the later of its pushes' arrival, whichever came, and the entry time as a last resort."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = ("orders", "0020_daily_takings_rollup")
AFTER = ("orders", "0022_sync_indexes")
T = datetime(2026, 11, 1, 8, tzinfo=UTC)


def _migrate(target):
    """Migrate ``orders`` to ``target``, every other app to its latest; return the models."""
    leaves = MigrationExecutor(connection).loader.graph.leaf_nodes()
    targets = [target, *[(app, name) for app, name in leaves if app != "orders"]]
    MigrationExecutor(connection).migrate(targets)
    return MigrationExecutor(connection).loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_each_stay_takes_the_later_of_its_pushes_arrival():
    old = _migrate(BEFORE)
    park = old.get_model("whitelist", "Park").objects.create(park_uuid="P-1", name="东门")
    Stay = old.get_model("orders", "Stay")

    def stay(serial, **times):
        Stay.objects.create(
            parking_serial=serial,
            park=park,
            plate="川A660P1",
            plate_raw="川A660P1",
            app_id="op",
            enter_time=T,
            **times,
        )

    stay("entry-only", entry_received_at=T + timedelta(minutes=1))
    stay("exit-only", exit_received_at=T + timedelta(hours=2))
    stay(
        "both", entry_received_at=T + timedelta(minutes=1), exit_received_at=T + timedelta(hours=1)
    )
    stay(
        "exit-first",
        entry_received_at=T + timedelta(hours=3),
        exit_received_at=T + timedelta(hours=1),
    )
    stay("neither")

    try:
        new = _migrate(AFTER)
        updated = dict(
            new.get_model("orders", "Stay").objects.values_list("parking_serial", "updated_at")
        )
    finally:
        _migrate(("orders", _latest()))  # the other tests expect the latest schema

    assert updated == {
        "entry-only": T + timedelta(minutes=1),
        "exit-only": T + timedelta(hours=2),
        "both": T + timedelta(hours=1),
        "exit-first": T + timedelta(hours=3),
        "neither": T,
    }


def _latest() -> str:
    return max(
        name
        for app, name in MigrationExecutor(connection).loader.graph.leaf_nodes()
        if app == "orders"
    )
