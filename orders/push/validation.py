"""Validating a decoded push's fields (PUSH_PROTOCOL.md, step 5) into a ``PushData``.

Plain DRF Serializers that only validate and normalise; reading the body is
``orders.push.decoding``'s job, storing ``orders.push.storing``'s.
"""

import functools
import hashlib
import json
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from orders.push import times
from orders.push.decoding import BadBody, check_text, loads_json
from parkingops import timerange
from parkingops.pcloud import signing
from whitelist import plates

MAX_FEN = 10**10
# Fields the protocol itself uses; every other top-level key is kept verbatim with the order.
PROTOCOL_FIELDS = frozenset({"app_id", "sign", "sign_type", "timestamp"})
_DIGITS = re.compile(r"[0-9]+")


class TextField(serializers.CharField):
    """A string (a JSON number is taken as its text), kept exactly as given."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("trim_whitespace", False)
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> str:
        value = super().to_internal_value(data)
        if not self.allow_blank and not value.strip():
            self.fail("blank")
        return value


class OptionalTextField(TextField):
    """An optional string; missing, empty and ``null`` all become ``""``."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.update(required=False, allow_blank=True, allow_null=True, default="")
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> str:
        return "" if data is None else super().to_internal_value(data)

    def validate_empty_values(self, data: Any) -> tuple[bool, Any]:
        if data is None:
            return True, ""
        return super().validate_empty_values(data)


class DigitsField(serializers.Field):
    """A non-negative integer given as decimal digits or a JSON integer; nothing else."""

    default_error_messages = {
        "invalid": "must be a non-negative integer (decimal digits only)",
        "max_value": "must be at most {max_value}",
    }

    def __init__(self, *, max_value: int = MAX_FEN, **kwargs: Any) -> None:
        self.max_value = max_value
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool):
            self.fail("invalid")
        if isinstance(data, int):
            value = data
        elif isinstance(data, str) and _DIGITS.fullmatch(data):
            if len(data.lstrip("0")) > len(str(self.max_value)):
                self.fail("max_value", max_value=self.max_value)
            value = int(data)
        else:
            self.fail("invalid")
        if value < 0:
            self.fail("invalid")
        if value > self.max_value:
            self.fail("max_value", max_value=self.max_value)
        return value

    def to_representation(self, value: int) -> int:
        return value


class OptionalAmountField(DigitsField):
    """An optional amount inside a discount or coupon: missing, empty or ``null`` is 0."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.update(required=False, allow_null=True, default=0)
        super().__init__(**kwargs)

    def validate_empty_values(self, data: Any) -> tuple[bool, Any]:
        if data is None or data == "":
            return True, 0
        return super().validate_empty_values(data)


class IntegerCodeField(serializers.Field):
    """A code as an integer (decimal digits, a leading ``-`` allowed, or a JSON integer), at
    least ``min_value`` when given. Unknown codes are stored, not refused."""

    default_error_messages = {
        "invalid": "must be an integer",
        "min_value": "must be at least {min_value}",
    }

    def __init__(self, *, min_value: int | None = None, **kwargs: Any) -> None:
        self.min_value = min_value
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool):
            self.fail("invalid")
        if isinstance(data, str) and re.fullmatch(r"-?[0-9]{1,10}", data):
            data = int(data)
        if not isinstance(data, int) or not -(2**31) <= data < 2**31:
            self.fail("invalid")
        if self.min_value is not None and data < self.min_value:
            self.fail("min_value", min_value=self.min_value)
        return data

    def to_representation(self, value: int) -> int:
        return value


class OptionalIntegerField(IntegerCodeField):
    """An optional integer code: missing, empty or ``null`` is None."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.update(required=False, allow_null=True, default=None)
        super().__init__(**kwargs)

    def validate_empty_values(self, data: Any) -> tuple[bool, Any]:
        if data is None or data == "":
            return True, None
        return super().validate_empty_values(data)


class CouponTypeField(OptionalIntegerField):
    """DiscountType as an integer; unknown numbers are stored, not refused."""


class PlateField(TextField):
    """A plate as pushed, kept raw; refused when nothing (or too much) is left of it after
    normalisation (``whitelist.plates``), which the caller applies to match and store."""

    def to_internal_value(self, data: Any) -> str:
        value = super().to_internal_value(data)
        plate = plates.normalise(value)
        if not plate:
            raise serializers.ValidationError("may not be blank")
        if len(plate) > plates.MAX_LENGTH:
            raise serializers.ValidationError(
                f"has more than {plates.MAX_LENGTH} characters after normalisation"
            )
        return value


