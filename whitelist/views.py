"""The whitelist in the integration API: list (and the admin's CSV), add, change, delete, and a
bulk upsert. Every write goes through ``whitelist.services``, so the history records the key's
user and the platform is synced after commit, exactly as from the admin.
"""

from collections.abc import Mapping

import django_filters
from django.core.exceptions import NON_FIELD_ERRORS
from django.http import Http404
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import generics, permissions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from parkingops import tabular, xlsx
from parkingops.api import CsvListMixin, KeysetPagination
from parkingops.models import ApiKey
from whitelist import selectors
from whitelist.admin_filters import ALL_PARKS_PARAM
from whitelist.filters import PlateFilter
from whitelist.models import PlateSync, Status, WhitelistEntry
from whitelist.permissions import ADD_ENTRY, CHANGE_ENTRY
from whitelist.resources import whitelist_csv, whitelist_filename, whitelist_xlsx
from whitelist.serializers import (
    BulkErrorSerializer,
    BulkResultSerializer,
    SavedWhitelistEntrySerializer,
    WhitelistBulkSerializer,
    WhitelistEntrySerializer,
    WhitelistRowSerializer,
    validate_reason,
)
from whitelist.services import entries, reasons, upsert


class WhitelistFilter(django_filters.FilterSet):
    """The admin list's filters, by the same names: ``status``, ``park``, ``sync``; and
    ``plate``."""

    plate = PlateFilter(
        field_name="plate",
        help_text=_(
            "A plate in any spelling (川a 660p1 finds 川A660P1), or its beginning followed by * "
            "(川A66*)."
        ),
    )
    park = django_filters.CharFilter(
        method="filter_park",
        help_text=_("The park's uuid; - for the entries valid in all parks."),
    )
    status = django_filters.ChoiceFilter(
        choices=Status.choices, method="filter_status", help_text=_("The status now.")
    )
    sync = django_filters.ChoiceFilter(
        choices=PlateSync.State.choices,
        method="filter_sync",
        help_text=_("The plate's platform sync state (never synced counts as pending)."),
    )

    class Meta:
        model = WhitelistEntry
        fields: list[str] = []

    def filter_park(self, queryset, name, value):
        return queryset.filter(park_uuid="" if value == ALL_PARKS_PARAM else value)

    def filter_status(self, queryset, name, value):
        return queryset.in_status(value)

    def filter_sync(self, queryset, name, value):
        return selectors.in_sync_state(queryset, state=value)


def _change_reason(request: Request) -> str:
    if isinstance(request.auth, ApiKey):
        text = gettext("Through the API with the key “%(name)s”") % {"name": request.auth.name}
    else:
        text = gettext("Through the API")
    return text[:100]


def _with_warnings(entry: WhitelistEntry) -> WhitelistEntry:
    """Attach the admin's overlap warning to a saved entry (shown as ``warnings``)."""
    entry.warnings = []
    windows = selectors.describe_overlaps(entry=entry)
    if windows:
        entry.warnings.append(
            gettext(
                "%(plate)s already has another enabled entry for the same park whose "
                "validity overlaps this one: %(windows)s."
            )
            % {"plate": entry.plate, "windows": windows}
        )
    return entry


def _save(entry: WhitelistEntry, *, user, reason: str = "") -> None:
    """Save through the service; a simultaneous save that took the identity is a 400, and so
    is a change that disables or shortens the entry without a reason."""
    try:
        entries.save_entry(entry=entry, user=user, reason=reason)
    except entries.IdentityTaken as taken:
        raise serializers.ValidationError(
            {api_settings.NON_FIELD_ERRORS_KEY: taken.messages}, code="identity_taken"
        ) from None
    except reasons.ReasonRequired as required:
        raise _reason_required(required) from None


def _reason_required(required: reasons.ReasonRequired) -> serializers.ValidationError:
    """The 400 of a change that needs a reason and came without one: under ``reason``."""
    return serializers.ValidationError(
        {reasons.REASON_FIELD: required.messages}, code="reason_required"
    )


