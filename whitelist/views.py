"""The whitelist in the integration API: list, add, change, delete, a bulk upsert, and the
list's files (``export/``: a CSV for machines, the admin's CSV and Excel files). Every write
goes through ``whitelist.services``, so the history records the key's user and the platform is
synced after commit, exactly as from the admin.
"""

from collections.abc import Mapping

import django_filters
from django.core.exceptions import NON_FIELD_ERRORS
from django.db import transaction
from django.http import Http404
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_view,
)
from rest_framework import generics, permissions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from parkingops import conditional
from parkingops.api import KeysetPagination
from parkingops.api_exports import ListExportView, export_schema
from parkingops.api_filters import MomentAfterFilter, MomentBeforeFilter
from parkingops.api_params import StrictParamsMixin
from parkingops.api_views import ListView
from parkingops.models import ApiKey
from whitelist import selectors
from whitelist.admin_filters import ALL_PARKS_PARAM
from whitelist.filters import ParkFilter, PlateFilter, is_park
from whitelist.models import PlateSync, Status, WhitelistEntry, WhitelistTombstone
from whitelist.permissions import ADD_ENTRY, CHANGE_ENTRY, VIEW_ENTRY
from whitelist.resources import (
    whitelist_csv,
    whitelist_filename,
    whitelist_machine_csv,
    whitelist_xlsx,
)
from whitelist.serializers import (
    BulkResultSerializer,
    SavedWhitelistEntrySerializer,
    TombstoneSerializer,
    WhitelistBulkSerializer,
    WhitelistEntrySerializer,
    WhitelistRowSerializer,
    validate_reason,
)
from whitelist.services import entries, reasons, upsert


