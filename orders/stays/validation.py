"""Validating the fields of an entry, exit or renewal push (PLATFORM_PUSHES.md, "Fields") into
an ``EventData``, with the pay order's field types (``orders.push.validation``).
"""

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from orders.push.validation import (
    MAX_FEN,
    DigitsField,
    IntegerCodeField,
    OptionalAmountField,
    OptionalIntegerField,
    OptionalTextField,
    OptionalTimeField,
    PlateField,
    TextField,
    TimeField,
    content_fingerprint,
    fields_inside_pattern,
    run_serializer,
)
from whitelist import plates

# Text is at most this long unless the contract says otherwise; pictures are URLs up to 512.
TEXT = 64
IMAGE = 512
# Fields that change between retries of one event: not part of "same content".
NOT_CONTENT = frozenset({"total_space", "remain_space"})
# Renewal types that cover a period: their start_time and end_time are required.
TIMED_VIP_TYPES = frozenset({1, 4, 5, 6, 7})


class PositionField(serializers.Field):
    """A WGS84 coordinate as decimal text or a JSON number; the platform's ``-1.0`` (unknown),
    missing and empty are None."""

    default_error_messages = {
        "invalid": "must be a decimal number",
        "range": "must be between -{limit} and {limit}",
    }

    def __init__(self, *, limit: float, **kwargs: Any) -> None:
        self.limit = limit
        kwargs.update(required=False, allow_null=True, default=None)
        super().__init__(**kwargs)

    def validate_empty_values(self, data: Any) -> tuple[bool, Any]:
        if data is None or data == "":
            return True, None
        return super().validate_empty_values(data)

    def to_internal_value(self, data: Any) -> float | None:
        if isinstance(data, bool) or not isinstance(data, str | int | float):
            self.fail("invalid")
        if isinstance(data, str) and not re.fullmatch(r"-?[0-9]{1,3}(\.[0-9]{1,15})?", data):
            self.fail("invalid")
        value = float(data)
        if not math.isfinite(value):
            self.fail("invalid")
        if value == -1.0:
            return None
        if not -self.limit <= value <= self.limit:
            self.fail("range", limit=self.limit)
        return value

    def to_representation(self, value: float) -> float:
        return value


class _ParkSerializer(serializers.Serializer):
    """What every push names: the park and the plate.

    Each field's ``label`` is its name for staff, the model's verbose name: the push log names
    an invalid field by it (``validation.field_label``)."""

    park_uuid = TextField(max_length=64, label=_("park uuid"))
    park_name = TextField(max_length=128, label=_("park name"))
    plate = PlateField(max_length=64, label=_("plate"))


class EntryPushSerializer(_ParkSerializer):
    """The business fields of an entry push."""

    parking_serial = TextField(max_length=TEXT, label=_("parking serial"))
    enter_time = TimeField(label=_("entry time"))
    plate_color = OptionalIntegerField(label=_("plate colour"))
    car_type = OptionalIntegerField(label=_("car type"))
    vehicle_type = OptionalIntegerField(label=_("vehicle type"))
    car_desc = OptionalTextField(max_length=TEXT, label=_("car description"))
    enter_gate = OptionalTextField(max_length=TEXT, label=_("entry gate"))
    enter_security = OptionalTextField(max_length=TEXT, label=_("entry attendant"))
    enter_image = OptionalTextField(max_length=IMAGE, label=_("entry picture"))
    address = OptionalTextField(max_length=TEXT, label=_("address"))
    area_code = OptionalTextField(max_length=TEXT, label=_("region code"))
    latitude = PositionField(limit=90, label=_("latitude"))
    longitude = PositionField(limit=180, label=_("longitude"))
    total_space = OptionalIntegerField(min_value=-1, label=_("total spaces"))
    remain_space = OptionalIntegerField(min_value=-1, label=_("free spaces"))


class ExitPushSerializer(EntryPushSerializer):
    """The business fields of an exit push: the entry's, and the exit's own."""

    leave_time = TimeField(label=_("exit time"))
    parking_time = DigitsField(max_value=10**12, label=_("length of stay (s)"))
    total_value = DigitsField(max_value=MAX_FEN, label=_("fee (fen)"))
    free_value = OptionalAmountField(label=_("discounts (fen)"))
    autopay_value = OptionalAmountField(label=_("autopay (fen)"))
    leave_gate = OptionalTextField(max_length=TEXT, label=_("exit gate"))
    leave_security = OptionalTextField(max_length=TEXT, label=_("exit attendant"))
    leave_image = OptionalTextField(max_length=IMAGE, label=_("exit picture"))

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["leave_time"] < attrs["enter_time"]:
            raise serializers.ValidationError({"leave_time": ["may not be before enter_time"]})
        return attrs


