"""What the orders admin areas share: the permissions they check, and "Export Excel" and "Export
CSV" of a list (``parkingops.adminexport``).
"""

from django.contrib import admin
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from orders.permissions import EXPORT_ORDERS, VIEW_PERSONAL_DATA
from parkingops.adminexport import FileExportMixin
from parkingops.adminkit import ReadOnlyAdmin, pretty_json
from parkingops.formatting import mask_mobiles
from parkingops.pcloud.codes import labelled_codes


class CsvExportAdmin(FileExportMixin, ReadOnlyAdmin):
    """The "Export Excel" and "Export CSV" of the whole filtered list (``FileExportMixin``), for
    holders of ``orders.export_orders``."""

    def has_export_permission(self, request) -> bool:
        return self.has_view_permission(request) and request.user.has_perm(EXPORT_ORDERS)


class PersonalDataMixin:
    """Fields shown through a masked twin to users without ``orders.view_personal_data``.

    ``masked_twins`` maps a field of the page to the read-only field showing it masked; the
    page's field lists (declared ``fields`` or ``fieldsets``, an inline's too) are rewritten
    here, so a page never lists the unmasked field to someone who may not see it.
    """

    masked_twins: dict[str, str] = {}

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if request.user.has_perm(VIEW_PERSONAL_DATA):
            return fieldsets
        return [
            (title, {**options, "fields": [self.masked_twins.get(f, f) for f in options["fields"]]})
            for title, options in fieldsets
        ]

    def get_readonly_fields(self, request, obj=None):
        return [*super().get_readonly_fields(request, obj), *self.masked_twins.values()]


def extra_with_labels(extra) -> str:
    """Return the extra fields pretty-printed, then each platform code among them (plate colour,
    car, vehicle and fixed-car type) with its label, so a clerk never reads a bare number."""
    labels = labelled_codes(extra) if isinstance(extra, dict) else []
    if not labels:
        return pretty_json(extra)
    items = format_html_join(
        "",
        "<li>{}: {}</li>",
        # An unlisted code has no label but itself: shown once.
        ((title, label if label == code else f"{label} ({code})") for title, code, label in labels),
    )
    return format_html('{}<ul class="orders-code-labels">{}</ul>', pretty_json(extra), items)


class ExtraFieldsMixin(PersonalDataMixin):
    """The fields the platform sent that we do not model, pretty-printed with their codes'
    labels; their mobile numbers masked (by content, as in the push log) for users without the
    permission."""

    masked_twins = {"extra_display": "extra_masked"}

    @admin.display(description=_("extra fields"))
    def extra_display(self, obj):
        return extra_with_labels(obj.extra)

    @admin.display(description=_("extra fields"))
    def extra_masked(self, obj):
        return extra_with_labels(mask_mobiles(obj.extra))


def plate_link(plate: str) -> str:
    """The plate as a link to its page (``orders.admin.plate``), for the lists showing one; a
    plate no URL can carry (a refused push's ``a/b``) as text."""
    if not plate:
        return "—"
    try:
        url = reverse("orders_plate", args=[plate])
    except NoReverseMatch:
        return plate
    return format_html('<a href="{}">{}</a>', url, plate)
