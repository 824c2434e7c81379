"""A car's stay in a park (its entry and exit pushes) and a fixed-car renewal.

Money is integer fen, times are aware datetimes inside ``parkingops.timerange``; every push is
also kept as received (``entry_raw``, ``exit_raw``, ``raw``) and its unknown fields in ``extra``.
"""

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from orders.models import in_timerange
from whitelist import plates
from whitelist.models import Park


def _whitelist_entry(related_name: str, verbose_name: str) -> models.ForeignKey:
    return models.ForeignKey(
        "whitelist.WhitelistEntry",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name=related_name,
        verbose_name=verbose_name,
    )


class StayQuerySet(models.QuerySet):
    def in_park(self) -> "StayQuerySet":
        """Stays with an entry and no exit yet: the car is in the park."""
        return self.filter(leave_time__isnull=True, entry_received_at__isnull=False)

    def left(self) -> "StayQuerySet":
        return self.filter(leave_time__isnull=False)


class Stay(models.Model):
    """One visit of a car to a park: the entry and the exit pushes of one ``parking_serial``.

    Either push may come first and either may never come: the stay exists from the first.
    Both carry the entry's details (the exit repeats them); when they disagree on
    ``enter_time`` the entry's wins here, the exit's stays in ``exit_enter_time``, and the stay
    is marked for review.
    """

    parking_serial = models.CharField(_("parking serial"), max_length=64)
    park = models.ForeignKey(
        Park,
        on_delete=models.PROTECT,
        related_name="stays",
        verbose_name=_("park"),
        db_index=False,  # the (park, enter_time) index serves every lookup by park
    )
    plate = models.CharField(_("plate"), max_length=plates.MAX_LENGTH)
    plate_raw = models.CharField(_("plate as pushed"), max_length=64)
    app_id = models.CharField(_("app id"), max_length=64)
    enter_time = models.DateTimeField(_("entry time"))
    # The entry's details; until the entry arrives, as the exit repeats them.
    plate_color = models.IntegerField(_("plate colour"), null=True, blank=True)
    car_type = models.IntegerField(_("car type"), null=True, blank=True)
    vehicle_type = models.IntegerField(_("vehicle type"), null=True, blank=True)
    car_desc = models.CharField(_("car description"), max_length=64, blank=True)
    enter_gate = models.CharField(_("entry gate"), max_length=64, blank=True)
    enter_security = models.CharField(_("entry attendant"), max_length=64, blank=True)
    enter_image = models.CharField(_("entry picture"), max_length=512, blank=True)
    # The exit's details; empty while the car is in the park.
    leave_time = models.DateTimeField(_("exit time"), null=True, blank=True)
    parking_time = models.BigIntegerField(_("length of stay (s)"), null=True, blank=True)
    total_value = models.BigIntegerField(_("fee (fen)"), null=True, blank=True)
    free_value = models.BigIntegerField(_("discounts (fen)"), null=True, blank=True)
    autopay_value = models.BigIntegerField(_("autopay (fen)"), null=True, blank=True)
    leave_gate = models.CharField(_("exit gate"), max_length=64, blank=True)
    leave_security = models.CharField(_("exit attendant"), max_length=64, blank=True)
    leave_image = models.CharField(_("exit picture"), max_length=512, blank=True)
    # The exit's own enter_time, kept when it differs from the entry's (needs_review).
    exit_enter_time = models.DateTimeField(_("entry time per the exit"), null=True, blank=True)
    needs_review = models.BooleanField(
        _("marked for review"),
        default=False,
        help_text=_("The exit's entry time differs from the entry's."),
    )
    # Each push as received (every field but the signature) and its unknown fields.
    entry_raw = models.JSONField(_("entry as pushed"), null=True, blank=True)
    exit_raw = models.JSONField(_("exit as pushed"), null=True, blank=True)
    entry_extra = models.JSONField(_("entry's extra fields"), default=dict, blank=True)
    exit_extra = models.JSONField(_("exit's extra fields"), default=dict, blank=True)
    entry_received_at = models.DateTimeField(_("entry received at"), null=True, blank=True)
    exit_received_at = models.DateTimeField(_("exit received at"), null=True, blank=True)
    # When the stay last changed: the later of its pushes' received_at. The incremental sync
    # reads stays by it (ordering=updated_at), so a stay comes again when its exit arrives.
    updated_at = models.DateTimeField(_("last push received at"), default=timezone.now)
    # SHA-256 of each push's business content: a retry is told from a conflict by one column.
    entry_fingerprint = models.CharField(
        _("entry content fingerprint"), max_length=64, blank=True, editable=False
    )
    exit_fingerprint = models.CharField(
        _("exit content fingerprint"), max_length=64, blank=True, editable=False
    )
    entry_whitelist_entry = _whitelist_entry("stay_entries", _("whitelist entry (entry)"))
    exit_whitelist_entry = _whitelist_entry("stay_exits", _("whitelist entry (exit)"))

    objects = StayQuerySet.as_manager()

    class Meta:
        verbose_name = _("stay")
        verbose_name_plural = _("stays")
        ordering = ["-enter_time", "-pk"]
        indexes = [
            models.Index(fields=["plate"], name="stay_plate"),
            models.Index(fields=["park", "enter_time"], name="stay_park_enter_time"),
            models.Index(fields=["enter_time"], name="stay_enter_time"),
            models.Index(fields=["updated_at", "id"], name="stay_updated_at"),
            # On PostgreSQL it also carries the park and the length (INCLUDE, migration 0018):
            # the dashboard's mean length of stay per park and week is read from the index.
            models.Index(fields=["leave_time"], name="stay_leave_time"),
            models.Index(
                fields=["needs_review"], name="stay_needs_review", condition=Q(needs_review=True)
            ),
        ]
        constraints = [
            models.UniqueConstraint(fields=["parking_serial"], name="stay_parking_serial_unique"),
            models.CheckConstraint(
                condition=Q(parking_time__gte=0) | Q(parking_time__isnull=True),
                name="stay_parking_time_gte_0",
            ),
            models.CheckConstraint(
                condition=(Q(total_value__gte=0) | Q(total_value__isnull=True))
                & (Q(free_value__gte=0) | Q(free_value__isnull=True))
                & (Q(autopay_value__gte=0) | Q(autopay_value__isnull=True)),
                name="stay_values_gte_0",
            ),
            in_timerange("enter_time", "stay"),
            in_timerange("leave_time", "stay", nullable=True),
            in_timerange("exit_enter_time", "stay", nullable=True),
            in_timerange("updated_at", "stay"),
        ]

    def __str__(self) -> str:
        return self.parking_serial

    @property
    def has_entry(self) -> bool:
        return self.entry_received_at is not None

    @property
    def has_left(self) -> bool:
        """Tell whether the exit arrived: the car has left (else it is in the park)."""
        return self.leave_time is not None

    @property
    def due_through_pushes(self) -> int | None:
        """What the stay says was paid through pushed orders: fee − discounts − autopay."""
        if self.total_value is None:
            return None
        return self.total_value - (self.free_value or 0) - (self.autopay_value or 0)


