"""The whitelist's import/export file format (django-import-export).

Columns may be headed by their field name or their Chinese name (see ``COLUMNS``); a row
updates an existing entry when it carries that entry's ``id``, or else when an entry has the
same plate (normalised), park and ``valid_from``; otherwise it adds one. CSV files may be UTF-8
(with or without BOM) or GB18030, which Excel on Chinese Windows writes; the encoding is detected.
"""

from datetime import date, datetime, time
from typing import Any

import tablib
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from import_export import fields, resources, widgets
from import_export.formats import base_formats
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from parkingops.tabular import FORMULA_PREFIXES, escape_formula
from whitelist import plates, selectors
from whitelist.models import WhitelistEntry
from whitelist.services import sync as services

# column: (Chinese header, other accepted headers). Exports head the columns with the Chinese
# name for Chinese users and the column name otherwise; imports accept any of them, whatever
# the language. They are a file format, so fixed here rather than translated.
COLUMNS: dict[str, tuple[str, tuple[str, ...]]] = {
    "id": ("编号", ("ID",)),
    "plate": ("车牌", ("车牌号", "车牌号码")),
    "park_uuid": ("车场编号", ("park", "车场UUID")),
    "park_name": ("车场名称", ()),
    "valid_from": ("生效时间", ("valid from", "开始时间", "生效日期")),
    "valid_until": ("失效时间", ("valid until", "结束时间", "到期时间", "失效日期", "到期日期")),
    "is_active": ("启用", ("active", "是否启用")),
    "status": ("状态", ()),
    "holder": ("持有人", ("车主",)),
    "note": ("备注", ()),
}
# Written on export for information, ignored on import.
EXPORT_ONLY = ("park_name", "status")
# Every header an import accepts, folded, mapped onto its column.
_HEADERS = {
    header.strip().casefold(): column
    for column, (chinese, others) in COLUMNS.items()
    for header in (column, chinese, *others)
}

# The park column's spellings of "all parks", besides a blank cell.
ALL_PARKS = {"*", "全部车场", "全部", "all", "all parks"}

# Text beginning with these is a formula to Excel: exported with a leading apostrophe (read
# back without it), so a note such as "=HYPERLINK(...)" stays text. Full-width forms included.
DATETIME_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y/%m/%d",
    "%Y年%m月%d日 %H:%M:%S",
    "%Y年%m月%d日 %H:%M",
    "%Y年%m月%d日",
)
TRUE_VALUES = {"1", "true", "yes", "y", "是", "启用", "有效", "√"}
FALSE_VALUES = {"0", "false", "no", "n", "否", "停用", "禁用", "无效", "×"}


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def unescape_formula(value: str) -> str:
    """Undo ``parkingops.tabular.escape_formula``, so an exported file imports back unchanged."""
    if value.startswith("'") and value[1:].startswith(FORMULA_PREFIXES):
        return value[1:]
    return value


class ExcelCSV(base_formats.CSV):
    """CSV as Excel reads and writes it: any of UTF-8, UTF-8 with BOM or GB18030 on import,
    UTF-8 with BOM on export (without the BOM Excel shows the Chinese as mojibake).

    Declared binary so django-import-export hands over the uploaded bytes undecoded (its own
    decoding would need the encoding chosen up front); ``create_dataset`` detects it.
    """

    def is_binary(self):
        return True

    def get_read_mode(self):
        return "rb"

    def create_dataset(self, in_stream, **kwargs):
        if isinstance(in_stream, bytes):
            in_stream = decode_csv(in_stream)
        return tablib.import_set(in_stream, format="csv", **kwargs)

    def export_data(self, dataset, **kwargs):
        return "\ufeff" + dataset.export("csv", **kwargs)

    def get_content_type(self):
        return "text/csv; charset=utf-8"


def decode_csv(data: bytes) -> str:
    """Return the text of a CSV file saved as UTF-8 (BOM or not) or GB18030.

    UTF-8 is tried first: GB18030 would decode most UTF-8 bytes too, but into nonsense, while
    Chinese GB18030 text is almost never valid UTF-8.
    """
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError:
        raise ValueError(
            _("The file is neither UTF-8 nor GB18030 text. Save it as CSV or as an Excel workbook.")
        ) from None


