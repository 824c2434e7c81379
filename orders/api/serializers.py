"""What the integration API answers about orders, coupons and the daily summary.

Read-only: amounts are integer fen, times ISO-8601 with their offset (+08:00). Discount mobile
numbers are masked unless the serializer's context says ``unmask`` (``orders.view_personal_data``).
"""

from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from orders import coupons as coupon_rules
from orders import selectors
from orders.channels import DocumentedChannel
from orders.exports.summary import VIEWS
from orders.models import Discount, MerchantCoupon, PayOrder
from orders.stays.models import Renewal, Stay
from parkingops.formatting import CHINA, mask_mobile, mask_mobiles
from parkingops.schema import open_enum
from whitelist.models import Park

# --- Orders ----------------------------------------------------------------------------------

# The platform's codes: the documented ones named in the schema, any other one stored as sent.
COUPON_TYPE = open_enum("CouponType", coupon_rules.CouponType)
VIP_TYPE = open_enum("VipType", Renewal.VipType)
CHANNEL = open_enum("ChannelCode", DocumentedChannel)


@extend_schema_field(CHANNEL)
class ChannelField(serializers.CharField):
    """A pay channel's code as pushed: a documented one or any other."""


@extend_schema_field(COUPON_TYPE)
class CouponTypeField(serializers.IntegerField):
    """A merchant coupon's type as pushed (the platform's DiscountType)."""


@extend_schema_field(VIP_TYPE)
class VipTypeField(serializers.IntegerField):
    """A fixed-car type as pushed."""


class UnmaskMixin:
    @property
    def unmask(self) -> bool:
        return bool(self.context.get("unmask", False))


class ParkSerializer(serializers.ModelSerializer):
    class Meta:
        model = Park
        fields = ["park_uuid", "name"]


class DiscountSerializer(UnmaskMixin, serializers.ModelSerializer):
    mobile = serializers.SerializerMethodField(
        help_text=_("Masked (138****8000) unless the user may see personal data.")
    )
    extra = serializers.SerializerMethodField(help_text=_("Fields the platform sent besides."))

    class Meta:
        model = Discount
        fields = ["type", "token", "openid", "mobile", "relief_amount", "relief_value", "extra"]

    def get_mobile(self, discount: Discount) -> str:
        return discount.mobile if self.unmask else mask_mobile(discount.mobile)

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_extra(self, discount: Discount):
        return discount.extra if self.unmask else mask_mobiles(discount.extra)


class CouponSerializer(UnmaskMixin, serializers.ModelSerializer):
    coupon_type = CouponTypeField(read_only=True, allow_null=True)
    coupon_type_label = serializers.CharField(
        read_only=True, help_text=_("The type's name; an unknown type's number.")
    )
    coupon_unit = serializers.SerializerMethodField(
        help_text=_("The unit of coupon_value: fen, minutes, percent or as_sent.")
    )
    extra = serializers.SerializerMethodField(help_text=_("Fields the platform sent besides."))

    class Meta:
        model = MerchantCoupon
        fields = [
            "coupon_name",
            "coupon_code",
            "store_name",
            "store_code",
            "coupon_type",
            "coupon_type_label",
            "coupon_value",
            "coupon_unit",
            "grant_time",
            "grant_time_raw",
            "grant_serial",
            "extra",
        ]

    def get_coupon_unit(self, coupon: MerchantCoupon) -> str:
        return coupon_rules.unit_of(coupon.coupon_type).value

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_extra(self, coupon: MerchantCoupon):
        return coupon.extra if self.unmask else mask_mobiles(coupon.extra)


class OrderSerializer(UnmaskMixin, serializers.ModelSerializer):
    park = ParkSerializer(read_only=True)
    discounts = DiscountSerializer(many=True, read_only=True)
    coupons = CouponSerializer(many=True, read_only=True, source="mcoupons")
    channel = ChannelField(read_only=True)
    channel_name = serializers.CharField(
        read_only=True, help_text=_("The channel's name; blank when finance has not named it.")
    )
    extra = serializers.SerializerMethodField(help_text=_("Fields the platform sent besides."))

    class Meta:
        model = PayOrder
        fields = [
            "pay_serial",
            "parking_serial",
            "park",
            "plate",
            "plate_raw",
            "pay_value",
            "pay_time",
            "channel",
            "channel_name",
            "identity",
            "app_id",
            "source",
            "received_at",
            "discounts",
            "coupons",
            "extra",
        ]

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_extra(self, order: PayOrder):
        return order.extra if self.unmask else mask_mobiles(order.extra)


# --- Stays and renewals ----------------------------------------------------------------------


