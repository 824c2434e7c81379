"""The page that resolves differences with a note: the list's "Mark resolved" action (Django's
intermediate-page pattern) and a difference's own "Resolve" page share it."""

from django import forms
from django.contrib import messages
from django.contrib.admin import helpers
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from orders.reconciliation.fields import values_display
from orders.reconciliation.models import ReconciliationItem
from orders.reconciliation.services import NOTE_MAX_LENGTH, Resolved, resolve_differences
from parkingops.formatting import china_time


class ResolveForm(forms.Form):
    """The note that says how the differences were resolved (required)."""

    note = forms.CharField(
        label=_("resolution note"),
        max_length=NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4, "cols": 70}),
        help_text=_("Required: what was checked and why the difference is closed."),
    )


def resolve_page(
    request: HttpRequest, *, model_admin, items: list[ReconciliationItem], action: str = ""
) -> HttpResponse | None:
    """Show the differences and the note; on a POST with ``post=yes`` and a note, resolve
    them, report it and return None (the caller redirects). The caller checked permissions.

    ``action`` is the list's action name when the page confirms an action (the selection is
    posted again), empty on a difference's own page.
    """
    form = ResolveForm(request.POST if request.POST.get("post") == "yes" else None)
    if form.is_bound:
        if form.is_valid():
            result = resolve_differences(
                item_ids=[item.pk for item in items],
                user=request.user,
                note=form.cleaned_data["note"],
            )
            _report(request, result)
            return None
        messages.error(request, gettext("Write a note saying how the difference was resolved."))
    context = {
        **model_admin.admin_site.each_context(request),
        "title": _("Mark the differences resolved"),
        "opts": model_admin.opts,
        "form": form,
        "rows": [(item, *values_display(item)) for item in items],
        "open_count": sum(item.resolved_at is None for item in items),
        "action": action,
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
    }
    return TemplateResponse(
        request,
        "admin/orders/reconciliationitem/resolve.html",
        context,
        status=400 if form.errors else 200,
    )


def _report(request: HttpRequest, result: Resolved) -> None:
    if result.resolved:
        messages.success(
            request,
            ngettext(
                "%(count)d difference marked resolved.",
                "%(count)d differences marked resolved.",
                len(result.resolved),
            )
            % {"count": len(result.resolved)},
        )
    for item in result.already:
        messages.warning(
            request,
            gettext("%(serial)s (%(category)s) was already resolved by %(user)s at %(time)s.")
            % {
                "serial": item.pay_serial,
                "category": item.get_category_display(),
                "user": item.resolved_by or "—",
                "time": china_time(item.resolved_at),
            },
        )
