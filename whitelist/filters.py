"""The filters every list of the integration API shares: a plate in any spelling, whole or its
beginning (``川A66*``), matched against the normalised plate column; a park's uuid, which must be
a known park's."""

from dataclasses import dataclass

import django_filters
from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from whitelist import plates
from whitelist.models import Park


@dataclass(frozen=True)
class PlateQuery:
    plate: str
    prefix: bool


class PlateField(forms.Field):
    """A plate in any spelling (``川a 660p1``), or its beginning followed by ``*``."""

    default_error_messages = {
        "invalid": _("Enter a plate (川A660P1), or the beginning of one followed by * (川A66*)."),
    }

    def to_python(self, value) -> PlateQuery | None:
        text = (value or "").strip()
        if not text:
            return None
        prefix = text.endswith("*")
        plate = plates.normalise(text[:-1] if prefix else text)
        if not plate or "*" in plate or "\x00" in plate or len(plate) > plates.MAX_LENGTH:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return PlateQuery(plate=plate, prefix=prefix)


class PlateFilter(django_filters.CharFilter):
    """The normalised plate, whole or (``*`` at the end) its beginning."""

    field_class = PlateField

    def filter(self, qs: QuerySet, value: PlateQuery | None) -> QuerySet:
        if value is None:
            return qs
        lookup = "startswith" if value.prefix else "exact"
        return qs.filter(**{f"{self.field_name}__{lookup}": value.plate})


def is_park(uuid: str) -> bool:
    """Whether a park (known from the pushes) has this uuid."""
    return Park.objects.filter(park_uuid=uuid).exists()


class ParkUuidField(forms.CharField):
    """A park's uuid that ``is_known`` (a park has it, by default): an unknown one, a typo, is
    a 400 rather than an empty list or file."""

    default_error_messages = {"unknown": _("No park has the uuid “%(uuid)s”.")}

    def __init__(self, *args, is_known=is_park, **kwargs):
        self.is_known = is_known
        super().__init__(*args, **kwargs)

    def validate(self, value) -> None:
        super().validate(value)
        # A NUL or a value longer than the column is no park's, and PostgreSQL refuses a NUL.
        too_odd = "\x00" in value or len(value) > Park.park_uuid.field.max_length
        if value and (too_odd or not self.is_known(value)):
            raise forms.ValidationError(
                self.error_messages["unknown"], code="unknown", params={"uuid": value}
            )


class ParkFilter(django_filters.CharFilter):
    """A park's uuid (``ParkUuidField``); ``is_known=`` may widen what counts as known."""

    field_class = ParkUuidField
