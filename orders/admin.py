"""The finance and operations back-office: orders, merchant coupons, parks and the push log.

Everything here is read-only for everyone, superusers included: orders come only from the
platform. Lists stay fast on a million orders: the page count comes from the totals shown
above the list (or a planner estimate for the push log) instead of a separate COUNT(*), per-row
figures are correlated subqueries run only for the page, and every search and filter has an
index. Exports reuse the list's own filtering: what you see is what you export.
"""

import json

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpResponseBadRequest
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.functional import cached_property
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from orders import admin_views, selectors, services
from orders.exports.coupons import coupons_csv
from orders.exports.orders import orders_csv
from orders.filters import (
    CallCodeFilter,
    CallDateRangeFilter,
    CategoryFilter,
    ChannelFilter,
    CouponParkFilter,
    CouponPayDateRangeFilter,
    DateRangeFilter,
    EndpointFilter,
    HasCouponsFilter,
    HasDiscountsFilter,
    ItemDayRangeFilter,
    ItemParkFilter,
    ParkFilter,
    PayDateRangeFilter,
    PushCodeFilter,
    PushLogDateRangeFilter,
    PushReasonFilter,
    ResolvedFilter,
    RunDayRangeFilter,
    RunStatusFilter,
    SourceFilter,
    StoreFilter,
    filter_errors,
)
from orders.models import (
    Discount,
    MerchantCoupon,
    PayOrder,
    PushLog,
)
from orders.reconciliation.exports import items_csv, runs_csv
from orders.reconciliation.models import ReconciliationItem, ReconciliationRun
from orders.reconciliation.selectors import category_totals, with_category_counts
from orders.reconciliation.services import NotResolvable, create_missing_order
from parkingops import tabular
from parkingops.formatting import china_time, mask_mobile, pretty_push_body, yuan
from parkingops.models import PlatformCall
from whitelist import plates
from whitelist.models import Park

VIEW_PERSONAL_DATA = "orders.view_personal_data"
EXPORT_ORDERS = "orders.export_orders"
REPLAY_PUSHLOG = "orders.replay_pushlog"
MAX_REPLAY = 100
VIEW_RECONCILIATION = "orders.view_reconciliationrun"
RUN_RECONCILIATION = "orders.run_reconciliation"
RESOLVE_RECONCILIATION = "orders.resolve_reconciliation"
MAX_RESOLVE = 100


def _pretty_json(value) -> str:
    if not value:
        return "—"
    return format_html("<pre>{}</pre>", json.dumps(value, ensure_ascii=False, indent=2))


# --- Paginators: counting without a separate COUNT(*) ---------------------------------------


class OrderTotalsPaginator(Paginator):
    """Take the page count from the totals the list shows anyway (one aggregate pass)."""

    @cached_property
    def totals(self) -> selectors.OrderTotals:
        return selectors.order_totals(orders=self.object_list)

    @cached_property
    def count(self) -> int:
        return self.totals.orders


class CouponTotalsPaginator(Paginator):
    """Take the page count from the per-store totals the coupon list shows anyway."""

    @cached_property
    def totals(self) -> list[selectors.StoreTotal]:
        return selectors.coupon_totals_by_store(coupons=self.object_list)

    @cached_property
    def count(self) -> int:
        return sum(total.coupons for total in self.totals)


class EstimatedCountPaginator(Paginator):
    """Count small results exactly; on PostgreSQL, estimate large ones from the planner."""

    @cached_property
    def count(self) -> int:
        return selectors.estimate_count(self.object_list)


# --- Shared admin behaviour ------------------------------------------------------------------


class ExportChangeList(ChangeList):
    """The list's own filters, search and ordering, without counting or paging: for exports."""

    def get_results(self, request):
        self.result_list = self.queryset


