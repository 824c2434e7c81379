"""The admin's query strings: every changelist, and every export built on one, takes only the
parameters it offers and refuses, before any query runs, what the database could not run.

Every registered admin uses ``QueryStringMixin``. A parameter the list does not offer (its list
filters' own and the few lookups its links use, ``extra_lookups``) is refused by
``lookup_allowed``: ``?plate__regex=(``, ``?pk=abc``, ``?foo=1`` never reach the database as
lookups nobody offered. A NUL character anywhere in the query string (PostgreSQL refuses it in
text) is refused before any query runs. Either way, as with any query string Django itself cannot
use, the list goes back to the whole list (``?e=1``) with the reason as a message, and an export
answers 400 with the reason as text.
"""

from collections.abc import Collection, Iterable
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.exceptions import DisallowedModelAdminLookup
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.utils import get_fields_from_path
from django.contrib.admin.views.main import ERROR_FLAG, ChangeList
from django.core.exceptions import BadRequest
from django.db import models
from django.http import HttpRequest, HttpResponseBadRequest, QueryDict
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


def filter_errors(changelist: Any) -> list[str]:
    """Return the messages of every filter of ``changelist`` that was given a bad value."""
    return [error for spec in changelist.filter_specs for error in getattr(spec, "errors", [])]


# --- Query strings ---------------------------------------------------------------------------

# Django refused the query string itself (a page past the last, a value of the wrong type for a
# lookup the list offers): it does not say why in words for people, so this does.
UNUSABLE_QUERY = _("The address holds a filter, search or page number this list cannot use.")
NUL_IN_QUERY = _("The address holds a NUL character (code 0), which cannot be searched for.")
NOT_OFFERED = _("The address holds a filter this list does not have.")
WHOLE_LIST = _("The whole list is shown instead.")


class QueryStringError(IncorrectLookupParameters):
    """A query string a page cannot use, with the messages (translated) that say why."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors


def query_string_errors(query: QueryDict, *, known: Collection[str] | None = None) -> list[str]:
    """Return why a page cannot use ``query``: a NUL character in any name or value (PostgreSQL
    refuses NUL in text, so any query comparing it fails) and, for a page that names the
    parameters it takes (``known``), every other name."""
    errors = []
    if any("\x00" in name or any("\x00" in v for v in values) for name, values in query.lists()):
        errors.append(gettext(NUL_IN_QUERY))
    if known is not None:
        errors.extend(
            gettext("“%(name)s” is not a parameter of this page.") % {"name": name}
            for name in query
            if name not in known and "\x00" not in name
        )
    return errors


def query_string_messages(error: IncorrectLookupParameters) -> list[str]:
    """Return what to tell the user about a query string the admin refused."""
    if isinstance(error, QueryStringError):
        return error.errors
    return [gettext(UNUSABLE_QUERY)]


def bad_query_response(errors: Iterable[str]) -> HttpResponseBadRequest:
    """Answer 400 with the reasons as text: what an export says to a query it cannot use."""
    return HttpResponseBadRequest("\n".join(errors), content_type="text/plain; charset=utf-8")


class CheckedChangeList(ChangeList):
    """Django's changelist, refusing a query string the database could not run before any
    query does: Django's changelist view then goes back to the whole list (``?e=1``)."""

    def get_filters(self, request):
        try:
            return super().get_filters(request)
        except DisallowedModelAdminLookup as error:
            # lookup_allowed refused it: said in words, like every other refusal here.
            raise QueryStringError([gettext(NOT_OFFERED)]) from error

    def get_queryset(self, request, exclude_parameters=None):
        errors = query_string_errors(request.GET)
        if errors:
            raise QueryStringError(errors)
        return super().get_queryset(request, exclude_parameters)


class ExportChangeList(CheckedChangeList):
    """The list's own filters, search and ordering, without counting or paging: for exports.
    A filter given a bad value refuses the export instead of matching nothing."""

    def get_filters_params(self, params=None):
        # Django adds the list's filters to the change pages' links under this name; an export
        # link built from a change page's address carries it along.
        params = super().get_filters_params(params)
        params.pop("_changelist_filters", None)
        return params

    def get_queryset(self, request, exclude_parameters=None):
        queryset = super().get_queryset(request, exclude_parameters)
        errors = filter_errors(self)
        if errors:
            raise QueryStringError(errors)
        return queryset

    def get_results(self, request):
        self.result_list = self.queryset


