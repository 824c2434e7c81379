"""The time filters every list of the integration API shares: ``*_after`` and ``*_before``
parameters taking an ISO-8601 time or a China-time day.

A value the field cannot read is a 400 naming the parameter, never "no filter"; a time without
an offset, and a bare date, are China time (Asia/Shanghai).
"""

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import django_filters
from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from parkingops.formatting import CHINA
from parkingops.queries import day_start

_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# "+08:00" typed into a URL without encoding arrives as " 08:00": read it as the offset.
_SPACED_OFFSET = re.compile(
    r"([0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:[.,][0-9]+)?)?)"
    r" ([0-9]{2}(?::?[0-9]{2})?)"
)


@dataclass(frozen=True)
class Moment:
    """A point in time given as a time, or as a China-time day (``day`` then set)."""

    at: datetime
    day: date | None = None

    @property
    def end(self) -> datetime | None:
        """Return the exclusive end: the time itself, or midnight after the day (None when
        that is past the calendar's end, i.e. no end at all)."""
        if self.day is None:
            return self.at
        try:
            return day_start(self.day + timedelta(days=1))
        except OverflowError:
            return None

    @property
    def first_day(self) -> date | None:
        """Return the China-time day a range starting here starts on."""
        return self.day or _china_day(self.at)

    @property
    def last_day(self) -> date | None:
        """Return the China-time day a range ending (exclusively) here ends on."""
        if self.day is not None:
            return self.day
        return _china_day(self.at, minus=timedelta(microseconds=1))


def _china_day(moment: datetime, *, minus: timedelta = timedelta(0)) -> date | None:
    try:
        return (moment - minus).astimezone(CHINA).date()
    except OverflowError:  # within hours of the calendar's ends
        return None


class MomentField(forms.Field):
    """``2026-11-01`` (a China-time day) or ``2026-11-01T08:00:00+08:00`` (a time)."""

    default_error_messages = {
        "invalid": _(
            "“%(value)s” is not a date (2026-11-01) or an ISO-8601 time "
            "(2026-11-01T08:00:00+08:00)."
        ),
    }

    def to_python(self, value) -> Moment | None:
        text = (value or "").strip()
        if not text:
            return None
        try:
            if _DATE.fullmatch(text):
                day = date.fromisoformat(text)
                moment = Moment(at=day_start(day), day=day)
            else:
                spaced = _SPACED_OFFSET.fullmatch(text)
                if spaced:
                    text = f"{spaced[1]}+{spaced[2]}"
                parsed = datetime.fromisoformat(text)
                if parsed.tzinfo is None:
                    parsed = parsed.replace(tzinfo=CHINA)
                moment = Moment(at=parsed)
            # Year 1 at 00:00 China time is year 0 in UTC, which no database can store.
            moment.at.astimezone(UTC)
        except (ValueError, OverflowError):
            raise forms.ValidationError(
                self.error_messages["invalid"], code="invalid", params={"value": value}
            ) from None
        return moment


# Subclasses of django-filter's own filter, so the OpenAPI schema knows their type and shows
# their help texts.


class MomentAfterFilter(django_filters.CharFilter):
    """Rows at or after the time (a day: from its China-time midnight)."""

    field_class = MomentField

    def filter(self, qs: QuerySet, value: Moment | None) -> QuerySet:
        if value is None:
            return qs
        return qs.filter(**{f"{self.field_name}__gte": value.at})


class MomentBeforeFilter(django_filters.CharFilter):
    """Rows before the time (a day: up to the end of that whole China-time day)."""

    field_class = MomentField

    def filter(self, qs: QuerySet, value: Moment | None) -> QuerySet:
        if value is None or value.end is None:
            return qs
        return qs.filter(**{f"{self.field_name}__lt": value.end})
