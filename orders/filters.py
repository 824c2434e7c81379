"""The admin's list filters for orders, merchant coupons and the push log.

Each filter is backed by an index (see ``orders.models`` and migration 0003). A filter given a
value it cannot use (a date that is not ``YYYY-MM-DD``, ``has_coupons=2``) does not guess: it
matches nothing and records an error, which the list shows as a message and an export turns
into a 400 answer, so a typo never silently exports everything.
"""

from datetime import date
from typing import Any

from django.contrib import admin
from django.db import models
from django.db.models import Exists, OuterRef, QuerySet
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from orders import selectors
from orders.models import (
    Discount,
    MerchantCoupon,
    PayOrder,
    PushLog,
)
from orders.reconciliation.models import ReconciliationItem, ReconciliationRun
from parkingops.formatting import parse_day
from parkingops.models import PlatformCall
from whitelist.models import Park


def filter_errors(changelist: Any) -> list[str]:
    """Return the messages of every filter of ``changelist`` that was given a bad value."""
    return [error for spec in changelist.filter_specs for error in getattr(spec, "errors", [])]


class DateRangeFilter(admin.ListFilter):
    """Two query parameters, the first and last China-time day (both inclusive), as a form.

    Subclasses name the date-time column (``field``) and the two parameters.
    """

    template = "admin/orders/filters/date_range.html"
    field: str = "pay_time"
    parameter_from: str = "pay_date_from"
    parameter_to: str = "pay_date_to"

    def __init__(self, request, params, model, model_admin):
        super().__init__(request, params, model, model_admin)
        self.errors: list[str] = []
        self.date_from = self._take(params, self.parameter_from)
        self.date_to = self._take(params, self.parameter_to)
        if self.date_from and self.date_to and self.date_from > self.date_to:
            self.errors.append(
                gettext("The first day (%(first)s) is after the last day (%(last)s).")
                % {"first": self.date_from.isoformat(), "last": self.date_to.isoformat()}
            )

    def _take(self, params: dict[str, list[str]], name: str) -> date | None:
        if name not in params:
            return None
        raw = params.pop(name)[-1]
        self.used_parameters[name] = raw
        if not raw.strip():
            return None
        try:
            return parse_day(raw)
        except ValueError as exc:
            self.errors.append(str(exc))
            return None

    def has_output(self) -> bool:
        return True

    def expected_parameters(self) -> list[str]:
        return [self.parameter_from, self.parameter_to]

    def queryset(self, request, queryset: QuerySet) -> QuerySet:
        if self.errors:
            return queryset.none()
        return queryset.filter(
            selectors.in_days(self.field, date_from=self.date_from, date_to=self.date_to)
        )

    def choices(self, changelist):
        expected = self.expected_parameters()
        yield {
            "parameter_from": self.parameter_from,
            "parameter_to": self.parameter_to,
            "value_from": self.used_parameters.get(self.parameter_from, ""),
            "value_to": self.used_parameters.get(self.parameter_to, ""),
            # The form replaces only the two days: every other filter, the search and the
            # ordering ride along as hidden fields.
            "hidden": [
                (name, value)
                for name, values in sorted(changelist.filter_params.items())
                if name not in expected
                for value in values
            ],
            "clear_query_string": changelist.get_query_string(remove=expected),
            "is_active": bool(self.date_from or self.date_to or self.errors),
        }


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


class ChoiceFilter(admin.SimpleListFilter):
    """A SimpleListFilter that refuses a value outside its lookups instead of ignoring it."""

    def __init__(self, request, params, model, model_admin):
        super().__init__(request, params, model, model_admin)
        self.errors: list[str] = []
        value = self.value()
        if value is not None and value not in {str(key) for key, _label in self.lookup_choices}:
            self.errors.append(
                gettext("“%(value)s” is not a valid choice for “%(filter)s”.")
                % {"value": value, "filter": self.title}
            )

    def queryset(self, request, queryset: QuerySet) -> QuerySet | None:
        if self.errors:
            return queryset.none()
        if self.value() is None:
            return None
        return self.filter(queryset, self.value())

    def filter(self, queryset: QuerySet, value: str) -> QuerySet:
        raise NotImplementedError


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


class DistinctValuesFilter(ChoiceFilter):
    """The values of an indexed column, read with a loose index scan (no SELECT DISTINCT)."""

    model: type = PayOrder
    field_name = ""

    def lookups(self, request, model_admin):
        values = selectors.distinct_values(model=self.model, field_name=self.field_name)
        return [(value, value or gettext("(empty)")) for value in values]

    def filter(self, queryset, value):
        return queryset.filter(**{self.field_name: value})


class ChannelFilter(DistinctValuesFilter):
    title = _("channel")
    parameter_name = "channel"
    model = PayOrder
    field_name = "channel"


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
    title = _("reason")
    parameter_name = "reason"

    def lookups(self, request, model_admin):
        return PushLog.Reason.choices

    def filter(self, queryset, value):
        return queryset.filter(reason=value)


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


# --- Reconciliation, platform calls, order source ----------------------------------------------


class FieldChoicesFilter(ChoiceFilter):
    """A model field's own choices (``options``, a TextChoices) as a filter on ``field``."""

    field: str
    options: type[models.TextChoices]

    def lookups(self, request, model_admin):
        return self.options.choices

    def filter(self, queryset, value):
        return queryset.filter(**{self.field: value})


class SourceFilter(FieldChoicesFilter):
    """Where an order came from: the platform's push, or a reconciliation."""

    title = _("source")
    parameter_name = field = "source"
    options = PayOrder.Source


class RunStatusFilter(FieldChoicesFilter):
    title = _("status")
    parameter_name = field = "status"
    options = ReconciliationRun.Status


class CategoryFilter(FieldChoicesFilter):
    title = _("category")
    parameter_name = field = "category"
    options = ReconciliationItem.Category


class RunDayRangeFilter(DateRangeFilter):
    """A reconciliation run's day (a date column, not a time), both days inclusive."""

    title = _("date")
    field = "date"
    parameter_from = "date_from"
    parameter_to = "date_to"

    def queryset(self, request, queryset):
        if self.errors:
            return queryset.none()
        if self.date_from:
            queryset = queryset.filter(**{f"{self.field}__gte": self.date_from})
        if self.date_to:
            queryset = queryset.filter(**{f"{self.field}__lte": self.date_to})
        return queryset


class ItemDayRangeFilter(RunDayRangeFilter):
    field = "run__date"


class ItemParkFilter(ParkFilter):
    path = "run__park__"


class ResolvedFilter(ChoiceFilter):
    """Missing-here payments already turned into (or linked to) an order, or not yet."""

    title = _("order created")
    parameter_name = "resolved"

    def lookups(self, request, model_admin):
        return [("1", _("Yes")), ("0", _("No"))]

    def filter(self, queryset, value):
        return queryset.filter(resolved_order__isnull=value == "0")


class CallDateRangeFilter(DateRangeFilter):
    title = _("date called")
    field = "called_at"
    parameter_from = "called_date_from"
    parameter_to = "called_date_to"


class EndpointFilter(DistinctValuesFilter):
    title = _("endpoint")
    parameter_name = "endpoint"
    model = PlatformCall
    field_name = "endpoint"


class CallCodeFilter(DistinctValuesFilter):
    title = _("code")
    parameter_name = "code"
    model = PlatformCall
    field_name = "code"