def export_changelist(model_admin: admin.ModelAdmin, request: HttpRequest) -> ExportChangeList:
    """Return ``model_admin``'s changelist for ``request`` unpaged and uncounted, or raise
    IncorrectLookupParameters (a filter's bad value included) for the export to answer 400."""
    # The arguments of ModelAdmin.get_changelist_instance, built the same way: the action
    # checkbox counts as a column, so the ordering ``o`` names the same columns as the list.
    list_display = model_admin.get_list_display(request)
    list_display_links = model_admin.get_list_display_links(request, list_display)
    if model_admin.get_actions(request):
        list_display = ["action_checkbox", *list_display]
    return ExportChangeList(
        request,
        model_admin.model,
        list_display,
        list_display_links,
        model_admin.get_list_filter(request),
        model_admin.date_hierarchy,
        model_admin.get_search_fields(request),
        model_admin.get_list_select_related(request),
        model_admin.list_per_page,
        model_admin.list_max_show_all,
        model_admin.list_editable,
        model_admin,
        model_admin.get_sortable_by(request),
        model_admin.search_help_text,
    )


def offered_parameters(model_admin: admin.ModelAdmin, request: HttpRequest | None) -> set[str]:
    """Return the query parameters ``model_admin``'s changelist filters by: its list filters'
    (as each filter expects them), its date hierarchy's and its ``extra_lookups``."""
    model = model_admin.model
    names = set(getattr(model_admin, "extra_lookups", ()))
    items = model_admin.get_list_filter(request) if request else model_admin.list_filter
    for item in items:
        if isinstance(item, type) and issubclass(item, admin.SimpleListFilter):
            names.add(item.parameter_name)  # without building it: its lookups may query
        elif isinstance(item, type):
            names.update(item(request, {}, model, model_admin).expected_parameters())
        else:
            field, filter_class = (
                item if isinstance(item, list | tuple) else (item, admin.FieldListFilter.create)
            )
            path = None
            if not isinstance(field, models.Field):
                path, field = field, get_fields_from_path(model, field)[-1]
            spec = filter_class(field, request, {}, model, model_admin, field_path=path)
            names.update(spec.expected_parameters())
    if model_admin.date_hierarchy:
        names.update(f"{model_admin.date_hierarchy}__{part}" for part in ("year", "month", "day"))
    return names


class QueryStringMixin:
    """For every ModelAdmin: the changelist takes only the parameters it offers, refuses a NUL
    anywhere before a query runs, and says in a message what it could not use.

    A query string the list cannot use (a parameter ``lookup_allowed`` refuses, a NUL, a page
    past the last, a value Django cannot convert) sends the user back to the whole list
    (``?e=1``) with the reason as a message; a filter's bad value is shown as a message beside
    the (empty) list it matched. Back at ``?e=1`` with another such query string, the answer is
    400 instead of Django's "database error" page.
    """

    # Lookups the admin's own links use besides its list filters (``run__id__exact``).
    extra_lookups: tuple[str, ...] = ()

    def lookup_allowed(self, lookup, value, request=None):
        return lookup in offered_parameters(self, request) and super().lookup_allowed(
            lookup, value, request
        )

    def get_changelist(self, request, **kwargs):
        return CheckedChangeList

    def get_changelist_instance(self, request):
        try:
            changelist = super().get_changelist_instance(request)
        except IncorrectLookupParameters as error:
            reasons = query_string_messages(error)
            if ERROR_FLAG in request.GET:
                # Django would show its "database error" page: the address is at fault.
                raise BadRequest(" ".join(reasons)) from error
            for reason in reasons:
                messages.error(request, f"{reason} {gettext(WHOLE_LIST)}")
            raise
        for error in filter_errors(changelist):
            messages.error(request, error)
        return changelist
