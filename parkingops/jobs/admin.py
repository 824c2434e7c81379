"""我的任务: each user's background jobs, their progress as they run, their results.

Every staff user sees the jobs they started (a superuser sees everyone's, and the scheduler's):
the list and a job's page show its state and a progress bar that a little script keeps up to
date (``status/``) while it runs; a finished export is downloaded from its page (``download/``,
for its owner and superusers only, while it is kept); a queued or running job can be cancelled
(``cancel/``). Nobody adds or edits a job here: they are started by the pages that offer long
work (imports, exports, reconciliations) and by the schedules.
"""

import mimetypes
import uuid

from django.contrib import admin, messages
from django.http import FileResponse, Http404, HttpResponseNotAllowed, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.text import capfirst
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_tasks_db.models import DBTaskResult

from parkingops.adminkit import ReadOnlyAdmin
from parkingops.jobs import display, kinds, runner, schedules
from parkingops.jobs.models import Job, ScheduleRun

# The task queue's own rows (English, internal) are not a page for staff: 我的任务 shows jobs.
if admin.site.is_registered(DBTaskResult):
    admin.site.unregister(DBTaskResult)

# The status poll answers at most this many jobs at once (one page of the list).
MAX_POLLED = 100


class KindFilter(admin.SimpleListFilter):
    title = _("kind")
    parameter_name = "kind"

    def lookups(self, request, model_admin):
        return kinds.choices()

    def queryset(self, request, queryset):
        return queryset.filter(kind=self.value()) if self.value() else queryset


@admin.register(Job)
class JobAdmin(ReadOnlyAdmin):
    list_display = ["job", "state_badge", "progress", "created_at", "time_taken", "outcome"]
    list_display_links = ["job"]
    list_filter = ["state", KindFilter]
    list_per_page = 50
    change_list_template = "admin/parkingops/job/change_list.html"
    change_form_template = "admin/parkingops/job/detail.html"

    # Any staff user has jobs of their own; what they may see is narrowed by get_queryset.
    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_staff

    def has_view_permission(self, request, obj=None):
        if not (request.user.is_active and request.user.is_staff):
            return False
        return obj is None or self._is_theirs(request, obj)

    @staticmethod
    def _is_theirs(request, job: Job) -> bool:
        return request.user.is_superuser or job.owner_id == request.user.pk

    def get_queryset(self, request):
        jobs = super().get_queryset(request).select_related("owner")
        return jobs if request.user.is_superuser else jobs.filter(owner=request.user)

    def get_list_display(self, request):
        columns = list(super().get_list_display(request))
        if request.user.is_superuser:
            columns.insert(1, "owner")
        return columns

    @admin.display(description=_("job"))
    def job(self, obj: Job) -> str:
        return str(obj)

    @admin.display(description=_("state"), ordering="state")
    def state_badge(self, obj: Job):
        return _state_badge(obj)

    @admin.display(description=_("progress"))
    def progress(self, obj: Job):
        return render_to_string("admin/parkingops/job/progress.html", display.status(obj))

    @admin.display(description=_("time taken"))
    def time_taken(self, obj: Job) -> str:
        return display.clock(display.taken(obj))

    # Not named ``result``: the list would show the model field of that name instead.
    @admin.display(description=_("result"))
    def outcome(self, obj: Job) -> str:
        if url := display.download_url(obj):
            return _link(url, gettext("Download"))
        return obj.message or "; ".join(display.result_lines(obj))

    def changelist_view(self, request, extra_context=None):
        extra_context = {"title": capfirst(self.opts.verbose_name_plural), **(extra_context or {})}
        return super().changelist_view(request, extra_context)

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("status/", wrap(self.status_view), name="parkingops_job_status"),
            path(
                "<uuid:job_id>/download/", wrap(self.download_view), name="parkingops_job_download"
            ),
            path("<uuid:job_id>/cancel/", wrap(self.cancel_view), name="parkingops_job_cancel"),
            *super().get_urls(),
        ]

    def _their_job(self, request, job_id: uuid.UUID) -> Job:
        job = get_object_or_404(Job, pk=job_id)
        if not self._is_theirs(request, job):
            raise Http404  # another user's job is not even said to exist
        return job

    def change_view(self, request, object_id, form_url="", extra_context=None):
        try:
            job = self._their_job(request, uuid.UUID(str(object_id)))
        except ValueError:
            raise Http404 from None
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": str(job),
            "job": job,
            "status": display.status(job),
            "lines": display.result_lines(job),
            "download_url": display.download_url(job),
            "next_step": kinds.next_step(job.kind, job.result),
            "can_cancel": not job.is_finished,
            "state_badge": _state_badge(job),
        }
        return TemplateResponse(request, self.change_form_template, context)

    def status_view(self, request):
        """``status/?id=<uuid>&id=…``: the listed jobs' progress, as JSON, for the polling."""
        ids = []
        for value in request.GET.getlist("id")[:MAX_POLLED]:
            try:
                ids.append(uuid.UUID(value))
            except ValueError:
                return JsonResponse({"error": gettext("Not a job's id.")}, status=400)
        jobs = self.get_queryset(request).filter(pk__in=ids)
        return JsonResponse({"jobs": [display.status(job) for job in jobs]})

    def download_view(self, request, job_id):
        job = self._their_job(request, job_id)
        if not display.download_url(job):
            messages.error(request, gettext("This job's file is no longer kept."))
            return redirect("admin:parkingops_job_change", job.pk)
        content_type = mimetypes.guess_type(job.file_name)[0] or "application/octet-stream"
        try:
            file = job.file.open("rb")
        except FileNotFoundError:
            messages.error(request, gettext("This job's file is no longer kept."))
            return redirect("admin:parkingops_job_change", job.pk)
        return FileResponse(
            file, as_attachment=True, filename=job.file_name, content_type=content_type
        )

    def cancel_view(self, request, job_id):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        job = self._their_job(request, job_id)
        if runner.request_cancel(job):
            messages.success(request, gettext("The job is being cancelled."))
        else:
            messages.warning(request, gettext("The job had already finished."))
        return redirect("admin:parkingops_job_change", job.pk)