class StaySerializer(serializers.ModelSerializer):
    """A stay with what its pay orders paid and its gap (``orders.stays.selectors.with_gap``
    annotates both; the view reads through it)."""

    park = ParkSerializer(read_only=True)
    in_park = serializers.SerializerMethodField(
        help_text=_("The entry arrived and no exit yet: the car is in the park.")
    )
    length_seconds = serializers.IntegerField(
        source="parking_time",
        read_only=True,
        allow_null=True,
        help_text=_("The length of the stay as the exit told it (seconds); null before the exit."),
    )
    paid_by_pushes = serializers.IntegerField(
        read_only=True, help_text=_("What the stay's pay orders paid (fen); 0 when none.")
    )
    gap = serializers.IntegerField(
        read_only=True,
        allow_null=True,
        help_text=_(
            "Fee − discounts − autopay − paid_by_pushes (fen) once the exit told the fee; "
            "null before. Not 0: a lost pay-order push, or cash at the gate."
        ),
    )

    class Meta:
        model = Stay
        fields = [
            "parking_serial",
            "park",
            "plate",
            "plate_raw",
            "enter_time",
            "leave_time",
            "length_seconds",
            "in_park",
            "total_value",
            "free_value",
            "autopay_value",
            "paid_by_pushes",
            "gap",
            "needs_review",
            "exit_enter_time",
            "plate_color",
            "car_type",
            "vehicle_type",
            "car_desc",
            "enter_gate",
            "leave_gate",
            "app_id",
            "entry_received_at",
            "exit_received_at",
            "updated_at",
        ]

    def get_in_park(self, stay: Stay) -> bool:
        return stay.has_entry and not stay.has_left


class RenewalSerializer(UnmaskMixin, serializers.ModelSerializer):
    park = ParkSerializer(read_only=True)
    vip_type = VipTypeField(read_only=True)
    channel = ChannelField(read_only=True)
    vip_type_label = serializers.CharField(
        read_only=True, help_text=_("The type's name; an unknown type's number.")
    )
    extra = serializers.SerializerMethodField(help_text=_("Fields the platform sent besides."))

    class Meta:
        model = Renewal
        fields = [
            "pay_serial",
            "park",
            "plate",
            "plate_raw",
            "vip_type",
            "vip_type_label",
            "quantity",
            "start_time",
            "end_time",
            "pay_value",
            "pay_time",
            "channel",
            "identity",
            "app_id",
            "received_at",
            "extra",
        ]

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_extra(self, renewal: Renewal):
        return renewal.extra if self.unmask else mask_mobiles(renewal.extra)


# --- Merchant coupons ------------------------------------------------------------------------


class CouponListSerializer(CouponSerializer):
    """A coupon with what identifies its order."""

    pay_serial = serializers.CharField(source="order.pay_serial", read_only=True)
    pay_time = serializers.DateTimeField(source="order.pay_time", read_only=True)
    park_uuid = serializers.CharField(source="order.park.park_uuid", read_only=True)
    park_name = serializers.CharField(source="order.park.name", read_only=True)
    plate = serializers.CharField(source="order.plate", read_only=True)
    received_at = serializers.DateTimeField(
        source="order.received_at",
        read_only=True,
        help_text=_("When the coupon arrived here: with its order, the order's received_at."),
    )

    class Meta(CouponSerializer.Meta):
        fields = [
            "id",
            "pay_serial",
            "pay_time",
            "park_uuid",
            "park_name",
            "plate",
            *CouponSerializer.Meta.fields,
            "received_at",
        ]


class StoreTotalSerializer(serializers.Serializer):
    """One store and coupon type in the filtered period (what the park bills that merchant)."""

    store_code = serializers.CharField()
    store_name = serializers.CharField()
    coupon_type = CouponTypeField(allow_null=True)
    coupon_type_label = serializers.CharField()
    unit = serializers.ChoiceField(
        choices=coupon_rules.Unit.choices,
        help_text=_("The unit of value: fen, minutes, percent (never summed) or as_sent."),
    )
    coupons = serializers.IntegerField(help_text=_("How many coupons."))
    value = serializers.IntegerField(
        allow_null=True,
        help_text=_(
            "Their values added up in the unit: fen for amount coupons (type 1), minutes for "
            "time coupons (type 2); null for the types that are only counted."
        ),
    )


class StoreTotalsSerializer(serializers.Serializer):
    results = StoreTotalSerializer(many=True, source="stores")
    types = StoreTotalSerializer(
        many=True, help_text=_("The grand total of each coupon type (store blank).")
    )
    coupons = serializers.IntegerField(help_text=_("How many coupons, every type."))
    amount_value = serializers.IntegerField(
        help_text=_("Money: the amount coupons' value (fen); no other type is money.")
    )


# --- Daily summary ---------------------------------------------------------------------------


