"""Plates the platform may push pay orders for."""

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from parkingops.pcloud.client import STATUS_DELETE, STATUS_DISABLE, STATUS_ENABLE
from parkingops.timerange import EARLIEST, LATEST, validate_moment
from whitelist import plates

# What names an entry when no id is given (the import, the API's bulk upsert): the plate
# (normalised), the park ("" for all parks, never NULL) and the start (never NULL). The one home
# of the rule: the unique constraint below holds it in the database and ``services.upsert``
# matches rows on it. None of the three is nullable, so a plain unique constraint treats "all
# parks" as one park and needs no NULL handling on any database (an open end is not part of it).
IDENTITY = ("plate", "park_uuid", "valid_from")
IDENTITY_TAKEN = _(
    "Another entry for this plate and park already starts at this time: change that entry instead."
)


class Status(models.TextChoices):
    """What an entry means for the push right now; computed, never stored."""

    ACTIVE = "active", _("Active")
    NOT_YET_VALID = "not_yet_valid", _("Not yet valid")
    EXPIRED = "expired", _("Expired")
    DISABLED = "disabled", _("Disabled")


class Uncovered(models.TextChoices):
    """Why no entry let a plate pay at a park at a time (``selectors.why_not_covered``).

    Stored with a refused push's log row; the statuses an entry can be in besides active,
    and the two ways a plate has no entry for the park at all.
    """

    NO_ENTRY = "no_entry", _("No entry for this plate")
    DISABLED = Status.DISABLED.value, _("The entry is disabled")
    EXPIRED = Status.EXPIRED.value, _("The entry had expired")
    NOT_YET_VALID = Status.NOT_YET_VALID.value, _("The entry had not started yet")
    OTHER_PARK = "other_park", _("The entry is for another park")


# The whitelist's validity rule, written here once in its two forms: ``status_q`` for SQL
# and ``WhitelistEntry.status_at`` for an entry in hand (tests check they agree). The push's
# check (``selectors.valid_entries``) and the platform's wanted status both filter on
# ``status_q(Status.ACTIVE, ...)``.


def status_q(status: str, *, at: datetime) -> Q:
    """Return the filter selecting entries in ``status`` at ``at``, for use in SQL.

    The conditions mirror ``WhitelistEntry.status_at``: "active" is exactly what the push
    would accept at ``at`` (ignoring the park).
    """
    if status == Status.DISABLED:
        return Q(is_active=False)
    if status == Status.NOT_YET_VALID:
        return Q(is_active=True, valid_from__gt=at)
    if status == Status.EXPIRED:
        # valid_until > valid_from (the check constraint), so this also implies valid_from < at.
        return Q(is_active=True, valid_until__lte=at)
    if status == Status.ACTIVE:
        return Q(is_active=True, valid_from__lte=at) & (
            Q(valid_until__isnull=True) | Q(valid_until__gt=at)
        )
    raise ValueError(f"Unknown whitelist status {status!r}.")


class WhitelistEntryQuerySet(models.QuerySet):
    def in_status(self, status: str, *, at: datetime | None = None) -> "WhitelistEntryQuerySet":
        """Return the entries in ``status`` at ``at`` (default: now)."""
        return self.filter(status_q(status, at=at or timezone.now()))


