"""Reads of the push log: which refused pushes were fixed since.

A refused pay-order push is *fixed* when its pay serial now has an order: a later replay or
platform retry was accepted (or finance created the order from the platform's list); a refused
renewal push when its pay serial now has a renewal. A refused entry or exit push is fixed when
a later push of the same kind and plate stored a stay that has that half (its entry, or its
exit): the log row keeps no parking serial. Asked per row with ``EXISTS`` on indexed columns,
so a page of the log costs no extra query.
"""

from django.db.models import BooleanField, Case, Exists, OuterRef, Q, QuerySet, Subquery, When

from orders.models import PayOrder, PushLog
from orders.push.outcomes import ACKNOWLEDGED_REASONS
from orders.stays.models import Renewal
from whitelist.models import Park

# The refused rows; the same condition as the partial index pushlog_refused_received_at, so a
# filter on it walks that index newest first.
REFUSED = ~Q(reason__in=ACKNOWLEDGED_REASONS)


def _stored_by_later_push(kind: str, half: str) -> Exists:
    """A later push of ``kind`` and the same plate stored a stay with ``half`` received."""
    return Exists(
        PushLog.objects.filter(
            kind=kind,
            plate=OuterRef("plate"),
            received_at__gte=OuterRef("received_at"),
            stay__isnull=False,
            **{f"stay__{half}_received_at__isnull": False},
        )
    )


def _order_exists() -> Case:
    """Whether the record the row's push was about exists now (per the row's kind)."""
    return Case(
        When(
            Q(kind=PushLog.Kind.ENTRY),
            then=_stored_by_later_push(PushLog.Kind.ENTRY, "entry"),
        ),
        When(Q(kind=PushLog.Kind.EXIT), then=_stored_by_later_push(PushLog.Kind.EXIT, "exit")),
        When(
            Q(kind=PushLog.Kind.RENEWAL),
            then=Exists(Renewal.objects.filter(pay_serial=OuterRef("pay_serial"))),
        ),
        default=Exists(PayOrder.objects.filter(pay_serial=OuterRef("pay_serial"))),
        output_field=BooleanField(),
    )


def for_list(queryset: QuerySet[PushLog]) -> QuerySet[PushLog]:
    """Annotate each row with what the push log's pages show besides its columns.

    ``order_now``: the record its push was about exists now (for a refused row: it was
    fixed; see the module's docstring per kind);
    ``refusal_park_name``: the name of the park of another park's entry that did not let the
    plate in. Correlated subqueries on unique keys, run only for the rows fetched.
    """
    names = Park.objects.filter(park_uuid=OuterRef("refusal_park")).order_by().values("name")
    return queryset.annotate(order_now=_order_exists(), refusal_park_name=Subquery(names[:1]))


def fixed(queryset: QuerySet[PushLog], *, is_fixed: bool) -> QuerySet[PushLog]:
    """Return the refused rows whose record exists now (``is_fixed``) or does not."""
    return queryset.alias(record_now=_order_exists()).filter(REFUSED, record_now=is_fixed)
