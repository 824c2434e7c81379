"""Reads of the push log: which refused pushes were fixed since.

A refused push is *fixed* when its pay serial now has an order: a later replay or platform
retry was accepted (or finance created the order from the platform's list). Asked per row
with ``EXISTS`` on the order's unique pay serial, so a page of the log costs no extra query.
"""

from django.db.models import Exists, OuterRef, Q, QuerySet

from orders.models import PayOrder, PushLog
from orders.push.outcomes import ACKNOWLEDGED_REASONS

# The refused rows; the same condition as the partial index pushlog_refused_received_at, so a
# filter on it walks that index newest first.
REFUSED = ~Q(reason__in=ACKNOWLEDGED_REASONS)


def _order_exists() -> Exists:
    return Exists(PayOrder.objects.filter(pay_serial=OuterRef("pay_serial")))


def with_fixed(queryset: QuerySet[PushLog]) -> QuerySet[PushLog]:
    """Annotate each row with ``order_now``: its pay serial has an order (for a refused row:
    it was fixed). Run only for the rows fetched, one index lookup each."""
    return queryset.annotate(order_now=_order_exists())


def fixed(queryset: QuerySet[PushLog], *, is_fixed: bool) -> QuerySet[PushLog]:
    """Return the refused rows whose pay serial has an order now (``is_fixed``) or has none."""
    exists = _order_exists()
    return queryset.filter(REFUSED, exists if is_fixed else ~exists)