class TimeField(DigitsField):
    """A time as ms since epoch, between 2000-01-01 and one day after the push's ``now``
    (the serializer's context); with ``future=True`` up to the product's last day instead
    (the end of a period paid for, which is ahead by nature)."""

    def __init__(self, *, future: bool = False, **kwargs: Any) -> None:
        self.future = future
        super().__init__(max_value=10**15, **kwargs)

    def to_internal_value(self, data: Any) -> int:
        value = super().to_internal_value(data)
        if self.future:
            if not times.EARLIEST_MS <= value <= times.LATEST_MS:
                raise serializers.ValidationError(
                    f"must be ms since epoch between {timerange.FIRST_DAY} and {timerange.LAST_DAY}"
                )
            return value
        now: datetime = self.context["now"]
        latest = min(times.ms(now + timedelta(days=1)), times.LATEST_MS)
        if not times.EARLIEST_MS <= value <= latest:
            raise serializers.ValidationError(
                f"must be ms since epoch between {timerange.FIRST_DAY} and one day after now"
            )
        return value


class OptionalTimeField(TimeField):
    """An optional time: missing, empty or ``null`` is None."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.update(required=False, allow_null=True, default=None)
        super().__init__(**kwargs)

    def validate_empty_values(self, data: Any) -> tuple[bool, Any]:
        if data is None or data == "":
            return True, None
        return super().validate_empty_values(data)


class KeepExtraMixin:
    """Keep keys the serializer does not know under ``extra``, verbatim."""

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        value = super().to_internal_value(data)
        value["extra"] = {key: item for key, item in data.items() if key not in self.fields}
        return value


class DiscountSerializer(KeepExtraMixin, serializers.Serializer):
    type = OptionalTextField(max_length=255, label=_("type"))
    token = OptionalTextField(max_length=255, label=_("token"))
    openid = OptionalTextField(max_length=255, label=_("openid"))
    mobile = OptionalTextField(max_length=255, label=_("mobile"))
    relief_amount = OptionalAmountField(label=_("relief amount"))
    relief_value = OptionalAmountField(label=_("relief value (fen)"))


class MerchantCouponSerializer(KeepExtraMixin, serializers.Serializer):
    coupon_name = OptionalTextField(max_length=255, label=_("coupon name"))
    coupon_code = OptionalTextField(max_length=255, label=_("coupon code"))
    store_name = OptionalTextField(max_length=255, label=_("store name"))
    store_code = OptionalTextField(max_length=255, label=_("store code"))
    coupon_type = CouponTypeField(label=_("coupon type"))
    coupon_value = OptionalAmountField(label=_("coupon value"))
    grant_time = OptionalTextField(max_length=255, label=_("grant time"))
    grant_serial = OptionalTextField(max_length=255, label=_("grant serial"))

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        value = super().to_internal_value(data)
        value["grant_time_raw"] = value.pop("grant_time")
        # Kept as given; parsed only when readable and inside the product's span (a coupon's
        # time never refuses a paid order: PUSH_PROTOCOL.md, "may be missing or empty").
        value["grant_time"] = times.parse_grant_time(value["grant_time_raw"])
        return value


class EmbeddedListField(serializers.ListField):
    """A list of objects, given as a real JSON array or as a JSON-encoded string (form bodies)."""

    default_error_messages = {"invalid_json": "is not a valid JSON array"}

    def __init__(self, **kwargs: Any) -> None:
        kwargs.update(required=False, allow_null=True, default=list)
        super().__init__(**kwargs)

    def validate_empty_values(self, data: Any) -> tuple[bool, Any]:
        if data is None or data == "":
            return True, []
        return super().validate_empty_values(data)

    def to_internal_value(self, data: Any) -> list[dict[str, Any]]:
        if isinstance(data, str):
            try:
                data = loads_json(data)
                # The body's own check could not look inside this string: NUL characters or
                # lone surrogates here would reach the database's JSON column and fail (a 500).
                check_text(data)
            except BadBody as exc:
                raise serializers.ValidationError(str(exc)) from None
            except (ValueError, RecursionError):
                self.fail("invalid_json")
            if data is None:
                return []
        return super().to_internal_value(data)


class PayOrderPushSerializer(serializers.Serializer):
    """The business fields of a push (the protocol's step 5).

    Each field's ``label`` is its name for staff (the model's verbose name where there is
    one): the push log names an invalid field by it (``field_label``).
    """

    park_uuid = TextField(max_length=64, label=_("park uuid"))
    park_name = TextField(max_length=128, label=_("park name"))
    parking_serial = TextField(max_length=64, label=_("parking serial"))
    pay_serial = TextField(max_length=64, label=_("pay serial"))
    pay_value = DigitsField(max_value=MAX_FEN, label=_("amount paid (fen)"))
    pay_time = TimeField(label=_("pay time"))
    plate = PlateField(max_length=64, label=_("plate"))
    channel = TextField(max_length=64, label=_("channel"))
    identity = OptionalTextField(max_length=255, label=_("user identity"))
    discounts = EmbeddedListField(child=DiscountSerializer(), label=_("discounts"))
    mcoupons = EmbeddedListField(child=MerchantCouponSerializer(), label=_("merchant coupons"))


def fields_inside_pattern(serializer_class: type[serializers.Serializer]) -> re.Pattern[str]:
    """Match ``&<field>=`` for every field a kind of push documents: the protocol's own and
    its business fields. A value holding one would sign exactly like two fields (see
    ``refuse_fields_inside``)."""
    names = PROTOCOL_FIELDS | frozenset(serializer_class().fields)
    return re.compile("&(" + "|".join(re.escape(name) for name in sorted(names)) + ")=")


_FIELD_INSIDE = fields_inside_pattern(PayOrderPushSerializer)


# --- The validated push -------------------------------------------------------------------


def content_fingerprint(content: Mapping[str, Any]) -> str:
    """Hash a push's parsed business content: equal for a retry in any encoding (``"100"``
    and ``100``, a JSON-encoded list and a list), different for other content."""
    text = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class PushData:
    """A validated push, ready to store."""

    app_id: str
    park_uuid: str
    park_name: str
    parking_serial: str
    pay_serial: str
    pay_value: int
    pay_time_ms: int
    plate: str
    plate_raw: str
    channel: str
    identity: str
    discounts: list[dict[str, Any]]
    mcoupons: list[dict[str, Any]]
    extra: dict[str, Any]

    @property
    def pay_time(self) -> datetime:
        return datetime.fromtimestamp(self.pay_time_ms / 1000, tz=UTC)

    def fingerprint(self) -> str:
        """Hash the business content, so a retry in any encoding is told from a conflict."""
        coupons = [
            {key: value for key, value in coupon.items() if key != "grant_time"}
            for coupon in self.mcoupons
        ]
        content = {
            "park_uuid": self.park_uuid,
            "parking_serial": self.parking_serial,
            "pay_value": self.pay_value,
            "pay_time": self.pay_time_ms,
            "plate": self.plate,
            "channel": self.channel,
            "identity": self.identity,
            "discounts": self.discounts,
            "mcoupons": coupons,
        }
        return content_fingerprint(content)


def _flatten_errors(errors: Any, path: str = "") -> tuple[str, str]:
    """Return the first error as (field path, message): ``discounts[0].relief_value``."""
    if isinstance(errors, Mapping):
        key, value = next(iter(errors.items()))
        if isinstance(key, int):
            sub = f"{path}[{key}]"
        elif key == "non_field_errors":
            sub = path
        else:
            sub = f"{path}.{key}" if path else str(key)
        return _flatten_errors(value, sub)
    if isinstance(errors, list) and errors:
        if isinstance(errors[0], str):
            return path, str(errors[0])
        for index, item in enumerate(errors):
            if item:
                return _flatten_errors(item, f"{path}[{index}]")
    return path, str(errors)


# One step of a field's path (``_flatten_errors``): a name, after a dot unless it comes first,
# or an index in brackets.
_PATH_NAME = re.compile(r"([^.\[\]]+)")
_PATH_STEP = re.compile(r"\.([^.\[\]]+)|\[([0-9]{1,9})\]")


@functools.cache
def _labelled_fields(
    serializer_class: type[serializers.Serializer],
) -> Mapping[str, serializers.Field]:
    """A push serializer's fields, built once, read only for their labels."""
    return serializer_class().fields


