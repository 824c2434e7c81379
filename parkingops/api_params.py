"""The integration API's rule that no query parameter is given empty, where DRF meets the query
string: the filter backend, ``?format=`` (the content negotiation) and the paginator
(``parkingops.api.KeysetPagination``) all call ``refuse_empty``.

``?status=`` (say, a script's unset variable) must not quietly mean "every status" and return,
or export, everything: a parameter is either left out or given a value. The schema says it with
``pattern: \\S`` (``parkingops.schema.document_errors``).
"""

from collections.abc import Iterable

from django.urls import NoReverseMatch, reverse
from django.utils import translation
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
                message = _elsewhere(request, raw) or gettext("Choose one of: %(choices)s.") % {
                    "choices": ", ".join(formats)
                }
                raise exceptions.ValidationError({name: [message]})
        return super().select_renderer(request, renderers, format_suffix)


# The file formats of the export operations (``parkingops.api.FileExportView``).
FILE_FORMATS = ("csv", "xlsx")


def _elsewhere(request, file_format: str) -> str | None:
    """Return where the file ``file_format`` of this JSON call is, when it has one: a JSON call
    names its export operation's URL name in ``file_export``."""
    view = (getattr(request, "parser_context", None) or {}).get("view")
    url_name = getattr(view, "file_export", None)
    if file_format not in FILE_FORMATS or not url_name:
        return None
    try:
        url = reverse(url_name)
    except NoReverseMatch:
        return None
    return gettext(
        "This call answers JSON only: its %(format)s file is GET %(url)s?format=%(format)s, "
        "with the same filters."
    ) % {"format": file_format, "url": url}


def language_param(params, name: str = "lang") -> str | None:
    """Return the language the parameter ``name`` asks for (``zh``, ``zh-Hans``, ``en-US``… as
    Django reads them), None when it is not given; 400 when empty or unknown."""
    refuse_empty(params, [name])
    asked = params.get(name)
    if asked is None:
        return None
    try:
        return translation.get_supported_language_variant(asked.strip())
    except LookupError:
        raise exceptions.ValidationError(
            {name: [gettext("Unknown language: use zh-hans or en.")]}
        ) from None
