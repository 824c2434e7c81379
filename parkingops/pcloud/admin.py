"""The platform's call log in the admin: every call to its open API, read-only."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from parkingops.adminkit import (
    DateRangeFilter,
    DistinctValuesFilter,
    EstimatedCountPaginator,
    ReadOnlyAdmin,
    pretty_json,
)
from parkingops.pcloud.models import PlatformCall


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


@admin.register(PlatformCall)
class PlatformCallAdmin(ReadOnlyAdmin):
    """Every call to the platform's open API, as recorded by the client (no secret, no sign)."""

    list_display = ["called_at", "method", "endpoint", "code", "message", "duration_ms"]
    sortable_by = ["called_at"]
    list_filter = [CallDateRangeFilter, EndpointFilter, CallCodeFilter]
    paginator = EstimatedCountPaginator
    list_per_page = 50
    actions = None
    fields = ["called_at", "method", "endpoint", "code", "message", "duration_ms", "params_display"]
    readonly_fields = fields

    @admin.display(description=_("parameters"))
    def params_display(self, obj):
        return pretty_json(obj.params)
