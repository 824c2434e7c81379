"""The whitelist admin's import pages: upload and preview a file, then confirm it.

Extra admin URLs (``get_urls``, as ``contrib.auth``'s password page): ``import/`` previews the
uploaded file through ``services.importing``; ``process_import/`` imports it. Between the two
the file stays in the user's session under a random token, so the confirmation names nothing
on the server (no temporary file name to trust).
"""

import base64
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from whitelist.services import importing, upsert
from whitelist.spreadsheet import COLUMNS, IMPORT_COLUMNS, FileRefused, column_label

SESSION_KEY = "whitelist_import"


# The file is kept in the session between the preview and the confirmation: a whitelist of
# 100,000 rows is a few MB, so anything far larger is a mistake, refused before it is read.
MAX_IMPORT_BYTES = 20 * 1024 * 1024


class ImportForm(forms.Form):
    import_file = forms.FileField(label=gettext_lazy("File to import"))

    def clean_import_file(self):
        upload = self.cleaned_data["import_file"]
        if upload.size > MAX_IMPORT_BYTES:
            raise forms.ValidationError(
                gettext_lazy("The file is larger than %(max)d MB: split it into several files."),
                params={"max": MAX_IMPORT_BYTES // (1024 * 1024)},
                code="too_large",
            )
        return upload


class ConfirmImportForm(forms.Form):
    token = forms.CharField(widget=forms.HiddenInput)


@dataclass(frozen=True)
class ShownRow:
    """A previewed row for the template: its number, what it does, its cells, its errors."""

    number: int
    import_type: str  # new, update, skip or invalid (the CSS classes of the rows)
    values: list[str]
    error_dict: dict[str, list[str]]

    @property
    def field_specific_errors(self) -> dict[str, list[str]]:
        return {name: items for name, items in self.error_dict.items() if name != NON_FIELD_ERRORS}

    @property
    def non_field_specific_errors(self) -> list[str]:
        return self.error_dict.get(NON_FIELD_ERRORS, [])


IMPORT_TYPES = {upsert.CREATED: "new", upsert.UPDATED: "update", upsert.UNCHANGED: "skip"}


class ShownPreview:
    """The preview as the template shows it: totals, the invalid rows, the valid rows."""

    def __init__(self, preview: importing.Preview) -> None:
        rows = [_shown(row) for row in preview.rows]
        self.invalid_rows = [row for row in rows if row.import_type == "invalid"]
        self.valid_rows = [row for row in rows if row.import_type != "invalid"]
        self.totals = {
            kind: sum(1 for row in rows if row.import_type == kind)
            for kind in ("new", "update", "skip", "invalid")
        }


def _shown(previewed: importing.PreviewRow) -> ShownRow:
    if previewed.result == importing.INVALID:
        cells = previewed.row.cells
        return ShownRow(
            number=previewed.row.number,
            import_type="invalid",
            values=[_cell(cells.get(column)) for column in IMPORT_COLUMNS],
            error_dict={
                (name if name == NON_FIELD_ERRORS else column_label(name)): messages
                for name, messages in previewed.errors.items()
            },
        )
    entry = previewed.entry
    values = {
        "id": "" if entry.pk is None else str(entry.pk),
        "plate": entry.plate,
        "park_uuid": entry.park_uuid or _("All parks"),
        "valid_from": _cell(entry.valid_from),
        "valid_until": _cell(entry.valid_until) if entry.valid_until else _("No end"),
        "is_active": _("Yes") if entry.is_active else _("No"),
        "holder": entry.holder,
        "note": entry.note,
    }
    return ShownRow(
        number=previewed.row.number,
        import_type=IMPORT_TYPES[previewed.result],
        values=[values[column] for column in IMPORT_COLUMNS],
        error_dict={},
    )


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        return value.strftime("%Y-%m-%d %H:%M")
    return str(value)


class WhitelistImportMixin:
    """Adds the import pages to ``WhitelistEntryAdmin`` and its changelist's Import button."""

    import_template_name = "admin/whitelist/whitelistentry/import.html"

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        wrap = self.admin_site.admin_view
        return [
            path("import/", wrap(self.import_view), name="{}_{}_import".format(*info)),
            path(
                "process_import/",
                wrap(self.process_import_view),
                name="{}_{}_process_import".format(*info),
            ),
            *super().get_urls(),
        ]

    def has_import_permission(self, request) -> bool:
        # Importing adds and changes entries.
        return self.has_add_permission(request) and self.has_change_permission(request)

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "has_import_permission": self.has_import_permission(request),
        }
        return super().changelist_view(request, extra_context)

    def import_view(self, request):
        """Show the form; with a file, preview it and offer the confirmation when all is valid."""
        if not self.has_import_permission(request):
            raise PermissionDenied
        form = ImportForm(request.POST or None, request.FILES or None)
        context: dict[str, Any] = {}
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["import_file"]
            data = upload.read()
            try:
                preview = importing.preview_import(data=data)
            except FileRefused as error:
                form.add_error("import_file", str(error))
            else:
                context["result"] = ShownPreview(preview)
                if preview.valid:
                    token = secrets.token_urlsafe(16)
                    request.session[SESSION_KEY] = {
                        "token": token,
                        "file_name": upload.name,
                        "data": base64.b64encode(data).decode("ascii"),
                    }
                    context["confirm_form"] = ConfirmImportForm(initial={"token": token})
        return self._render(request, form, context)

    def process_import_view(self, request):
        """Import the file previewed in this session, if its token is the one posted."""
        if not self.has_import_permission(request):
            raise PermissionDenied
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        import_url = reverse(
            "admin:whitelist_whitelistentry_import", current_app=self.admin_site.name
        )
        pending = request.session.get(SESSION_KEY) or {}
        form = ConfirmImportForm(request.POST)
        if not (
            form.is_valid()
            and pending.get("token")
            and secrets.compare_digest(form.cleaned_data["token"], pending["token"])
        ):
            self.message_user(
                request,
                _("This import is no longer waiting for confirmation: upload the file again."),
                level="error",
            )
            return HttpResponseRedirect(import_url)
        del request.session[SESSION_KEY]
        try:
            result = importing.import_file(
                data=base64.b64decode(pending["data"]),
                file_name=pending["file_name"],
                user=request.user,
            )
        except (upsert.UpsertRejected, FileRefused):
            # The data changed after the preview (an entry deleted, another one added).
            self.message_user(
                request,
                _(
                    "Nothing was imported: some rows are no longer valid. Upload the file again "
                    "to see which."
                ),
                level="error",
            )
            return HttpResponseRedirect(import_url)
        self.message_user(
            request,
            _("Imported %(file)s: %(new)d new, %(updated)d updated, %(unchanged)d unchanged.")
            % {
                "file": pending["file_name"],
                "new": result.count(upsert.CREATED),
                "updated": result.count(upsert.UPDATED),
                "unchanged": result.count(upsert.UNCHANGED),
            },
        )
        return HttpResponseRedirect(
            reverse("admin:whitelist_whitelistentry_changelist", current_app=self.admin_site.name)
        )

    def _render(self, request, form: ImportForm, context: dict[str, Any]) -> TemplateResponse:
        return TemplateResponse(
            request,
            self.import_template_name,
            {
                **self.admin_site.each_context(request),
                "title": _("Import"),
                "opts": self.opts,
                "form": form,
                "columns": [(column, COLUMNS[column][0]) for column in IMPORT_COLUMNS],
                "column_labels": [column_label(column) for column in IMPORT_COLUMNS],
                **context,
            },
        )
