"""The differences in the admin: the list with its filters, a difference's page, the action that
turns "missing here" payments into orders and resolving with a note (``admin_resolve``)."""

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from orders.admin.base import CsvExportAdmin, extra_with_labels, plate_link
from orders.admin.filters import ParkFilter
from orders.models import ReconciliationItem
from orders.permissions import (
    RESOLVE_DIFFERENCE,
    RESOLVE_RECONCILIATION,
    VIEW_RECONCILIATION,
)
from orders.reconciliation.admin_resolve import resolve_page
from orders.reconciliation.exports import items_csv, items_xlsx
from orders.reconciliation.fields import listed_row_display, values_display, with_channel_names
from orders.reconciliation.services import NotResolvable, create_missing_order
from parkingops.adminkit import (
    ChoiceFilter,
    DayRangeFilter,
    EstimatedCountPaginator,
    FieldChoicesFilter,
)
from whitelist import plates

MAX_SELECTED = 100  # differences per action


class ItemDayRangeFilter(DayRangeFilter):
    """The run's day (a date column, not a time), both days inclusive."""

    title = _("date")
    field = "run__date"
    parameter_from = "date_from"
    parameter_to = "date_to"


class ItemParkFilter(ParkFilter):
    path = "run__park__"


class CategoryFilter(FieldChoicesFilter):
    title = _("category")
    parameter_name = field = "category"
    options = ReconciliationItem.Category


class ResolvedFilter(ChoiceFilter):
    """Differences resolved (with a note, or by creating the missing order), or still open."""

    title = _("resolved")
    parameter_name = "resolved"

    def lookups(self, request, model_admin):
        return [("1", _("resolved")), ("0", _("open"))]

    def filter(self, queryset, value):
        return queryset.filter(resolved_at__isnull=value == "0")


def search_items(items, term: str):
    """Narrow ``items`` to a pay serial, a stay's parking serial or a plate (any spelling),
    exactly."""
    term = term.strip()
    if not term:
        return items
    condition = Q(pay_serial=term) | Q(parking_serial=term) | Q(plate=term)
    if (plate := plates.normalise(term)) and plate != term:
        condition |= Q(plate=plate)
    return items.filter(condition)


