"""Reads of stays: what their pay orders paid and the payment gap (PLATFORM_PUSHES.md, *The
stay*), written once for the admin, the API, the exports, the statements and the
reconciliation."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import (
    BigIntegerField,
    Case,
    Count,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Reverse

from orders.models import PayOrder
from orders.stays.models import Renewal, Stay
from whitelist import plates


def _paid_by_pushes(received_before: datetime | None) -> Subquery:
    """The pay orders of the stay in the outer query (by ``parking_serial``), summed in fen:
    those received before ``received_before`` when given (the rollup's, ``orders.rollup``)."""
    orders = PayOrder.objects.filter(parking_serial=OuterRef("parking_serial"))
    if received_before is not None:
        orders = orders.filter(received_at__lt=received_before)
    paid = (
        orders.order_by().values("parking_serial").annotate(total=Sum("pay_value")).values("total")
    )
    return Subquery(paid, output_field=BigIntegerField())


def due() -> ExpressionWrapper:
    """What a stay's exit says its pay orders had to pay, in fen: the fee less the discounts
    and the autopay; None until the exit has told the fee. A stay's ``gap`` is this less
    ``paid_by_pushes`` (``with_gap``; the rollup's rebuild works it out from the two)."""
    return ExpressionWrapper(
        F("total_value") - Coalesce("free_value", 0) - Coalesce("autopay_value", 0),
        output_field=BigIntegerField(),
    )


def with_gap(
    queryset: QuerySet[Stay], *, received_before: datetime | None = None, prefix: str = ""
) -> QuerySet[Stay]:
    """Annotate each stay with ``paid_by_pushes`` (its pay orders' amounts, 0 when none),
    ``gap``: ``total_value − free_value − autopay_value − paid_by_pushes`` once the exit has
    told the fee, else None (the car is in the park, or the exit was never pushed), and
    ``gapped``: 1 when the gap is there and not 0, else 0.

    ``received_before`` counts only the pay orders received before it (the rollup's view of
    the stay); ``prefix`` names the three annotations ``<prefix>paid_by_pushes`` and so on,
    so a query can carry both views."""
    paid, gap = f"{prefix}paid_by_pushes", f"{prefix}gap"
    return queryset.annotate(
        **{
            paid: Coalesce(_paid_by_pushes(received_before), 0, output_field=BigIntegerField()),
            gap: ExpressionWrapper(due() - F(paid), output_field=BigIntegerField()),
            f"{prefix}gapped": Case(
                When(Q(**{f"{gap}__isnull": False}) & ~Q(**{gap: 0}), then=Value(1)),
                default=Value(0),
                output_field=BigIntegerField(),
            ),
        }
    )


def with_stay(orders: QuerySet[PayOrder]) -> QuerySet[PayOrder]:
    """Annotate each pay order with ``stay_pk``: the stay of its ``parking_serial`` (at most one,
    the serial is unique among stays), or None when no entry or exit of it was pushed. One
    indexed lookup per row shown, so a list page pays for its own rows only."""
    stay = Stay.objects.filter(parking_serial=OuterRef("parking_serial")).values("pk")[:1]
    return orders.annotate(stay_pk=Subquery(stay))


def with_a_gap(queryset: QuerySet[Stay]) -> QuerySet[Stay]:
    """The left stays whose pay orders did not add up to what the stay says was due
    (``with_gap``'s ``gap`` is not 0): a lost pay-order push, or cash at the gate."""
    return with_gap(queryset).filter(leave_time__isnull=False, gapped=1)


def search_by_plate_or_serial(queryset: QuerySet, *, term: str, serial: str) -> QuerySet:
    """Narrow stays or renewals to ``term``: their ``serial`` field exactly, or a plate in any
    spelling (normalised first) as the whole plate, its beginning or its ending — the order
    list's search (``orders.selectors.search_orders``)."""
    term = term.strip()
    if not term:
        return queryset
    condition = Q(**{serial: term})
    plate = plates.normalise(term)
    if plate:
        queryset = queryset.alias(plate_reversed=Reverse("plate"))
        condition |= Q(plate__startswith=plate) | Q(plate_reversed__startswith=plate[::-1])
    return queryset.filter(condition)


@dataclass(frozen=True)
class StayTotals:
    """Totals of a set of stays; money in fen, each kind of money on its own."""

    stays: int = 0
    in_park: int = 0
    fee: int = 0
    discounts: int = 0
    autopay: int = 0
    paid_by_pushes: int = 0
    gap: int = 0
    with_a_gap: int = 0


def stay_totals(*, stays: QuerySet[Stay]) -> StayTotals:
    """Return the count, the cars in the park and the money totals of all of ``stays``, the
    gap summed over the left stays (``with_gap``) as the list shows it per row."""
    # A fresh query of the same stays: Django's aggregate over annotations built on other
    # annotations breaks on a query that already carries them (the admin list's).
    chosen = stays.order_by().values("pk")
    base = Stay.objects.filter(pk__in=chosen) if stays.query.has_filters() else Stay.objects.all()
    # values() first: Django then sums the annotations its inner query selects (without them
    # it sums a column the inner query lacks). A stay in the park has no gap (None): the sum
    # is the left stays' gap, as the list shows it per row.
    totals = (
        with_gap(base)
        .values("pk", "total_value", "free_value", "autopay_value", "paid_by_pushes", "gap")
        .aggregate(
            count=Count("pk"),
            fee=Sum("total_value"),
            discounts=Sum("free_value"),
            autopay=Sum("autopay_value"),
            paid=Sum("paid_by_pushes"),
            gap_total=Sum("gap"),  # not "gap": an aggregate may not reuse an annotation's name
        )
    )
    return StayTotals(
        stays=totals["count"] or 0,
        in_park=base.in_park().count(),
        fee=totals["fee"] or 0,
        discounts=totals["discounts"] or 0,
        autopay=totals["autopay"] or 0,
        paid_by_pushes=totals["paid"] or 0,
        gap=totals["gap_total"] or 0,
        with_a_gap=with_a_gap(base).count(),
    )


def renewal_totals(*, renewals: QuerySet[Renewal]) -> list[dict]:
    """Return the count and amount (fen) of ``renewals`` per park and fixed-car type, in park
    name and type order: ``park__name``, ``park__park_uuid``, ``vip_type``, ``count``,
    ``amount``."""
    return list(
        renewals.order_by()
        .values("park__name", "park__park_uuid", "vip_type")
        .annotate(count=Count("pk"), amount=Sum("pay_value"))
        .order_by("park__name", "park__park_uuid", "vip_type")
    )
