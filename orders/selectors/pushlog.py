"""Reads of the push log: which refused pushes were fixed since.

A refused push is *fixed* when its pay serial now has an order: a later replay or platform
retry was accepted (or finance created the order from the platform's list). Asked per row
with ``EXISTS`` on the order's unique pay serial, so a page of the log costs no extra query.
"""

from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery

from orders.models import PayOrder, PushLog
from orders.push.outcomes import ACKNOWLEDGED_REASONS
from whitelist.models import Park

# The refused rows; the same condition as the partial index pushlog_refused_received_at, so a
# filter on it walks that index newest first.
REFUSED = ~Q(reason__in=ACKNOWLEDGED_REASONS)


def _order_exists() -> Exists:
    return Exists(PayOrder.objects.filter(pay_serial=OuterRef("pay_serial")))


def for_list(queryset: QuerySet[PushLog]) -> QuerySet[PushLog]:
    """Annotate each row with what the push log's pages show besides its columns.

    ``order_now``: its pay serial has an order (for a refused row: it was fixed);
    ``refusal_park_name``: the name of the park of another park's entry that did not let the
    plate in. Correlated subqueries on unique keys, run only for the rows fetched.
    """
    names = Park.objects.filter(park_uuid=OuterRef("refusal_park")).order_by().values("name")
    return queryset.annotate(order_now=_order_exists(), refusal_park_name=Subquery(names[:1]))


def fixed(queryset: QuerySet[PushLog], *, is_fixed: bool) -> QuerySet[PushLog]:
    """Return the refused rows whose pay serial has an order now (``is_fixed``) or has none."""
    exists = _order_exists()
    return queryset.filter(REFUSED, exists if is_fixed else ~exists)
