"""What the orders admin areas share: the permissions they check, and "Export CSV" of a list.

Exports reuse the list's own filtering: what you see is what you export.
"""

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import PermissionDenied
from django.db import DataError, transaction
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from orders.permissions import EXPORT_ORDERS, VIEW_PERSONAL_DATA
from parkingops import tabular
from parkingops.adminkit import DateRangeFilter, ReadOnlyAdmin, pretty_json
from parkingops.adminquery import bad_query_response, export_changelist, query_string_messages
from parkingops.formatting import mask_mobiles
from parkingops.pcloud.codes import labelled_codes


class CsvExportAdmin(ReadOnlyAdmin):
    """An "Export CSV" of the whole filtered list at ``<changelist>/export/?<its query>``."""

    export_kind = ""

    def get_urls(self):
        name = f"{self.opts.app_label}_{self.opts.model_name}_export"
        export = path("export/", self.admin_site.admin_view(self.export_view), name=name)
        return [export, *super().get_urls()]

    def has_export_permission(self, request) -> bool:
        return self.has_view_permission(request) and request.user.has_perm(EXPORT_ORDERS)

    def changelist_view(self, request, extra_context=None):
        if self.has_export_permission(request):
            name = f"admin:{self.opts.app_label}_{self.opts.model_name}_export"
            extra_context = {**(extra_context or {}), "export_url": reverse(name)}
        return super().changelist_view(request, extra_context)

    def export_view(self, request):
        return self.export_response(request, self.export_kind, self.export_csv)

    def export_response(self, request, kind, write):
        """Answer the CSV ``write(request, queryset)`` writes of the list's filtered queryset,
        named ``kind`` and the list's days."""
        if not self.has_export_permission(request):
            raise PermissionDenied
        # The changelist itself reads the query string (filters, search ``q``, ordering
        # ``o``), so the export cannot drift from the list.
        try:
            changelist = export_changelist(self, request)
        except IncorrectLookupParameters as error:
            return bad_query_response(query_string_messages(error))
        days = next(
            (spec for spec in changelist.filter_specs if isinstance(spec, DateRangeFilter)), None
        )
        filename = tabular.export_filename(kind, days and days.date_from, days and days.date_to)
        try:
            # Run the query once before the first byte: one the database refuses (PostgreSQL:
            # a value it cannot compare) is answered 400 here, not by a 200 whose file stops
            # short. (Starting the stream itself here would hold a COPY open on the connection
            # until the response is read.) A savepoint, so a request in a transaction goes on.
            with transaction.atomic(using=changelist.queryset.db):
                changelist.queryset.exists()
        except DataError:
            return bad_query_response([gettext("The export's filters are not valid.")])
        return tabular.csv_response(write(request, changelist.queryset), filename)

    def export_csv(self, request, queryset):
        raise NotImplementedError


class PersonalDataMixin:
    """Fields shown through a masked twin to users without ``orders.view_personal_data``.

    ``masked_twins`` maps a field of the page to the read-only field showing it masked; the
    page's field lists (declared ``fields`` or ``fieldsets``, an inline's too) are rewritten
    here, so a page never lists the unmasked field to someone who may not see it.
    """

    masked_twins: dict[str, str] = {}

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if request.user.has_perm(VIEW_PERSONAL_DATA):
            return fieldsets
        return [
            (title, {**options, "fields": [self.masked_twins.get(f, f) for f in options["fields"]]})
            for title, options in fieldsets
        ]

    def get_readonly_fields(self, request, obj=None):
        return [*super().get_readonly_fields(request, obj), *self.masked_twins.values()]


def extra_with_labels(extra) -> str:
    """Return the extra fields pretty-printed, then each platform code among them (plate colour,
    car, vehicle and fixed-car type) with its label, so a clerk never reads a bare number."""
    labels = labelled_codes(extra) if isinstance(extra, dict) else []
    if not labels:
        return pretty_json(extra)
    items = format_html_join(
        "",
        "<li>{}: {}</li>",
        # An unlisted code has no label but itself: shown once.
        ((title, label if label == code else f"{label} ({code})") for title, code, label in labels),
    )
    return format_html('{}<ul class="orders-code-labels">{}</ul>', pretty_json(extra), items)


class ExtraFieldsMixin(PersonalDataMixin):
    """The fields the platform sent that we do not model, pretty-printed with their codes'
    labels; their mobile numbers masked (by content, as in the push log) for users without the
    permission."""

    masked_twins = {"extra_display": "extra_masked"}

    @admin.display(description=_("extra fields"))
    def extra_display(self, obj):
        return extra_with_labels(obj.extra)

    @admin.display(description=_("extra fields"))
    def extra_masked(self, obj):
        return extra_with_labels(mask_mobiles(obj.extra))
