"""The operations staff's whitelist: list, search, filters, bulk actions, import/export, history."""

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from import_export.admin import ImportExportMixin
from import_export.formats.base_formats import XLSX
from import_export.forms import ExportForm
from simple_history.admin import SimpleHistoryAdmin

from whitelist import plates, selectors, services
from whitelist.forms import ValidUntilForm, WhitelistEntryForm
from whitelist.models import Status, WhitelistEntry
from whitelist.resources import COLUMNS, EXPORT_ONLY, ExcelCSV, WhitelistEntryResource

# Colours of the status column, from Django admin's own palette.
STATUS_COLOURS = {
    Status.ACTIVE: "var(--message-success-bg, #dfd)",
    Status.NOT_YET_VALID: "var(--message-info-bg, #ddf)",
    Status.EXPIRED: "var(--message-warning-bg, #ffc)",
    Status.DISABLED: "var(--darkened-bg, #eee)",
}
ALL_PARKS_PARAM = "-"


def _china_time(value) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else "–"


class StatusFilter(admin.SimpleListFilter):
    """Filter by the computed status, in SQL (see ``WhitelistEntryQuerySet.in_status``)."""

    title = gettext_lazy("status")
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return Status.choices

    def queryset(self, request, queryset):
        if self.value() in Status.values:
            return queryset.in_status(self.value())
        return queryset


class ParkFilter(admin.SimpleListFilter):
    """Filter by the entry's park, exactly: "All parks" lists the entries valid in every park."""

    title = gettext_lazy("park")
    parameter_name = "park"

    def lookups(self, request, model_admin):
        return [
            (uuid or ALL_PARKS_PARAM, name or uuid or gettext_lazy("All parks"))
            for uuid, name in selectors.whitelisted_parks()
        ]

    def queryset(self, request, queryset):
        value = self.value()
        if value is None:
            return queryset
        return queryset.filter(park_uuid="" if value == ALL_PARKS_PARAM else value)


