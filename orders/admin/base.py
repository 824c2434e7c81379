"""What the orders admin areas share: the permissions they check, and "Export CSV" of a list.

Exports reuse the list's own filtering: what you see is what you export.
"""

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseBadRequest
from django.urls import path, reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from orders.permissions import EXPORT_ORDERS
from parkingops import tabular
from parkingops.adminkit import DateRangeFilter, ReadOnlyAdmin, filter_errors, pretty_json


class ExportChangeList(ChangeList):
    """The list's own filters, search and ordering, without counting or paging: for exports."""

    def get_results(self, request):
        self.result_list = self.queryset


class CsvExportAdmin(ReadOnlyAdmin):
    """An "Export CSV" of the whole filtered list at ``<changelist>/export/?<its query>``."""

    export_kind = ""

    def get_urls(self):
        name = f"{self.opts.app_label}_{self.opts.model_name}_export"
        export = path("export/", self.admin_site.admin_view(self.export_view), name=name)
        return [export, *super().get_urls()]

    def has_export_permission(self, request) -> bool:
        return self.has_view_permission(request) and request.user.has_perm(EXPORT_ORDERS)

    def get_changelist_instance(self, request, *, export: bool = False):
        """Django's changelist; with ``export``, the same one unpaged and uncounted, and its
        filter errors left to the caller instead of shown as messages."""
        if not export:
            return super().get_changelist_instance(request)
        # The arguments of ModelAdmin.get_changelist_instance, built the same way: the action
        # checkbox counts as a column, so the ordering ``o`` names the same columns as the list.
        list_display = self.get_list_display(request)
        list_display_links = self.get_list_display_links(request, list_display)
        if self.get_actions(request):
            list_display = ["action_checkbox", *list_display]
        return ExportChangeList(
            request,
            self.model,
            list_display,
            list_display_links,
            self.get_list_filter(request),
            self.date_hierarchy,
            self.get_search_fields(request),
            self.get_list_select_related(request),
            self.list_per_page,
            self.list_max_show_all,
            self.list_editable,
            self,
            self.get_sortable_by(request),
            self.search_help_text,
        )

    def changelist_view(self, request, extra_context=None):
        if self.has_export_permission(request):
            name = f"admin:{self.opts.app_label}_{self.opts.model_name}_export"
            extra_context = {**(extra_context or {}), "export_url": reverse(name)}
        return super().changelist_view(request, extra_context)

    def export_view(self, request):
        if not self.has_export_permission(request):
            raise PermissionDenied
        # The changelist itself reads the query string (filters, search ``q``, ordering
        # ``o``), so the export cannot drift from the list.
        try:
            changelist = self.get_changelist_instance(request, export=True)
        except IncorrectLookupParameters:
            return HttpResponseBadRequest(
                gettext("The export's filters are not valid."),
                content_type="text/plain; charset=utf-8",
            )
        errors = filter_errors(changelist)
        if errors:
            return HttpResponseBadRequest(
                "\n".join(errors), content_type="text/plain; charset=utf-8"
            )
        days = next(
            (spec for spec in changelist.filter_specs if isinstance(spec, DateRangeFilter)), None
        )
        filename = tabular.export_filename(
            self.export_kind, days and days.date_from, days and days.date_to
        )
        return tabular.csv_response(self.export_csv(request, changelist.queryset), filename)

    def export_csv(self, request, queryset):
        raise NotImplementedError


class ExtraFieldsMixin:
    """The fields the platform sent that we do not model, pretty-printed."""

    @admin.display(description=_("extra fields"))
    def extra_display(self, obj):
        return pretty_json(obj.extra)
