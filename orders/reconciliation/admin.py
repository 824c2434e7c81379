"""Reconciliation in the admin: the runs (the page that runs one is ``admin_run``),
their differences, and the action that turns "missing here" payments into orders."""

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from orders.admin.base import CsvExportAdmin, extra_with_labels
from orders.admin.filters import ParkFilter
from orders.models import ReconciliationItem, ReconciliationRun
from orders.permissions import RESOLVE_RECONCILIATION, RUN_RECONCILIATION, VIEW_RECONCILIATION
from orders.reconciliation.admin_run import run_reconciliation
from orders.reconciliation.exports import items_csv, runs_csv
from orders.reconciliation.selectors import category_totals, with_category_counts
from orders.reconciliation.services import NotResolvable, create_missing_order
from parkingops.adminkit import (
    ChoiceFilter,
    DayRangeFilter,
    EstimatedCountPaginator,
    FieldChoicesFilter,
)
from parkingops.formatting import yuan
from whitelist import plates

MAX_RESOLVE = 100


# --- Filters ---------------------------------------------------------------------------------


class RunDayRangeFilter(DayRangeFilter):
    """A reconciliation run's day (a date column, not a time), both days inclusive."""

    title = _("date")
    field = "date"
    parameter_from = "date_from"
    parameter_to = "date_to"


class ItemDayRangeFilter(RunDayRangeFilter):
    field = "run__date"


class ItemParkFilter(ParkFilter):
    path = "run__park__"


class RunStatusFilter(FieldChoicesFilter):
    title = _("status")
    parameter_name = field = "status"
    options = ReconciliationRun.Status


class CategoryFilter(FieldChoicesFilter):
    title = _("category")
    parameter_name = field = "category"
    options = ReconciliationItem.Category


class ResolvedFilter(ChoiceFilter):
    """Missing-here payments already turned into (or linked to) an order, or not yet."""

    title = _("order created")
    parameter_name = "resolved"

    def lookups(self, request, model_admin):
        return [("1", _("Yes")), ("0", _("No"))]

    def filter(self, queryset, value):
        return queryset.filter(resolved_order__isnull=value == "0")


def _search_items(items, term: str):
    """Narrow ``items`` to a pay serial or a plate (any spelling), exactly."""
    term = term.strip()
    if not term:
        return items
    condition = Q(pay_serial=term) | Q(plate=term)
    if (plate := plates.normalise(term)) and plate != term:
        condition |= Q(plate=plate)
    return items.filter(condition)


# --- Runs ------------------------------------------------------------------------------------


@admin.register(ReconciliationRun)
class ReconciliationRunAdmin(CsvExportAdmin):
    """One park's day compared with the platform's payment list; run again to replace it."""

    export_kind = "reconciliation_runs"
    list_display = [
        "date",
        "park",
        "status",
        "platform_count",
        "platform_amount",
        "ours_count",
        "ours_amount",
        "matched_count",
        "missing_here",
        "missing_at_platform",
        "amount_differs",
        "not_whitelisted_count",
        "finished_at",
    ]
    list_display_links = ["date", "park"]
    sortable_by = ["date"]
    list_select_related = ["park"]
    list_filter = [RunDayRangeFilter, ParkFilter, RunStatusFilter]
    search_fields = ["items__pay_serial", "items__plate"]  # see get_search_results
    search_help_text = _("Runs with a difference of this pay serial or plate (any spelling).")
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
        "items_link",
    ]
    readonly_fields = fields

    def get_urls(self):
        run = path(
            "run/",
            self.admin_site.admin_view(self.run_view),
            name="orders_reconciliationrun_run",
        )
        return [run, *super().get_urls()]

    def get_queryset(self, request):
        return with_category_counts(super().get_queryset(request))

    def get_search_results(self, request, queryset, search_term):
        if not search_term.strip():
            return queryset, False
        items = _search_items(ReconciliationItem.objects.all(), search_term)
        return queryset.filter(pk__in=items.values("run_id")), False

    def has_run_permission(self, request) -> bool:
        return self.has_view_permission(request) and request.user.has_perm(RUN_RECONCILIATION)

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "items_url": reverse("admin:orders_reconciliationitem_changelist"),
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

    def export_csv(self, request, queryset):
        return runs_csv(queryset)

    @admin.display(description=_("paid at the platform"))
    def platform_amount(self, obj):
        return yuan(obj.platform_value)

    @admin.display(description=_("paid here"))
    def ours_amount(self, obj):
        return yuan(obj.ours_value)

    @admin.display(description=_("missing here"))
    def missing_here(self, obj):
        return obj.missing_here

    @admin.display(description=_("missing at the platform"))
    def missing_at_platform(self, obj):
        return obj.missing_at_platform

    @admin.display(description=_("amount differs"))
    def amount_differs(self, obj):
        return obj.amount_differs

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


# --- Differences -----------------------------------------------------------------------------