class TextWidget(widgets.CharWidget):
    """Trimmed text; formula-like text is escaped on export and unescaped on import."""

    def clean(self, value, row=None, **kwargs):
        if _blank(value):
            return ""
        if isinstance(value, float) and value.is_integer():
            value = int(value)  # a number typed into Excel, e.g. a holder's staff number
        return unescape_formula(str(value).strip())

    def render(self, value, obj=None, **kwargs):
        return escape_formula(value or "")


class PlateWidget(TextWidget):
    """A plate, normalised as read so an unchanged row compares equal to its entry.

    Whether it is a valid plate is the model's check (``clean_fields``), reported per row.
    """

    def clean(self, value, row=None, **kwargs):
        return plates.normalise(super().clean(value, row, **kwargs))


class ParkWidget(TextWidget):
    """A park uuid; blank (or ``*``, ``全部车场``) means all parks."""

    def clean(self, value, row=None, **kwargs):
        value = super().clean(value, row, **kwargs)
        return "" if value.casefold() in ALL_PARKS else value


class ChinaDateTimeWidget(widgets.Widget):
    """A time in China: ``2026-01-31 08:00``, ``2026/1/31 8:00``, a date (00:00) or a cell.

    Exported as ``YYYY-MM-DD HH:MM:SS`` China time (a date cell in XLSX).
    """

    def clean(self, value, row=None, **kwargs):
        if _blank(value):
            return None
        china = timezone.get_default_timezone()
        if isinstance(value, datetime):
            parsed = value
        elif isinstance(value, date):
            parsed = datetime.combine(value, time())
        elif isinstance(value, str):
            parsed = self._parse(value.strip())
        else:
            raise ValueError(
                _("“%(value)s” is not a date and time such as 2026-01-31 08:00.") % {"value": value}
            )
        if timezone.is_naive(parsed):
            return timezone.make_aware(parsed, china)
        return parsed

    @staticmethod
    def _parse(text: str) -> datetime:
        for fmt in DATETIME_FORMATS:
            try:
                return datetime.strptime(text, fmt)
            except ValueError:
                continue
        try:
            return datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(
                _("“%(value)s” is not a date and time such as 2026-01-31 08:00.") % {"value": text}
            ) from None

    def render(self, value, obj=None, **kwargs):
        if value is None:
            return ""
        local = timezone.localtime(value, timezone.get_default_timezone())
        if kwargs.get("force_native_type"):
            return local.replace(tzinfo=None)  # spreadsheets have no time zones
        return local.strftime("%Y-%m-%d %H:%M:%S")


class YesNoWidget(widgets.Widget):
    """1/0, true/false, yes/no, 是/否, 启用/停用; blank means "leave as is" (new entries: yes)."""

    def clean(self, value, row=None, **kwargs):
        if _blank(value):
            return None
        if isinstance(value, bool):
            return value
        text = str(int(value) if isinstance(value, float) else value).strip().casefold()
        if text in TRUE_VALUES:
            return True
        if text in FALSE_VALUES:
            return False
        raise ValueError(_("“%(value)s” is not yes or no; write 1 or 0.") % {"value": value})

    def render(self, value, obj=None, **kwargs):
        if kwargs.get("force_native_type"):
            return int(bool(value))
        return "1" if value else "0"


class IdWidget(widgets.Widget):
    """An entry's id, as exported; read only by ``WhitelistEntryResource.get_instance``."""

    def clean(self, value, row=None, **kwargs):
        if _blank(value):
            return None
        try:
            number = float(value) if isinstance(value, float) else int(str(value).strip())
        except ValueError:
            raise ValueError(_("“%(value)s” is not an id.") % {"value": value}) from None
        if number != int(number) or number < 1:
            raise ValueError(_("“%(value)s” is not an id.") % {"value": value})
        return int(number)

    def render(self, value, obj=None, **kwargs):
        if value is None:
            return ""
        return value if kwargs.get("force_native_type") else str(value)