@admin.register(ReconciliationItem)
class ReconciliationItemAdmin(CsvExportAdmin):
    """The differences of every run: "missing here" payments can become orders, and any
    difference can be marked resolved with a note."""

    export_kind = "reconciliation_differences"
    list_display = [
        "run_date",
        "park",
        "category",
        "serial",
        "plate_display",
        "pay_time",
        "ours",
        "platform",
        "order_link",
        "resolution",
    ]
    list_display_links = ["serial"]
    sortable_by = []
    list_select_related = ["run__park", "resolved_by"]
    list_filter = [ItemDayRangeFilter, ItemParkFilter, CategoryFilter, ResolvedFilter]
    search_fields = ["pay_serial", "plate"]  # see get_search_results
    search_help_text = _("A pay serial, a parking serial or a plate (any spelling), exactly.")
    # The run's page links to its differences by this lookup (items_link, categories.html).
    extra_lookups = ("run__id__exact",)
    ordering = ["-run__date", "run__park__name", "pay_time", "pk"]
    paginator = EstimatedCountPaginator
    list_per_page = 100
    actions = ["resolve", "create_orders"]
    fields = [
        "run_link",
        "category",
        "field",
        "pay_serial",
        "parking_serial",
        "plate",
        "pay_time",
        "ours",
        "platform",
        "order_link",
        "resolved_order_link",
        "resolution",
        "resolved_at",
        "resolved_by",
        "resolution_note",
        "payment_display",
    ]
    readonly_fields = fields

    def get_urls(self):
        resolve = path(
            "<int:object_id>/resolve/",
            self.admin_site.admin_view(self.resolve_view),
            name="orders_reconciliationitem_resolve",
        )
        return [resolve, *super().get_urls()]

    def has_view_permission(self, request, obj=None):
        # The differences are part of their run: whoever may see runs sees them.
        return request.user.has_perm(VIEW_RECONCILIATION) or super().has_view_permission(
            request, obj
        )

    def has_resolve_permission(self, request) -> bool:
        return request.user.has_perm(RESOLVE_RECONCILIATION)

    def has_resolve_difference_permission(self, request) -> bool:
        return self.has_view_permission(request) and request.user.has_perm(RESOLVE_DIFFERENCE)

    def get_queryset(self, request):
        # A channel difference shows each side's channel by name (a subquery per row shown).
        return with_channel_names(super().get_queryset(request))

    def get_search_results(self, request, queryset, search_term):
        return search_items(queryset, search_term), False

    def changelist_view(self, request, extra_context=None):
        # Django drops an action the user may not run and answers "no action selected";
        # a refused one is a 403, like every other refusal.
        action = request.POST.get("action") if request.method == "POST" else None
        if (action == "create_orders" and not self.has_resolve_permission(request)) or (
            action == "resolve" and not self.has_resolve_difference_permission(request)
        ):
            raise PermissionDenied
        return super().changelist_view(request, extra_context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = dict(extra_context or {})
        if self.has_resolve_difference_permission(request):
            extra_context["resolve_url"] = reverse(
                "admin:orders_reconciliationitem_resolve", args=[object_id]
            )
        return super().change_view(request, object_id, form_url, extra_context)

    def resolve_view(self, request, object_id):
        """A difference's own page of resolving it with a note."""
        if not self.has_resolve_difference_permission(request):
            raise PermissionDenied
        items = with_channel_names(ReconciliationItem.objects.select_related("run__park"))
        item = get_object_or_404(items.select_related("resolved_by"), pk=object_id)
        response = resolve_page(request, model_admin=self, items=[item])
        return response or redirect("admin:orders_reconciliationitem_change", item.pk)

    def export_csv(self, request, queryset, *, progress):
        return items_csv(queryset, progress=progress)

    def export_xlsx(self, request, queryset, about, *, progress):
        return items_xlsx(queryset, about=about, progress=progress)

    def _selected(self, request, queryset):
        """The selection (at most MAX_SELECTED), or None after saying it is too many."""
        items = list(
            queryset.select_related("run__park", "resolved_by").order_by("pk")[: MAX_SELECTED + 1]
        )
        if len(items) > MAX_SELECTED:
            self.message_user(
                request,
                gettext("Select at most %(max)d differences at once.") % {"max": MAX_SELECTED},
                messages.ERROR,
            )
            return None
        return items

    @admin.action(description=_("Mark resolved (with a note)"), permissions=["resolve_difference"])
    def resolve(self, request, queryset):
        """Ask for the note, then mark the selected differences resolved."""
        items = self._selected(request, queryset)
        if items is None:
            return None
        return resolve_page(request, model_admin=self, items=items, action="resolve")

    @admin.action(description=_("Create the missing orders"), permissions=["resolve"])
    def create_orders(self, request, queryset):
        """Ask for confirmation, then create each "missing here" payment's order."""
        items = self._selected(request, queryset)
        if items is None:
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

    @admin.display(description=_("plate"))
    def plate_display(self, obj):
        return plate_link(obj.plate)

    @admin.display(description=_("serial"))
    def serial(self, obj):
        """The pay serial; for a stay not paid in full (no pay serial), the stay's parking
        serial."""
        return obj.pay_serial or obj.parking_serial or "—"

    @admin.display(description=_("date"))
    def run_date(self, obj):
        # The run's day: "run__date" in list_display would be headed by an untranslated label.
        return obj.run.date

    @admin.display(description=_("park"))
    def park(self, obj):
        return str(obj.run.park)

    @admin.display(description=_("ours"))
    def ours(self, obj):
        return values_display(obj)[0]

    @admin.display(description=_("at the platform"))
    def platform(self, obj):
        return values_display(obj)[1]

    @admin.display(description=_("resolved"))
    def resolution(self, obj):
        if obj.resolved_at is None:
            return gettext("open")
        return format_html('<span title="{}">{}</span>', obj.resolution_note, gettext("resolved"))

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

    @admin.display(description=_("listed payment (times in China time)"))
    def payment_display(self, obj):
        # As listed (times in China time), the platform codes with their labels beside them.
        return extra_with_labels(listed_row_display(obj.payment))