@admin.register(WhitelistEntry)
class WhitelistEntryAdmin(ImportExportMixin, SimpleHistoryAdmin):
    form = WhitelistEntryForm
    list_display = [
        "plate",
        "park_display",
        "valid_from_display",
        "valid_until_display",
        "status_display",
        "holder",
        "note",
    ]
    list_filter = [StatusFilter, ParkFilter]
    search_fields = ["plate", "holder"]  # see get_search_results
    search_help_text = gettext_lazy(
        "A plate in any spelling (川a 660p1, or a part such as 660P1), or the holder."
    )
    list_per_page = 50
    ordering = ["plate", "-valid_from", "-pk"]
    actions = ["enable_entries", "disable_entries", "change_valid_until"]
    fieldsets = [
        (None, {"fields": ["plate", "park_uuid", "holder", "note"]}),
        (gettext_lazy("Validity"), {"fields": ["valid_from", "valid_until", "is_active"]}),
        (
            gettext_lazy("Record"),
            {"fields": ["created_at", "updated_at"], "classes": ["collapse"]},
        ),
    ]
    readonly_fields = ["created_at", "updated_at"]

    # django-import-export
    resource_classes = [WhitelistEntryResource]
    import_formats = [ExcelCSV, XLSX]
    export_formats = [ExcelCSV, XLSX]
    export_form_class = ExportForm
    import_template_name = "admin/whitelist/whitelistentry/import.html"

    # --- list --------------------------------------------------------------------------------

    def get_queryset(self, request):
        return selectors.with_park_name(super().get_queryset(request))

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
        if not entry.park_uuid:
            return _("All parks")
        return entry.park_name or entry.park_uuid

    @admin.display(description=gettext_lazy("valid from"), ordering="valid_from")
    def valid_from_display(self, entry: WhitelistEntry) -> str:
        return _china_time(entry.valid_from)

    @admin.display(description=gettext_lazy("valid until"), ordering="valid_until")
    def valid_until_display(self, entry: WhitelistEntry) -> str:
        return _china_time(entry.valid_until) if entry.valid_until else _("No end")

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

    # --- add / change ------------------------------------------------------------------------

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if not obj.is_active:
            return
        overlaps = list(selectors.overlapping_entries(entry=obj).order_by("valid_from")[:6])
        if overlaps:
            windows = "; ".join(
                f"{_china_time(other.valid_from)} – {_china_time(other.valid_until)}"
                for other in overlaps[:5]
            )
            messages.warning(
                request,
                _(
                    "Saved, but %(plate)s already has another enabled entry for the same park "
                    "whose validity overlaps this one: %(windows)s. Check whether one of them "
                    "should be changed or disabled."
                )
                % {"plate": obj.plate, "windows": windows + (" …" if len(overlaps) > 5 else "")},
            )

    # --- bulk actions ------------------------------------------------------------------------

    @admin.action(description=gettext_lazy("Enable selected entries"), permissions=["change"])
    def enable_entries(self, request, queryset):
        result = services.set_entries_active(entries=queryset, active=True, user=request.user)
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

    @admin.action(description=gettext_lazy("Disable selected entries"), permissions=["change"])
    def disable_entries(self, request, queryset):
        result = services.set_entries_active(entries=queryset, active=False, user=request.user)
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
                    result = services.set_valid_until(
                        entries=queryset, valid_until=valid_until, user=request.user
                    )
                    message = ngettext(
                        "Set “valid until” of %(changed)d entry to %(until)s.",
                        "Set “valid until” of %(changed)d entries to %(until)s.",
                        result.changed,
                    ) % {"changed": result.changed, "until": _china_time(valid_until)}
                else:
                    days = form.cleaned_data["extend_days"]
                    result = services.extend_valid_until(
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
            except ValidationError as error:
                self.message_user(request, " ".join(error.messages), messages.ERROR)
                return None
            self.message_user(request, message, messages.SUCCESS)
            return None
        count = queryset.count()
        context = {
            **self.admin_site.each_context(request),
            "title": _("Set or extend “valid until”"),
            "opts": self.opts,
            "form": form,
            "media": self.media + form.media,
            "entries": queryset[:20],
            "count": count,
            "more": max(count - 20, 0),
            "action_name": "change_valid_until",
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "selected": request.POST.getlist(helpers.ACTION_CHECKBOX_NAME),
            "select_across": request.POST.get("select_across", "0"),
        }
        return TemplateResponse(request, "admin/whitelist/whitelistentry/valid_until.html", context)

    # --- import / export ---------------------------------------------------------------------

    def has_import_permission(self, request):
        # Importing adds and changes entries; without this override any staff user who can
        # open the admin could import (IMPORT_EXPORT_IMPORT_PERMISSION_CODE is unset).
        return self.has_add_permission(request) and self.has_change_permission(request)

    def has_export_permission(self, request):
        return self.has_view_permission(request)

    def get_import_data_kwargs(self, **kwargs):
        # Nothing is written while any row is invalid, even if the data changed between the
        # preview and the confirmation.
        return {**super().get_import_data_kwargs(**kwargs), "rollback_on_validation_errors": True}

    def get_import_context_data(self, **kwargs):
        context = super().get_import_context_data(**kwargs)
        context["column_labels"] = WhitelistEntryResource().get_column_labels()
        context["columns"] = [
            (column, chinese)
            for column, (chinese, _others) in COLUMNS.items()
            if column not in EXPORT_ONLY
        ]
        return context

    def process_result(self, result, request):
        if result.has_errors() or result.has_validation_errors():
            # Only reachable when the data changed after the preview; it was rolled back.
            messages.error(
                request,
                _(
                    "Nothing was imported: some rows are no longer valid. Upload the file again "
                    "to see which."
                ),
            )
            return HttpResponseRedirect(
                reverse("admin:whitelist_whitelistentry_import", current_app=self.admin_site.name)
            )
        return super().process_result(result, request)

    def get_export_filename(self, request, queryset, file_format):
        return f"whitelist-{timezone.localdate():%Y-%m-%d}.{file_format.get_extension()}"
