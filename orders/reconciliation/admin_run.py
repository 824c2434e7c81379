"""The page that runs a reconciliation now (ReconciliationRunAdmin's ``run/``)."""

from datetime import date, timedelta

from django import forms
from django.contrib import messages
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from orders.jobs import start_reconciliation
from orders.models import ReconciliationRun
from orders.reconciliation import summaries
from orders.reconciliation.services import (
    MAX_RANGE_DAYS,
    days_from_to,
    reconcile_day,
)
from parkingops import timerange
from parkingops.formatting import CHINA
from parkingops.pcloud.client import not_configured_message
from whitelist.models import Park


class RunReconciliationForm(forms.Form):
    """The day (China time), or the first and last days of a range, and, optionally, the one
    park to reconcile."""

    date = forms.DateField(
        label=_("date"),
        input_formats=["%Y-%m-%d"],
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("A China-time day (Asia/Shanghai), 00:00:00 to 23:59:59."),
    )
    date_to = forms.DateField(
        label=_("last day"),
        input_formats=["%Y-%m-%d"],
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        required=False,
    )
    park = forms.ModelChoiceField(
        label=_("park"),
        queryset=Park.objects.order_by("name", "park_uuid"),
        to_field_name="park_uuid",
        required=False,
        empty_label=_("All parks"),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["date_to"].help_text = gettext(
            "Optional: reconcile every day from the date to this one (at most %(days)d days). "
            "Several days or parks run in the background."
        ) % {"days": MAX_RANGE_DAYS}

    def clean_date(self):
        return _checked_day(self.cleaned_data["date"])

    def clean_date_to(self):
        day = self.cleaned_data["date_to"]
        return None if day is None else _checked_day(day)

    def clean(self):
        data = super().clean()
        first, last = data.get("date"), data.get("date_to")
        if first is not None:
            try:
                data["days"] = days_from_to(first, last or first)
            except ValueError as exc:
                self.add_error("date_to", str(exc))
        return data


def _checked_day(day):
    if day > timezone.now().astimezone(CHINA).date():
        raise forms.ValidationError(_("This day has not begun yet in China time."))
    if not timerange.day_in_range(day):
        raise forms.ValidationError(timerange.out_of_range_message(day))
    return day


def run_reconciliation(request: HttpRequest, *, model_admin) -> HttpResponse:
    """Show the form; on POST run one park's day at once and redirect to its run, or start
    the reconciliation of several days or parks in the background and redirect to its job.
    The caller has checked the permissions."""
    if request.method == "POST":
        form = RunReconciliationForm(request.POST)
        if form.is_valid():
            days, park = form.cleaned_data["days"], form.cleaned_data["park"]
            if len(days) * (1 if park else Park.objects.count()) > 1:
                return _start_job(request, days=days, park=park)
            try:
                runs = reconcile_day(
                    day=days[0], park_uuid=park.park_uuid if park else "", created_by=request.user
                )
            except ImproperlyConfigured as exc:
                form.add_error(None, not_configured_message(exc))
            else:
                for run in runs:
                    _report_run(request, run)
                if len(runs) == 1:
                    return redirect("admin:orders_reconciliationrun_change", runs[0].pk)
                if not runs:
                    messages.warning(request, gettext("No parks are known yet: nothing to do."))
                changelist = reverse("admin:orders_reconciliationrun_changelist")
                day = days[0].isoformat()
                return redirect(f"{changelist}?{urlencode({'date_from': day, 'date_to': day})}")
    else:
        yesterday = timezone.now().astimezone(CHINA).date() - timedelta(days=1)
        form = RunReconciliationForm(
            initial={
                "date": request.GET.get("date") or yesterday,
                "park": request.GET.get("park") or None,
            }
        )
    context = {
        **model_admin.admin_site.each_context(request),
        "title": _("Run a reconciliation"),
        "opts": model_admin.opts,
        "form": form,
    }
    return TemplateResponse(
        request,
        "admin/orders/reconciliationrun/run.html",
        context,
        status=400 if form.errors else 200,
    )


def _start_job(request: HttpRequest, *, days: list[date], park: Park | None) -> HttpResponse:
    """Start the reconciliation of several days or parks in the background; show its job."""
    job = start_reconciliation(days=days, park=park, owner=request.user)
    messages.success(
        request,
        gettext(
            "The reconciliation started in the background: follow its progress here or in "
            "“My jobs”."
        ),
    )
    return redirect(reverse("admin:parkingops_job_change", args=[job.pk]))


def _report_run(request: HttpRequest, run: ReconciliationRun) -> None:
    summary = summaries.summarize(run)
    report = messages.error if summary["failed"] else messages.success
    report(request, summaries.describe(summary))
