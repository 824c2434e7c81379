"""The integration API's rule that no query parameter is given empty, where DRF meets the query
string: the filter backend, ``?format=`` (the content negotiation) and the paginator
(``parkingops.api.KeysetPagination``) all call ``refuse_empty``.

``?status=`` (say, a script's unset variable) must not quietly mean "every status" and return,
or export, everything: a parameter is either left out or given a value. The schema says it with
``pattern: \\S`` (``parkingops.schema.document_errors``).
"""

from collections.abc import Iterable

from django.utils.translation import gettext
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import exceptions, negotiation


def refuse_empty(params, names: Iterable[str]) -> None:
    """Raise a 400 naming every parameter of ``names`` given with an empty (blank) value."""
    errors = {
        name: [gettext("This parameter must not be empty: leave it out instead.")]
        for name in names
        if any(not value.strip() for value in params.getlist(name))
    }
    if errors:
        raise exceptions.ValidationError(errors)


class FilterBackend(DjangoFilterBackend):
    """django-filter's backend, refusing a filter given empty (``refuse_empty``)."""

    def get_filterset(self, request, queryset, view):
        filterset = super().get_filterset(request, queryset, view)
        if filterset is not None:
            refuse_empty(request.query_params, filterset.filters)
        return filterset


class FormatNegotiation(negotiation.DefaultContentNegotiation):
    """DRF's negotiation, with ``?format=`` empty or unknown a 400 naming the parameter (DRF
    alone ignores an empty one and answers 404 for an unknown one)."""

    def select_renderer(self, request, renderers, format_suffix=None):
        name = self.settings.URL_FORMAT_OVERRIDE
        raw = request.query_params.get(name) if name else None
        if raw is not None and not format_suffix:
            refuse_empty(request.query_params, [name])
            formats = list(dict.fromkeys(renderer.format for renderer in renderers))
            if raw not in formats:
                raise exceptions.ValidationError(
                    {
                        name: [
                            gettext("Choose one of: %(choices)s.") % {"choices": ", ".join(formats)}
                        ]
                    }
                )
        return super().select_renderer(request, renderers, format_suffix)