def field_label(
    path: str, *, serializer_class: type[serializers.Serializer] = PayOrderPushSerializer
) -> str | None:
    """Return the staff's name of the field at ``path`` (``InvalidField.field``), or None.

    Read from the labels of the kind's serializer (``PushKind.fields``; the pay order's by
    default), in the active language: ``pay_time`` is 支付时间, ``discounts[0].relief_value``
    优惠 › 第 1 项 › 抵扣金额（分）. None for a name the push does not define (a refused key, a
    protocol field) or a path that does not parse.
    """
    match = _PATH_NAME.match(path)
    fields: Mapping[str, serializers.Field] = _labelled_fields(serializer_class)
    parts: list[str] = []
    while match:
        name, index = (match.group(1), None) if match.re is _PATH_NAME else match.groups()
        if index is not None:
            parts.append(gettext("item %(number)d") % {"number": int(index) + 1})
        else:
            field = fields.get(name)
            if field is None:
                return None
            parts.append(str(field.label))
            child = getattr(field, "child", None)
            fields = child.fields if isinstance(child, serializers.Serializer) else {}
        if match.end() == len(path):
            return " › ".join(parts)
        match = _PATH_STEP.match(path, match.end())
    return None


class InvalidField(ValueError):
    """A field breaks the contract (step 5); the message names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


def refuse_fields_inside(
    payload: Mapping[str, Any], pattern: re.Pattern[str] = _FIELD_INSIDE
) -> None:
    """Refuse a push whose names or values hold another field (PUSH_PROTOCOL.md, Hardening).

    The signed text joins the fields as ``key=value&...``: a value holding
    ``&channel=200102`` signs exactly like a separate ``channel`` field, so a captured push
    could be re-sent with its fields moved inside one another and still verify. Values are
    checked as they are signed (arrays and objects as compact JSON), so a string nested in
    ``discounts`` counts too; ordinary ``&`` (``A&B停车场``) is fine.
    """
    for key, value in payload.items():
        # The name too: a key "x&channel" with the value 200102 signs as "x&channel=200102".
        found = pattern.search(f"{key}={signing.render_value(value)}")
        if found:
            raise InvalidField(
                key, f'holds "{found.group()}", which would sign as another field; refused'
            )


_per_thread = threading.local()


def push_serializer(
    serializer_class: type[serializers.Serializer], *, now: datetime
) -> serializers.Serializer:
    """Return this thread's serializer of a kind of push, its fields built once, validating as
    of ``now``.

    DRF deep-copies a serializer's declared fields for every new instance: that was four
    fifths of validating a push (0.55 ms, against 0.11 ms with the fields built once). The
    push is the hot path, so each thread keeps one instance per kind; validating keeps no
    state on it but the context, set here for each push.
    """
    cache = getattr(_per_thread, "serializers", None)
    if cache is None:
        cache = _per_thread.serializers = {}
    serializer = cache.get(serializer_class)
    if serializer is None:
        serializer = cache[serializer_class] = serializer_class()
    serializer._context = {"now": now}  # DRF's own attribute behind `context`
    return serializer


def run_serializer(
    serializer_class: type[serializers.Serializer],
    payload: Mapping[str, Any],
    *,
    now: datetime,
    pattern: re.Pattern[str],
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Validate a decoded push's business fields with a kind's serializer: return the valid
    fields and the unknown ones (``extra``, kept verbatim), or raise InvalidField."""
    refuse_fields_inside(payload, pattern)
    serializer = push_serializer(serializer_class, now=now)
    try:
        data = serializer.run_validation(payload)
    except serializers.ValidationError as error:
        field, message = _flatten_errors(error.detail)
        raise InvalidField(field, message) from None
    extra = {
        key: value
        for key, value in payload.items()
        if key not in PROTOCOL_FIELDS and key not in serializer.fields
    }
    return data, extra


def validate_push(payload: Mapping[str, Any], *, now: datetime) -> PushData:
    """Validate the business fields of a decoded push, or raise InvalidField."""
    data, extra = run_serializer(PayOrderPushSerializer, payload, now=now, pattern=_FIELD_INSIDE)
    return PushData(
        app_id=str(payload.get("app_id", "")),
        park_uuid=data["park_uuid"],
        park_name=data["park_name"],
        parking_serial=data["parking_serial"],
        pay_serial=data["pay_serial"],
        pay_value=data["pay_value"],
        pay_time_ms=data["pay_time"],
        plate=plates.normalise(data["plate"]),
        plate_raw=data["plate"],
        channel=data["channel"],
        identity=data["identity"],
        discounts=[dict(item) for item in data["discounts"]],
        mcoupons=[dict(item) for item in data["mcoupons"]],
        extra=extra,
    )
