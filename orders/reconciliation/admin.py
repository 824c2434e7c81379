"""Reconciliation in the admin: the runs (the page that runs one is ``admin_run``, the report
of days not reconciled ``admin_report``); their differences are ``admin_items``."""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from orders.admin.base import CsvExportAdmin
from orders.admin.filters import ParkFilter
from orders.models import ReconciliationItem, ReconciliationRun
from orders.permissions import RUN_RECONCILIATION
from orders.reconciliation.admin_items import search_items  # and registers its admin
from orders.reconciliation.admin_report import unreconciled_page
from orders.reconciliation.admin_run import run_reconciliation
from orders.reconciliation.exports import runs_csv, runs_xlsx
from orders.reconciliation.selectors import category_totals, with_category_counts
from parkingops.adminkit import ChoiceFilter, DayRangeFilter, FieldChoicesFilter
from parkingops.formatting import yuan

# --- Filters ---------------------------------------------------------------------------------


class RunDayRangeFilter(DayRangeFilter):
    """A reconciliation run's day (a date column, not a time), both days inclusive."""

    title = _("date")
    field = "date"
    parameter_from = "date_from"
    parameter_to = "date_to"


class RunStatusFilter(FieldChoicesFilter):
    title = _("status")
    parameter_name = field = "status"
    options = ReconciliationRun.Status


class OpenDifferencesFilter(ChoiceFilter):
    """Runs (days and parks) with differences not resolved yet, or with none open."""

    title = _("open differences")
    parameter_name = "open"

    def lookups(self, request, model_admin):
        return [("1", _("Yes")), ("0", _("No"))]

    def filter(self, queryset, value):
        has_open = ReconciliationItem.objects.filter(run=OuterRef("pk"), resolved_at=None)
        return queryset.filter(Exists(has_open) if value == "1" else ~Exists(has_open))


# --- Runs ------------------------------------------------------------------------------------


def _count_and_amount(count: int, fen: int) -> str:
    """A side's payments in one list cell: the count over the amount ("4 笔" / "¥147.00")."""
    payments = ngettext("%(count)d payment", "%(count)d payments", count) % {"count": count}
    return format_html("{}<br>{}", payments, yuan(fen))


@admin.register(ReconciliationRun)
class ReconciliationRunAdmin(CsvExportAdmin):
    """One park's day compared with the platform's payment list; run again to replace it."""

    export_kind = "reconciliation_runs"
    # Ten columns, so the list fits a 1366-pixel screen beside its filters: each side's count
    # and amount share a cell, the differences per category share one (the run's page has
    # the full table per category).
    list_display = [
        "date",
        "park",
        "status",
        "platform_total",
        "ours_total",
        "matched_count",
        "differences",
        "open_count",
        "not_whitelisted",
        "finished_at",
    ]
    list_display_links = ["date", "park"]
    sortable_by = ["date"]
    list_select_related = ["park"]
    list_filter = [RunDayRangeFilter, ParkFilter, RunStatusFilter, OpenDifferencesFilter]
    search_fields = ["items__pay_serial", "items__plate"]  # see get_search_results
    search_help_text = _(
        "Runs with a difference of this pay serial, parking serial or plate (any spelling)."
    )
    list_per_page = 50
    actions = None
    fields = [
        "date",
        "park",
        "status",
        "message",
        "started_at",
        "finished_at",
        "created_by",
        "category_table",
        "open_count",
        "items_link",
    ]
    readonly_fields = fields

    def get_urls(self):
        run = path(
            "run/",
            self.admin_site.admin_view(self.run_view),
            name="orders_reconciliationrun_run",
        )
        gaps = path(
            "unreconciled/",
            self.admin_site.admin_view(self.unreconciled_view),
            name="orders_reconciliationrun_unreconciled",
        )
        return [run, gaps, *super().get_urls()]

    def get_queryset(self, request):
        return with_category_counts(super().get_queryset(request))

    def get_search_results(self, request, queryset, search_term):
        if not search_term.strip():
            return queryset, False
        items = search_items(ReconciliationItem.objects.all(), search_term)
        return queryset.filter(pk__in=items.values("run_id")), False

    def has_run_permission(self, request) -> bool:
        return self.has_view_permission(request) and request.user.has_perm(RUN_RECONCILIATION)

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "items_url": reverse("admin:orders_reconciliationitem_changelist"),
            "unreconciled_url": reverse("admin:orders_reconciliationrun_unreconciled"),
        }
        if self.has_run_permission(request):
            extra_context["run_url"] = reverse("admin:orders_reconciliationrun_run")
        return super().changelist_view(request, extra_context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = dict(extra_context or {})
        if self.has_run_permission(request):
            extra_context["run_url"] = reverse("admin:orders_reconciliationrun_run")
        return super().change_view(request, object_id, form_url, extra_context)

    def run_view(self, request):
        """The form (day, optional park) that runs a reconciliation now, then shows the run."""
        if not self.has_run_permission(request):
            raise PermissionDenied
        return run_reconciliation(request, model_admin=self)

    def unreconciled_view(self, request):
        """The parks' days without a completed run (see ``admin_report``)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        return unreconciled_page(
            request, model_admin=self, can_run=self.has_run_permission(request)
        )

    def export_csv(self, request, queryset, *, progress):
        return runs_csv(queryset, progress=progress)

    def export_xlsx(self, request, queryset, about, *, progress):
        return runs_xlsx(queryset, about=about, progress=progress)

    @admin.display(description=_("at the platform"))
    def platform_total(self, obj):
        return _count_and_amount(obj.platform_count, obj.platform_value)

    @admin.display(description=_("ours"))
    def ours_total(self, obj):
        return _count_and_amount(obj.ours_count, obj.ours_value)

    @admin.display(description=_("differences"))
    def differences(self, obj):
        """The categories with differences, one a line ("本地缺失 1"); a dash when none."""
        counts = [
            (_("missing here"), obj.missing_here),
            (_("missing at the platform"), obj.missing_at_platform),
            (_("amount differs"), obj.amount_differs),
            (_("other fields differ"), obj.fields_differ),
            (_("stay not paid in full"), obj.stay_gaps),
            (_("order without a stay"), obj.orders_without_stay),
        ]
        lines = [(label, count) for label, count in counts if count]
        if not lines:
            return "—"
        return format_html_join(mark_safe("<br>"), "{}&nbsp;{}", lines)

    @admin.display(description=_("not whitelisted"))
    def not_whitelisted(self, obj):
        return obj.not_whitelisted_count

    @admin.display(description=_("open differences"))
    def open_count(self, obj):
        if not obj.open_count:
            return 0
        url = reverse("admin:orders_reconciliationitem_changelist")
        return format_html(
            '<a href="{}?run__id__exact={}&amp;resolved=0">{}</a>', url, obj.pk, obj.open_count
        )

    @admin.display(description=_("counts and amounts per category"))
    def category_table(self, obj):
        return render_to_string(
            "admin/orders/reconciliationrun/categories.html",
            {
                "run": obj,
                "totals": category_totals(run=obj),
                "items_url": reverse("admin:orders_reconciliationitem_changelist"),
            },
        )

    @admin.display(description=_("differences"))
    def items_link(self, obj):
        url = reverse("admin:orders_reconciliationitem_changelist")
        return format_html(
            '<a href="{}?run__id__exact={}">{}</a>', url, obj.pk, gettext("Show the differences")
        )
