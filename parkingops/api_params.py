"""The integration API's strict reading of its input, where DRF meets it.

- No query parameter is given empty: the filter backend, ``?format=`` (the content
  negotiation) and the paginator (``parkingops.api.KeysetPagination``) all call
  ``refuse_empty``. ``?status=`` (say, a script's unset variable) must not quietly mean "every
  status" and return, or export, everything: a parameter is either left out or given a value.
  The schema says it with ``pattern: \\S`` (``parkingops.schema.document_errors``).
- No query parameter the call does not read (``StrictParamsMixin``, on every view of the API),
  and no body field a serializer does not have (``StrictFieldsMixin``): a typo is a 400 naming
  it, never ignored.
"""

from collections.abc import Iterable, Mapping

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


# --- Strict input: every parameter and body field is one the call knows ----------------------


def unknown_parameter(known: Iterable[str]) -> str:
    """The message of a query parameter the call does not read."""
    return gettext("Not a parameter of this call; it reads: %(names)s.") % {
        "names": ", ".join(sorted(known))
    }


def unknown_field(known: Iterable[str]) -> str:
    """The message of a body field the call does not read."""
    return gettext("Not a field of this call; it reads: %(names)s.") % {
        "names": ", ".join(sorted(known))
    }


def filter_parameters(filterset_class) -> list[str]:
    """Return the query parameters a django-filter FilterSet reads: its filters' names, a
    range filter's with its widget's suffixes (``pay_time_after``, ``pay_time_before``)."""
    names = []
    for name, filter_ in filterset_class.base_filters.items():
        widget = filter_.field_class.widget
        widget = filter_.extra.get("widget", widget)
        suffixes = getattr(widget, "suffixes", None)
        if suffixes:
            names += [f"{name}_{suffix}" if suffix else name for suffix in suffixes]
        else:
            names.append(name)
    return names


class StrictParamsMixin:
    """For every view of the integration API: a query parameter the call does not read is a
    400 naming it, never silently ignored (``?pay_time_from=`` for ``pay_time_after`` would
    otherwise return, or export, everything).

    What a call reads is derived, not listed by hand: ``format``; for a read (GET, HEAD) the
    filterset's filters (``filter_parameters``) and the paginator's ``cursor``, ``page_size``
    and ``ordering``; and the view's own ``query_parameters`` per method (``{"GET":
    ("from", "to")}``, ``{"DELETE": ("reason",)}``). Checked after the key and its rights, so
    a caller without them learns nothing of the call.
    """

    query_parameters: dict[str, tuple[str, ...]] = {}

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        method = request.method.lower()
        if method not in self.http_method_names or not hasattr(self, method):
            return  # the call does not take the method: DRF answers 405, whatever the query
        known = set(self.known_query_parameters(request))
        unknown = [name for name in request.query_params if name not in known]
        if unknown:
            message = unknown_parameter(known)
            raise exceptions.ValidationError({name: [message] for name in unknown})

    def known_query_parameters(self, request) -> list[str]:
        """Return the names of the query parameters this request may give."""
        method = "GET" if request.method in ("GET", "HEAD", "OPTIONS") else request.method
        names = [self.settings.URL_FORMAT_OVERRIDE, *self.query_parameters.get(method, ())]
        if method == "GET":
            filterset_class = getattr(self, "filterset_class", None)
            if filterset_class is not None:
                names += filter_parameters(filterset_class)
            if getattr(self, "pagination_class", None) is not None and hasattr(self, "list"):
                names += self.pagination_class().query_parameters(self)
        return [name for name in names if name]


class StrictFieldsMixin:
    """For a serializer of a request body: a field it does not have is a 400 naming it (a
    typo, ``valid_untill``, must not be dropped and the entry saved without an end). A
    read-only field it has (``id``, ``status`` of an entry read back) is accepted and ignored,
    so an entry read, changed and sent back is fine."""

    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            known = set(self.fields)
            unknown = [name for name in data if name not in known]
            if unknown:
                writable = [name for name, field in self.fields.items() if not field.read_only]
                message = unknown_field(writable)
                raise exceptions.ValidationError({str(name): [message] for name in unknown})
        return super().to_internal_value(data)
