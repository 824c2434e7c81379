"""``orders`` 0011: differences resolved before notes existed (orders created from "missing
here" payments) get a note, so the "resolved with a note" constraint holds for old data too;
from then on the database refuses a resolution without a note."""

from datetime import UTC, date, datetime

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

from orders.reconciliation.models import ReconciliationItem

BEFORE = ("orders", "0010_times_in_timerange")


def _migrate(targets):
    MigrationExecutor(connection).migrate(targets)
    return MigrationExecutor(connection).loader.project_state(targets).apps


def _latest():
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


@pytest.mark.django_db(transaction=True)
def test_earlier_resolutions_get_a_note_and_a_resolution_without_one_is_refused():
    old = _migrate([BEFORE] + [(app, name) for app, name in _latest() if app != "orders"])
    park = old.get_model("whitelist", "Park").objects.create(park_uuid="P-1", name="南门停车场")
    run = old.get_model("orders", "ReconciliationRun").objects.create(
        date=date(2026, 11, 1), park=park, status="ok"
    )
    items = old.get_model("orders", "ReconciliationItem").objects
    resolved = items.create(
        run=run,
        category="missing_here",
        pay_serial="S1",
        resolved_at=datetime(2026, 11, 2, tzinfo=UTC),
    )
    still_open = items.create(run=run, category="missing_at_platform", pay_serial="S2")

    _migrate(_latest())

    assert "Order created before resolution notes were recorded" in (
        ReconciliationItem.objects.get(pk=resolved.pk).resolution_note
    )
    item = ReconciliationItem.objects.get(pk=still_open.pk)
    assert item.resolution_note == ""
    item.resolved_at = datetime(2026, 11, 3, tzinfo=UTC)
    with pytest.raises(IntegrityError), transaction.atomic():
        item.save()
