"""What the integration API answers about orders, coupons and the daily summary, and the
documentation-only shapes of the platform's push (``orders/serializers.py`` is its contract).

Read-only: amounts are integer fen, times ISO-8601 with their offset (+08:00). Discount mobile
numbers are masked unless the serializer's context says ``unmask`` (``orders.view_personal_data``).
"""

from datetime import UTC, timedelta

from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from orders.models import Discount, MerchantCoupon, PayOrder
from orders.selectors import SUMMARY_DEFAULT_DAYS, SUMMARY_MAX_DAYS
from parkingops.formatting import CHINA, _mask_mobiles, mask_mobile
from parkingops.queries import day_start
from whitelist.models import Park

# --- Orders ----------------------------------------------------------------------------------


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
        return discount.extra if self.unmask else _mask_mobiles(discount.extra)


class CouponSerializer(UnmaskMixin, serializers.ModelSerializer):
    coupon_type_label = serializers.CharField(
        read_only=True, help_text=_("The type's name; an unknown type's number.")
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
            "grant_time",
            "grant_time_raw",
            "grant_serial",
            "extra",
        ]

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_extra(self, coupon: MerchantCoupon):
        return coupon.extra if self.unmask else _mask_mobiles(coupon.extra)


class OrderSerializer(UnmaskMixin, serializers.ModelSerializer):
    park = ParkSerializer(read_only=True)
    discounts = DiscountSerializer(many=True, read_only=True)
    coupons = CouponSerializer(many=True, read_only=True, source="mcoupons")
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
        return order.extra if self.unmask else _mask_mobiles(order.extra)


# --- Merchant coupons ------------------------------------------------------------------------


class CouponListSerializer(CouponSerializer):
    """A coupon with what identifies its order."""

    pay_serial = serializers.CharField(source="order.pay_serial", read_only=True)
    pay_time = serializers.DateTimeField(source="order.pay_time", read_only=True)
    park_uuid = serializers.CharField(source="order.park.park_uuid", read_only=True)
    park_name = serializers.CharField(source="order.park.name", read_only=True)
    plate = serializers.CharField(source="order.plate", read_only=True)

    class Meta(CouponSerializer.Meta):
        fields = [
            "id",
            "pay_serial",
            "pay_time",
            "park_uuid",
            "park_name",
            "plate",
            *CouponSerializer.Meta.fields,
        ]


class StoreTotalSerializer(serializers.Serializer):
    """One store and coupon type in the filtered period (what the park bills that merchant)."""

    store_code = serializers.CharField()
    store_name = serializers.CharField()
    coupon_type = serializers.IntegerField(allow_null=True)
    coupon_type_label = serializers.CharField()
    coupons = serializers.IntegerField(help_text=_("How many coupons."))
    value = serializers.IntegerField(
        help_text=_("Their face value: fen for amount coupons (type 1), else the type's unit.")
    )


class StoreTotalsSerializer(serializers.Serializer):
    results = StoreTotalSerializer(many=True)


# --- Daily summary ---------------------------------------------------------------------------


