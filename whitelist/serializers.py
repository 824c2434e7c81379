"""The whitelist in the integration API: an entry, and one row of a bulk upsert.

Plates are checked and normalised by the model's own ``clean_fields`` (``plates.validate`` and
the window check), exactly as the admin form and the import do. Saving is the services' job.
"""

import copy

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.settings import api_settings

from parkingops.api_params import StrictFieldsMixin
from parkingops.timerange import out_of_range_message
from whitelist.models import PlateSync, Status, WhitelistEntry, WhitelistTombstone
from whitelist.services import reasons
from whitelist.services.upsert import CREATED, MAX_UPSERT_ROWS, UNCHANGED, UPDATED

# What the bulk upsert did with a row.
BULK_ROW_RESULTS = [CREATED, UPDATED, UNCHANGED]


def drf_errors(error: DjangoValidationError) -> dict[str, list[str]]:
    """Return a model ValidationError as DRF's ``{field: [messages]}``."""
    return {
        (api_settings.NON_FIELD_ERRORS_KEY if field == NON_FIELD_ERRORS else field): messages
        for field, messages in error.message_dict.items()
    }


class MomentField(serializers.DateTimeField):
    """DRF's date and time field, refusing a time it cannot convert with the span's message.

    Near the ends of Python's calendar (year 1 read as China time is 1 BC in UTC; year 9999 in
    UTC is year 10000 here) DRF's own conversion overflows: a 500 or a vague "out of range".
    """

    def to_internal_value(self, value):
        try:
            return super().to_internal_value(value)
        except OverflowError:
            pass
        except serializers.ValidationError as error:
            if error.get_codes() != ["overflow"]:
                raise
        raise serializers.ValidationError(out_of_range_message(value), code="out_of_range")


def reason_field() -> serializers.CharField:
    """The change reason a write may carry (``reasons.REASON_FIELD``), never read back."""
    return serializers.CharField(
        write_only=True,
        required=False,
        allow_blank=True,
        trim_whitespace=False,  # ``reasons.clean_reason`` trims, and says what is wrong
        help_text=_(
            "Why: required when the change disables, deletes or shortens entries (an end "
            "earlier, a start later, an end where there was none, one park instead of all, "
            "another park or plate); at most 100 characters, kept in the history."
        ),
    )


def validate_reason(value: str) -> str:
    """Return the reason as kept, or refuse one too long (whether it is needed, the service
    decides: ``reasons.ReasonRequired``)."""
    try:
        return reasons.clean_reason(value, required=False)
    except DjangoValidationError as error:
        raise serializers.ValidationError(error.messages) from None


class WhitelistEntrySerializer(StrictFieldsMixin, serializers.ModelSerializer):
    """An entry. Times are China time when given without an offset; ``valid_until`` is
    exclusive; a blank ``park_uuid`` means every park."""

    reason = reason_field()

    park_name = serializers.SerializerMethodField(
        help_text=_("The park's name when a push has named it; null for all parks or unknown.")
    )
    status = serializers.SerializerMethodField(help_text=_("What the entry means for pushes now."))
    sync_state = serializers.SerializerMethodField(
        help_text=_("Where the plate stands at the platform.")
    )
    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.DateTimeField: MomentField,
    }

    class Meta:
        model = WhitelistEntry
        fields = [
            "id",
            "plate",
            "park_uuid",
            "park_name",
            "valid_from",
            "valid_until",
            "is_active",
            "holder",
            "note",
            "status",
            "sync_state",
            "created_at",
            "updated_at",
            reasons.REASON_FIELD,
        ]
        read_only_fields = ["id", "created_at", "updated_at"]
        # The identity's uniqueness is checked by ``validate`` (the model's constraints, on the
        # normalised plate), not by DRF's unique-together validator, which would see the plate
        # as typed and make "park_uuid" required.
        validators: list = []
        extra_kwargs = {"plate": {"help_text": _("Any spelling; stored normalised: 川A660P1.")}}

    def get_park_name(self, entry: WhitelistEntry) -> str | None:
        return getattr(entry, "park_name", None)

    def get_status(self, entry: WhitelistEntry) -> Status:
        return entry.status.value

    def get_sync_state(self, entry: WhitelistEntry) -> PlateSync.State:
        return getattr(entry, "sync_state", PlateSync.State.PENDING.value)

    def validate_reason(self, value: str) -> str:
        return validate_reason(value)

    def validate(self, attrs):
        """Check the entry as the admin form does (the model's ``clean_fields`` and
        constraints); normalise the plate."""
        entry = copy.copy(self.instance) if self.instance is not None else WhitelistEntry()
        for name, value in attrs.items():
            if name != reasons.REASON_FIELD:
                setattr(entry, name, value)
        try:
            entry.full_clean(validate_unique=False)
        except DjangoValidationError as error:
            raise serializers.ValidationError(drf_errors(error)) from None
        return {**attrs, "plate": entry.plate}


