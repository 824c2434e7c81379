"""The whitelist admin's import pages: upload and preview a file, then confirm it.

Extra admin URLs (``get_urls``, as ``contrib.auth``'s password page): ``import/`` previews the
uploaded file through ``services.importing``: its counts and its first rows worth showing, a
page at a time (``?page=N``); ``process_import/`` imports it. Between the two the file and the
preview are kept on the server (``parkingops.uploads``) and the user's session holds only their
keys beside a random token: the confirmation posts only the token, names no file, works once.
"""

import json
import secrets
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from parkingops.uploads import discard_upload, keep_upload, read_upload, take_upload
from whitelist import tables
from whitelist.services import importing, upsert
from whitelist.spreadsheet import COLUMNS, IMPORT_COLUMNS, FileRefused, column_label

SESSION_KEY = "whitelist_import"
NOT_PENDING = gettext_lazy(
    "This import is no longer waiting for confirmation: upload the file again."
)
PAGE_SIZE = 50
# A shown cell is cut to this many characters: the preview is a page to read, not the file.
SHOWN_CELL_CHARS = 60


class ImportForm(forms.Form):
    import_file = forms.FileField(label=gettext_lazy("File to import"))

    def clean_import_file(self):
        upload = self.cleaned_data["import_file"]
        if upload.size > tables.MAX_FILE_BYTES:
            raise forms.ValidationError(
                gettext_lazy("The file is larger than %(max)d MB: split it into several files."),
                params={"max": tables.MAX_FILE_BYTES // (1024 * 1024)},
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
    """The preview as the template shows it: the totals, then its rows a page at a time (the
    invalid ones while there are any, else those that add or change an entry).

    ``state`` is plain data (``of`` makes it from a ``Preview``): it is kept as JSON beside
    the file, so another page is shown without reading and checking the file again.
    """

    def __init__(self, state: dict[str, Any], page: int = 1) -> None:
        self.state = state
        self.totals, self.valid = state["totals"], state["valid"]
        self.listed, self.shown_total = len(state["rows"]), state["shown_total"]
        self.pages = max(1, -(-self.listed // PAGE_SIZE))
        self.page = min(max(page, 1), self.pages)
        self.previous_page = self.page - 1 if self.page > 1 else None
        self.next_page = self.page + 1 if self.page < self.pages else None
        start = (self.page - 1) * PAGE_SIZE
        self.rows = [ShownRow(**row) for row in state["rows"][start : start + PAGE_SIZE]]

    @classmethod
    def of(cls, preview: importing.Preview) -> "ShownPreview":
        return cls(
            {
                "totals": {
                    IMPORT_TYPES.get(kind, kind): preview.count(kind) for kind in importing.RESULTS
                },
                "valid": preview.valid,
                "shown_total": preview.shown_total,
                "rows": [asdict(_shown(row)) for row in preview.rows],
            }
        )


def _shown(previewed: importing.PreviewRow) -> ShownRow:
    if previewed.result == importing.INVALID:
        cells = previewed.row.cells
        return ShownRow(
            number=previewed.number,
            import_type="invalid",
            values=[_cell(cells.get(column)) for column in IMPORT_COLUMNS],
            error_dict={
                (name if name == NON_FIELD_ERRORS else column_label(name)): messages
                for name, messages in previewed.errors.items()
            },
        )
    entry = previewed.entry
    values = {
        "id": entry.pk,
        "plate": entry.plate,
        "park_uuid": entry.park_uuid or _("All parks"),
        "valid_from": entry.valid_from,
        "valid_until": entry.valid_until or _("No end"),
        "is_active": _("Yes") if entry.is_active else _("No"),
        "holder": entry.holder,
        "note": entry.note,
    }
    return ShownRow(
        number=previewed.number,
        import_type=IMPORT_TYPES[previewed.result],
        values=[_cell(values[column]) for column in IMPORT_COLUMNS],
        error_dict={},
    )


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        return value.strftime("%Y-%m-%d %H:%M")
    return Truncator(str(value)).chars(SHOWN_CELL_CHARS)


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
        """Show the form; with a file, preview it (``?page=N``: another page of the same file)
        and offer the confirmation when every row is valid."""
        if not self.has_import_permission(request):
            raise PermissionDenied
        form = ImportForm(request.POST or None, request.FILES or None)
        context: dict[str, Any] = {}
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["import_file"]
            data = upload.read()
            self._forget_pending(request)
            try:
                preview = importing.preview_import(data=data, name=upload.name)
            except FileRefused as error:
                form.add_error("import_file", str(error))
            else:
                result = ShownPreview.of(preview)
                # Kept for the confirmation, and the preview for its other pages.
                request.session[SESSION_KEY] = {
                    "token": secrets.token_urlsafe(16),
                    "upload": keep_upload(data),
                    "preview": keep_upload(json.dumps(result.state).encode()),
                    "name": upload.name,
                }
                context["result"] = result
        elif request.method == "GET" and "page" in request.GET:
            pending = request.session.get(SESSION_KEY) or {}
            state = read_upload(pending["preview"]) if pending.get("preview") else None
            if state is None:
                self._forget_pending(request)
                self.message_user(request, NOT_PENDING, level="error")
            else:
                page = request.GET["page"]
                page = int(page) if page.isascii() and page.isdigit() and len(page) < 10 else 1
                context["result"] = ShownPreview(json.loads(state), page)
        if context.get("result") and context["result"].valid:
            token = request.session[SESSION_KEY]["token"]
            context["confirm_form"] = ConfirmImportForm(initial={"token": token})
        return self._render(request, form, context)

    def _forget_pending(self, request) -> None:
        pending = request.session.pop(SESSION_KEY, None) or {}
        for key in (pending.get("upload"), pending.get("preview")):
            if key:
                discard_upload(key)

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
            and pending.get("upload")
            # Bytes: compare_digest refuses str with non-ASCII characters.
            and secrets.compare_digest(
                form.cleaned_data["token"].encode(), pending["token"].encode()
            )
        ):
            self.message_user(request, NOT_PENDING, level="error")
            return HttpResponseRedirect(import_url)
        # Once: the import is forgotten before it runs, whatever its outcome.
        request.session.pop(SESSION_KEY)
        if pending.get("preview"):
            discard_upload(pending["preview"])
        data = take_upload(pending["upload"])
        if data is None:  # expired, or taken by a simultaneous confirmation
            self.message_user(request, NOT_PENDING, level="error")
            return HttpResponseRedirect(import_url)
        try:
            result = importing.import_file(data=data, file_name=pending["name"], user=request.user)
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
                "file": pending["name"],
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
                "max_mb": tables.MAX_FILE_BYTES // (1024 * 1024),
                **context,
            },
        )
