"""The integration API's filters (django-filter FilterSets) for orders and merchant coupons.

A value a filter cannot use is a 400 with the parameter's error (DRF's usual shape), never
ignored: a typo must not silently return, or export, everything. Times are ISO-8601; a time
without an offset, and a bare date, are China time (Asia/Shanghai).
"""

import re
from datetime import date

import django_filters
from django import forms
from django.db.models import Exists, OuterRef, QuerySet
from django.utils.translation import gettext_lazy as _

from orders.models import Discount, MerchantCoupon, PayOrder
from orders.push.validation import MAX_FEN
from orders.stays.models import Renewal, Stay
from orders.stays.selectors import with_a_gap
from parkingops.api_filters import Moment, MomentAfterFilter, MomentBeforeFilter
from whitelist.filters import ParkFilter, PlateFilter

_INTEGER = re.compile(r"[+-]?[0-9]+")

# --- Form fields -----------------------------------------------------------------------------


class StrictBooleanField(forms.Field):
    """``true``/``1`` or ``false``/``0``; anything else is an error, not "no filter"."""

    default_error_messages = {"invalid": _("Enter true or false (or 1 or 0).")}

    def to_python(self, value) -> bool | None:
        text = (value or "").strip().lower()
        if not text:
            return None
        if text in {"true", "1", "yes"}:
            return True
        if text in {"false", "0", "no"}:
            return False
        raise forms.ValidationError(self.error_messages["invalid"], code="invalid")


class StrictIntegerField(forms.IntegerField):
    """A whole number written as one: ``10``, not ``10.0`` (which Django's field accepts)."""

    def to_python(self, value) -> int | None:
        text = (value or "").strip() if isinstance(value, str) else value
        if isinstance(text, str) and text and not _INTEGER.fullmatch(text):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return super().to_python(text)


# --- Filters ---------------------------------------------------------------------------------


# Subclasses of django-filter's own filters, so the OpenAPI schema knows their types and shows
# their help texts (the time filters: ``parkingops.api_filters``, shared with the whitelist).


class HasRelatedFilter(django_filters.BooleanFilter):
    """``true``: rows with at least one related row; ``false``: rows with none."""

    field_class = StrictBooleanField

    def __init__(self, *args, related_model=None, **kwargs):
        self.related_model = related_model
        super().__init__(*args, **kwargs)

    def filter(self, qs: QuerySet, value: bool | None) -> QuerySet:
        if value is None:
            return qs
        related = Exists(self.related_model.objects.filter(order=OuterRef("pk")))
        return qs.filter(related if value else ~related)


class FenFilter(django_filters.NumberFilter):
    """An amount in fen, 0 to 10^10."""

    field_class = StrictIntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 0)
        kwargs.setdefault("max_value", MAX_FEN)
        super().__init__(*args, **kwargs)


class Int32Filter(django_filters.NumberFilter):
    field_class = StrictIntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", -(2**31))
        kwargs.setdefault("max_value", 2**31 - 1)
        super().__init__(*args, **kwargs)


PAY_TIME_AFTER_HELP = _(
    "Paid at or after this time: ISO-8601 (2026-11-01T08:00:00+08:00; without an offset China "
    "time) or a date (2026-11-01: from 00:00 China time)."
)
PAY_TIME_BEFORE_HELP = _(
    "Paid before this time (exclusive), or a date: up to the end of that whole day (China time)."
)
RECEIVED_AFTER_HELP = _(
    "Received (arrived here) at or after this time, or a date (from 00:00 China time). With "
    "ordering=received_at: the incremental sync."
)
RECEIVED_BEFORE_HELP = _(
    "Received before this time (exclusive), or a date: up to the end of that whole day."
)


class OrderFilter(django_filters.FilterSet):
    """``GET /api/v1/orders/``'s filters."""

    park = ParkFilter(field_name="park__park_uuid", help_text=_("The park's uuid."))
    plate = PlateFilter(
        field_name="plate",
        help_text=_(
            "A plate in any spelling (川a 660p1 finds 川A660P1), or its beginning followed by * "
            "(川A66*)."
        ),
    )
    channel = django_filters.CharFilter(field_name="channel", help_text=_("The pay channel."))
    pay_time_after = MomentAfterFilter(field_name="pay_time", help_text=PAY_TIME_AFTER_HELP)
    pay_time_before = MomentBeforeFilter(field_name="pay_time", help_text=PAY_TIME_BEFORE_HELP)
    min_value = FenFilter(
        field_name="pay_value", lookup_expr="gte", help_text=_("Paid at least this (fen).")
    )
    max_value = FenFilter(
        field_name="pay_value", lookup_expr="lte", help_text=_("Paid at most this (fen).")
    )
    has_discounts = HasRelatedFilter(
        related_model=Discount, help_text=_("true: only orders with discounts; false: without.")
    )
    has_coupons = HasRelatedFilter(
        related_model=MerchantCoupon,
        help_text=_("true: only orders with merchant coupons; false: without."),
    )
    received_after = MomentAfterFilter(field_name="received_at", help_text=RECEIVED_AFTER_HELP)
    received_before = MomentBeforeFilter(field_name="received_at", help_text=RECEIVED_BEFORE_HELP)

    class Meta:
        model = PayOrder
        fields: list[str] = []


