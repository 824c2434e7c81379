"""A plate's page, inside the admin: ``/admin/orders/plate/<plate>/``.

Everything the back office knows about one plate over time, newest first: its whitelist
entries, its stays, its pay orders and its renewals, each capped at ``SHOWN`` rows with a link
to the list filtered to the plate for more. A section shows only to those who may view its
list; someone who may view none of them is refused (403). Mobiles in free text are masked
without ``orders.view_personal_data``, as elsewhere. Included by ``parkingops/urls.py`` before
the admin's own routes; every list that shows a plate links here (``base.plate_link``).
"""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.http import urlencode
from django.utils.translation import gettext

from orders.admin.stays import stay_seconds
from orders.models import PayOrder
from orders.permissions import VIEW_ORDERS, VIEW_PERSONAL_DATA, VIEW_RENEWALS, VIEW_STAYS
from orders.stays import selectors as stay_selectors
from orders.stays.models import Renewal, Stay
from parkingops.formatting import hours_minutes, mask_mobiles_in_text
from whitelist import display, plates
from whitelist import selectors as whitelist_selectors
from whitelist.models import WhitelistEntry

SHOWN = 20  # rows per section; the rest are on the filtered list
VIEW_WHITELIST = "whitelist.view_whitelistentry"


def _section(rows, *, changelist: str, plate: str) -> dict:
    """The first SHOWN rows and, when there are more, the list filtered to the plate."""
    rows = list(rows[: SHOWN + 1])
    more = ""
    if len(rows) > SHOWN:
        more = f"{reverse(changelist)}?{urlencode({'q': plate})}"
    return {"rows": rows[:SHOWN], "more": more}


def plate_page(request: HttpRequest, plate: str) -> HttpResponse:
    """Show one plate's whitelist entries, stays, orders and renewals, newest first."""
    user = request.user
    may = {
        "whitelist": user.has_perm(VIEW_WHITELIST),
        "stays": user.has_perm(VIEW_STAYS),
        "orders": user.has_perm(VIEW_ORDERS),
        "renewals": user.has_perm(VIEW_RENEWALS),
    }
    if not any(may.values()):
        raise PermissionDenied
    if "\x00" in plate or len(plate) > plates.MAX_LENGTH:
        raise Http404  # no plate is stored like that (and PostgreSQL refuses NUL in text)
    normalised = plates.normalise(plate) or plate
    unmask = user.has_perm(VIEW_PERSONAL_DATA)
    sections = {}
    if may["whitelist"]:
        entries = whitelist_selectors.with_park_name(
            WhitelistEntry.objects.filter(plate=normalised)
        ).order_by("-created_at", "-pk")
        section = _section(
            entries, changelist="admin:whitelist_whitelistentry_changelist", plate=normalised
        )
        for entry in section["rows"]:  # shown only, never saved, as the whitelist shows them
            entry.park_shown = display.park(entry.park_uuid, entry.park_name)
            entry.valid_from_shown = display.moment(entry.valid_from)
            entry.valid_until_shown = display.valid_until(entry.valid_until)
            entry.holder_shown = entry.holder if unmask else mask_mobiles_in_text(entry.holder)
            entry.note_shown = entry.note if unmask else mask_mobiles_in_text(entry.note)
        sections["whitelist"] = section
    if may["stays"]:
        stays = stay_selectors.with_gap(
            Stay.objects.filter(plate=normalised).select_related("park")
        ).order_by("-enter_time", "-pk")
        section = _section(stays, changelist="admin:orders_stay_changelist", plate=normalised)
        for stay in section["rows"]:
            stay.length = hours_minutes(stay_seconds(stay))
        sections["stays"] = section
    if may["orders"]:
        orders = (
            PayOrder.objects.filter(plate=normalised)
            .select_related("park")
            .order_by("-pay_time", "-pk")
        )
        sections["orders"] = _section(
            orders, changelist="admin:orders_payorder_changelist", plate=normalised
        )
    if may["renewals"]:
        renewals = (
            Renewal.objects.filter(plate=normalised)
            .select_related("park")
            .order_by("-pay_time", "-pk")
        )
        sections["renewals"] = _section(
            renewals, changelist="admin:orders_renewal_changelist", plate=normalised
        )
    context = {
        **admin.site.each_context(request),
        "title": gettext("Plate %(plate)s") % {"plate": normalised},
        "plate": normalised,
        "sections": sections,
    }
    return TemplateResponse(request, "admin/orders/plate/plate.html", context)


urlpatterns = [
    path("<str:plate>/", admin.site.admin_view(plate_page), name="orders_plate"),
]