class ReadOnlyAdmin(admin.ModelAdmin):
    """No add, change or delete for anyone (403); filter errors shown as messages."""

    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_changelist(self, request, **kwargs):
        if getattr(request, "_orders_export", False):
            return ExportChangeList
        return super().get_changelist(request, **kwargs)

    def get_changelist_instance(self, request):
        changelist = super().get_changelist_instance(request)
        if not getattr(request, "_orders_export", False):
            for error in filter_errors(changelist):
                messages.error(request, error)
        return changelist


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
        if not self.has_export_permission(request):
            raise PermissionDenied
        # The changelist itself reads the query string (filters, search ``q``, ordering
        # ``o``), so the export cannot drift from the list; the export variant skips paging.
        request._orders_export = True
        try:
            changelist = self.get_changelist_instance(request)
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
        return _pretty_json(obj.extra)


class OrderPartInline(ExtraFieldsMixin, admin.TabularInline):
    """Discounts and coupons are part of their order: shown to whoever may see the order."""

    extra = 0
    can_delete = False
    show_change_link = False

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("orders.view_payorder")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class DiscountInline(OrderPartInline):
    model = Discount
    readonly_fields = ["mobile_masked", "relief_value_display", "extra_display"]

    def get_fields(self, request, obj=None):
        mobile = "mobile" if request.user.has_perm(VIEW_PERSONAL_DATA) else "mobile_masked"
        fields = ["type", "token", "openid", mobile, "relief_amount", "relief_value_display"]
        return [*fields, "extra_display"]

    @admin.display(description=_("mobile"))
    def mobile_masked(self, obj):
        return mask_mobile(obj.mobile)

    @admin.display(description=_("relief value"))
    def relief_value_display(self, obj):
        return yuan(obj.relief_value)


class CouponDisplayMixin(ExtraFieldsMixin):
    """A coupon as staff read it: type by name, value in its own unit (yuan for amount
    coupons), grant time in China time, in the same fields on the list's detail and inline."""

    coupon_fields = [
        "store_name",
        "store_code",
        "coupon_name",
        "coupon_code",
        "coupon_type_display",
        "coupon_value_display",
        "grant_time_display",
        "grant_serial",
        "extra_display",
    ]

    @admin.display(description=_("grant time"))
    def grant_time_display(self, obj):
        return china_time(obj.grant_time) if obj.grant_time else obj.grant_time_raw

    @admin.display(description=_("coupon type"))
    def coupon_type_display(self, obj):
        return obj.coupon_type_label

    @admin.display(description=_("coupon value"))
    def coupon_value_display(self, obj):
        return coupon_value_text(obj.coupon_type, obj.coupon_value)


class MerchantCouponInline(CouponDisplayMixin, OrderPartInline):
    model = MerchantCoupon
    fields = CouponDisplayMixin.coupon_fields
    readonly_fields = fields


def coupon_value_text(coupon_type: int | None, value: int) -> str:
    """An amount coupon's value is fen, shown as yuan; other types' values are their own unit."""
    if coupon_type == MerchantCoupon.CouponType.AMOUNT:
        return yuan(value)
    return str(value)


# --- Orders ----------------------------------------------------------------------------------


