"""The page that runs a reconciliation now (ReconciliationRunAdmin's ``run/``)."""

from datetime import timedelta

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

from orders.models import ReconciliationRun
from orders.reconciliation.services import reconcile_day
from parkingops.formatting import CHINA
from whitelist.models import Park


class RunReconciliationForm(forms.Form):
    """The day (China time) and, optionally, the one park to reconcile."""

    date = forms.DateField(
        label=_("date"),
        input_formats=["%Y-%m-%d"],
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("A China-time day (Asia/Shanghai), 00:00:00 to 23:59:59."),
    )
    park = forms.ModelChoiceField(
        label=_("park"),
        queryset=Park.objects.order_by("name", "park_uuid"),
        to_field_name="park_uuid",
        required=False,
        empty_label=_("All parks"),
    )

    def clean_date(self):
        day = self.cleaned_data["date"]
        if day > timezone.now().astimezone(CHINA).date():
            raise forms.ValidationError(_("This day has not begun yet in China time."))
        return day


def run_reconciliation(request: HttpRequest, *, model_admin) -> HttpResponse:
    """Show the form; on POST run the reconciliation and redirect to the run (one park) or to
    the day's runs (every park). The caller has checked the permissions."""
    if request.method == "POST":
        form = RunReconciliationForm(request.POST)
        if form.is_valid():
            day, park = form.cleaned_data["date"], form.cleaned_data["park"]
            try:
                runs = reconcile_day(
                    day=day, park_uuid=park.park_uuid if park else "", created_by=request.user
                )
            except ImproperlyConfigured as exc:
                form.add_error(
                    None,
                    gettext("The platform client is not configured: %(error)s") % {"error": exc},
                )
            else:
                for run in runs:
                    _report_run(request, run)
                if len(runs) == 1:
                    return redirect("admin:orders_reconciliationrun_change", runs[0].pk)
                if not runs:
                    messages.warning(request, gettext("No parks are known yet: nothing to do."))
                changelist = reverse("admin:orders_reconciliationrun_changelist")
                query = urlencode({"date_from": day.isoformat(), "date_to": day.isoformat()})
                return redirect(f"{changelist}?{query}")
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


def _report_run(request: HttpRequest, run: ReconciliationRun) -> None:
    if run.status == run.Status.FAILED:
        messages.error(
            request,
            gettext("%(day)s %(park)s: failed: %(message)s")
            % {"day": run.date.isoformat(), "park": run.park, "message": run.message},
        )
        return
    messages.success(
        request,
        gettext(
            "%(day)s %(park)s reconciled. Payments at the platform: %(platform)d; matched: "
            "%(matched)d; differences: %(differences)d; of plates not whitelisted: "
            "%(not_whitelisted)d."
        )
        % {
            "day": run.date.isoformat(),
            "park": run.park,
            "platform": run.platform_count,
            "matched": run.matched_count,
            "differences": run.items.count(),
            "not_whitelisted": run.not_whitelisted_count,
        },
    )
