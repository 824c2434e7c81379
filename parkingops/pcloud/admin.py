"""The platform's call log in the admin: every call to its open API, read-only.

The platform's answers are shown by their meaning (``codes.answer_label``), the code and
message as sent kept on the call's page; whitelist calls show and are found by their plate.
"""

from django.contrib import admin
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from parkingops.adminkit import (
    DateRangeFilter,
    DistinctValuesFilter,
    EstimatedCountPaginator,
    ReadOnlyAdmin,
    pretty_json,
)
from parkingops.pcloud.codes import answer_label
from parkingops.pcloud.models import PlatformCall

# What a typed plate loses before it is looked up: the separators people type in a plate
# (``whitelist.plates`` is the whole rule, which this layer may not import).
_PLATE_SEPARATORS = str.maketrans("", "", " \t·•-\u3000")


def search_plate(term: str) -> str:
    """Return a typed plate as recorded: without spaces, separators or control characters
    (a NUL no database column holds), in upper case."""
    printable = "".join(char for char in term if char.isprintable())
    return printable.strip().translate(_PLATE_SEPARATORS).upper()


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
    title = _("platform answer")
    parameter_name = "code"
    model = PlatformCall
    field_name = "code"

    def lookups(self, request, model_admin):
        return [
            (code, answer_label(code)) for code, _label in super().lookups(request, model_admin)
        ]


@admin.register(PlatformCall)
class PlatformCallAdmin(ReadOnlyAdmin):
    """Every call to the platform's open API, as recorded by the client (no secret, no sign)."""

    list_display = ["called_at", "method", "endpoint", "plate", "answer_display", "duration_ms"]
    sortable_by = ["called_at"]
    list_filter = [CallDateRangeFilter, EndpointFilter, CallCodeFilter]
    search_fields = ["plate"]  # see get_search_results
    search_help_text = _("A whitelist call's plate, whole, in any spelling (川a 660p1).")
    paginator = EstimatedCountPaginator
    list_per_page = 50
    actions = None
    fields = [
        "called_at",
        "method",
        "endpoint",
        "plate",
        "answer",
        "code",
        "message",
        "duration_ms",
        "params_display",
    ]
    readonly_fields = fields

    def get_search_results(self, request, queryset, search_term):
        """Find a whitelist call by its whole plate (on the plate's index)."""
        plate = search_plate(search_term)
        if not plate:
            return queryset, False
        return queryset.filter(plate=plate), False

    @admin.display(description=_("platform answer"))
    def answer_display(self, obj):
        # The code and message as sent, for whoever needs them, in the tooltip.
        return format_html(
            '<span title="{}">{}</span>', f"{obj.code}: {obj.message}".strip(": "), obj.answer
        )

    @admin.display(description=_("platform answer"))
    def answer(self, obj):
        return obj.answer

    @admin.display(description=_("parameters"))
    def params_display(self, obj):
        return pretty_json(obj.params)