def _state_badge(job: Job):
    return format_html(
        '<span class="job-state job-state-{}" data-job-state>{}</span>',
        job.state,
        job.get_state_display(),
    )


def _link(url: str, text: str):
    return format_html('<a href="{}">{}</a>', url, text)


class ScheduleFilter(admin.SimpleListFilter):
    title = _("schedule")
    parameter_name = "schedule"

    def lookups(self, request, model_admin):
        return [(schedule.name, schedule.label) for schedule in schedules.schedules()]

    def queryset(self, request, queryset):
        return queryset.filter(schedule=self.value()) if self.value() else queryset


@admin.register(ScheduleRun)
class ScheduleRunAdmin(ReadOnlyAdmin):
    """The schedules' runs (superusers): when each ran and how its job ended."""

    list_display = ["schedule_label", "due_at", "created_at", "job_state", "job_message"]
    list_filter = [ScheduleFilter]
    list_select_related = ["job"]

    def has_module_permission(self, request):
        return request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser

    @admin.display(description=_("schedule"), ordering="schedule")
    def schedule_label(self, obj: ScheduleRun) -> str:
        return schedules.label_of(obj.schedule)

    @admin.display(description=_("state"))
    def job_state(self, obj: ScheduleRun):
        if obj.job is None:
            return "-"
        return _link(
            reverse("admin:parkingops_job_change", args=[obj.job.pk]), obj.job.get_state_display()
        )

    @admin.display(description=_("message"))
    def job_message(self, obj: ScheduleRun) -> str:
        if obj.job is None:
            return ""
        return obj.job.message or "; ".join(display.result_lines(obj.job))