class SummaryQuerySerializer(serializers.Serializer):
    """The admin daily summary's query: ``from``, ``to`` (China-time days) and ``park``.

    The admin page's defaults and limits (``selectors.summary_range``): without days the last 7
    (today included), with only ``to`` the 7 days ending then; at most 366 days; a known park.
    """

    def get_fields(self):
        return {
            "from": serializers.DateField(
                required=False,
                input_formats=["%Y-%m-%d"],
                help_text=_("The first day, YYYY-MM-DD (default: 6 days before “to”)."),
            ),
            "to": serializers.DateField(
                required=False,
                input_formats=["%Y-%m-%d"],
                help_text=_("The last day, YYYY-MM-DD (default: today, China time)."),
            ),
            "park": serializers.CharField(required=False, help_text=_("One park's uuid.")),
        }

    def validate_park(self, value: str) -> str:
        value = value.strip()
        if value and not Park.objects.filter(park_uuid=value).exists():
            raise serializers.ValidationError(
                gettext("No park has the uuid “%(uuid)s”.") % {"uuid": value}
            )
        return value

    def validate(self, attrs):
        try:
            date_from, date_to = selectors.summary_range(
                date_from=attrs.get("from"),
                date_to=attrs.get("to"),
                today=timezone.now().astimezone(CHINA).date(),
            )
        except selectors.SummaryRangeError as exc:
            raise serializers.ValidationError({"from": exc.messages}) from None
        return {
            **{name: value for name, value in attrs.items() if name not in ("from", "to", "park")},
            "date_from": date_from,
            "date_to": date_to,
            "park_uuid": attrs.get("park", ""),
        }


class SummaryExportQuerySerializer(SummaryQuerySerializer):
    """The summary export's query: the summary's, and ``view``, the table of the file."""

    def get_fields(self):
        return {
            **super().get_fields(),
            "view": serializers.ChoiceField(
                choices=VIEWS,
                default=VIEWS[0],
                help_text=_(
                    "Which table: rows (default; the groups with their subtotals) or pivot "
                    "(days × parks, amount paid)."
                ),
            ),
        }


class SummaryRowSerializer(serializers.Serializer):
    """One China-time day at one park on one channel, or a subtotal (a blank park or channel
    is every one); money in fen."""

    date = serializers.DateField(
        source="day", allow_null=True, help_text=_("Null in the total and a park's subtotal.")
    )
    park_uuid = serializers.CharField()
    park_name = serializers.CharField()
    channel = ChannelField(help_text=_("Blank: every channel (a subtotal)."))
    channel_name = serializers.CharField(help_text=_("The channel's name; blank when unnamed."))
    order_count = serializers.IntegerField(source="orders")
    pay_value = serializers.IntegerField(source="paid", help_text=_("Amount paid (fen)."))
    discount_relief = serializers.IntegerField(
        source="relief", help_text=_("Discount relief (fen).")
    )
    coupon_count = serializers.IntegerField(source="coupons")
    coupon_value_total = serializers.IntegerField(
        source="coupon_value",
        help_text=_("The amount coupons' face values added up (fen); other types are counted."),
    )


class PivotParkSerializer(serializers.Serializer):
    """A column of the pivot: a park and its amount paid over the period (fen)."""

    park_uuid = serializers.CharField()
    park_name = serializers.CharField()
    pay_value = serializers.IntegerField(source="paid", help_text=_("Amount paid (fen)."))


class PivotDaySerializer(serializers.Serializer):
    """A row of the pivot: a day, its amount paid at each park (in the order of ``parks``)."""

    date = serializers.DateField(source="day")
    pay_values = serializers.ListField(
        source="paid",
        child=serializers.IntegerField(),
        help_text=_("Amount paid (fen) at each of the pivot's parks, in their order."),
    )
    total = serializers.IntegerField(help_text=_("Amount paid that day (fen)."))


class PivotSerializer(serializers.Serializer):
    parks = PivotParkSerializer(many=True)
    days = PivotDaySerializer(many=True, help_text=_("Every day of the period."))
    total = serializers.IntegerField(help_text=_("Amount paid (fen)."))


class DailySummarySerializer(serializers.Serializer):
    date_from = serializers.DateField()
    date_to = serializers.DateField()
    park = serializers.CharField(source="park_uuid", help_text=_("Blank: every park."))
    rows = SummaryRowSerializer(many=True)
    day_subtotals = SummaryRowSerializer(
        many=True, source="days", help_text=_("Per day: every park and channel.")
    )
    park_subtotals = SummaryRowSerializer(
        many=True, source="parks", help_text=_("Per park: every day and channel.")
    )
    total = SummaryRowSerializer()
    pivot = PivotSerializer(help_text=_("Days × parks, amount paid (fen)."))