class WhitelistEntry(models.Model):
    """One plate allowed in one park (or every park) during a validity window."""

    plate = models.CharField(
        _("plate"),
        max_length=plates.MAX_LENGTH,
        help_text=_("Stored normalised: 川a 660p1 is kept as 川A660P1."),
    )
    park_uuid = models.CharField(
        _("park"),
        max_length=64,
        blank=True,
        help_text=_("The park's uuid; leave blank for all parks."),
    )
    valid_from = models.DateTimeField(
        _("valid from"), default=timezone.now, validators=[validate_moment]
    )
    valid_until = models.DateTimeField(
        _("valid until"),
        null=True,
        blank=True,
        validators=[validate_moment],
        help_text=_("Exclusive end of the window; leave blank for no end."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    holder = models.CharField(_("holder"), max_length=100, blank=True)
    note = models.CharField(_("note"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = WhitelistEntryQuerySet.as_manager()
    # Who changed what and when; updated_at is left out because history_date records it.
    history = HistoricalRecords(
        excluded_fields=["updated_at"],
        verbose_name=_("whitelist entry history"),
        verbose_name_plural=_("whitelist entry history"),
    )

    class Meta:
        verbose_name = _("whitelist entry")
        verbose_name_plural = _("whitelist entries")
        ordering = ["plate", "-valid_from"]
        indexes = [
            # The push's whitelist check is one query on this index.
            models.Index(fields=["plate", "is_active"], name="whitelist_plate_active"),
            models.Index(fields=["park_uuid"], name="whitelist_park"),
            models.Index(fields=["valid_until"], name="whitelist_valid_until"),
            # The incremental sync (ordering=updated_at).
            models.Index(fields=["updated_at", "id"], name="whitelist_updated_at"),
            # The statements: a holder's entries, the list of holders (orders.statements).
            models.Index(fields=["holder"], name="whitelist_holder"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True) | Q(valid_until__gt=models.F("valid_from")),
                name="whitelist_window_not_empty",
                violation_error_message=_("“Valid until” must be later than “valid from”."),
            ),
            # The span of ``parkingops.timerange``: outside it a stored time breaks every page
            # that shows it. The fields' validator refuses such values with a clear message;
            # these hold writes that skip validation (bulk updates, raw SQL), so they need no
            # message of their own (a form checks the validator first and skips them).
            models.CheckConstraint(
                condition=Q(valid_from__gte=EARLIEST, valid_from__lte=LATEST),
                name="whitelist_valid_from_in_range",
            ),
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True)
                | Q(valid_until__gte=EARLIEST, valid_until__lte=LATEST),
                name="whitelist_valid_until_in_range",
            ),
            models.UniqueConstraint(
                fields=IDENTITY,
                name="whitelist_identity_unique",
                violation_error_code="identity_taken",
                violation_error_message=IDENTITY_TAKEN,
            ),
        ]

    def __str__(self) -> str:
        return f"{self.plate} @ {self.park_uuid or gettext('All parks')}"

    def clean_fields(self, exclude=None):
        """Normalise and check the plate, then check the window, besides the fields' own rules.

        Done here rather than in ``clean()`` because only here are the fields that already
        failed known (``exclude``): a window check against a ``valid_from`` that did not parse
        would report a wrong error. The admin form and the import both run this.
        """
        exclude = set(exclude or ())
        errors: dict[str, list[ValidationError]] = {}
        if "plate" not in exclude:
            try:
                self.plate = plates.validate(self.plate or "")
            except ValidationError as error:
                errors["plate"] = error.error_list
        try:
            super().clean_fields(exclude=exclude | set(errors))
        except ValidationError as error:
            errors = error.update_error_dict(errors)
        if not exclude.intersection({"valid_from", "valid_until"}) and not (
            set(errors) & {"valid_from", "valid_until"}
        ):
            window_error = self.window_error()
            if window_error:
                errors["valid_until"] = [window_error]
        if errors:
            raise ValidationError(errors)

    def window_error(self) -> ValidationError | None:
        """Return why the validity window is empty, or None when it is fine."""
        if self.valid_from is None or self.valid_until is None:
            return None
        if self.valid_until <= self.valid_from:
            return ValidationError(
                _("“Valid until” (%(until)s) must be later than “valid from” (%(from)s)."),
                code="empty_window",
                params={
                    "until": timezone.localtime(self.valid_until).strftime("%Y-%m-%d %H:%M"),
                    "from": timezone.localtime(self.valid_from).strftime("%Y-%m-%d %H:%M"),
                },
            )
        return None

    def status_at(self, at: datetime) -> Status:
        """Return the entry's status at ``at``; the same rules as ``status_q``."""
        if not self.is_active:
            return Status.DISABLED
        if self.valid_from > at:
            return Status.NOT_YET_VALID
        if self.valid_until is not None and self.valid_until <= at:
            return Status.EXPIRED
        return Status.ACTIVE

    @property
    def status(self) -> Status:
        """Return the entry's status now."""
        return self.status_at(timezone.now())


class WhitelistTombstone(models.Model):
    """What is left of a deleted whitelist entry, for the systems that mirror the whitelist.

    Written by ``whitelist.services.entries.delete_entries`` (the one way entries are deleted),
    listed by ``GET /api/v1/whitelist/deleted/`` and kept ``WHITELIST_TOMBSTONE_DAYS``, then
    pruned by the nightly job ``whitelist.prune_tombstones``. ``entry_id`` is the deleted
    entry's id (not a foreign key: the entry is gone); the identity and holder say which.
    """

    entry_id = models.BigIntegerField(_("entry id"))
    plate = models.CharField(_("plate"), max_length=plates.MAX_LENGTH)
    park_uuid = models.CharField(_("park"), max_length=64, blank=True)
    valid_from = models.DateTimeField(_("valid from"))
    valid_until = models.DateTimeField(_("valid until"), null=True, blank=True)
    holder = models.CharField(_("holder"), max_length=100, blank=True)
    deleted_at = models.DateTimeField(_("deleted at"), default=timezone.now)

    class Meta:
        verbose_name = _("deleted whitelist entry")
        verbose_name_plural = _("deleted whitelist entries")
        ordering = ["deleted_at", "pk"]
        indexes = [models.Index(fields=["deleted_at", "id"], name="wl_tombstone_deleted_at")]

    def __str__(self) -> str:
        return f"{self.plate} #{self.entry_id}"


class PlateSync(models.Model):
    """Where one plate stands at the platform, which holds plates without parks or windows.

    The platform enables a plate while at least one of our entries for it is active (see
    ``Status.ACTIVE``), disables it when none is, and forgets it when its last entry is deleted.
    A change here marks the plate pending (``version`` counts the changes); a sync sends the
    wanted status and records what the platform confirmed. The row of a plate whose removal the
    platform confirmed is deleted. A plate without a row has never been synced (pending).
    """

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        SYNCED = "synced", _("Synced")
        FAILED = "failed", _("Sync failed")

    class PlatformStatus(models.IntegerChoices):
        """The platform's whitelist statuses (its codes live in ``pcloud.client``), labelled."""

        ENABLED = STATUS_ENABLE, _("Enabled")
        DISABLED = STATUS_DISABLE, _("Disabled")
        REMOVED = STATUS_DELETE, _("Removed")

    plate = models.CharField(_("plate"), max_length=plates.MAX_LENGTH, unique=True)
    wanted_status = models.SmallIntegerField(
        _("wanted status"), choices=PlatformStatus.choices, null=True, blank=True
    )
    confirmed_status = models.SmallIntegerField(
        _("status at the platform"),
        choices=PlatformStatus.choices,
        null=True,
        blank=True,
        help_text=_("The status the platform last confirmed; blank when it never did."),
    )
    state = models.CharField(
        _("sync state"), max_length=16, choices=State.choices, default=State.PENDING
    )
    message = models.CharField(_("platform message"), max_length=500, blank=True)
    attempted_at = models.DateTimeField(_("last attempt"), null=True, blank=True)
    synced_at = models.DateTimeField(_("last success"), null=True, blank=True)
    # Set by the first failure after a success (or ever), cleared by a success: how long the
    # plate has been failing, whatever the retries since (the sync_failing alert).
    failing_since = models.DateTimeField(_("failing since"), null=True, blank=True)
    # Bumped by every change of the plate's entries; a sync only marks the plate synced when
    # no change came in while it was talking to the platform.
    version = models.PositiveIntegerField(_("changes"), default=0)

    class Meta:
        verbose_name = _("platform sync")
        verbose_name_plural = _("platform sync")
        ordering = ["plate"]
        indexes = [models.Index(fields=["state"], name="platesync_state")]

    def __str__(self) -> str:
        return f"{self.plate}: {self.get_state_display()}"


class Park(models.Model):
    """A car park, known from the pushes that name it; the newest name wins."""

    park_uuid = models.CharField(_("park uuid"), max_length=64)
    name = models.CharField(_("name"), max_length=128)
    first_seen = models.DateTimeField(_("first seen"), default=timezone.now)
    last_seen = models.DateTimeField(_("last seen"), default=timezone.now)
    # Where the park is, as the entry and exit pushes last said (newest wins; empty or None
    # when never said, or when the platform sent -1.0 for an unknown position).
    address = models.CharField(_("address"), max_length=64, blank=True)
    area_code = models.CharField(_("region code"), max_length=64, blank=True)
    latitude = models.FloatField(_("latitude"), null=True, blank=True)
    longitude = models.FloatField(_("longitude"), null=True, blank=True)

    class Meta:
        # Created by the orders app before parks moved here; the table keeps its name.
        db_table = "orders_park"
        verbose_name = _("park")
        verbose_name_plural = _("parks")
        ordering = ["name"]
        # Constraints rather than unique=True/db_index=True throughout this module: on
        # PostgreSQL those also build a second, "LIKE" index per text column, which only
        # slows every insert (no search here is a LIKE on these columns).
        constraints = [models.UniqueConstraint(fields=["park_uuid"], name="park_uuid_unique")]

    def __str__(self) -> str:
        return self.name or self.park_uuid