class WhitelistEntryResource(resources.ModelResource):
    """Whitelist entries as rows of a spreadsheet."""

    id = fields.Field(attribute="id", column_name="id", widget=IdWidget(), readonly=True)
    plate = fields.Field(attribute="plate", column_name="plate", widget=PlateWidget())
    park_uuid = fields.Field(attribute="park_uuid", column_name="park_uuid", widget=ParkWidget())
    park_name = fields.Field(column_name="park_name", readonly=True)
    valid_from = fields.Field(
        attribute="valid_from",
        column_name="valid_from",
        widget=ChinaDateTimeWidget(),
        # Blank keeps the entry's start; a new entry must give one (see import_instance).
        saves_null_values=False,
    )
    valid_until = fields.Field(
        attribute="valid_until", column_name="valid_until", widget=ChinaDateTimeWidget()
    )
    is_active = fields.Field(
        attribute="is_active",
        column_name="is_active",
        widget=YesNoWidget(),
        saves_null_values=False,
    )
    status = fields.Field(column_name="status", readonly=True)
    holder = fields.Field(attribute="holder", column_name="holder", widget=TextWidget())
    note = fields.Field(attribute="note", column_name="note", widget=TextWidget())

    class Meta:
        model = WhitelistEntry
        name = gettext_lazy("Whitelist entries")
        fields = tuple(COLUMNS)
        export_order = tuple(COLUMNS)
        clean_model_instances = True  # plate rules and the window check, see the model
        skip_unchanged = True  # a row equal to its entry is reported "skipped", not rewritten
        report_skipped = True
        use_transactions = True
        # Rows are validated one by one, then written in batches with their history (see
        # bulk_create/bulk_update): a 100k-row file is no longer 100k savepoints and inserts.
        use_bulk = True
        batch_size = 1000

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._park_names: dict[str, str] = {}
        # The entries the file's rows may update, read once (see before_import), by key.
        self._entries_by_key: dict[tuple[str, str, Any], list[WhitelistEntry]] = {}
        # Plates written by this import (and the former plates of rows that changed one).
        self._plates_to_sync: set[str] = set()

    # --- import ------------------------------------------------------------------------------

    def get_import_fields(self):
        return [
            field for field in super().get_import_fields() if field.column_name not in EXPORT_ONLY
        ]

    def get_column_labels(self) -> list[str]:
        """Return the labels of the preview's columns (its ``diff_headers`` are column names)."""
        return [column_label(field.column_name) for field in self.get_import_fields()]

    def before_import(self, dataset, **kwargs):
        """Map the file's headers onto the columns and drop blank rows.

        Raise ValueError when a header appears twice or the plate column is missing; unknown
        columns (and export-only ones such as 车场名称) are ignored.
        """
        headers = []
        for index, header in enumerate(dataset.headers or []):
            column = _HEADERS.get(str(header or "").strip().casefold())
            if column is None or column in EXPORT_ONLY:
                headers.append(f"ignored {index + 1}")
                continue
            if column in headers:
                raise ValueError(
                    _("Two columns of the file mean “%(column)s”; keep one.")
                    % {"column": column_label(column)}
                )
            headers.append(column)
        if "plate" not in headers:
            raise ValueError(
                _(
                    "The file has no plate column: head it “车牌” or “plate”. "
                    "Columns found: %(found)s"
                )
                % {"found": ", ".join(str(header) for header in dataset.headers or []) or "-"}
            )
        dataset.headers = headers
        for index in range(len(dataset) - 1, -1, -1):
            if all(_blank(cell) for cell in dataset[index]):
                del dataset[index]
        self._read_entries(dataset)

    def _read_entries(self, dataset) -> None:
        """Read the entries of the file's plates at once, so each row's lookup is no query.

        A large import (100k rows) otherwise asks the database once a row.
        """
        column = dataset.headers.index("plate")
        wanted = {plates.normalise(str(row[column] or "")) for row in dataset}
        wanted.discard("")
        self._entries_by_key = {}
        for chunk in _chunks(sorted(wanted), 1000):
            for entry in self.get_queryset().filter(plate__in=chunk).order_by("pk"):
                key = (entry.plate, entry.park_uuid, entry.valid_from)
                self._entries_by_key.setdefault(key, []).append(entry)

    def get_instance(self, instance_loader, row):
        """Return the entry the row updates: by ``id`` if given, else by plate, park and start.

        Raise ValidationError for an ``id`` no entry has, or a plate, park and start shared by
        several entries (the row must then give the id).
        """
        if not _blank(row.get("id")):
            try:
                pk = self.fields["id"].clean(row)
            except ValueError as error:
                raise ValidationError({"id": str(error)}) from None
            entry = self.get_queryset().filter(pk=pk).first()
            if entry is None:
                raise ValidationError(
                    {"id": _("No whitelist entry has the id %(id)s.") % {"id": pk}}
                )
            return entry
        try:
            plate = plates.validate(self.fields["plate"].clean(row))
            park_uuid = self.fields["park_uuid"].clean(row) if "park_uuid" in row else ""
            valid_from = self.fields["valid_from"].clean(row) if "valid_from" in row else None
        except (ValueError, ValidationError):
            return None  # a new entry, which import_instance reports as invalid
        if valid_from is None:
            return None
        matches = self._entries_by_key.get((plate, park_uuid, valid_from), [])
        if len(matches) > 1:
            raise ValidationError(
                _(
                    "Several entries have this plate, park and “valid from”; give the id of the "
                    "one to update."
                )
            )
        return matches[0] if matches else None

    def validate_instance(self, instance, import_validation_errors=None, validate_unique=True):
        # The window constraint is checked in WhitelistEntry.clean_fields already; letting
        # full_clean check it again would ask the database once a row.
        errors = dict(import_validation_errors or {})
        try:
            instance.full_clean(
                exclude=errors.keys(), validate_unique=validate_unique, validate_constraints=False
            )
        except ValidationError as error:
            errors = error.update_error_dict(errors)
        if errors:
            raise ValidationError(errors)

    def import_instance(self, instance, row, **kwargs):
        # A row may change an existing entry's plate: the former plate needs syncing too.
        instance._plate_before_import = None if instance._state.adding else instance.plate
        errors: dict = {}
        try:
            super().import_instance(instance, row, **kwargs)
        except ValidationError as error:
            errors = error.update_error_dict(errors)
        if instance._state.adding and "valid_from" not in errors and _blank(row.get("valid_from")):
            errors["valid_from"] = [
                ValidationError(_("Enter “valid from” for a new entry."), code="required")
            ]
        if errors:
            raise ValidationError(errors)

    def import_row(self, row, instance_loader, **kwargs):
        """Import a row; head its errors with the column's label rather than the field name."""
        result = super().import_row(row, instance_loader, **kwargs)
        error = result.validation_error
        if error is not None and hasattr(error, "error_dict"):
            result.validation_error = ValidationError(
                {
                    (column_label(key) if key in COLUMNS else key): messages
                    for key, messages in error.error_dict.items()
                }
            )
        return result

    def bulk_create(self, using_transactions, dry_run, raise_errors, batch_size=None, result=None):
        """Create the batch's new entries with their history rows (django-simple-history)."""
        if self.create_instances and (using_transactions or not dry_run):
            try:
                bulk_create_with_history(
                    self.create_instances, WhitelistEntry, batch_size=batch_size
                )
            except Exception as error:  # noqa: BLE001 — reported as import-export reports it
                self.handle_import_error(result, error, raise_errors)
            finally:
                self.create_instances.clear()

    def bulk_update(self, using_transactions, dry_run, raise_errors, batch_size=None, result=None):
        """Update the batch's entries with their history rows; ``updated_at`` moves too."""
        if self.update_instances and (using_transactions or not dry_run):
            now = timezone.now()
            for entry in self.update_instances:
                entry.updated_at = now
            try:
                bulk_update_with_history(
                    self.update_instances,
                    WhitelistEntry,
                    [
                        *(
                            field.attribute
                            for field in self.get_import_fields()
                            if field.attribute and field.attribute != "id" and not field.readonly
                        ),
                        "updated_at",
                    ],
                    batch_size=batch_size,
                )
            except Exception as error:  # noqa: BLE001 — reported as import-export reports it
                self.handle_import_error(result, error, raise_errors)
            finally:
                self.update_instances.clear()

    def before_save_instance(self, instance, row, **kwargs):
        file_name = kwargs.get("file_name") or ""
        instance._change_reason = (_("Imported from %(file)s") % {"file": file_name})[:100]
        if kwargs.get("user") is not None:
            instance._history_user = kwargs["user"]

    def after_save_instance(self, instance, row, **kwargs):
        self._plates_to_sync.update(
            {instance.plate, getattr(instance, "_plate_before_import", None)} - {None}
        )

    def after_import(self, dataset, result, **kwargs):
        """Sync the imported plates once the import commits (a preview or a failure does not)."""
        super().after_import(dataset, result, **kwargs)
        if not kwargs.get("dry_run") and self._plates_to_sync:
            services.request_sync(plates=self._plates_to_sync)

    # --- export ------------------------------------------------------------------------------

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


def column_label(column: str) -> str:
    """Return how a column is named to the user: the field's verbose name, or the column."""
    try:
        return str(WhitelistEntry._meta.get_field(column).verbose_name)
    except FieldDoesNotExist:  # the export-only columns
        return column


def _chunks(items: list[str], size: int):
    for start in range(0, len(items), size):
        yield items[start : start + size]
