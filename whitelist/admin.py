"""The operations staff's whitelist: list, search, filters, bulk actions, import (pages in
``admin_import``) and export, history, and each plate's sync with the platform."""

import copy

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin import actions as django_actions
from django.contrib.admin import helpers
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import HttpResponseRedirect, QueryDict
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from simple_history.admin import SimpleHistoryAdmin

import whitelist.park_admin  # noqa: F401 (registers ParkAdmin)
from parkingops.adminexport import FileExportMixin
from parkingops.adminquery import (
    QueryStringMixin,
)
from whitelist import admin_sync, display, plates, selectors
from whitelist.admin_filters import ExpiringFilter, ParkFilter, StatusFilter, SyncStateFilter
from whitelist.admin_history import EntryHistoryMixin
from whitelist.admin_import import WhitelistImportMixin
from whitelist.admin_sync import SyncOutcomeMixin
from whitelist.forms import ReasonForm, ValidUntilForm, WhitelistEntryForm
from whitelist.models import PlateSync, Status, WhitelistEntry
from whitelist.resources import whitelist_csv, whitelist_filename, whitelist_xlsx
from whitelist.services import entries, reasons, sync_job
from whitelist.services import sync as platform_sync

# Colours of the status column, from Django admin's own palette.
STATUS_COLOURS = {
    Status.ACTIVE: "var(--message-success-bg, #dfd)",
    Status.NOT_YET_VALID: "var(--message-info-bg, #ddf)",
    Status.EXPIRED: "var(--message-warning-bg, #ffc)",
    Status.DISABLED: "var(--darkened-bg, #eee)",
}
SYNC_COLOURS = {
    PlateSync.State.SYNCED: "var(--message-success-bg, #dfd)",
    PlateSync.State.PENDING: "var(--message-warning-bg, #ffc)",
    PlateSync.State.FAILED: "var(--message-error-bg, #ffefef)",
}


def sync_tooltip(*, state: str, message: str | None, attempted_at, synced_at) -> str:
    """Return the sync state explained: when the platform answered, and what."""
    if state == PlateSync.State.SYNCED:
        text = _("Confirmed by the platform at %(time)s.") % {"time": display.moment(synced_at)}
    elif state == PlateSync.State.FAILED:
        text = _(
            "The last attempt, at %(time)s, failed; the scheduled sync retries it every "
            "%(minutes)d minutes."
        ) % {"time": display.moment(attempted_at), "minutes": settings.SCHEDULE_SYNC_MINUTES}
    else:
        text = _("Waiting to be sent to the platform.")
        if attempted_at:
            text += " " + _("Last attempt: %(time)s.") % {"time": display.moment(attempted_at)}
    if message:
        text += " " + _("Platform message: %(message)s") % {
            "message": display.platform_message(message)
        }
    return text


