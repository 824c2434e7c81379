"""The list filters of orders, merchant coupons, the push log, stays and renewals.

Each filter is backed by an index (see ``orders.models`` and migration 0003); the bases, which
refuse a value they cannot use, are in ``parkingops.adminkit``.
"""

from django.db.models import Exists, OuterRef
from django.utils.translation import gettext_lazy as _

from orders.channels import channel_label, channel_names
from orders.models import Discount, MerchantCoupon, PayOrder, PushLog
from orders.push.outcomes import LOGGED_CHOICES
from orders.selectors import pushlog as pushlog_selectors
from orders.stays import selectors as stay_selectors
from orders.stays.models import Renewal
from parkingops.adminkit import (
    ChoiceFilter,
    DateRangeFilter,
    DistinctValuesFilter,
    FieldChoicesFilter,
)
from parkingops.queries import distinct_values
from whitelist.models import Park


class PayDateRangeFilter(DateRangeFilter):
    title = _("pay date")


class CouponPayDateRangeFilter(DateRangeFilter):
    title = _("pay date")
    field = "order__pay_time"


class PushLogDateRangeFilter(DateRangeFilter):
    title = _("date received")
    field = "received_at"
    parameter_from = "received_date_from"
    parameter_to = "received_date_to"


class ParkFilter(ChoiceFilter):
    """The park, by its uuid (``?park=<uuid>``, as in the daily summary)."""

    title = _("park")
    parameter_name = "park"
    path = "park__"

    def lookups(self, request, model_admin):
        return list(Park.objects.order_by("name", "park_uuid").values_list("park_uuid", "name"))

    def filter(self, queryset, value):
        return queryset.filter(**{f"{self.path}park_uuid": value})


class CouponParkFilter(ParkFilter):
    path = "order__park__"


class ChannelFilter(DistinctValuesFilter):
    """The channels orders were paid through, by name (the code when unnamed); ``?channel=``
    stays the code."""

    title = _("channel")
    parameter_name = "channel"
    model = PayOrder
    field_name = "channel"

    def lookups(self, request, model_admin):
        names = channel_names()
        return [
            (code, channel_label(code, names))
            for code, _label in super().lookups(request, model_admin)
        ]


class StoreFilter(DistinctValuesFilter):
    title = _("store code")
    parameter_name = "store"
    model = MerchantCoupon
    field_name = "store_code"


class PushCodeFilter(DistinctValuesFilter):
    title = _("code")
    parameter_name = "code"
    model = PushLog
    field_name = "code"


class PushReasonFilter(ChoiceFilter):
    """The logged outcomes (every push outcome but ``throttled``, which is never logged), by
    their labels with the reason the platform sees: 未在白名单 (not_whitelisted)."""

    title = _("reason")
    parameter_name = "reason"

    def lookups(self, request, model_admin):
        return [(value, f"{label} ({value})") for value, label in LOGGED_CHOICES]

    def filter(self, queryset, value):
        return queryset.filter(reason=value)


class PushFixedFilter(ChoiceFilter):
    """Refused pushes whose order exists now (a replay or retry was accepted), or not yet."""

    title = _("fixed")
    parameter_name = "fixed"

    def lookups(self, request, model_admin):
        return [("1", _("Fixed")), ("0", _("Not fixed"))]

    def filter(self, queryset, value):
        return pushlog_selectors.fixed(queryset, is_fixed=value == "1")


class HasRelatedFilter(ChoiceFilter):
    """``1``: orders with at least one related row; ``0``: orders with none (on the FK index)."""

    related_model: type = Discount

    def lookups(self, request, model_admin):
        return [("1", _("Yes")), ("0", _("No"))]

    def filter(self, queryset, value):
        related = Exists(self.related_model.objects.filter(order=OuterRef("pk")))
        return queryset.filter(related if value == "1" else ~related)


class HasDiscountsFilter(HasRelatedFilter):
    title = _("has discounts")
    parameter_name = "has_discounts"
    related_model = Discount


class HasCouponsFilter(HasRelatedFilter):
    title = _("has merchant coupons")
    parameter_name = "has_coupons"
    related_model = MerchantCoupon


class SourceFilter(FieldChoicesFilter):
    """Where an order came from: the platform's push, or a reconciliation."""

    title = _("source")
    parameter_name = field = "source"
    options = PayOrder.Source


# --- Stays and renewals ----------------------------------------------------------------------


class EntryDateRangeFilter(DateRangeFilter):
    title = _("entry date")
    field = "enter_time"
    parameter_from = "entry_date_from"
    parameter_to = "entry_date_to"


class ExitDateRangeFilter(DateRangeFilter):
    title = _("exit date")
    field = "leave_time"
    parameter_from = "exit_date_from"
    parameter_to = "exit_date_to"


class InParkFilter(ChoiceFilter):
    """``1``: the car is in the park now (entry, no exit); ``0``: it has left."""

    title = _("in park now")
    parameter_name = "in_park"

    def lookups(self, request, model_admin):
        return [("1", _("In park")), ("0", _("Left"))]

    def filter(self, queryset, value):
        return queryset.in_park() if value == "1" else queryset.left()


class HasGapFilter(ChoiceFilter):
    """``1``: left stays whose pay orders do not add up (``stays.selectors.with_a_gap``)."""

    title = _("has a gap")
    parameter_name = "has_gap"

    def lookups(self, request, model_admin):
        return [("1", _("Yes")), ("0", _("No"))]

    def filter(self, queryset, value):
        gapped = stay_selectors.with_a_gap(queryset.model.objects.all()).values("pk")
        return queryset.filter(pk__in=gapped) if value == "1" else queryset.exclude(pk__in=gapped)


class NeedsReviewFilter(ChoiceFilter):
    title = _("marked for review")
    parameter_name = "review"

    def lookups(self, request, model_admin):
        return [("1", _("Yes")), ("0", _("No"))]

    def filter(self, queryset, value):
        return queryset.filter(needs_review=value == "1")


class VipTypeFilter(ChoiceFilter):
    """The fixed-car type by its label; an unknown code (stored as pushed) by its number."""

    title = _("fixed-car type")
    parameter_name = "vip_type"

    def lookups(self, request, model_admin):
        known = dict(Renewal.VipType.choices)
        codes = distinct_values(model=Renewal, field_name="vip_type")
        return [(str(code), known.get(code, str(code))) for code in sorted(set(codes) | set(known))]

    def filter(self, queryset, value):
        return queryset.filter(vip_type=int(value))


class PushKindFilter(FieldChoicesFilter):
    """Which push a row is: pay order, entry, exit or renewal."""

    title = _("push kind")
    parameter_name = field = "kind"
    options = PushLog.Kind
