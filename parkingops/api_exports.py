"""The integration API's export operations (``GET …/export/?format=csv|xlsx``): the whole of
what a JSON call answers, as a file of its own operation, with the JSON call's filters.

The JSON calls answer JSON only (their ``?format=csv`` is a 400 saying where the file is:
``parkingops.api_params``); in the schema an export answers ``text/csv`` as a string (a
generated client reads it as text) or the XLSX media type as a binary string, never JSON (but
its refusals and 400s, which are JSON).
"""

from collections.abc import Callable, Iterator
from contextlib import nullcontext
from typing import IO, Any

from django.db.models import QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, generics
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response

from parkingops import tabular, xlsx
from parkingops.api import KeysetPagination
from parkingops.api_params import StrictParamsMixin, language_param


class CsvRenderer(BaseRenderer):
    """Selects the CSV file of an export operation (``?format=csv`` or ``Accept: text/csv``).

    The exports stream their CSV themselves; errors are answered as JSON (see
    ``FileExportView.finalize_response``), so this renderer never renders data itself.
    """

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return JSONRenderer().render(data, renderer_context=renderer_context)


class XlsxRenderer(CsvRenderer):
    """Selects the XLSX file of an export operation (``?format=xlsx`` or ``Accept:`` its media
    type); like ``CsvRenderer``, it never renders data itself."""

    media_type = xlsx.MEDIA_TYPE
    format = "xlsx"
    charset = None


EXPORT_LANGUAGE = "lang"
CSV_RESPONSE = OpenApiResponse(
    OpenApiTypes.STR,
    description=_(
        "?format=csv (the default): UTF-8 with BOM, streamed. Without ?lang (or with lang=en) "
        "the columns for machines: English snake_case headers, times ISO-8601 with offset, "
        "money in fen and in yuan; with lang=zh the admin's export with Chinese headers."
    ),
)
XLSX_RESPONSE = OpenApiResponse(
    OpenApiTypes.BINARY,
    description=_(
        "?format=xlsx: the admin's Excel export (typed cells, a sheet of the filters), headers "
        "in the language of ?lang or Accept-Language. Above 1,048,575 rows: 400."
    ),
)
LANG_PARAMETER = OpenApiParameter(
    EXPORT_LANGUAGE,
    str,
    enum=["en", "zh"],
    description=_(
        "The CSV's columns: en (the default) for machines, zh the admin's Chinese export; the "
        "language of the Excel file's headers (default: Accept-Language)."
    ),
)


def export_schema(*, summary, description, parameters=(), filters=False):
    """Return the schema of an export operation: a CSV file as text or an XLSX file as a binary
    string."""
    return extend_schema(
        summary=summary,
        description=description,
        parameters=[*parameters, LANG_PARAMETER],
        filters=filters,
        responses={(200, "text/csv"): CSV_RESPONSE, (200, xlsx.MEDIA_TYPE): XLSX_RESPONSE},
    )


class FileExportView(StrictParamsMixin, generics.GenericAPIView):
    """An export operation (``GET …/export/?format=csv|xlsx``): the whole of what a JSON call
    answers, as a file, with the JSON call's filters.

    - CSV (the default): for machines unless ``?lang=zh`` (``machine_csv``: fixed English
      headers, ISO-8601 times, fen beside yuan); with ``lang=zh`` the admin's export in Chinese
      (``people_csv``). Streamed.
    - XLSX: the admin's Excel file (``people_xlsx``), in the language of ``lang`` (default
      Accept-Language), written whole before the answer.

    ``export_permission`` is needed on top of the view permission; refusals and 400s are JSON.
    A subclass reads its query (``export_data``) and names its file (``export_filename``).
    Its parameters are its JSON call's and ``lang`` (``StrictParamsMixin``: others are a 400).
    """

    renderer_classes = [CsvRenderer, XlsxRenderer]
    pagination_class = None
    export_permission: str | None = None

    def check_permissions(self, request) -> None:
        super().check_permissions(request)
        if self.export_permission and not request.user.has_perm(self.export_permission):
            self.permission_denied(
                request, message=_("Exporting CSV needs the “export orders” permission.")
            )

    def known_query_parameters(self, request) -> list[str]:
        return [*super().known_query_parameters(request), EXPORT_LANGUAGE]

    def get(self, request, *args, **kwargs):
        language = language_param(request.query_params, EXPORT_LANGUAGE)
        data = self.export_data()
        filename = self.export_filename(data)
        if request.accepted_renderer.format == XlsxRenderer.format:
            with translation.override(language) if language else nullcontext():
                file = self.xlsx_file(lambda about: self.people_xlsx(data, about))
            return xlsx.xlsx_response(file, xlsx.xlsx_filename(filename))
        if language is not None and language.startswith("zh"):
            with translation.override(language):
                pieces = self.people_csv(data)
            return tabular.csv_response(tabular.in_language(pieces, language), filename)
        return tabular.csv_response(self.machine_csv(data), filename)

    def export_data(self) -> Any:
        """Return what the file holds, read from the query (400 when it cannot be used)."""
        raise NotImplementedError

    def export_filename(self, data) -> str:
        """Return the CSV's file name (the XLSX's ends ``.xlsx``)."""
        raise NotImplementedError

    # The three files' writers, as the export's module names them: ``machine_csv(data)``,
    # ``people_csv(data)``, ``people_xlsx(data, about=…)``. A view whose writers need more (the
    # caller's rights, the summary's table) overrides the three methods instead.
    writers: tuple[Callable, Callable, Callable]

    def machine_csv(self, data) -> Iterator[str]:
        return self.writers[0](data)

    def people_csv(self, data) -> Iterator[str]:
        return self.writers[1](data)

    def people_xlsx(self, data, about: xlsx.About) -> IO[bytes]:
        return self.writers[2](data, about=about)

    def xlsx_about(self) -> xlsx.About:
        """Return what an XLSX's last sheet says: the user, now, and the query string."""
        request = self.request
        filters = [
            (name, value)
            for name, values in sorted(request.query_params.lists())
            if name != "format"
            for value in values
        ]
        return xlsx.About(request.user.get_username(), timezone.now(), filters)

    def xlsx_file(self, make):
        """Return ``make(about)``, the XLSX file, or answer 400 (JSON) when it does not fit."""
        try:
            return make(self.xlsx_about())
        except xlsx.TooManyRows as error:
            raise exceptions.ValidationError({"format": [error.message]}) from None

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if isinstance(response, Response):
            # A refusal or a 400 of a file request is still JSON, in DRF's usual shape.
            response.accepted_renderer = JSONRenderer()
            response.accepted_media_type = JSONRenderer.media_type
        return response


class ListExportView(FileExportView):
    """The export of a list: its rows with the list's filters (``filterset_class``) in the
    list's order (``orderings``, ``?ordering=``), not paged; ``export_data`` is the queryset.
    """

    def known_query_parameters(self, request) -> list[str]:
        # The list's cursor and page_size too: the export refuses them saying why.
        paging = KeysetPagination().query_parameters(self)
        return [*super().known_query_parameters(request), *paging]

    def export_data(self) -> QuerySet:
        queryset = self.filter_queryset(self.get_queryset())
        return KeysetPagination().order(queryset, self.request, self)
