"""The page of gaps (ReconciliationRunAdmin's ``unreconciled/``): the parks' days without a
completed run, and a link to the days with open differences."""

from datetime import timedelta

from django import forms
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from orders.reconciliation.selectors import MAX_REPORT_DAYS, unreconciled
from parkingops import timerange
from parkingops.formatting import CHINA

DEFAULT_DAYS = 7


class GapsForm(forms.Form):
    """Two China-time days, both inclusive, at most MAX_REPORT_DAYS apart."""

    date_from = forms.DateField(label=_("first day"), input_formats=["%Y-%m-%d"])
    date_to = forms.DateField(label=_("last day"), input_formats=["%Y-%m-%d"])

    def clean(self):
        data = super().clean()
        first, last = data.get("date_from"), data.get("date_to")
        if first is None or last is None:
            return data
        for day in (first, last):
            if not timerange.day_in_range(day):
                raise forms.ValidationError(timerange.out_of_range_message(day))
        if first > last:
            raise forms.ValidationError(_("The first day is after the last."))
        if (last - first).days >= MAX_REPORT_DAYS:
            raise forms.ValidationError(
                _("Choose at most %(days)d days.") % {"days": MAX_REPORT_DAYS}
            )
        return data


def unreconciled_page(request: HttpRequest, *, model_admin, can_run: bool) -> HttpResponse:
    """Show the gaps of the days asked (the last DEFAULT_DAYS days to yesterday by default).
    The caller has checked the view permission."""
    yesterday = timezone.now().astimezone(CHINA).date() - timedelta(days=1)
    data = {
        "date_from": request.GET.get(
            "date_from", (yesterday - timedelta(days=DEFAULT_DAYS - 1)).isoformat()
        ),
        "date_to": request.GET.get("date_to", yesterday.isoformat()),
    }
    form = GapsForm(data)
    gaps = None
    if form.is_valid():
        gaps = unreconciled(
            date_from=form.cleaned_data["date_from"], date_to=form.cleaned_data["date_to"]
        )
    context = {
        **model_admin.admin_site.each_context(request),
        "title": _("Days not reconciled"),
        "opts": model_admin.opts,
        "form": form,
        "gaps": gaps,
        "can_run": can_run,
    }
    return TemplateResponse(
        request,
        "admin/orders/reconciliationrun/unreconciled.html",
        context,
        status=400 if form.errors else 200,
    )