@admin.register(PayOrder)
class PayOrderAdmin(ExtraFieldsMixin, CsvExportAdmin):
    export_kind = "orders"
    list_display = [
        "pay_time_display",
        "park_name",
        "plate",
        "amount",
        "channel",
        "relief",
        "coupon_count",
        "pay_serial_display",
    ]
    list_display_links = ["pay_time_display", "pay_serial_display"]
    # Only the indexed pay time sorts: sorting a million rows by anything else reads them all.
    sortable_by = ["pay_time_display"]
    list_select_related = ["park"]
    list_filter = [
        PayDateRangeFilter,
        ParkFilter,
        ChannelFilter,
        HasDiscountsFilter,
        HasCouponsFilter,
        SourceFilter,
    ]
    search_fields = ["plate", "pay_serial", "parking_serial"]  # see get_search_results
    search_help_text = _(
        "A plate (whole, its beginning or its ending, in any spelling), a pay serial or a "
        "parking serial."
    )
    paginator = OrderTotalsPaginator
    list_per_page = 50
    actions = None
    inlines = [DiscountInline, MerchantCouponInline]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "pay_serial",
                    "parking_serial",
                    "park_display",
                    "plate",
                    "plate_raw",
                    "amount_detail",
                    "pay_time_display",
                    "channel",
                    "identity",
                    "app_id",
                    "source",
                    "received_at_display",
                    "whitelist_entry",
                    "fingerprint",
                ]
            },
        ),
        (_("Extra fields"), {"fields": ["extra_display"]}),
        (_("Push log"), {"fields": ["push_log_display"]}),
    ]
    readonly_fields = [
        "park_display",
        "amount_detail",
        "pay_time_display",
        "received_at_display",
        "extra_display",
        "push_log_display",
    ]

    def get_queryset(self, request):
        return selectors.with_row_totals(super().get_queryset(request).select_related("park"))

    def get_search_results(self, request, queryset, search_term):
        return selectors.search_orders(orders=queryset, term=search_term), False

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "summary_url": reverse("orders_daily_summary"),
        }
        return super().changelist_view(request, extra_context)

    def export_csv(self, request, queryset):
        return orders_csv(queryset, unmask=request.user.has_perm(VIEW_PERSONAL_DATA))

    @admin.display(description=_("pay time"), ordering="pay_time")
    def pay_time_display(self, obj):
        return china_time(obj.pay_time)

    @admin.display(description=_("pay serial"))
    def pay_serial_display(self, obj):
        # Pushed orders are the rule; an order created from a reconciliation is marked.
        if obj.source == PayOrder.Source.RECONCILIATION:
            return format_html(
                '{} <span class="orders-source orders-source-reconciliation">{}</span>',
                obj.pay_serial,
                obj.get_source_display(),
            )
        return obj.pay_serial

    @admin.display(description=_("received at"))
    def received_at_display(self, obj):
        return china_time(obj.received_at)

    @admin.display(description=_("park"))
    def park_name(self, obj):
        return str(obj.park)

    @admin.display(description=_("park"))
    def park_display(self, obj):
        return format_html("{} ({})", obj.park.name, obj.park.park_uuid)

    @admin.display(description=_("amount paid"))
    def amount(self, obj):
        return yuan(obj.pay_value)

    @admin.display(description=_("amount paid"))
    def amount_detail(self, obj):
        return gettext("%(yuan)s (%(fen)s fen)") % {
            "yuan": yuan(obj.pay_value),
            "fen": obj.pay_value,
        }

    @admin.display(description=_("discount relief"))
    def relief(self, obj):
        return yuan(obj.relief_total)

    @admin.display(description=_("merchant coupons"))
    def coupon_count(self, obj):
        return obj.coupon_count

    @admin.display(description=_("push log of this pay serial"))
    def push_log_display(self, obj):
        logs = PushLog.objects.filter(pay_serial=obj.pay_serial).order_by("-received_at", "-pk")
        rows = format_html_join(
            "",
            '<tr><td><a href="{}">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>',
            (
                (
                    reverse("admin:orders_pushlog_change", args=[log.pk]),
                    china_time(log.received_at),
                    log.code,
                    log.get_reason_display(),
                    log.message,
                    log.remote_addr,
                )
                for log in logs[:50]
            ),
        )
        if not rows:
            return "—"
        return format_html(
            "<table><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>"
            "</thead><tbody>{}</tbody></table>",
            gettext("received at"),
            gettext("code"),
            gettext("reason"),
            gettext("message"),
            gettext("remote address"),
            rows,
        )


# --- Merchant coupons ------------------------------------------------------------------------


