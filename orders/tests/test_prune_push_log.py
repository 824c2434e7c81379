"""prune_push_log: old refusals go, anything that produced an order stays."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from orders.models import PushLog
from orders.tests.factories import PayOrderFactory


def log(days_ago: int, *, order=None, reason: str = "not_whitelisted") -> PushLog:
    return PushLog.objects.create(
        received_at=timezone.now() - timedelta(days=days_ago),
        code="1001" if order else "1403",
        reason=reason,
        order=order,
    )


def test_prune_deletes_old_rows_without_an_order_in_batches(db):
    order = PayOrderFactory()
    old_refusals = [log(40) for _ in range(5)]
    kept = [log(40, order=order, reason="accepted"), log(10), log(0)]
    out = StringIO()

    call_command("prune_push_log", older_than=30, batch_size=2, stdout=out)

    assert not PushLog.objects.filter(pk__in=[row.pk for row in old_refusals]).exists()
    assert set(PushLog.objects.values_list("pk", flat=True)) == {row.pk for row in kept}
    assert "5" in out.getvalue()


@pytest.mark.parametrize("days", [0, -3])
def test_prune_refuses_a_window_under_one_day(db, days):
    with pytest.raises(CommandError):
        call_command("prune_push_log", older_than=days)
