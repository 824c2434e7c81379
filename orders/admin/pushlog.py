"""The push log in the admin: every push as received, and the replay of refused ones."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from orders.admin.base import plate_link
from orders.admin.filters import (
    PushCodeFilter,
    PushFixedFilter,
    PushKindFilter,
    PushLogDateRangeFilter,
    PushReasonFilter,
)
from orders.models import PayOrder, PushLog
from orders.permissions import REPLAY_PUSHLOG, VIEW_PERSONAL_DATA
from orders.push import explain
from orders.push.outcomes import Outcome
from orders.push.services import replay_push
from orders.selectors import pushlog as pushlog_selectors
from parkingops.adminkit import EstimatedCountPaginator, ReadOnlyAdmin
from parkingops.formatting import mask_mobiles_in_text, pretty_push_body
from whitelist import plates

MAX_REPLAY = 100
# The text columns a push log row shows as it arrived: for users without VIEW_PERSONAL_DATA
# each is shown through its "<name>_masked" twin (anything can arrive in them: a mobile number
# as a pay serial, or in a key that a refusal's message names).
TEXT_FIELDS = (
    "message",
    "pay_serial",
    "plate",
    "app_id",
    "remote_addr",
    "content_type",
    "authorization",
)


def _masked_display(name: str):
    """Return an admin display method showing the text field ``name`` with mobiles masked."""

    @admin.display(description=PushLog._meta.get_field(name).verbose_name)
    def masked(self, obj):
        return mask_mobiles_in_text(getattr(obj, name))

    masked.__name__ = f"{name}_masked"
    return masked


@admin.register(PushLog)
class PushLogAdmin(ReadOnlyAdmin):
    """Every push as received; operations replay a refused one after fixing its cause."""

    list_display = [
        "received_at",
        "kind_short",
        "code",
        "outcome_label",
        "detail",
        "fixed",
        "pay_serial",
        "plate_display",
        "remote_addr",
    ]
    sortable_by = ["received_at"]
    list_filter = [
        PushLogDateRangeFilter,
        PushKindFilter,
        PushCodeFilter,
        PushReasonFilter,
        PushFixedFilter,
    ]
    search_fields = ["pay_serial", "plate"]  # see get_search_results
    search_help_text = _("A pay serial or a plate (any spelling), exactly.")
    paginator = EstimatedCountPaginator
    list_per_page = 50
    actions = ["replay_selected"]
    readonly_fields = [
        "outcome_explained",
        "detail",
        "detail_masked",
        "fixed_link",
        "fixed_link_masked",
        "order_link",
        "stay_link",
        "body_masked",
        "body_unmasked",
        *(f"{name}_masked" for name in TEXT_FIELDS),
    ]

    def get_list_display(self, request):
        return self._shown(request, super().get_list_display(request))

    def get_fields(self, request, obj=None):
        fields = [
            "received_at",
            "kind",
            "code",
            "outcome_explained",
            "detail",
            "message",
            "pay_serial",
            "plate",
            "order_link",
            "stay_link",
            "fixed_link",
            "app_id",
            "remote_addr",
            "content_type",
            "authorization",
            "duration_ms",
            "body_unmasked",
        ]
        return self._shown(request, fields)

    @staticmethod
    def _shown(request, fields):
        """Swap each text field for its masked twin when the user may not see personal data."""
        if request.user.has_perm(VIEW_PERSONAL_DATA):
            return fields
        twins = {
            name: f"{name}_masked"
            for name in (*TEXT_FIELDS, "plate_display", "detail", "fixed_link")
        } | {"body_unmasked": "body_masked"}
        return [twins.get(name, name) for name in fields]

    def get_queryset(self, request):
        # "Fixed" and a park's name are read per row fetched, never for the whole log.
        return pushlog_selectors.for_list(super().get_queryset(request))

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
        unmask = request.user.has_perm(VIEW_PERSONAL_DATA)

        def shown(text: str) -> str:
            return text if unmask else mask_mobiles_in_text(text)

        for log in logs:
            result = replay_push(log=log)
            ok = result.acknowledged
            accepted += ok
            detail = explain.detail_text(
                reason=result.reason, message=result.message, detail=result.detail, kind=log.kind
            )
            self.message_user(
                request,
                gettext(
                    "Push #%(id)s (pay serial %(pay_serial)s) replayed: %(label)s "
                    "(%(code)s %(reason)s). %(detail)s%(explanation)s Message: %(message)s"
                )
                % {
                    "id": log.pk,
                    "pay_serial": shown(log.pay_serial) or "—",
                    "label": result.outcome.label,
                    "code": result.code,
                    "reason": result.reason,
                    "detail": f"{shown(detail)} " if detail else "",
                    "explanation": result.outcome.explanation,
                    "message": shown(result.message),
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

    # The refusal's detail (the invalid field, why no whitelist entry let the plate in; blank
    # on other rows and on rows logged before it was kept: the reason's explanation says it)
    # and the order that fixed a refused push, each with a masked twin (see _shown).

    @admin.display(description=_("plate"))
    def plate_display(self, obj):
        return plate_link(obj.plate)

    @admin.display(description=_("plate"))
    def plate_display_masked(self, obj):
        # A "plate" holding a mobile number (the platform sends what it sends) is masked text.
        masked = mask_mobiles_in_text(obj.plate)
        return masked if masked != obj.plate else plate_link(obj.plate)

    @admin.display(description=_("why"))
    def detail(self, obj):
        return _detail(obj, mask=False)

    @admin.display(description=_("why"))
    def detail_masked(self, obj):
        return _detail(obj, mask=True)

    @admin.display(description=_("fixed by"))
    def fixed_link(self, obj):
        return _fixed_link(obj, mask=False)

    @admin.display(description=_("fixed by"))
    def fixed_link_masked(self, obj):
        return _fixed_link(obj, mask=True)

    @admin.display(description=_("kind"))
    def kind_short(self, obj):
        # One short word (入场, 出场…): the list keeps its 1366-pixel fit.
        return obj.get_kind_display()

    @admin.display(description=_("reason"))
    def outcome_label(self, obj):
        outcome = Outcome(obj.reason)
        return format_html('<span title="{}">{}</span>', outcome.explanation, outcome.label)

    @admin.display(description=_("reason"))
    def outcome_explained(self, obj):
        outcome = Outcome(obj.reason)
        return format_html(
            "<strong>{}</strong> ({})<br>{}", outcome.label, outcome.value, outcome.explanation
        )

    @admin.display(description=_("fixed"))
    def fixed(self, obj):
        """✓ on a refused row whose record exists now (a replay or retry went in): its order, its
        renewal, or a stay with its half stored by a later push (``selectors.pushlog``)."""
        refused = not Outcome(obj.reason).acknowledged
        return "✓" if refused and getattr(obj, "order_now", False) else ""

    @admin.display(description=_("order"))
    def order_link(self, obj):
        if obj.order_id is None:
            return "—"
        url = reverse("admin:orders_payorder_change", args=[obj.order_id])
        return format_html('<a href="{}">{}</a>', url, obj.pay_serial or obj.order_id)

    @admin.display(description=_("stay"))
    def stay_link(self, obj):
        if obj.stay_id is None:
            return "—"
        url = reverse("admin:orders_stay_change", args=[obj.stay_id])
        return format_html('<a href="{}">{}</a>', url, obj.stay_id)

    message_masked = _masked_display("message")
    pay_serial_masked = _masked_display("pay_serial")
    plate_masked = _masked_display("plate")
    app_id_masked = _masked_display("app_id")
    remote_addr_masked = _masked_display("remote_addr")
    content_type_masked = _masked_display("content_type")
    authorization_masked = _masked_display("authorization")

    @admin.display(description=_("raw body"))
    def body_masked(self, obj):
        return format_html("<pre>{}</pre>", pretty_push_body(obj.body, obj.content_type))

    @admin.display(description=_("raw body"))
    def body_unmasked(self, obj):
        body = pretty_push_body(obj.body, obj.content_type, mask=False)
        return format_html("<pre>{}</pre>", body)


def _detail(obj: PushLog, *, mask: bool) -> str:
    """The refusal's detail in words, linking the whitelist entry it is about."""
    text = explain.log_detail(obj)
    if not text:
        return "—"
    if mask:
        text = mask_mobiles_in_text(text)
    if obj.refusal_entry_id is None:
        return text
    url = reverse("admin:whitelist_whitelistentry_change", args=[obj.refusal_entry_id])
    label = gettext("whitelist entry #%(id)s") % {"id": obj.refusal_entry_id}
    return format_html('{} <a href="{}">{}</a>', text, url, label)


def _fixed_link(obj: PushLog, *, mask: bool) -> str:
    """The order a later replay or retry stored for a refused push's pay serial (one query)."""
    if Outcome(obj.reason).acknowledged or not obj.pay_serial:
        return "—"
    order_id = (
        PayOrder.objects.filter(pay_serial=obj.pay_serial).values_list("pk", flat=True).first()
    )
    if order_id is None:
        return gettext("Not fixed yet")
    url = reverse("admin:orders_payorder_change", args=[order_id])
    shown = mask_mobiles_in_text(obj.pay_serial) if mask else obj.pay_serial
    return format_html('<a href="{}">{}</a>', url, shown)