def _reason(request: Request) -> str:
    """The reason a DELETE gives, in its body or its query string (``?reason=``)."""
    data = request.data if isinstance(request.data, Mapping) else {}
    value = data.get(reasons.REASON_FIELD, request.query_params.get(reasons.REASON_FIELD, ""))
    try:
        return validate_reason(value if isinstance(value, str) else "")
    except serializers.ValidationError as error:
        raise serializers.ValidationError({reasons.REASON_FIELD: error.detail}) from None


class WhitelistQuerysetMixin:
    def get_serializer_class(self):
        # A write answers the saved entry with its overlap warnings; a read has none.
        if self.request is not None and self.request.method in {"POST", "PUT", "PATCH"}:
            return SavedWhitelistEntrySerializer
        return WhitelistEntrySerializer

    def get_queryset(self):
        return selectors.with_sync_state(selectors.with_park_name(WhitelistEntry.objects.all()))

    def reread(self, entry: WhitelistEntry) -> WhitelistEntry:
        """Return the saved entry as listed (park name, sync state), with its warnings."""
        fresh = self.get_queryset().get(pk=entry.pk)
        return _with_warnings(fresh)


@extend_schema_view(
    get=extend_schema(
        summary=_("List whitelist entries"),
        description=_(
            "By plate, as the admin lists them (ordering=id: oldest first). With ?format=csv "
            "the admin's export file (UTF-8 with BOM), not paged."
        ),
        responses={
            (200, "application/json"): WhitelistEntrySerializer(many=True),
            (200, "text/csv"): OpenApiResponse(
                OpenApiTypes.BINARY, description=_("The admin's whitelist export (?format=csv).")
            ),
            (200, xlsx.MEDIA_TYPE): OpenApiResponse(
                OpenApiTypes.BINARY,
                description=_("The admin's whitelist export as an Excel file (?format=xlsx)."),
            ),
        },
    ),
    post=extend_schema(
        request=WhitelistEntrySerializer,
        # JSON only: the list's file formats are for reading.
        responses={(201, "application/json"): SavedWhitelistEntrySerializer},
        summary=_("Add a whitelist entry"),
        description=_(
            "Checked as in the admin (plate format, “valid until” after “valid from”); the "
            "plate is stored normalised and synced to the platform."
        ),
    ),
)
class WhitelistListView(WhitelistQuerysetMixin, CsvListMixin, generics.ListCreateAPIView):
    filterset_class = WhitelistFilter
    pagination_class = KeysetPagination
    orderings = {
        "plate": ("plate", "-valid_from", "-pk"),
        "id": ("pk",),
        "-id": ("-pk",),
    }
    default_ordering = "plate"

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        reason = data.pop(reasons.REASON_FIELD, "")
        entry = WhitelistEntry(**data)
        entry._change_reason = _change_reason(self.request)
        _save(entry, user=self.request.user, reason=reason)
        serializer.instance = self.reread(entry)

    def csv_response(self, queryset):
        # The admin's export: the same columns and writer, so the same bytes.
        return tabular.csv_response(whitelist_csv(queryset), whitelist_filename())

    def xlsx_response(self, queryset):
        file = self.xlsx_file(lambda about: whitelist_xlsx(queryset, about=about))
        return xlsx.xlsx_response(file, whitelist_filename("xlsx"))