class CouponFilter(django_filters.FilterSet):
    """``GET /api/v1/coupons/`` and ``coupons/totals/``'s filters (the order's park and time)."""

    store_code = django_filters.CharFilter(field_name="store_code", help_text=_("The store code."))
    coupon_type = Int32Filter(
        field_name="coupon_type",
        help_text=_(
            "The coupon type: 1 amount, 2 time, 3 free, 4 other pricing, 5 long-term, 6 percentage."
        ),
    )
    park = ParkFilter(field_name="order__park__park_uuid", help_text=_("The order's park uuid."))
    pay_time_after = MomentAfterFilter(field_name="order__pay_time", help_text=PAY_TIME_AFTER_HELP)
    pay_time_before = MomentBeforeFilter(
        field_name="order__pay_time", help_text=PAY_TIME_BEFORE_HELP
    )
    # A coupon arrives with its order, in the same write: the order's received_at is its own.
    received_after = MomentAfterFilter(
        field_name="order__received_at", help_text=RECEIVED_AFTER_HELP
    )
    received_before = MomentBeforeFilter(
        field_name="order__received_at", help_text=RECEIVED_BEFORE_HELP
    )

    class Meta:
        model = MerchantCoupon
        fields: list[str] = []


class StrictBooleanFilter(django_filters.BooleanFilter):
    """A boolean column, ``true``/``false`` (``StrictBooleanField``)."""

    field_class = StrictBooleanField


class SubsetFilter(django_filters.BooleanFilter):
    """``true``: the rows of a subset (``subset(queryset)``, a rule written elsewhere once);
    ``false``: the others."""

    field_class = StrictBooleanField

    def __init__(self, *args, subset=None, **kwargs):
        self.subset = subset
        super().__init__(*args, **kwargs)

    def filter(self, qs: QuerySet, value: bool | None) -> QuerySet:
        if value is None:
            return qs
        within = self.subset(qs.model.objects.all()).values("pk")
        return qs.filter(pk__in=within) if value else qs.exclude(pk__in=within)


PLATE_HELP = _(
    "A plate in any spelling (川a 660p1 finds 川A660P1), or its beginning followed by * (川A66*)."
)


class StayFilter(django_filters.FilterSet):
    """``GET /api/v1/stays/``'s filters."""

    park = ParkFilter(field_name="park__park_uuid", help_text=_("The park's uuid."))
    plate = PlateFilter(field_name="plate", help_text=PLATE_HELP)
    parking_serial = django_filters.CharFilter(
        field_name="parking_serial", help_text=_("The stay's parking serial.")
    )
    enter_time_after = MomentAfterFilter(
        field_name="enter_time",
        help_text=_("Entered at or after this time, or a date (from 00:00 China time)."),
    )
    enter_time_before = MomentBeforeFilter(
        field_name="enter_time",
        help_text=_("Entered before this time (exclusive), or a date: up to the end of that day."),
    )
    leave_time_after = MomentAfterFilter(
        field_name="leave_time",
        help_text=_("Left at or after this time, or a date (from 00:00 China time)."),
    )
    leave_time_before = MomentBeforeFilter(
        field_name="leave_time",
        help_text=_("Left before this time (exclusive), or a date: up to the end of that day."),
    )
    in_park = SubsetFilter(
        subset=lambda stays: stays.in_park(),
        help_text=_("true: cars in the park (an entry, no exit yet); false: the others."),
    )
    has_gap = SubsetFilter(
        subset=with_a_gap,
        help_text=_(
            "true: left stays whose pay orders do not add up to what was due (gap not 0); "
            "false: the others."
        ),
    )
    needs_review = StrictBooleanFilter(
        field_name="needs_review",
        help_text=_("true: stays whose exit disagrees with the entry on the entry time."),
    )
    updated_after = MomentAfterFilter(
        field_name="updated_at",
        help_text=_(
            "Changed (its entry or exit push received) at or after this time, or a date. With "
            "ordering=updated_at: the incremental sync."
        ),
    )
    updated_before = MomentBeforeFilter(
        field_name="updated_at",
        help_text=_("Changed before this time (exclusive), or a date: up to the end of that day."),
    )

    class Meta:
        model = Stay
        fields: list[str] = []


class RenewalFilter(django_filters.FilterSet):
    """``GET /api/v1/renewals/``'s filters."""

    park = ParkFilter(field_name="park__park_uuid", help_text=_("The park's uuid."))
    plate = PlateFilter(field_name="plate", help_text=PLATE_HELP)
    vip_type = Int32Filter(
        field_name="vip_type",
        help_text=_(
            "The fixed-car type: 1 monthly, 2 stored value, 3 stored visits, 4 stored days, "
            "5 yearly, 6 quarterly, 7 half-yearly."
        ),
    )
    pay_serial = django_filters.CharFilter(
        field_name="pay_serial", help_text=_("The renewal's pay serial.")
    )
    pay_time_after = MomentAfterFilter(field_name="pay_time", help_text=PAY_TIME_AFTER_HELP)
    pay_time_before = MomentBeforeFilter(field_name="pay_time", help_text=PAY_TIME_BEFORE_HELP)
    received_after = MomentAfterFilter(field_name="received_at", help_text=RECEIVED_AFTER_HELP)
    received_before = MomentBeforeFilter(field_name="received_at", help_text=RECEIVED_BEFORE_HELP)

    class Meta:
        model = Renewal
        fields: list[str] = []


def export_days(
    filterset: django_filters.FilterSet, *, time: str = "pay_time"
) -> tuple[date | None, date | None]:
    """Return the first and last China-time day of the filtered ``time`` range (``pay_time``,
    ``enter_time``), for a file name."""
    data = filterset.form.cleaned_data if filterset.is_valid() else {}
    after: Moment | None = data.get(f"{time}_after")
    before: Moment | None = data.get(f"{time}_before")
    first = after.first_day if after else None
    last = before.last_day if before and before.end is not None else None
    return first, last
