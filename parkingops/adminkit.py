"""Admin pieces every app's admin uses: read-only lists, counts without a separate COUNT(*),
filters that refuse a value they cannot use, and JSON shown for people to read.

A filter given a value it cannot use (a date that is not ``YYYY-MM-DD``, ``has_coupons=2``) does
not guess: it matches nothing and records an error, which the list shows as a message and an
export turns into a 400 answer, so a typo never silently exports everything. How the query
string as a whole is checked is ``parkingops.adminquery``.
"""

import json
from datetime import date

from django.contrib import admin
from django.core.paginator import Paginator
from django.db import models
from django.db.models import QuerySet
from django.utils.functional import cached_property
from django.utils.html import format_html
from django.utils.translation import gettext

from parkingops.adminquery import QueryStringMixin
from parkingops.formatting import parse_day
from parkingops.queries import distinct_values, estimate_count, in_days


def pretty_json(value) -> str:
    """Return decoded JSON indented in a ``<pre>`` block, or ``—`` when there is none."""
    if not value:
        return "—"
    return format_html("<pre>{}</pre>", json.dumps(value, ensure_ascii=False, indent=2))


class EstimatedCountPaginator(Paginator):
    """Count small results exactly; on PostgreSQL, estimate large ones from the planner."""

    @cached_property
    def count(self) -> int:
        return estimate_count(self.object_list)


class ReadOnlyAdmin(QueryStringMixin, admin.ModelAdmin):
    """No add, change or delete for anyone (403); filter errors shown as messages."""

    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# --- Filters ---------------------------------------------------------------------------------


class DateRangeFilter(admin.ListFilter):
    """Two query parameters, the first and last China-time day (both inclusive), as a form.

    Subclasses name the date-time column (``field``) and the two parameters.
    """

    template = "admin/parkingops/filters/date_range.html"
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
        return queryset.filter(in_days(self.field, date_from=self.date_from, date_to=self.date_to))

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


class DayRangeFilter(DateRangeFilter):
    """The same two days on a date column (not a time), both days inclusive."""

    def queryset(self, request, queryset):
        if self.errors:
            return queryset.none()
        if self.date_from:
            queryset = queryset.filter(**{f"{self.field}__gte": self.date_from})
        if self.date_to:
            queryset = queryset.filter(**{f"{self.field}__lte": self.date_to})
        return queryset


def describe_changelist(changelist) -> list[tuple[str, str]]:
    """Return a list's filters and search in words, as (what, value) pairs: what an export's
    file says it was filtered by. Only the filters in use, each with the choice made."""
    words = []
    for spec in changelist.filter_specs:
        if not spec.used_parameters:
            continue
        if isinstance(spec, DateRangeFilter):
            first = spec.date_from.isoformat() if spec.date_from else "…"
            last = spec.date_to.isoformat() if spec.date_to else "…"
            value = f"{first} – {last}"
        else:
            value = "; ".join(
                str(choice["display"])
                for choice in spec.choices(changelist)
                if choice.get("selected")
            )
        words.append((str(spec.title), value))
    if changelist.query:
        words.append((gettext("Search"), changelist.query))
    return words


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


class DistinctValuesFilter(ChoiceFilter):
    """The values of an indexed column, read with a loose index scan (no SELECT DISTINCT)."""

    model: type[models.Model]
    field_name = ""

    def lookups(self, request, model_admin):
        values = distinct_values(model=self.model, field_name=self.field_name)
        return [(value, value or gettext("(empty)")) for value in values]

    def filter(self, queryset, value):
        return queryset.filter(**{self.field_name: value})


class FieldChoicesFilter(ChoiceFilter):
    """A model field's own choices (``options``, a TextChoices) as a filter on ``field``."""

    field: str
    options: type[models.TextChoices]

    def lookups(self, request, model_admin):
        return self.options.choices

    def filter(self, queryset, value):
        return queryset.filter(**{self.field: value})