class Renewal(models.Model):
    """One fixed-car renewal (monthly card and the like) paid at the platform."""

    class VipType(models.IntegerChoices):
        MONTHLY = 1, _("monthly card")
        STORED_VALUE = 2, _("stored value")
        STORED_VISITS = 3, _("stored visits")
        STORED_DAYS = 4, _("stored days")
        YEARLY = 5, _("yearly card")
        QUARTERLY = 6, _("quarterly card")
        HALF_YEARLY = 7, _("half-yearly card")

    pay_serial = models.CharField(_("pay serial"), max_length=64)
    park = models.ForeignKey(
        Park,
        on_delete=models.PROTECT,
        related_name="renewals",
        verbose_name=_("park"),
        db_index=False,  # the (park, pay_time) index serves every lookup by park
    )
    plate = models.CharField(_("plate"), max_length=plates.MAX_LENGTH)
    plate_raw = models.CharField(_("plate as pushed"), max_length=64)
    # Unknown codes are stored (PLATFORM_PUSHES.md): no choices= validation on the column.
    vip_type = models.IntegerField(_("fixed-car type"))
    quantity = models.BigIntegerField(
        _("quantity"), help_text=_("Days for the time-based types, else the type's unit.")
    )
    start_time = models.DateTimeField(_("period start"), null=True, blank=True)
    end_time = models.DateTimeField(_("period end"), null=True, blank=True)
    pay_value = models.BigIntegerField(_("amount paid (fen)"))
    pay_time = models.DateTimeField(_("pay time"))
    channel = models.CharField(_("channel"), max_length=64)
    identity = models.CharField(_("user identity"), max_length=255, blank=True)
    app_id = models.CharField(_("app id"), max_length=64)
    raw = models.JSONField(_("as pushed"), default=dict, blank=True)
    extra = models.JSONField(_("extra fields"), default=dict, blank=True)
    received_at = models.DateTimeField(_("received at"), default=timezone.now)
    whitelist_entry = _whitelist_entry("renewals", _("whitelist entry"))
    fingerprint = models.CharField(_("content fingerprint"), max_length=64, editable=False)

    class Meta:
        verbose_name = _("renewal")
        verbose_name_plural = _("renewals")
        ordering = ["-pay_time", "-pk"]
        indexes = [
            models.Index(fields=["plate"], name="renewal_plate"),
            models.Index(fields=["pay_time"], name="renewal_pay_time"),
            models.Index(fields=["park", "pay_time"], name="renewal_park_pay_time"),
            models.Index(fields=["received_at", "id"], name="renewal_received_at"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["pay_serial"], name="renewal_pay_serial_unique"),
            models.CheckConstraint(condition=Q(pay_value__gte=0), name="renewal_pay_value_gte_0"),
            models.CheckConstraint(condition=Q(quantity__gte=0), name="renewal_quantity_gte_0"),
            in_timerange("pay_time", "renewal"),
            in_timerange("received_at", "renewal"),
            in_timerange("start_time", "renewal", nullable=True),
            in_timerange("end_time", "renewal", nullable=True),
        ]

    def __str__(self) -> str:
        return self.pay_serial

    @property
    def vip_type_label(self) -> str:
        """The documented name of the type, or the bare number for an unknown one."""
        try:
            return str(self.VipType(self.vip_type).label)
        except ValueError:
            return str(self.vip_type)
