"""Reads of stays: what their pay orders paid and the payment gap (PLATFORM_PUSHES.md, *The
stay*), written once for the admin, the API, the exports, the statements and the
reconciliation."""

from django.db.models import (
    BigIntegerField,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
)
from django.db.models.functions import Coalesce

from orders.models import PayOrder
from orders.stays.models import Stay


def _paid_by_pushes() -> Subquery:
    """The pay orders of the stay in the outer query (by ``parking_serial``), summed in fen."""
    paid = (
        PayOrder.objects.filter(parking_serial=OuterRef("parking_serial"))
        .order_by()
        .values("parking_serial")
        .annotate(total=Sum("pay_value"))
        .values("total")
    )
    return Subquery(paid, output_field=BigIntegerField())


def with_gap(queryset: QuerySet[Stay]) -> QuerySet[Stay]:
    """Annotate each stay with ``paid_by_pushes`` (its pay orders' amounts, 0 when none) and
    ``gap``: ``total_value − free_value − autopay_value − paid_by_pushes`` once the exit has
    told the fee, else None (the car is in the park, or the exit was never pushed)."""
    return queryset.annotate(
        paid_by_pushes=Coalesce(_paid_by_pushes(), 0, output_field=BigIntegerField()),
        gap=ExpressionWrapper(
            F("total_value")
            - Coalesce("free_value", 0)
            - Coalesce("autopay_value", 0)
            - F("paid_by_pushes"),
            output_field=BigIntegerField(),
        ),
    )


def with_a_gap(queryset: QuerySet[Stay]) -> QuerySet[Stay]:
    """The left stays whose pay orders did not add up to what the stay says was due
    (``with_gap``'s ``gap`` is not 0): a lost pay-order push, or cash at the gate."""
    return (
        with_gap(queryset).filter(leave_time__isnull=False).exclude(Q(gap=0) | Q(gap__isnull=True))
    )