@admin.register(MerchantCoupon)
class MerchantCouponAdmin(CouponDisplayMixin, CsvExportAdmin):
    export_kind = "coupons"
    list_display = [
        "store_name",
        "store_code",
        "coupon_name",
        "coupon_code",
        "coupon_type_display",
        "coupon_value_display",
        "pay_time",
        "plate",
        "park",
        "order_link",
    ]
    list_display_links = None
    sortable_by = []
    list_select_related = ["order__park"]
    list_filter = [CouponPayDateRangeFilter, CouponParkFilter, StoreFilter]
    search_fields = ["store_code", "order__pay_serial"]  # see get_search_results
    search_help_text = _(
        "A store code, or an order's plate (whole, beginning or ending), pay serial or "
        "parking serial."
    )
    # Newest first by the primary key: ordering by the order's pay time would join and sort
    # every coupon before the first page.
    ordering = ["-pk"]
    paginator = CouponTotalsPaginator
    list_per_page = 50
    actions = None
    fields = ["order_link", *CouponDisplayMixin.coupon_fields]
    readonly_fields = fields

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        orders = selectors.search_orders(orders=PayOrder.objects.all(), term=term)
        return queryset.filter(Q(store_code=term) | Q(order__in=orders.values("pk"))), False

    def export_csv(self, request, queryset):
        return coupons_csv(queryset)

    @admin.display(description=_("pay time"))
    def pay_time(self, obj):
        return china_time(obj.order.pay_time)

    @admin.display(description=_("plate"))
    def plate(self, obj):
        return obj.order.plate

    @admin.display(description=_("park"))
    def park(self, obj):
        return str(obj.order.park)

    @admin.display(description=_("order"))
    def order_link(self, obj):
        url = reverse("admin:orders_payorder_change", args=[obj.order_id])
        return format_html('<a href="{}">{}</a>', url, obj.order.pay_serial)


# --- Parks -----------------------------------------------------------------------------------


@admin.register(Park)
class ParkAdmin(ReadOnlyAdmin):
    """Parks are learnt from the pushes; the newest name wins."""

    list_display = ["name", "park_uuid", "first_seen_display", "last_seen_display"]
    search_fields = ["name", "park_uuid"]
    fields = ["name", "park_uuid", "first_seen_display", "last_seen_display"]
    readonly_fields = ["first_seen_display", "last_seen_display"]

    @admin.display(description=_("first seen"), ordering="first_seen")
    def first_seen_display(self, obj):
        return china_time(obj.first_seen)

    @admin.display(description=_("last seen"), ordering="last_seen")
    def last_seen_display(self, obj):
        return china_time(obj.last_seen)


# --- Push log --------------------------------------------------------------------------------