class RenewalPushSerializer(_ParkSerializer):
    """The business fields of a fixed-car renewal push."""

    pay_serial = TextField(max_length=TEXT, label=_("pay serial"))
    pay_value = DigitsField(max_value=MAX_FEN, label=_("amount paid (fen)"))
    pay_time = TimeField(label=_("pay time"))
    channel = TextField(max_length=TEXT, label=_("channel"))
    identity = OptionalTextField(max_length=255, label=_("user identity"))
    vip_type = IntegerCodeField(label=_("fixed-car type"))
    quantity = DigitsField(max_value=10**12, label=_("quantity"))
    # A period paid for lies ahead: bounded by the product's span, not by "one day after now"
    # (a monthly card paid today ends a month from now).
    start_time = OptionalTimeField(future=True, label=_("period start"))
    end_time = OptionalTimeField(future=True, label=_("period end"))

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        start, end = attrs["start_time"], attrs["end_time"]
        if attrs["vip_type"] in TIMED_VIP_TYPES:
            for name, value in (("start_time", start), ("end_time", end)):
                if value is None:
                    raise serializers.ValidationError(
                        {name: [f"is required for vip_type {attrs['vip_type']}"]}
                    )
        if start is not None and end is not None and end <= start:
            raise serializers.ValidationError({"end_time": ["must be after start_time"]})
        return attrs


@dataclass(frozen=True)
class EventData:
    """A validated entry, exit or renewal push, ready to store.

    ``fields`` holds the business fields as validated (times as ms since epoch, ``plate`` as
    pushed); ``raw`` is the push as received, all but its signature.
    """

    serial: str
    event_time_ms: int
    plate: str
    app_id: str
    fields: Mapping[str, Any]
    extra: Mapping[str, Any]
    raw: Mapping[str, Any]
    fingerprint: str

    @property
    def event_time(self) -> datetime:
        """The time the whitelist is read at: entry, exit or payment time."""
        return moment(self.event_time_ms)

    @property
    def park_uuid(self) -> str:
        return self.fields["park_uuid"]


def moment(value_ms: int | None) -> datetime | None:
    """Turn validated ms since epoch into an aware time (None stays None)."""
    if value_ms is None:
        return None
    return datetime.fromtimestamp(value_ms / 1000, tz=UTC)


def _validate(
    serializer_class: type[serializers.Serializer],
    pattern: re.Pattern[str],
    payload: Mapping[str, Any],
    *,
    now: datetime,
    serial: str,
    event_time: str,
) -> EventData:
    data, extra = run_serializer(serializer_class, payload, now=now, pattern=pattern)
    plate = plates.normalise(data["plate"])
    content = {key: value for key, value in data.items() if key not in NOT_CONTENT}
    content["plate"] = plate
    return EventData(
        serial=data[serial],
        event_time_ms=data[event_time],
        plate=plate,
        app_id=str(payload.get("app_id", "")),
        fields=data,
        extra=extra,
        raw={key: value for key, value in payload.items() if key != "sign"},
        fingerprint=content_fingerprint(content),
    )


_ENTRY_INSIDE = fields_inside_pattern(EntryPushSerializer)
_EXIT_INSIDE = fields_inside_pattern(ExitPushSerializer)
_RENEWAL_INSIDE = fields_inside_pattern(RenewalPushSerializer)


def validate_entry(payload: Mapping[str, Any], *, now: datetime) -> EventData:
    """Validate an entry push, or raise InvalidField."""
    return _validate(
        EntryPushSerializer,
        _ENTRY_INSIDE,
        payload,
        now=now,
        serial="parking_serial",
        event_time="enter_time",
    )


def validate_exit(payload: Mapping[str, Any], *, now: datetime) -> EventData:
    """Validate an exit push, or raise InvalidField."""
    return _validate(
        ExitPushSerializer,
        _EXIT_INSIDE,
        payload,
        now=now,
        serial="parking_serial",
        event_time="leave_time",
    )


def validate_renewal(payload: Mapping[str, Any], *, now: datetime) -> EventData:
    """Validate a renewal push, or raise InvalidField."""
    return _validate(
        RenewalPushSerializer,
        _RENEWAL_INSIDE,
        payload,
        now=now,
        serial="pay_serial",
        event_time="pay_time",
    )