@admin.register(ReconciliationItem)
class ReconciliationItemAdmin(CsvExportAdmin):
    """The differences of every run; "missing here" payments can become orders."""

    export_kind = "reconciliation_differences"
    list_display = [
        "run__date",
        "park",
        "category",
        "pay_serial",
        "plate",
        "pay_time",
        "platform_amount",
        "our_amount",
        "order_link",
    ]
    list_display_links = ["pay_serial"]
    sortable_by = []
    list_select_related = ["run__park"]
    list_filter = [ItemDayRangeFilter, ItemParkFilter, CategoryFilter, ResolvedFilter]
    search_fields = ["pay_serial", "plate"]  # see get_search_results
    search_help_text = _("A pay serial or a plate (any spelling), exactly.")
    # The run's page links to its differences by this lookup (items_link, categories.html).
    extra_lookups = ("run__id__exact",)
    ordering = ["-run__date", "run__park__name", "pay_time", "pk"]
    paginator = EstimatedCountPaginator
    list_per_page = 100
    actions = ["create_orders"]
    fields = [
        "run_link",
        "category",
        "pay_serial",
        "plate",
        "pay_time",
        "platform_amount",
        "our_amount",
        "order_link",
        "resolved_order_link",
        "resolved_at",
        "resolved_by",
        "payment_display",
    ]
    readonly_fields = fields

    def has_view_permission(self, request, obj=None):
        # The differences are part of their run: whoever may see runs sees them.
        return request.user.has_perm(VIEW_RECONCILIATION) or super().has_view_permission(
            request, obj
        )

    def has_resolve_permission(self, request) -> bool:
        return request.user.has_perm(RESOLVE_RECONCILIATION)

    def get_search_results(self, request, queryset, search_term):
        return _search_items(queryset, search_term), False

    def changelist_view(self, request, extra_context=None):
        # Django drops an action the user may not run and answers "no action selected";
        # a refused one is a 403, like every other refusal.
        if (
            request.method == "POST"
            and request.POST.get("action") == "create_orders"
            and not self.has_resolve_permission(request)
        ):
            raise PermissionDenied
        return super().changelist_view(request, extra_context)

    def export_csv(self, request, queryset):
        return items_csv(queryset)

    @admin.action(description=_("Create the missing orders"), permissions=["resolve"])
    def create_orders(self, request, queryset):
        """Ask for confirmation, then create each "missing here" payment's order."""
        items = list(queryset.select_related("run__park").order_by("pk")[: MAX_RESOLVE + 1])
        if len(items) > MAX_RESOLVE:
            self.message_user(
                request,
                gettext("Select at most %(max)d differences at once.") % {"max": MAX_RESOLVE},
                messages.ERROR,
            )
            return None
        missing = ReconciliationItem.Category.MISSING_HERE
        if request.POST.get("post") != "yes":
            context = {
                **self.admin_site.each_context(request),
                "title": _("Create the missing orders"),
                "opts": self.opts,
                "items": items,
                "to_create": [
                    i for i in items if i.category == missing and not i.resolved_order_id
                ],
                "done": [i for i in items if i.category == missing and i.resolved_order_id],
                "others": [i for i in items if i.category != missing],
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            }
            return TemplateResponse(
                request, "admin/orders/reconciliationitem/create_orders.html", context
            )
        created = linked = 0
        for item in items:
            if item.category != missing:
                continue
            try:
                result = create_missing_order(item_id=item.pk, user=request.user)
            except NotResolvable as exc:
                self.message_user(
                    request,
                    gettext("%(serial)s: %(reason)s") % {"serial": item.pay_serial, "reason": exc},
                    messages.ERROR,
                )
                continue
            created += result.created
            linked += not result.created
        self.message_user(
            request,
            gettext(
                "Orders created: %(created)d; already held and linked: %(linked)d; "
                "skipped (not missing here): %(skipped)d."
            )
            % {
                "created": created,
                "linked": linked,
                "skipped": sum(item.category != missing for item in items),
            },
            messages.SUCCESS,
        )
        return None

    @admin.display(description=_("park"))
    def park(self, obj):
        return str(obj.run.park)

    @admin.display(description=_("paid at the platform"))
    def platform_amount(self, obj):
        return "—" if obj.platform_value is None else yuan(obj.platform_value)

    @admin.display(description=_("paid here"))
    def our_amount(self, obj):
        return "—" if obj.our_value is None else yuan(obj.our_value)

    @admin.display(description=_("order"))
    def order_link(self, obj):
        order_id = obj.order_id or obj.resolved_order_id
        if order_id is None:
            return "—"
        url = reverse("admin:orders_payorder_change", args=[order_id])
        return format_html('<a href="{}">{}</a>', url, obj.pay_serial)

    @admin.display(description=_("order created"))
    def resolved_order_link(self, obj):
        if obj.resolved_order_id is None:
            return "—"
        url = reverse("admin:orders_payorder_change", args=[obj.resolved_order_id])
        return format_html('<a href="{}">{}</a>', url, obj.pay_serial)

    @admin.display(description=_("reconciliation run"))
    def run_link(self, obj):
        url = reverse("admin:orders_reconciliationrun_change", args=[obj.run_id])
        return format_html('<a href="{}">{}</a>', url, str(obj.run))

    @admin.display(description=_("listed payment"))
    def payment_display(self, obj):
        # As listed, with the plate colour's label beside its code.
        return extra_with_labels(obj.payment)