@extend_schema_view(
    get=extend_schema(
        summary=_("One whitelist entry"),
        description=_("The entry with its status now and its platform sync state."),
    ),
    put=extend_schema(
        summary=_("Change a whitelist entry"),
        description=_(
            "Every field as for adding one (left out: its default); checked as in the admin. A "
            "change that disables or shortens the entry needs a reason. Answers the saved entry "
            "with its overlap warnings."
        ),
        request=WhitelistEntrySerializer,
        responses=SavedWhitelistEntrySerializer,
    ),
    patch=extend_schema(
        summary=_("Change some fields of a whitelist entry"),
        description=_(
            "Only the fields given change; checked as in the admin. A change that disables or "
            "shortens the entry needs a reason. Answers the saved entry with its overlap "
            "warnings."
        ),
        request=WhitelistEntrySerializer,
        responses=SavedWhitelistEntrySerializer,
    ),
    delete=extend_schema(
        summary=_("Delete a whitelist entry (synced to the platform)"),
        description=_(
            'Needs a reason: ?reason=… or {"reason": "…"} in the body (at most 100 '
            "characters, kept in the history); without one the answer is 400 under “reason”."
        ),
        parameters=[
            OpenApiParameter(reasons.REASON_FIELD, str, description=_("Why the entry is deleted."))
        ],
    ),
)
class WhitelistDetailView(WhitelistQuerysetMixin, generics.RetrieveUpdateDestroyAPIView):
    def get_object(self):
        if not 0 < self.kwargs["pk"] < 2**63:  # no such entry; beyond what the column holds
            raise Http404
        return super().get_object()

    def perform_update(self, serializer):
        entry = serializer.instance
        data = dict(serializer.validated_data)
        reason = data.pop(reasons.REASON_FIELD, "")
        for name, value in data.items():
            setattr(entry, name, value)
        entry._change_reason = _change_reason(self.request)
        _save(entry, user=self.request.user, reason=reason)
        serializer.instance = self.reread(entry)

    def perform_destroy(self, instance):
        # The history's "deleted" record keeps the key's user and the reason given.
        try:
            entries.delete_entries(
                entries=WhitelistEntry.objects.filter(pk=instance.pk),
                user=self.request.user,
                reason=_reason(self.request),
            )
        except reasons.ReasonRequired as required:
            raise _reason_required(required) from None


@extend_schema(
    summary=_("Add or update many whitelist entries at once"),
    description=_(
        "All or nothing. A row updates the entry with its id; without an id, the entry with "
        "the same plate, park and “valid from”; otherwise it adds one (plate and “valid from” "
        "needed). Fields left out keep their value. Rows are checked as in the admin; if any "
        "row is refused nothing is written and the answer is 400 with one error object per "
        "refused row, numbered from 1. Changed plates are synced to the platform."
    ),
    request=WhitelistBulkSerializer,
    responses={200: BulkResultSerializer, 400: BulkErrorSerializer},
)
class WhitelistBulkView(APIView):
    queryset = WhitelistEntry.objects.none()  # permissions: add and change (see get_permissions)

    def get_permissions(self):
        return [BulkPermission()]

    def post(self, request: Request) -> Response:
        envelope = WhitelistBulkSerializer(data=request.data)
        envelope.is_valid(raise_exception=True)
        parsed: dict[int, dict] = {}
        errors: list[dict] = []
        for number, raw in enumerate(envelope.validated_data["entries"], start=1):
            row = WhitelistRowSerializer(data=raw)
            if row.is_valid():
                parsed[number] = row.validated_data
            else:
                errors.append({"row": number, **row.errors})
        try:
            # With rows that could not be read, the others are still checked (and nothing
            # written), so one answer lists every problem.
            result = upsert.upsert_entries(
                rows=parsed,
                user=request.user,
                reason=_change_reason(request),
                change_reason=envelope.validated_data.get(reasons.REASON_FIELD, ""),
                dry_run=bool(errors),
            )
        except upsert.UpsertRejected as rejected:
            errors += [_drf_row(error) for error in rejected.errors]
        except reasons.ReasonRequired as required:
            # Rows disable or shorten entries, and the request gave no reason for them.
            errors.sort(key=lambda error: error["row"])
            return Response(
                {"errors": errors, reasons.REASON_FIELD: required.messages},
                status=status.HTTP_400_BAD_REQUEST,
            )
        if errors:
            errors.sort(key=lambda error: error["row"])
            return Response({"errors": errors}, status=status.HTTP_400_BAD_REQUEST)
        return Response(
            {
                "created": result.count(upsert.CREATED),
                "updated": result.count(upsert.UPDATED),
                "unchanged": result.count(upsert.UNCHANGED),
                "rows": [
                    {"row": row.number, "id": row.entry.pk, "result": row.result}
                    for row in result.rows
                ],
            }
        )


def _drf_row(error: dict) -> dict:
    return {
        (api_settings.NON_FIELD_ERRORS_KEY if key == NON_FIELD_ERRORS else key): value
        for key, value in error.items()
    }


class BulkPermission(permissions.BasePermission):
    """An upsert adds and changes: it needs both permissions, as the admin's import does."""

    message = _("Adding or changing whitelist entries needs the add and change permissions.")

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(
            user is not None and user.is_authenticated and user.has_perms([ADD_ENTRY, CHANGE_ENTRY])
        )