class SummaryQuerySerializer(serializers.Serializer):
    """The admin daily summary's query: ``from``, ``to`` (China-time days) and ``park``.

    The same defaults and limits as the admin page: without days the last 7 (today included),
    with only ``to`` the 7 days ending then; at most 366 days; a park that is known.
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
            "park": serializers.CharField(
                required=False, allow_blank=True, help_text=_("One park's uuid.")
            ),
        }

    def validate_park(self, value: str) -> str:
        value = value.strip()
        if value and not Park.objects.filter(park_uuid=value).exists():
            raise serializers.ValidationError(
                gettext("No park has the uuid “%(uuid)s”.") % {"uuid": value}
            )
        return value

    def validate(self, attrs):
        date_to = attrs.get("to") or timezone.now().astimezone(CHINA).date()
        date_from = attrs.get("from") or date_to - timedelta(days=SUMMARY_DEFAULT_DAYS - 1)
        if date_from > date_to:
            raise serializers.ValidationError(
                {
                    "from": gettext("The first day (%(first)s) is after the last day (%(last)s).")
                    % {"first": date_from.isoformat(), "last": date_to.isoformat()}
                }
            )
        if (date_to - date_from).days >= SUMMARY_MAX_DAYS:
            raise serializers.ValidationError(
                {
                    "from": gettext("Choose at most %(max)d days at once.")
                    % {"max": SUMMARY_MAX_DAYS}
                }
            )
        try:
            # Days at the calendar's ends have no midnight every database can store.
            day_start(date_from).astimezone(UTC)
            day_start(date_to + timedelta(days=1))
        except OverflowError:
            raise serializers.ValidationError(
                {"from": gettext("Choose days between the years 1 and 9999.")}
            ) from None
        return {"date_from": date_from, "date_to": date_to, "park_uuid": attrs.get("park", "")}


class SummaryRowSerializer(serializers.Serializer):
    """One China-time day at one park on one channel; money in fen."""

    date = serializers.DateField(source="day", allow_null=True, help_text=_("Null in the total."))
    park_uuid = serializers.CharField()
    park_name = serializers.CharField()
    channel = serializers.CharField()
    order_count = serializers.IntegerField(source="orders")
    pay_value = serializers.IntegerField(source="paid", help_text=_("Amount paid (fen)."))
    discount_relief = serializers.IntegerField(
        source="relief", help_text=_("Discount relief (fen).")
    )
    coupon_count = serializers.IntegerField(source="coupons")
    coupon_value_total = serializers.IntegerField(
        source="coupon_value", help_text=_("The coupons' face values added up.")
    )


class DailySummarySerializer(serializers.Serializer):
    date_from = serializers.DateField()
    date_to = serializers.DateField()
    park = serializers.CharField(source="park_uuid", help_text=_("Blank: every park."))
    rows = SummaryRowSerializer(many=True)
    total = SummaryRowSerializer()


# --- The platform's push (documentation only) ------------------------------------------------

PUSH_REASONS = [
    "accepted",
    "duplicate",
    "bad_body",
    "unknown_app",
    "bad_signature",
    "stale_timestamp",
    "invalid_field",
    "not_whitelisted",
    "conflict",
    "unavailable",
    "internal_error",
]


class _PushFieldsSerializer(serializers.Serializer):
    app_id = serializers.CharField(help_text="Our app id at the platform.")
    park_uuid = serializers.CharField(max_length=64)
    park_name = serializers.CharField(max_length=128, help_text="The newest name wins.")
    parking_serial = serializers.CharField(max_length=64)
    pay_serial = serializers.CharField(max_length=64, help_text="The order's identity.")
    plate = serializers.CharField(help_text="Normalised before matching: 川a 660p1 is 川A660P1.")
    channel = serializers.CharField(max_length=64)
    identity = serializers.CharField(required=False, max_length=255)
    sign = serializers.CharField(
        required=False,
        help_text="Upper-case MD5 of the sorted non-empty fields and &app_secret=<secret>; "
        "or sign the raw JSON body in the Authorization header instead.",
    )
    sign_type = serializers.ChoiceField(choices=["MD5"], required=False)


class PushDiscountSerializer(serializers.Serializer):
    type = serializers.CharField(required=False)
    token = serializers.CharField(required=False)
    openid = serializers.CharField(required=False)
    mobile = serializers.CharField(required=False)
    relief_amount = serializers.IntegerField(required=False, min_value=0)
    relief_value = serializers.IntegerField(required=False, min_value=0, help_text="Fen.")


class PushCouponSerializer(serializers.Serializer):
    coupon_name = serializers.CharField(required=False)
    coupon_code = serializers.CharField(required=False)
    store_name = serializers.CharField(required=False)
    store_code = serializers.CharField(required=False)
    coupon_type = serializers.IntegerField(required=False, help_text="1 to 6; others kept.")
    coupon_value = serializers.IntegerField(required=False, min_value=0)
    grant_time = serializers.CharField(
        required=False, help_text="ms since epoch or YYYY-MM-DD HH:MM:SS (China time)."
    )
    grant_serial = serializers.CharField(required=False)


class PushFormSerializer(_PushFieldsSerializer):
    """The push as the platform usually sends it: a form, every value a string."""

    pay_value = serializers.RegexField(r"^[0-9]+$", help_text="Fen, decimal digits.")
    pay_time = serializers.RegexField(r"^[0-9]+$", help_text="ms since epoch.")
    timestamp = serializers.RegexField(r"^[0-9]+$", required=False, help_text="ms since epoch.")
    discounts = serializers.CharField(required=False, help_text="A JSON-encoded array, e.g. [].")
    mcoupons = serializers.CharField(required=False, help_text="A JSON-encoded array, e.g. [].")


class PushJsonSerializer(_PushFieldsSerializer):
    """The push as one JSON object; numbers may be strings of digits too."""

    pay_value = serializers.IntegerField(min_value=0, max_value=10**10, help_text="Fen.")
    pay_time = serializers.IntegerField(help_text="ms since epoch.")
    timestamp = serializers.IntegerField(required=False, help_text="ms since epoch.")
    discounts = PushDiscountSerializer(many=True, required=False)
    mcoupons = PushCouponSerializer(many=True, required=False)


class PushAnswerSerializer(serializers.Serializer):
    """Every answer of the push endpoint: exactly these three keys."""

    code = serializers.ChoiceField(choices=["1001", "1400", "1401", "1403", "1409", "1500", "1503"])
    reason = serializers.ChoiceField(choices=PUSH_REASONS)
    message = serializers.CharField(help_text="Short English text; names the field at fault.")
