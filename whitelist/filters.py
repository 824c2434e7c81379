"""The plate filter every list of the integration API shares: a plate in any spelling, whole or
its beginning (``川A66*``), matched against the normalised plate column."""

from dataclasses import dataclass

import django_filters
from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from whitelist import plates


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