@admin.register(PushLog)
class PushLogAdmin(ReadOnlyAdmin):
    """Every push as received; operations replay a refused one after fixing its cause."""

    list_display = ["received_at_display", "code", "reason", "pay_serial", "plate", "remote_addr"]
    sortable_by = ["received_at_display"]
    list_filter = [PushLogDateRangeFilter, PushCodeFilter, PushReasonFilter]
    search_fields = ["pay_serial", "plate"]  # see get_search_results
    search_help_text = _("A pay serial or a plate (any spelling), exactly.")
    paginator = EstimatedCountPaginator
    list_per_page = 50
    actions = ["replay_selected"]
    readonly_fields = ["received_at_display", "order_link", "body_masked", "body_unmasked"]

    def get_fields(self, request, obj=None):
        body = "body_unmasked" if request.user.has_perm(VIEW_PERSONAL_DATA) else "body_masked"
        return [
            "received_at_display",
            "code",
            "reason",
            "message",
            "pay_serial",
            "plate",
            "order_link",
            "app_id",
            "remote_addr",
            "content_type",
            "authorization",
            "duration_ms",
            body,
        ]

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        condition = Q(pay_serial=term) | Q(plate=term)
        if (plate := plates.normalise(term)) and plate != term:
            condition |= Q(plate=plate)
        return queryset.filter(condition), False

    def has_replay_permission(self, request) -> bool:
        return request.user.has_perm(REPLAY_PUSHLOG)

    def changelist_view(self, request, extra_context=None):
        # Django drops an action the user may not run and answers "no action selected";
        # a refused replay is a 403, like every other refusal.
        if (
            request.method == "POST"
            and request.POST.get("action") == "replay_selected"
            and not self.has_replay_permission(request)
        ):
            raise PermissionDenied
        return super().changelist_view(request, extra_context)

    @admin.action(description=_("Replay"), permissions=["replay"])
    def replay_selected(self, request, queryset):
        logs = list(queryset.order_by("received_at", "pk")[: MAX_REPLAY + 1])
        if len(logs) > MAX_REPLAY:
            self.message_user(
                request,
                gettext("Select at most %(max)d pushes to replay at once.") % {"max": MAX_REPLAY},
                messages.ERROR,
            )
            return
        accepted = 0
        for log in logs:
            result = services.replay_push(log=log)
            ok = result.code == "1001"
            accepted += ok
            self.message_user(
                request,
                gettext(
                    "Push #%(id)s (pay serial %(pay_serial)s) replayed: %(code)s %(reason)s, "
                    "%(message)s."
                )
                % {
                    "id": log.pk,
                    "pay_serial": log.pay_serial or "—",
                    "code": result.code,
                    "reason": result.reason,
                    "message": result.message,
                },
                messages.SUCCESS if ok else messages.WARNING,
            )
        self.message_user(
            request,
            ngettext(
                "%(accepted)d of %(count)d push accepted; each replay is a new log row.",
                "%(accepted)d of %(count)d pushes accepted; each replay is a new log row.",
                len(logs),
            )
            % {"accepted": accepted, "count": len(logs)},
            messages.INFO,
        )

    @admin.display(description=_("received at"), ordering="received_at")
    def received_at_display(self, obj):
        return china_time(obj.received_at)

    @admin.display(description=_("order"))
    def order_link(self, obj):
        if obj.order_id is None:
            return "—"
        url = reverse("admin:orders_payorder_change", args=[obj.order_id])
        return format_html('<a href="{}">{}</a>', url, obj.pay_serial or obj.order_id)

    @admin.display(description=_("raw body"))
    def body_masked(self, obj):
        return format_html("<pre>{}</pre>", pretty_push_body(obj.body, obj.content_type))

    @admin.display(description=_("raw body"))
    def body_unmasked(self, obj):
        body = pretty_push_body(obj.body, obj.content_type, mask=False)
        return format_html("<pre>{}</pre>", body)


# --- Platform calls ----------------------------------------------------------------------------


@admin.register(PlatformCall)
class PlatformCallAdmin(ReadOnlyAdmin):
    """Every call to the platform's open API, as recorded by the client (no secret, no sign)."""

    list_display = [
        "called_at_display",
        "method",
        "endpoint",
        "code",
        "message",
        "duration_ms",
    ]
    sortable_by = ["called_at_display"]
    list_filter = [CallDateRangeFilter, EndpointFilter, CallCodeFilter]
    paginator = EstimatedCountPaginator
    list_per_page = 50
    actions = None
    fields = [
        "called_at_display",
        "method",
        "endpoint",
        "code",
        "message",
        "duration_ms",
        "params_display",
    ]
    readonly_fields = fields

    @admin.display(description=_("called at"), ordering="called_at")
    def called_at_display(self, obj):
        return china_time(obj.called_at)

    @admin.display(description=_("parameters"))
    def params_display(self, obj):
        return _pretty_json(obj.params)


# --- Reconciliation ----------------------------------------------------------------------------