class SavedWhitelistEntrySerializer(WhitelistEntrySerializer):
    """An entry as a write answers it: with the overlap ``warnings`` (reads leave them out)."""

    warnings = serializers.ListField(
        child=serializers.CharField(),
        read_only=True,
        help_text=_("After a save: other enabled entries of the plate and park that overlap."),
    )

    class Meta(WhitelistEntrySerializer.Meta):
        fields = [*WhitelistEntrySerializer.Meta.fields, "warnings"]


class WhitelistRowSerializer(StrictFieldsMixin, serializers.Serializer):
    """One row of a bulk upsert; fields left out keep the entry's value (new: the default)."""

    id = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=2**63 - 1,
        help_text=_(
            "The entry to update. Without it, the entry with the same plate, park and “valid "
            "from” is updated, or a new one added."
        ),
    )
    plate = serializers.CharField(required=False, max_length=WhitelistEntry.plate.field.max_length)
    park_uuid = serializers.CharField(
        required=False, allow_blank=True, max_length=WhitelistEntry.park_uuid.field.max_length
    )
    valid_from = MomentField(required=False)
    valid_until = MomentField(required=False, allow_null=True)
    is_active = serializers.BooleanField(required=False)
    holder = serializers.CharField(
        required=False, allow_blank=True, max_length=WhitelistEntry.holder.field.max_length
    )
    note = serializers.CharField(
        required=False, allow_blank=True, max_length=WhitelistEntry.note.field.max_length
    )


@extend_schema_field(WhitelistRowSerializer(many=True))
class RowsField(serializers.ListField):
    """The bulk upsert's rows, each an object read on its own (``WhitelistRowSerializer``) so
    that one answer names every refused row by its number; the schema types them all the same."""


class WhitelistBulkSerializer(StrictFieldsMixin, serializers.Serializer):
    entries = RowsField(
        child=serializers.DictField(),
        allow_empty=False,
        max_length=MAX_UPSERT_ROWS,
        help_text=_("The rows, each like a whitelist entry; at most 1000."),
    )
    reason = reason_field()

    def validate_reason(self, value: str) -> str:
        return validate_reason(value)


class BulkRowResultSerializer(serializers.Serializer):
    row = serializers.IntegerField(help_text=_("The row's position in “entries”, from 1."))
    id = serializers.IntegerField()
    result = serializers.ChoiceField(choices=BULK_ROW_RESULTS)


class BulkResultSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    rows = BulkRowResultSerializer(many=True)


class TombstoneSerializer(serializers.ModelSerializer):
    """A deleted entry, as ``GET /api/v1/whitelist/deleted/`` lists it: the entry's own ``id``
    (the one the list and the updated_at sync gave) and what it was, and when it was deleted."""

    id = serializers.IntegerField(source="entry_id", read_only=True, help_text=_("The entry's id."))

    class Meta:
        model = WhitelistTombstone
        fields = ["id", "plate", "park_uuid", "valid_from", "valid_until", "holder", "deleted_at"]
        read_only_fields = fields
