"""The whitelist admin's import pages: upload and preview a file, then confirm it.

Extra admin URLs (``get_urls``, as ``contrib.auth``'s password page): ``import/`` previews the
uploaded file through ``services.importing``: its counts and its first rows worth showing, a
page at a time (``?page=N``); ``process_import/`` imports it. Between the two the file and the
preview are kept on the server (``parkingops.uploads``) and the user's session holds only their
keys beside a random token: the confirmation posts only the token, names no file, works once.

A file of more than ``IMPORT_BACKGROUND_ROWS`` rows is previewed, then imported, by jobs
(``whitelist.jobs``) instead: ``import/job/<id>/`` shows the preview a finished preview job of
the user kept, a page at a time, and its confirmation (a POST there) starts the import's job.
"""

import secrets
import uuid
from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from parkingops import xlsx
from parkingops.jobs.models import Job
from parkingops.uploads import discard_upload, keep_upload, take_upload
from whitelist import jobs, tables
from whitelist.forms import ReasonForm
from whitelist.import_preview import (
    NO_LONGER_VALID,
    NOT_PENDING,
    ShownPreview,
    import_counts,
    imported_message,
)
from whitelist.resources import import_template_xlsx
from whitelist.services import importing, upsert
from whitelist.services.reasons import ReasonRequired
from whitelist.spreadsheet import (
    COLUMNS,
    IMPORT_COLUMNS,
    FileRefused,
    column_label,
    has_more_rows_than,
)

SESSION_KEY = "whitelist_import"

# What the import page says of each column it reads: (required, format and example, meaning).
# The columns' Chinese names are the file format's (``spreadsheet.COLUMNS``).
_NO = gettext_lazy("No")
COLUMN_HELP = {
    "id": (
        _NO,
        gettext_lazy("A number, as exported, e.g. 1024"),
        gettext_lazy(
            "The entry to update; blank to add an entry or match one by plate, park and "
            "“valid from”."
        ),
    ),
    "plate": (
        gettext_lazy("Yes"),
        gettext_lazy("e.g. 粤B8K2M6 (spaces and lower case are accepted)"),
        gettext_lazy("The vehicle's plate."),
    ),
    "park_uuid": (
        _NO,
        gettext_lazy("The park's number (UUID); blank or 全部车场 for all parks"),
        gettext_lazy("The park where the plate is let through."),
    ),
    "valid_from": (
        gettext_lazy("For a new entry"),
        gettext_lazy("China time, e.g. 2026-01-31 08:00 or 2026-01-31"),
        gettext_lazy("When the entry starts to be valid."),
    ),
    "valid_until": (
        _NO,
        gettext_lazy("China time, e.g. 2026-12-31 23:59; blank for no end (长期有效)"),
        gettext_lazy("When the entry stops being valid; after “valid from”."),
    ),
    "is_active": (
        _NO,
        gettext_lazy("是 or 否 (also 1 or 0); blank keeps the entry's value (是 for a new one)"),
        gettext_lazy("Whether the entry is enabled."),
    ),
    "holder": (
        _NO,
        gettext_lazy("Text, up to 100 characters, e.g. 张三"),
        gettext_lazy("Who holds the plate."),
    ),
    "note": (_NO, gettext_lazy("Text, up to 255 characters"), gettext_lazy("Any remark.")),
}


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


class ConfirmImportForm(ReasonForm):
    """The confirmation: the preview's token and, when rows disable or shorten entries
    (``narrowing`` of them), one change reason for them all."""

    token = forms.CharField(widget=forms.HiddenInput)

    def __init__(self, *args, narrowing: int = 0, **kwargs):
        super().__init__(*args, required=bool(narrowing), **kwargs)
        if not narrowing:
            del self.fields["reason"]