def _search_items(items, term: str):
    """Narrow ``items`` to a pay serial or a plate (any spelling), exactly."""
    term = term.strip()
    if not term:
        return items
    condition = Q(pay_serial=term) | Q(plate=term)
    if (plate := plates.normalise(term)) and plate != term:
        condition |= Q(plate=plate)
    return items.filter(condition)


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
        "finished_at_display",
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
        "started_at_display",
        "finished_at_display",
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
        return admin_views.run_reconciliation(request, model_admin=self)

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

    @admin.display(description=_("started at"))
    def started_at_display(self, obj):
        return china_time(obj.started_at)

    @admin.display(description=_("finished at"), ordering="finished_at")
    def finished_at_display(self, obj):
        return china_time(obj.finished_at)

    @admin.display(description=_("counts and amounts per category"))
    def category_table(self, obj):
        items_url = reverse("admin:orders_reconciliationitem_changelist")
        rows = format_html_join(
            "",
            '<tr class="reconciliation-{}"><th scope="row">{}</th><td class="number">{}</td>'
            '<td class="number">{}</td><td class="number">{}</td></tr>',
            (
                (
                    total.category,
                    format_html(
                        '<a href="{}?run__id__exact={}&amp;category={}">{}</a>',
                        items_url,
                        obj.pk,
                        total.category,
                        total.label,
                    )
                    if total.is_difference
                    else total.label,
                    total.count,
                    "—" if total.platform_value is None else yuan(total.platform_value),
                    "—" if total.our_value is None else yuan(total.our_value),
                )
                for total in category_totals(run=obj)
            ),
        )
        return format_html(
            '<table class="reconciliation-categories"><thead><tr><th>{}</th><th>{}</th>'
            "<th>{}</th><th>{}</th></tr></thead><tbody>{}</tbody><tfoot>"
            '<tr class="reconciliation-platform"><th scope="row">{}</th><td class="number">{}'
            '</td><td class="number">{}</td><td class="number">—</td></tr>'
            '<tr class="reconciliation-ours"><th scope="row">{}</th><td class="number">{}</td>'
            '<td class="number">—</td><td class="number">{}</td></tr></tfoot></table>',
            gettext("category"),
            gettext("count"),
            gettext("paid at the platform"),
            gettext("paid here"),
            rows,
            gettext("listed by the platform"),
            obj.platform_count,
            yuan(obj.platform_value),
            gettext("our orders of the day"),
            obj.ours_count,
            yuan(obj.ours_value),
        )

    @admin.display(description=_("differences"))
    def items_link(self, obj):
        url = reverse("admin:orders_reconciliationitem_changelist")
        return format_html(
            '<a href="{}?run__id__exact={}">{}</a>', url, obj.pk, gettext("Show the differences")
        )


@admin.register(ReconciliationItem)
class ReconciliationItemAdmin(CsvExportAdmin):
    """The differences of every run; "missing here" payments can become orders."""

    export_kind = "reconciliation_differences"
    list_display = [
        "date",
        "park",
        "category",
        "pay_serial",
        "plate",
        "pay_time_display",
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
    ordering = ["-run__date", "run__park__name", "pay_time", "pk"]
    paginator = EstimatedCountPaginator
    list_per_page = 100
    actions = ["create_orders"]
    fields = [
        "run_link",
        "category",
        "pay_serial",
        "plate",
        "pay_time_display",
        "platform_amount",
        "our_amount",
        "order_link",
        "resolved_order_link",
        "resolved_at_display",
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

    @admin.display(description=_("date"), ordering="run__date")
    def date(self, obj):
        return obj.run.date.isoformat()

    @admin.display(description=_("park"))
    def park(self, obj):
        return str(obj.run.park)

    @admin.display(description=_("pay time"))
    def pay_time_display(self, obj):
        return china_time(obj.pay_time)

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

    @admin.display(description=_("resolved at"))
    def resolved_at_display(self, obj):
        return china_time(obj.resolved_at)

    @admin.display(description=_("reconciliation run"))
    def run_link(self, obj):
        url = reverse("admin:orders_reconciliationrun_change", args=[obj.run_id])
        return format_html('<a href="{}">{}</a>', url, str(obj.run))

    @admin.display(description=_("listed payment"))
    def payment_display(self, obj):
        return _pretty_json(obj.payment)
