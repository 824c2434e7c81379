"""The daily summary page and its CSV export, inside the admin (its login, header, sidebar),
and the page that runs a reconciliation.

``/admin/orders/summary/daily/?from=YYYY-MM-DD&to=YYYY-MM-DD[&park=UUID]``: per China-time
day × park × channel, with a total row; the last 7 days by default. Included by
``parkingops/urls.py`` before the admin's own routes.
"""

from dataclasses import dataclass, field
from datetime import date, timedelta

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from orders import selectors
from orders.exports.summary import summary_csv
from orders.reconciliation.services import reconcile_day
from parkingops import tabular
from parkingops.formatting import CHINA, parse_day
from whitelist.models import Park

VIEW_ORDERS = "orders.view_payorder"
EXPORT_ORDERS = "orders.export_orders"
DEFAULT_DAYS = 7
MAX_DAYS = 366


@dataclass
class SummaryQuery:
    """The page's query string, read and checked: the days, the park, and what was wrong."""

    date_from: date | None
    date_to: date | None
    park_uuid: str
    errors: list[str] = field(default_factory=list)

    @classmethod
    def from_request(cls, request: HttpRequest) -> "SummaryQuery":
        errors: list[str] = []

        def read(raw: str) -> date | None:
            try:
                return parse_day(raw)
            except ValueError as exc:
                errors.append(str(exc))
                return None

        raw_from = request.GET.get("from", "").strip()
        raw_to = request.GET.get("to", "").strip()
        # Without days: the last 7, today included; with only "to": the 7 days ending then.
        date_to = read(raw_to) if raw_to else timezone.now().astimezone(CHINA).date()
        if raw_from:
            date_from = read(raw_from)
        else:
            date_from = date_to - timedelta(days=DEFAULT_DAYS - 1) if date_to else None
        park_uuid = request.GET.get("park", "").strip()
        if park_uuid and not Park.objects.filter(park_uuid=park_uuid).exists():
            errors.append(gettext("No park has the uuid “%(uuid)s”.") % {"uuid": park_uuid})
        if date_from and date_to:
            if date_from > date_to:
                errors.append(
                    gettext("The first day (%(first)s) is after the last day (%(last)s).")
                    % {"first": date_from.isoformat(), "last": date_to.isoformat()}
                )
            elif (date_to - date_from).days >= MAX_DAYS:
                errors.append(gettext("Choose at most %(max)d days at once.") % {"max": MAX_DAYS})
        return cls(date_from, date_to, park_uuid, errors)

    def query_string(self) -> str:
        params = {
            "from": self.date_from.isoformat() if self.date_from else "",
            "to": self.date_to.isoformat() if self.date_to else "",
        }
        if self.park_uuid:
            params["park"] = self.park_uuid
        return urlencode(params)


def _check(request: HttpRequest, *permissions: str) -> None:
    if not all(request.user.has_perm(permission) for permission in permissions):
        raise PermissionDenied


def daily_summary(request: HttpRequest) -> HttpResponse:
    """Show the summary table (400 with the reason when the query string is not valid)."""
    _check(request, VIEW_ORDERS)
    query = SummaryQuery.from_request(request)
    summary = None
    if not query.errors:
        summary = selectors.daily_summary(
            date_from=query.date_from, date_to=query.date_to, park_uuid=query.park_uuid
        )
    export_url = None
    if request.user.has_perm(EXPORT_ORDERS) and not query.errors:
        export_url = f"{reverse('orders_daily_summary_export')}?{query.query_string()}"
    context = {
        **admin.site.each_context(request),
        "title": _("Daily summary"),
        "query": query,
        "summary": summary,
        "parks": Park.objects.order_by("name", "park_uuid").values_list("park_uuid", "name"),
        "export_url": export_url,
        "orders_url": reverse("admin:orders_payorder_changelist"),
    }
    return TemplateResponse(
        request,
        "admin/orders/summary/daily.html",
        context,
        status=400 if query.errors else 200,
    )


def daily_summary_export(request: HttpRequest) -> HttpResponse:
    """Download the same summary as CSV (needs ``orders.export_orders``)."""
    _check(request, VIEW_ORDERS, EXPORT_ORDERS)
    query = SummaryQuery.from_request(request)
    if query.errors:
        return HttpResponseBadRequest(
            "\n".join(query.errors), content_type="text/plain; charset=utf-8"
        )
    summary = selectors.daily_summary(
        date_from=query.date_from, date_to=query.date_to, park_uuid=query.park_uuid
    )
    filename = tabular.export_filename("daily_summary", query.date_from, query.date_to)
    return tabular.csv_response(summary_csv(summary), filename)


# --- Running a reconciliation (ReconciliationRunAdmin's "run/" page) -------------------------


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

    def clean_date(self) -> date:
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


def _report_run(request: HttpRequest, run) -> None:
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


urlpatterns = [
    path("daily/", admin.site.admin_view(daily_summary), name="orders_daily_summary"),
    path(
        "daily/export/",
        admin.site.admin_view(daily_summary_export),
        name="orders_daily_summary_export",
    ),
]
