"""The whitelist's export file (django-import-export), in the columns of ``spreadsheet``.

Only the export uses django-import-export; importing reads the file itself
(``whitelist.spreadsheet``) and writes through the upsert service.
"""

from django.utils import timezone, translation
from django.utils.translation import gettext_lazy
from import_export import fields, resources, widgets
from import_export.formats import base_formats

from parkingops.tabular import BOM, escape_formula
from whitelist import selectors
from whitelist.models import WhitelistEntry
from whitelist.spreadsheet import COLUMNS


class ExcelCSV(base_formats.CSV):
    """CSV as Excel reads it: UTF-8 with BOM (without the BOM Excel shows the Chinese as
    mojibake). Imports read UTF-8, UTF-16 or GB18030 (``tables.Table``)."""

    def export_data(self, dataset, **kwargs):
        return BOM + dataset.export("csv", **kwargs)

    def get_content_type(self):
        return "text/csv; charset=utf-8"


class TextWidget(widgets.CharWidget):
    """Text escaped when a spreadsheet would run it as a formula (the import undoes it)."""

    def render(self, value, obj=None, **kwargs):
        return escape_formula(value or "")


class ChinaDateTimeWidget(widgets.Widget):
    """``YYYY-MM-DD HH:MM:SS`` China time (a date cell in XLSX)."""

    def render(self, value, obj=None, **kwargs):
        if value is None:
            return ""
        local = timezone.localtime(value, timezone.get_default_timezone())
        if kwargs.get("force_native_type"):
            return local.replace(tzinfo=None)  # spreadsheets have no time zones
        return local.strftime("%Y-%m-%d %H:%M:%S")


class YesNoWidget(widgets.Widget):
    """1 or 0."""

    def render(self, value, obj=None, **kwargs):
        if kwargs.get("force_native_type"):
            return int(bool(value))
        return "1" if value else "0"


class IdWidget(widgets.Widget):
    def render(self, value, obj=None, **kwargs):
        if value is None:
            return ""
        return value if kwargs.get("force_native_type") else str(value)


class WhitelistEntryResource(resources.ModelResource):
    """Whitelist entries as rows of a spreadsheet, for export."""

    id = fields.Field(attribute="id", column_name="id", widget=IdWidget())
    plate = fields.Field(attribute="plate", column_name="plate", widget=TextWidget())
    park_uuid = fields.Field(attribute="park_uuid", column_name="park_uuid", widget=TextWidget())
    park_name = fields.Field(column_name="park_name")
    valid_from = fields.Field(
        attribute="valid_from", column_name="valid_from", widget=ChinaDateTimeWidget()
    )
    valid_until = fields.Field(
        attribute="valid_until", column_name="valid_until", widget=ChinaDateTimeWidget()
    )
    is_active = fields.Field(attribute="is_active", column_name="is_active", widget=YesNoWidget())
    status = fields.Field(column_name="status")
    holder = fields.Field(attribute="holder", column_name="holder", widget=TextWidget())
    note = fields.Field(attribute="note", column_name="note", widget=TextWidget())

    class Meta:
        model = WhitelistEntry
        name = gettext_lazy("Whitelist entries")
        fields = tuple(COLUMNS)
        export_order = tuple(COLUMNS)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._park_names: dict[str, str] = {}

    def before_export(self, queryset, **kwargs):
        if queryset is not None:
            uuids = queryset.order_by().values_list("park_uuid", flat=True).distinct()
            self._park_names = selectors.park_names(park_uuids=uuids)

    def get_export_headers(self, selected_fields=None):
        chinese = (translation.get_language() or "").startswith("zh")
        return [
            COLUMNS[field.column_name][0] if chinese else field.column_name
            for field in self.get_export_fields(selected_fields)
        ]

    def dehydrate_park_name(self, entry: WhitelistEntry) -> str:
        if not entry.park_uuid:
            return str(gettext_lazy("All parks"))
        return getattr(entry, "park_name", None) or self._park_names.get(entry.park_uuid, "")

    def dehydrate_status(self, entry: WhitelistEntry) -> str:
        return str(entry.status.label)
