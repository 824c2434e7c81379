"""The reconciliation's records: one run per park and China-time day, and its differences.

Models of the ``orders`` app (its tables, migrations and permissions), imported by
``orders.models`` so Django finds them.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from whitelist.models import Park


class ReconciliationRun(models.Model):
    """One park's China-time day compared with the platform's payment list.

    Only the newest run of a day and park is kept: running again replaces it (and its items).
    Money in fen; "matched" is a listed payment we hold with the same amount.
    """

    class Status(models.TextChoices):
        OK = "ok", _("completed")
        FAILED = "failed", _("failed")

    date = models.DateField(_("date"))
    park = models.ForeignKey(
        Park,
        on_delete=models.CASCADE,
        related_name="reconciliation_runs",
        verbose_name=_("park"),
    )
    started_at = models.DateTimeField(_("started at"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=8, choices=Status.choices)
    message = models.CharField(_("message"), max_length=500, blank=True)
    platform_count = models.PositiveIntegerField(_("payments at the platform"), default=0)
    platform_value = models.BigIntegerField(_("paid at the platform (fen)"), default=0)
    ours_count = models.PositiveIntegerField(_("orders here"), default=0)
    ours_value = models.BigIntegerField(_("paid in orders here (fen)"), default=0)
    matched_count = models.PositiveIntegerField(_("matched payments"), default=0)
    matched_value = models.BigIntegerField(_("matched amount (fen)"), default=0)
    not_whitelisted_count = models.PositiveIntegerField(
        _("payments of plates not whitelisted"), default=0
    )
    not_whitelisted_value = models.BigIntegerField(
        _("paid by plates not whitelisted (fen)"), default=0
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("run by"),
    )

    class Meta:
        verbose_name = _("reconciliation run")
        verbose_name_plural = _("reconciliation runs")
        ordering = ["-date", "-pk"]
        constraints = [
            # One run per day and park (a re-run replaces it); also the index of the date filter.
            models.UniqueConstraint(fields=["date", "park"], name="reconciliationrun_date_park"),
        ]
        indexes = [
            models.Index(fields=["status"], name="reconciliationrun_status"),
        ]
        permissions = [
            ("run_reconciliation", _("Can run a reconciliation against the platform")),
            (
                "resolve_reconciliation",
                _("Can create orders from payments missing here in a reconciliation"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {self.park}"


class ReconciliationItem(models.Model):
    """One difference found by a run: a payment missing here or there, or one listed field
    whose value differs from ours (one row per differing field; ``field`` names it); or, against
    the stays, a left stay whose pay orders do not add up to its fee (``stay_gap``: due in
    ``platform_value``, paid in ``our_value``, no pay serial) or a pay order whose
    ``parking_serial`` has no stay (``order_without_stay``).

    Money stays in ``platform_value`` / ``our_value`` (fen); other values are kept as text in
    ``platform_text`` / ``our_text`` (times already in China time). Resolved when
    ``resolved_at`` is set, always with a note (a check constraint).
    """

    class Category(models.TextChoices):
        MISSING_HERE = "missing_here", _("missing here")
        MISSING_AT_PLATFORM = "missing_at_platform", _("missing at the platform")
        AMOUNT_DIFFERS = "amount_differs", _("amount differs")
        ORDER_VALUE_DIFFERS = "order_value_differs", _("order value differs")
        FREE_VALUE_DIFFERS = "free_value_differs", _("platform discount differs")
        DISCOUNT_VALUE_DIFFERS = "discount_value_differs", _("merchant discount differs")
        PLATE_DIFFERS = "plate_differs", _("plate differs")
        PARKING_SERIAL_DIFFERS = "parking_serial_differs", _("parking serial differs")
        CHANNEL_DIFFERS = "channel_differs", _("channel differs")
        PAY_TIME_DIFFERS = "pay_time_differs", _("pay time differs")
        FIELD_UNREADABLE = "field_unreadable", _("listed field unreadable")
        # Against the stays (the entry and exit pushes), not the payment list.
        STAY_GAP = "stay_gap", _("stay not paid in full")
        ORDER_WITHOUT_STAY = "order_without_stay", _("order without a stay")

    run = models.ForeignKey(
        ReconciliationRun,
        on_delete=models.CASCADE,
        related_name="items",
        verbose_name=_("reconciliation run"),
        db_index=False,  # the (run, category) index serves the foreign key too
    )
    category = models.CharField(_("category"), max_length=24, choices=Category.choices)
    pay_serial = models.CharField(_("pay serial"), max_length=64, blank=True)
    parking_serial = models.CharField(
        _("parking serial"),
        max_length=64,
        blank=True,
        help_text=_("The stay's, for a difference against the stays."),
    )
    plate = models.CharField(_("plate"), max_length=64, blank=True)
    pay_time = models.DateTimeField(_("pay time"), null=True, blank=True)
    platform_value = models.BigIntegerField(_("paid at the platform (fen)"), null=True, blank=True)
    our_value = models.BigIntegerField(_("paid in our order (fen)"), null=True, blank=True)
    field = models.CharField(
        _("listed field"),
        max_length=32,
        blank=True,
        help_text=_("The field of the platform's payment list that differs."),
    )
    platform_text = models.CharField(_("value at the platform"), max_length=255, blank=True)
    our_text = models.CharField(_("our value"), max_length=255, blank=True)
    order = models.ForeignKey(
        "orders.PayOrder",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("our order"),
    )
    payment = models.JSONField(
        _("listed payment"),
        default=dict,
        blank=True,
        help_text=_("The row of the platform's payment list, as listed."),
    )
    resolved_order = models.ForeignKey(
        "orders.PayOrder",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("order created"),
    )
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("resolved by"),
    )
    resolution_note = models.TextField(_("resolution note"), blank=True)

    class Meta:
        verbose_name = _("reconciliation difference")
        verbose_name_plural = _("reconciliation differences")
        ordering = ["pk"]
        indexes = [
            # The admin filters by category (within a run) and searches by serial and plate.
            models.Index(fields=["run", "category"], name="reconitem_run_category"),
            models.Index(fields=["category"], name="reconitem_category"),
            models.Index(fields=["pay_serial"], name="reconitem_pay_serial"),
            models.Index(fields=["parking_serial"], name="reconitem_parking_serial"),
            models.Index(fields=["plate"], name="reconitem_plate"),
            # Open differences (resolved_at IS NULL): the filter and the counts.
            models.Index(fields=["resolved_at"], name="reconitem_resolved_at"),
        ]
        constraints = [
            # A resolved difference always says why.
            models.CheckConstraint(
                condition=Q(resolved_at__isnull=True) | ~Q(resolution_note=""),
                name="reconitem_resolved_with_note",
            ),
        ]
        permissions = [
            ("resolve_difference", _("Can mark reconciliation differences resolved")),
        ]

    def __str__(self) -> str:
        return f"{self.get_category_display()} {self.pay_serial}"

    @property
    def is_resolved(self) -> bool:
        return self.resolved_at is not None