class ConfirmImportJobForm(ConfirmImportForm):
    """The confirmation on a preview job's page, which names the file: no token."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["token"]


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
            path(
                "import/template/",
                wrap(self.import_template_view),
                name="{}_{}_import_template".format(*info),
            ),
            path(
                "import/job/<uuid:job_id>/",
                wrap(self.import_job_view),
                name="{}_{}_import_job".format(*info),
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
            limit = settings.IMPORT_BACKGROUND_ROWS
            try:
                # Counted before anything is checked: a large file's preview alone takes
                # longer than a request should.
                if has_more_rows_than(data, limit, name=upload.name):
                    job = jobs.start_preview(data=data, name=upload.name, user=request.user)
                    self.message_user(
                        request,
                        _(
                            "The file has more than %(rows)d rows: it is being checked in the "
                            "background. Follow it in “My jobs”, then open its preview there "
                            "to confirm the import."
                        )
                        % {"rows": limit},
                    )
                    return HttpResponseRedirect(
                        reverse("admin:parkingops_job_change", args=[job.pk])
                    )
                preview = importing.preview_import(data=data, name=upload.name)
            except FileRefused as error:
                form.add_error("import_file", str(error))
            else:
                result = ShownPreview.of(preview)
                # Kept for the confirmation, and the preview for its other pages.
                request.session[SESSION_KEY] = {
                    "token": secrets.token_urlsafe(16),
                    "upload": keep_upload(data),
                    "preview": result.keep(),
                    "name": upload.name,
                    "narrowing": result.narrowing,
                }
                context["result"] = result
        elif request.method == "GET" and "page" in request.GET:
            pending = request.session.get(SESSION_KEY) or {}
            result = ShownPreview.kept(pending.get("preview"), _page(request))
            if result is None:
                self._forget_pending(request)
                self.message_user(request, NOT_PENDING, level="error")
            else:
                context["result"] = result
        if context.get("result") and context["result"].valid:
            token = request.session[SESSION_KEY]["token"]
            context["confirm_form"] = ConfirmImportForm(
                initial={"token": token}, narrowing=context["result"].narrowing
            )
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
        import_url = self._import_url()
        pending = request.session.get(SESSION_KEY) or {}
        form = ConfirmImportForm(request.POST, narrowing=pending.get("narrowing", 0))
        if form.is_valid() is False and set(form.errors) == {"reason"}:
            # The file stays pending: its preview is shown again, with what the reason lacks.
            self.message_user(request, " ".join(form.errors["reason"]), level="error")
            return HttpResponseRedirect(import_url + "?page=1")
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
            result = importing.import_file(
                data=data,
                file_name=pending["name"],
                user=request.user,
                change_reason=form.cleaned_data.get("reason", ""),
            )
        except (upsert.UpsertRejected, FileRefused, ReasonRequired):
            # ReasonRequired: rows that did not when previewed now disable or shorten entries.
            self.message_user(request, NO_LONGER_VALID, level="error")
            return HttpResponseRedirect(import_url)
        self.message_user(request, imported_message(pending["name"], import_counts(result)))
        return HttpResponseRedirect(
            reverse("admin:whitelist_whitelistentry_changelist", current_app=self.admin_site.name)
        )

    def import_job_view(self, request, job_id: uuid.UUID):
        """The preview a finished preview job of this user kept (``?page=N``), and its
        confirmation: a POST here starts the import's job, once."""
        if not self.has_import_permission(request):
            raise PermissionDenied
        # Another user's job, or one not (yet) succeeded, is not found.
        preview = get_object_or_404(
            Job, pk=job_id, kind=jobs.PREVIEW, owner=request.user, state=Job.State.SUCCEEDED
        )
        if request.method == "POST":
            form = ConfirmImportJobForm(request.POST, narrowing=preview.result.get("narrowing", 0))
            if not form.is_valid():
                self.message_user(request, " ".join(form.errors["reason"]), level="error")
                return HttpResponseRedirect(request.path)
            job = jobs.confirm_preview(
                preview, user=request.user, change_reason=form.cleaned_data.get("reason", "")
            )
            if job is None:
                self.message_user(request, NOT_PENDING, level="error")
                return HttpResponseRedirect(self._import_url())
            self.message_user(
                request,
                _("The import has started in the background: follow it in “My jobs”."),
            )
            return HttpResponseRedirect(reverse("admin:parkingops_job_change", args=[job.pk]))
        if preview.result.get("import_job"):  # confirmed already
            return HttpResponseRedirect(
                reverse("admin:parkingops_job_change", args=[preview.result["import_job"]])
            )
        result = ShownPreview.kept(preview.result.get("preview"), _page(request))
        if result is None:  # forgotten after a day
            self.message_user(request, NOT_PENDING, level="error")
            return HttpResponseRedirect(self._import_url())
        context: dict[str, Any] = {"result": result}
        if result.valid and preview.result.get("upload"):
            # Only the job's page is posted: the job names the file, the session nothing.
            context["confirm_form"] = ConfirmImportJobForm(narrowing=result.narrowing)
            context["confirm_url"] = request.path
        return self._render(request, ImportForm(), context)

    def import_template_view(self, request):
        """Download the import's template (XLSX): the Chinese headers and one example row."""
        if not self.has_import_permission(request):
            raise PermissionDenied
        about = xlsx.About(
            user=request.user.get_username(),
            at=timezone.now(),
            filters=[(_("File"), _("Whitelist import template"))],
        )
        return xlsx.xlsx_response(
            import_template_xlsx(about=about), "whitelist-import-template.xlsx"
        )

    def _import_url(self) -> str:
        return reverse("admin:whitelist_whitelistentry_import", current_app=self.admin_site.name)

    def _render(self, request, form: ImportForm, context: dict[str, Any]) -> TemplateResponse:
        return TemplateResponse(
            request,
            self.import_template_name,
            {
                **self.admin_site.each_context(request),
                "title": _("Import"),
                "opts": self.opts,
                "form": form,
                "columns": [
                    (COLUMNS[column][0], *COLUMN_HELP[column]) for column in IMPORT_COLUMNS
                ],
                "template_url": reverse(
                    "admin:whitelist_whitelistentry_import_template",
                    current_app=self.admin_site.name,
                ),
                "column_labels": [column_label(column) for column in IMPORT_COLUMNS],
                "max_mb": tables.MAX_FILE_BYTES // (1024 * 1024),
                "import_url": self._import_url(),
                "confirm_url": reverse(
                    "admin:whitelist_whitelistentry_process_import",
                    current_app=self.admin_site.name,
                ),
                **context,
            },
        )


def _page(request) -> int:
    """The page asked for (``?page=N``); the first for anything else."""
    page = request.GET.get("page", "")
    return int(page) if page.isascii() and page.isdigit() and len(page) < 10 else 1