@admin.register(WhitelistEntry)
class WhitelistEntryAdmin(
    QueryStringMixin,
    SyncOutcomeMixin,
    EntryHistoryMixin,
    WhitelistImportMixin,
    FileExportMixin,
    SimpleHistoryAdmin,
):
    form = WhitelistEntryForm
    list_display = [
        "plate",
        "park_display",
        "valid_from_display",
        "valid_until_display",
        "status_display",
        "sync_display",
        "holder",
        "note",
        "plate_page_display",
    ]
    list_filter = [StatusFilter, ExpiringFilter, ParkFilter, SyncStateFilter]
    search_fields = ["plate", "holder"]  # see get_search_results
    search_help_text = gettext_lazy(
        "A plate in any spelling (川a 660p1, or a part such as 660P1), or the holder."
    )
    list_per_page = 50
    ordering = ["plate", "-valid_from", "-pk"]
    # delete_selected: Django's, asking the change reason too (see the method).
    actions = [
        "delete_selected",
        "enable_entries",
        "disable_entries",
        "change_valid_until",
        "sync_now",
    ]
    fieldsets = [
        (None, {"fields": ["plate", "park_uuid", "holder", "note"]}),
        (gettext_lazy("Validity"), {"fields": ["valid_from", "valid_until", "is_active"]}),
        (
            gettext_lazy("Record"),
            {"fields": ["created_at", "updated_at"], "classes": ["collapse"]},
        ),
    ]
    readonly_fields = ["created_at", "updated_at", "sync_detail"]

    # The changelist's buttons: Import (WhitelistImportMixin's), Export Excel and Export CSV
    # (FileExportMixin's), in templates/admin/whitelist/whitelistentry/change_list.html.

    # --- list --------------------------------------------------------------------------------

    def get_queryset(self, request):
        return selectors.with_sync_state(selectors.with_park_name(super().get_queryset(request)))

    def get_search_results(self, request, queryset, search_term):
        """Find plates however they are typed (normalised, then a substring) and holders."""
        term = search_term.strip()
        if not term:
            return queryset, False
        condition = Q(holder__icontains=term)
        plate = plates.normalise(term)
        if plate:
            condition |= Q(plate__contains=plate)
        return queryset.filter(condition), False

    @admin.display(description=gettext_lazy("park"), ordering="park_name")
    def park_display(self, entry: WhitelistEntry) -> str:
        return display.park(entry.park_uuid, entry.park_name)

    @admin.display(description=gettext_lazy("valid from"), ordering="valid_from")
    def valid_from_display(self, entry: WhitelistEntry) -> str:
        return display.moment(entry.valid_from)

    @admin.display(description=gettext_lazy("valid until"), ordering="valid_until")
    def valid_until_display(self, entry: WhitelistEntry) -> str:
        return display.valid_until(entry.valid_until)

    @admin.display(description=gettext_lazy("plate's records"))
    def plate_page_display(self, entry: WhitelistEntry) -> str:
        # The plate's page (its entries, stays, orders and renewals), routed by the project.
        return format_html(
            '<a href="{}">{}</a>', reverse("orders_plate", args=[entry.plate]), _("view")
        )

    @admin.display(description=gettext_lazy("status"))
    def status_display(self, entry: WhitelistEntry) -> str:
        status = entry.status
        return format_html(
            '<span class="whitelist-status whitelist-status-{}" '
            'style="background:{};padding:1px 6px;border-radius:3px">{}</span>',
            status.value,
            STATUS_COLOURS[status],
            status.label,
        )

    @admin.display(description=gettext_lazy("platform sync"), ordering="sync_state")
    def sync_display(self, entry: WhitelistEntry) -> str:
        state = PlateSync.State(entry.sync_state)
        return format_html(
            '<span class="whitelist-sync whitelist-sync-{}" title="{}" '
            'style="background:{};padding:1px 6px;border-radius:3px">{}</span>',
            state.value,
            sync_tooltip(
                state=state,
                message=entry.sync_message,
                attempted_at=entry.sync_attempted_at,
                synced_at=entry.sync_synced_at,
            ),
            SYNC_COLOURS[state],
            state.label,
        )

    # --- add / change ------------------------------------------------------------------------

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None:
            return fieldsets
        fieldsets = list(fieldsets)
        if self.has_change_permission(request, obj):
            # Asked on every change, required only when it disables or shortens the entry;
            # a read-only view changes nothing and asks nothing.
            fieldsets.append((reasons.REASON_LABEL, {"fields": [reasons.REASON_FIELD]}))
        return [*fieldsets, (gettext_lazy("Platform"), {"fields": ["sync_detail"]})]

    @admin.display(description=gettext_lazy("platform sync"))
    def sync_detail(self, entry: WhitelistEntry) -> str:
        sync = PlateSync.objects.filter(plate=entry.plate).first()
        if sync is None:
            return _("Never sent to the platform yet: waiting for the next sync.")
        unknown = _("unknown")
        return format_html(
            "<strong>{}</strong><br>{}: {}<br>{}: {}<br>{}: {}<br>{}: {}<br>{}: {}",
            sync.get_state_display(),
            _("Wanted"),
            sync.get_wanted_status_display() or unknown,
            _("At the platform"),
            sync.get_confirmed_status_display() or _("never confirmed"),
            _("Last attempt"),
            display.moment(sync.attempted_at),
            _("Last success"),
            display.moment(sync.synced_at),
            _("Platform message"),
            display.platform_message(sync.message) or "–",
        )

    # --- the pages that write: their messages wait for the platform's answer (admin_sync) ---

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        return self.saving_form(
            request, super().changeform_view, request, object_id, form_url, extra_context
        )

    def saving_form(self, request, view, *args):
        """Run ``view``, a page whose form saves one entry (the change form, a revert),
        reporting its syncs; a save the form could not foresee failing shows the page again
        with the reason, nothing saved (the page's transaction rolled back)."""
        try:
            with self.reporting_syncs(request):
                return view(*args)
        except entries.IdentityTaken as taken:
            # The form found the identity free, but a simultaneous save (the same form sent
            # twice) took it before this one.
            self.message_user(request, " ".join(taken.messages), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())
        except reasons.ReasonRequired as required:
            # The form saw no need for a reason, but the entry changed meanwhile (another
            # page's save) so that this change now disables or shortens it.
            self.message_user(request, " ".join(required.messages), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def delete_view(self, request, object_id, extra_context=None):
        """Django's confirmation page, asking the change reason too (``delete_reason``)."""
        # Django's page takes any POST as the confirmation.
        form, confirm = self.delete_reason(request, confirmed=request.method == "POST")
        with self.reporting_syncs(request):
            response = super().delete_view(confirm, object_id, extra_context)
        return self.with_reason_form(response, form)

    def delete_reason(self, request, *, confirmed: bool):
        """Return the delete confirmation's reason form and the request to hand Django's
        page: the request itself, or, when a confirmation came without a valid reason, a
        copy without the confirmation, so that the page is shown again (with the form's
        errors) and nothing is deleted."""
        if not confirmed:
            return ReasonForm(required=True), request
        form = ReasonForm(request.POST, required=True)
        if form.is_valid():
            return form, request
        # Django's pages take any POST (delete_view) or a "post" (the bulk action) as the
        # confirmation: the copy has neither.
        unconfirmed = copy.copy(request)
        unconfirmed.method = "GET"
        unconfirmed.POST = QueryDict()
        return form, unconfirmed

    def response_delete(self, request, obj_display, obj_id):
        # The entry's history (with the reason just given) stays readable at its address.
        url = reverse("admin:whitelist_whitelistentry_history", args=[obj_id])
        self.message_user(
            request,
            format_html(
                '<a href="{}">{}</a>', url, _("The deleted entry's history, with the reason")
            ),
            messages.INFO,
        )
        return super().response_delete(request, obj_display, obj_id)

    @staticmethod
    def with_reason_form(response, form):
        """Add the reason's form to a confirmation page (a TemplateResponse not yet
        rendered); any other response (after the delete: a redirect) as it is."""
        if isinstance(response, TemplateResponse) and not response.is_rendered:
            response.context_data["reason_form"] = form
        return response

    @admin.action(description=gettext_lazy("Delete selected entries…"), permissions=["delete"])
    def delete_selected(self, request, queryset):
        """Django's bulk delete, whose confirmation asks the change reason too."""
        # Django's action takes a "post" as the confirmation.
        form, confirm = self.delete_reason(request, confirmed=bool(request.POST.get("post")))
        return self.with_reason_form(django_actions.delete_selected(self, confirm, queryset), form)

    def response_action(self, request, queryset):
        with self.reporting_syncs(request):
            return super().response_action(request, queryset)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        return self.saving_form(  # a revert
            request, super().history_form_view, request, object_id, version_id, extra_context
        )

    def process_import_view(self, request):
        with self.reporting_syncs(request):
            return super().process_import_view(request)

    def save_model(self, request, obj, form, change):
        # Through the service, which also syncs the plate after the transaction commits, and
        # refuses a change that needs a reason without one.
        entries.save_entry(
            entry=obj, user=request.user, reason=form.cleaned_data.get(reasons.REASON_FIELD, "")
        )
        windows = selectors.describe_overlaps(entry=obj)
        if windows:
            messages.warning(
                request,
                _(
                    "Saved, but %(plate)s already has another enabled entry for the same park "
                    "whose validity overlaps this one: %(windows)s. Check whether one of them "
                    "should be changed or disabled."
                )
                % {"plate": obj.plate, "windows": windows},
            )

    # Called once the confirmation's reason was found valid (``delete_reason``).

    def delete_model(self, request, obj):
        entries.delete_entries(
            entries=WhitelistEntry.objects.filter(pk=obj.pk),
            user=request.user,
            reason=request.POST.get(reasons.REASON_FIELD, ""),
        )

    def delete_queryset(self, request, queryset):
        entries.delete_entries(
            entries=queryset,
            user=request.user,
            reason=request.POST.get(reasons.REASON_FIELD, ""),
        )

    # --- bulk actions ------------------------------------------------------------------------

    @admin.action(description=gettext_lazy("Enable selected entries"), permissions=["change"])
    def enable_entries(self, request, queryset):
        result = entries.set_entries_active(entries=queryset, active=True, user=request.user)
        self.message_user(
            request,
            ngettext(
                "Enabled %(changed)d entry (%(unchanged)d already enabled).",
                "Enabled %(changed)d entries (%(unchanged)d already enabled).",
                result.changed,
            )
            % {"changed": result.changed, "unchanged": result.unchanged},
            messages.SUCCESS,
        )

    @admin.action(description=gettext_lazy("Disable selected entries…"), permissions=["change"])
    def disable_entries(self, request, queryset):
        """Ask the change reason (an intermediate page), then disable the entries."""
        form = ReasonForm(request.POST if "apply" in request.POST else None, required=True)
        if not form.is_valid():
            return self.action_page(
                request,
                queryset,
                form=form,
                title=_("Disable selected entries"),
                action_name="disable_entries",
            )
        result = entries.set_entries_active(
            entries=queryset,
            active=False,
            user=request.user,
            reason=form.cleaned_data[reasons.REASON_FIELD],
        )
        self.message_user(
            request,
            ngettext(
                "Disabled %(changed)d entry (%(unchanged)d already disabled).",
                "Disabled %(changed)d entries (%(unchanged)d already disabled).",
                result.changed,
            )
            % {"changed": result.changed, "unchanged": result.unchanged},
            messages.SUCCESS,
        )

    @admin.action(
        description=gettext_lazy("Set or extend “valid until” of selected entries…"),
        permissions=["change"],
    )
    def change_valid_until(self, request, queryset):
        """Ask for the new end or the days to add (an intermediate page), then apply it."""
        form = ValidUntilForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            try:
                if form.cleaned_data["valid_until"] is not None:
                    valid_until = form.cleaned_data["valid_until"]
                    result = entries.set_valid_until(
                        entries=queryset,
                        valid_until=valid_until,
                        user=request.user,
                        reason=form.cleaned_data[reasons.REASON_FIELD],
                    )
                    message = ngettext(
                        "Set “valid until” of %(changed)d entry to %(until)s.",
                        "Set “valid until” of %(changed)d entries to %(until)s.",
                        result.changed,
                    ) % {"changed": result.changed, "until": display.moment(valid_until)}
                else:
                    days = form.cleaned_data["extend_days"]
                    result = entries.extend_valid_until(
                        entries=queryset, days=days, user=request.user
                    )
                    message = ngettext(
                        "Extended %(changed)d entry by %(days)d days",
                        "Extended %(changed)d entries by %(days)d days",
                        result.changed,
                    ) % {"changed": result.changed, "days": days}
                    if result.unchanged:
                        message += "; " + ngettext(
                            "%(count)d entry without an end was left as it is.",
                            "%(count)d entries without an end were left as they are.",
                            result.unchanged,
                        ) % {"count": result.unchanged}
                    else:
                        message += "."
            except reasons.ReasonRequired as required:
                # An earlier end for some entries: the page again, asking the reason.
                form.add_error(reasons.REASON_FIELD, required)
            except ValidationError as error:
                self.message_user(request, " ".join(error.messages), messages.ERROR)
                return None
            else:
                self.message_user(request, message, messages.SUCCESS)
                return None
        return self.action_page(
            request,
            queryset,
            form=form,
            title=_("Set or extend “valid until”"),
            action_name="change_valid_until",
        )

    def action_page(self, request, queryset, *, form, title, action_name):
        """The intermediate page of an action that asks something first (``form``); it posts
        back to the changelist with the same selection."""
        count = queryset.count()
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "opts": self.opts,
            "form": form,
            "media": self.media + form.media,
            "entries": queryset[:20],
            "count": count,
            "more": max(count - 20, 0),
            "action_name": action_name,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "selected": request.POST.getlist(helpers.ACTION_CHECKBOX_NAME),
            "select_across": request.POST.get("select_across", "0"),
        }
        return TemplateResponse(request, "admin/whitelist/whitelistentry/valid_until.html", context)

    @admin.action(description=gettext_lazy("Sync now"), permissions=["change"])
    def sync_now(self, request, queryset):
        """Send the selected entries' plates to the platform now; more than a request sends
        (``INLINE_LIMIT``) go to a background job, whose page is shown."""
        plates = list(queryset.order_by().values_list("plate", flat=True).distinct())
        try:
            if len(plates) > platform_sync.INLINE_LIMIT:
                job = sync_job.start_sync(plates=plates, owner=request.user)
                self.message_user(
                    request,
                    _(
                        "The sync of %(count)d plates started in the background: follow its "
                        "progress here or in “My jobs”."
                    )
                    % {"count": len(plates)},
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(reverse("admin:parkingops_job_change", args=[job.pk]))
            report = platform_sync.sync_now(plates=plates)
        except platform_sync.PlatformNotConfigured:
            self.message_user(
                request,
                _(
                    "The platform is not configured (PLATFORM_API_BASE): the plates were marked "
                    "pending and nothing was sent."
                ),
                messages.WARNING,
            )
            return
        if report.synced:
            self.message_user(
                request,
                ngettext(
                    "Synced %(count)d plate with the platform.",
                    "Synced %(count)d plates with the platform.",
                    len(report.synced),
                )
                % {"count": len(report.synced)},
                messages.SUCCESS,
            )
        if report.failed:
            failures = "; ".join(
                f"{plate}: {display.platform_message(message)}"
                for plate, message in list(report.failed.items())[:5]
            )
            text = ngettext(
                "%(count)d plate could not be synced (%(failures)s); the scheduled sync "
                "retries it every %(minutes)d minutes.",
                "%(count)d plates could not be synced (%(failures)s); the scheduled sync "
                "retries them every %(minutes)d minutes.",
                len(report.failed),
            ) % {
                "count": len(report.failed),
                "failures": failures,
                "minutes": settings.SCHEDULE_SYNC_MINUTES,
            }
            self.message_user(
                request, admin_sync.with_sync_state_link(text, failed=True), messages.ERROR
            )
        if report.left:
            text = ngettext(
                "%(count)d plate was left waiting for the next scheduled sync.",
                "%(count)d plates were left waiting for the next scheduled sync.",
                len(report.left),
            ) % {"count": len(report.left)}
            self.message_user(
                request, admin_sync.with_sync_state_link(text, failed=False), messages.WARNING
            )

    # --- import / export ---------------------------------------------------------------------

    def export_filename(self, request, changelist, kind=None):
        return whitelist_filename()

    def export_csv(self, request, queryset, *, progress):
        return whitelist_csv(queryset, progress=progress)

    def export_xlsx(self, request, queryset, about, *, progress):
        return whitelist_xlsx(queryset, about=about, progress=progress)


@admin.register(PlateSync)
class PlateSyncAdmin(QueryStringMixin, admin.ModelAdmin):
    """Read-only: every plate's sync, including plates whose last entry was deleted."""

    list_display = [
        "plate",
        "state",
        "wanted_status",
        "confirmed_status",
        "attempted_at",
        "synced_at",
        "message_display",
    ]
    list_filter = ["state"]
    search_fields = ["plate"]
    list_per_page = 100

    @admin.display(description=gettext_lazy("platform message"))
    def message_display(self, sync: PlateSync) -> str:
        return display.platform_message(sync.message) or "–"

    # The view page shows the platform's message by its meaning too.
    fields = [
        "plate",
        "state",
        "wanted_status",
        "confirmed_status",
        "message_display",
        "attempted_at",
        "synced_at",
        "failing_since",
        "version",
    ]
    readonly_fields = ["message_display"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