def _park_of_entries(uuid: str) -> bool:
    """Whether the whitelist's ``park`` filter knows ``uuid``: ``-`` (all parks), a park, or
    a park entries name (an entry may be added before its park's first push)."""
    return (
        uuid == ALL_PARKS_PARAM
        or is_park(uuid)
        or WhitelistEntry.objects.filter(park_uuid=uuid).exists()
    )


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
    park = ParkFilter(
        method="filter_park",
        is_known=_park_of_entries,
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
    updated_after = MomentAfterFilter(
        field_name="updated_at",
        help_text=_(
            "Added or changed at or after this time, or a date (from 00:00 China time). With "
            "ordering=updated_at: the incremental sync (deletions: whitelist/deleted/)."
        ),
    )
    updated_before = MomentBeforeFilter(
        field_name="updated_at",
        help_text=_(
            "Added or changed before this time (exclusive), or a date: up to the end of that day."
        ),
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


def _validators(entry: WhitelistEntry) -> dict:
    """An entry's version: its ``ETag`` and ``Last-Modified``, from when it was last saved."""
    return {
        "etag": conditional.strong_etag("whitelist", entry.pk, entry.updated_at),
        "last_modified": entry.updated_at,
    }


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


class WhitelistListQuery(WhitelistQuerysetMixin):
    """What the list and its export read: the rows, the filters, the orders."""

    filterset_class = WhitelistFilter
    orderings = {
        "plate": ("plate", "-valid_from", "-pk"),
        "id": ("pk",),
        "-id": ("-pk",),
        "updated_at": ("updated_at", "pk"),
    }
    default_ordering = "plate"
    # parkingops.sync: served once settled, each page with "resume"; deletions are the
    # tombstones' (WhitelistDeletedView).
    sync_orderings = ("updated_at",)
    file_export = "whitelist:api-whitelist-export"


@extend_schema_view(
    get=extend_schema(
        summary=_("List whitelist entries"),
        description=_(
            "By plate, as the admin lists them (ordering=id: oldest first). The whole list as "
            "a file: /api/v1/whitelist/export/."
        ),
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
class WhitelistListView(
    StrictParamsMixin,
    conditional.ConditionalGetMixin,
    WhitelistListQuery,
    generics.ListCreateAPIView,
):
    pagination_class = KeysetPagination

    def create(self, request: Request, *args, **kwargs):
        # DRF's create, answering the new entry's ETag (good for a change with If-Match).
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        self.perform_create(serializer)
        response = Response(serializer.data, status=status.HTTP_201_CREATED)
        conditional.set_validators(response, **_validators(serializer.instance))
        return response

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        reason = data.pop(reasons.REASON_FIELD, "")
        entry = WhitelistEntry(**data)
        entry._change_reason = _change_reason(self.request)
        _save(entry, user=self.request.user, reason=reason)
        serializer.instance = self.reread(entry)


@export_schema(
    summary=_("Export whitelist entries (CSV or Excel)"),
    description=_(
        "The entries of GET /api/v1/whitelist/ with the same filters, in the same order, not "
        "paged. With lang=zh (and as Excel) the admin's export file, which imports back."
    ),
    parameters=[
        OpenApiParameter(
            "ordering",
            str,
            enum=list(WhitelistListQuery.orderings),
            description=_("The order of the rows (default %(default)s).")
            % {"default": WhitelistListQuery.default_ordering},
        )
    ],
    filters=True,
)
class WhitelistExportView(WhitelistListQuery, ListExportView):
    # For people: the admin's export, the same columns and writer, so the same bytes.
    writers = (whitelist_machine_csv, whitelist_csv, whitelist_xlsx)

    def export_filename(self, queryset) -> str:
        return whitelist_filename()


@extend_schema_view(
    get=extend_schema(
        summary=_("One whitelist entry"),
        description=_("The entry with its status now and its platform sync state."),
        parameters=conditional.READ_PARAMETERS,
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
        parameters=conditional.WRITE_PARAMETERS,
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
        parameters=conditional.WRITE_PARAMETERS,
    ),
    delete=extend_schema(
        summary=_("Delete a whitelist entry (synced to the platform)"),
        description=_(
            'Needs a reason: ?reason=… or {"reason": "…"} in the body (at most 100 '
            "characters, kept in the history); without one the answer is 400 under “reason”."
        ),
        parameters=[
            OpenApiParameter(reasons.REASON_FIELD, str, description=_("Why the entry is deleted.")),
            *conditional.WRITE_PARAMETERS,
        ],
    ),
)
class WhitelistDetailView(
    StrictParamsMixin, WhitelistQuerysetMixin, generics.RetrieveUpdateDestroyAPIView
):
    """One entry: its ``ETag`` names its version (``updated_at``), so a change sent with
    ``If-Match`` is made only to the version the caller read."""

    not_found_message = _("No such whitelist entry.")
    query_parameters = {"DELETE": (reasons.REASON_FIELD,)}

    def get_object(self):
        if not 0 < self.kwargs["pk"] < 2**63:  # no such entry; beyond what the column holds
            raise Http404
        return super().get_object()

    def entry_to_change(self) -> WhitelistEntry:
        """Return the entry to change, locked until the change commits (call it in the
        change's transaction), if it is still the version the caller read: else 412.

        Of two changes sent with the same If-Match, the second waits here for the first to
        commit, then reads the entry's new version: 412, and nothing written.
        """
        entry = self.get_object()
        entry = self.get_queryset().select_for_update(of=("self",)).filter(pk=entry.pk).first()
        if entry is None:  # deleted meanwhile
            raise Http404
        conditional.evaluate(self.request, **_validators(entry))
        return entry

    def retrieve(self, request: Request, *args, **kwargs):
        entry = self.get_object()
        return conditional.conditional_get(
            request, **_validators(entry), answer=lambda: Response(self.get_serializer(entry).data)
        )

    def update(self, request: Request, *args, **kwargs):
        # DRF's update, in one transaction with the locked entry, answering its new ETag.
        partial = kwargs.pop("partial", False)
        # The request's own checks come before its preconditions (RFC 9110, 13.2.2): a body
        # that cannot be read or used is a 400 whatever If-Match says; checked again below on
        # the locked version.
        self.get_serializer(self.get_object(), data=request.data, partial=partial).is_valid(
            raise_exception=True
        )
        with transaction.atomic():
            entry = self.entry_to_change()
            serializer = self.get_serializer(entry, data=request.data, partial=partial)
            serializer.is_valid(raise_exception=True)
            self.perform_update(serializer)
        response = Response(serializer.data)
        conditional.set_validators(response, **_validators(serializer.instance))
        return response

    def destroy(self, request: Request, *args, **kwargs):
        with transaction.atomic():
            self.perform_destroy(self.entry_to_change())
        return Response(status=status.HTTP_204_NO_CONTENT)

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
        "row is refused nothing is written and the answer is 400 naming each refused row's "
        "fields as entries.<row>.<field> (rows numbered from 1), e.g. entries.3.plate. Changed "
        "plates are synced to the platform."
    ),
    request=WhitelistBulkSerializer,
    responses={200: BulkResultSerializer},
)
class WhitelistBulkView(StrictParamsMixin, APIView):
    queryset = WhitelistEntry.objects.none()  # permissions: add and change (see get_permissions)

    def get_permissions(self):
        return [BulkPermission()]

    def post(self, request: Request) -> Response:
        envelope = WhitelistBulkSerializer(data=request.data)
        if not envelope.is_valid():
            raise serializers.ValidationError(_rows_from_one(envelope.errors))
        parsed: dict[int, dict] = {}
        errors: dict[int, dict] = {}
        for number, raw in enumerate(envelope.validated_data["entries"], start=1):
            row = WhitelistRowSerializer(data=raw)
            if row.is_valid():
                parsed[number] = row.validated_data
            else:
                errors[number] = dict(row.errors)
        reason_errors = {}
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
            for error in rejected.errors:
                row = errors.setdefault(error["row"], {})
                for name, messages in _drf_row(error).items():
                    row.setdefault(name, []).extend(messages)
        except reasons.ReasonRequired as required:
            # Rows disable or shorten entries, and the request gave no reason for them.
            reason_errors = {reasons.REASON_FIELD: required.messages}
        if errors or reason_errors:
            rows = {str(number): errors[number] for number in sorted(errors)}
            raise serializers.ValidationError(
                {**({"entries": rows} if rows else {}), **reason_errors}
            )
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


def _rows_from_one(errors: Mapping) -> dict:
    """Return the envelope's errors with its rows numbered from 1, as the row errors are (DRF
    numbers a list's items from 0)."""
    entries = errors.get("entries")
    if not isinstance(entries, Mapping):
        return dict(errors)
    return {**errors, "entries": {str(int(index) + 1): value for index, value in entries.items()}}


def _drf_row(error: dict) -> dict:
    return {
        (api_settings.NON_FIELD_ERRORS_KEY if key == NON_FIELD_ERRORS else key): value
        for key, value in error.items()
        if key != "row"
    }


class BulkPermission(permissions.BasePermission):
    """An upsert adds and changes: it needs both permissions, as the admin's import does."""

    message = _("Adding or changing whitelist entries needs the add and change permissions.")

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(
            user is not None and user.is_authenticated and user.has_perms([ADD_ENTRY, CHANGE_ENTRY])
        )


class TombstoneFilter(django_filters.FilterSet):
    """``GET /api/v1/whitelist/deleted/``'s filters."""

    deleted_after = MomentAfterFilter(
        field_name="deleted_at",
        help_text=_("Deleted at or after this time, or a date (from 00:00 China time)."),
    )
    deleted_before = MomentBeforeFilter(
        field_name="deleted_at",
        help_text=_("Deleted before this time (exclusive), or a date: up to the end of that day."),
    )

    class Meta:
        model = WhitelistTombstone
        fields: list[str] = []


class ViewEntriesPermission(permissions.BasePermission):
    """Reading what was deleted is reading the whitelist: the entries' view permission."""

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(user is not None and user.is_authenticated and user.has_perm(VIEW_ENTRY))


@extend_schema(
    summary=_("List deleted whitelist entries"),
    description=_(
        "The entries deleted in the last WHITELIST_TOMBSTONE_DAYS days (default 90), oldest "
        "deletion first, for a system mirroring the whitelist: with the updated_at sync of the "
        "list, everything it needs. Each row is the entry as it was, under its own id. Like "
        "every sync ordering, only deletions older than the settle window are listed, and "
        "every page carries “resume”."
    ),
)
class WhitelistDeletedView(ListView):
    queryset = WhitelistTombstone.objects.all()
    serializer_class = TombstoneSerializer
    filterset_class = TombstoneFilter
    permission_classes = [ViewEntriesPermission]
    orderings = {
        "deleted_at": ("deleted_at", "pk"),
        "-deleted_at": ("-deleted_at", "-pk"),
    }
    default_ordering = "deleted_at"
    sync_orderings = ("deleted_at",)
