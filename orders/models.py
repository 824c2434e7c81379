"""Pay orders pushed by the platform, with their discounts, merchant coupons and the push log.

The reconciliation's models live in ``orders.reconciliation.models``; imported here so Django
finds them.
"""

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.timezone import localtime
from django.utils.translation import gettext_lazy as _

from orders import coupons
from orders.push.outcomes import ACKNOWLEDGED_REASONS, LOGGED_CHOICES
from orders.reconciliation.models import ReconciliationItem, ReconciliationRun  # noqa: F401
from parkingops import timerange
from whitelist import plates
from whitelist.models import Park, Uncovered


def in_timerange(field: str, model: str, *, nullable: bool = False) -> models.CheckConstraint:
    """Keep a time column inside the product's span (``parkingops.timerange``; NULL allowed
    when ``nullable``): outside it no page, export or API answer can show the value.
    """
    inside = Q(**{f"{field}__gte": timerange.EARLIEST, f"{field}__lte": timerange.LATEST})
    if nullable:
        inside |= Q(**{f"{field}__isnull": True})
    return models.CheckConstraint(condition=inside, name=f"{model}_{field}_in_timerange")


class PayOrder(models.Model):
    """One temporary-parking payment; ``pay_serial`` is its identity at the platform."""

    class Source(models.TextChoices):
        PUSH = "push", _("push")
        RECONCILIATION = "reconciliation", _("reconciliation")

    pay_serial = models.CharField(_("pay serial"), max_length=64)
    parking_serial = models.CharField(_("parking serial"), max_length=64)
    park = models.ForeignKey(
        Park,
        on_delete=models.PROTECT,
        related_name="orders",
        verbose_name=_("park"),
        db_index=False,  # the (park, pay_time) index below serves every lookup by park
    )
    plate = models.CharField(_("plate"), max_length=plates.MAX_LENGTH)
    plate_raw = models.CharField(_("plate as pushed"), max_length=64)
    pay_value = models.BigIntegerField(_("amount paid (fen)"))
    pay_time = models.DateTimeField(_("pay time"))
    channel = models.CharField(_("channel"), max_length=64)
    identity = models.CharField(_("user identity"), max_length=255, blank=True)
    app_id = models.CharField(_("app id"), max_length=64)
    extra = models.JSONField(_("extra fields"), default=dict, blank=True)
    received_at = models.DateTimeField(_("received at"), default=timezone.now)
    whitelist_entry = models.ForeignKey(
        "whitelist.WhitelistEntry",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="orders",
        verbose_name=_("whitelist entry"),
        db_index=False,  # the (whitelist_entry, pay_time) index below serves it
    )
    # SHA-256 of the business content (see orders.push.validation.PushData.fingerprint): a
    # platform retry is told from a conflicting push by one column, without re-reading
    # discounts and coupons.
    fingerprint = models.CharField(_("content fingerprint"), max_length=64, editable=False)
    # Where the order came from: the platform's push, or finance creating it from a payment the
    # platform listed but never pushed (orders.reconciliation).
    source = models.CharField(
        _("source"), max_length=16, choices=Source.choices, default=Source.PUSH
    )

    class Meta:
        verbose_name = _("pay order")
        verbose_name_plural = _("pay orders")
        ordering = ["-pay_time", "-pk"]
        indexes = [
            models.Index(fields=["plate"], name="payorder_plate"),
            # On PostgreSQL it also carries park and amount (INCLUDE, migration 0014), so the
            # home page's takings per park and day read the index only.
            models.Index(fields=["pay_time"], name="payorder_pay_time"),
            models.Index(fields=["park", "pay_time"], name="payorder_park_pay_time"),
            models.Index(fields=["channel"], name="payorder_channel"),
            models.Index(fields=["parking_serial"], name="payorder_parking_serial"),
            # The incremental sync by arrival (ordering=received_at), of orders and coupons.
            models.Index(fields=["received_at", "id"], name="payorder_received_at"),
            # A holder's statement: their entries' orders of a month (orders.statements).
            models.Index(fields=["whitelist_entry", "pay_time"], name="payorder_entry_pay_time"),
            # The few orders no entry admitted, which every holder's statement leaves out of
            # the rollup's totals.
            models.Index(
                fields=["pay_time"],
                name="payorder_no_entry_pay_time",
                condition=Q(whitelist_entry=None),
            ),
            # Nearly every order comes from a push: only the few others are indexed.
            models.Index(
                fields=["source"],
                name="payorder_source_not_push",
                condition=~Q(source="push"),
            ),
        ]
        constraints = [
            models.UniqueConstraint(fields=["pay_serial"], name="payorder_pay_serial_unique"),
            models.CheckConstraint(condition=Q(pay_value__gte=0), name="payorder_pay_value_gte_0"),
            in_timerange("pay_time", "payorder"),
            in_timerange("received_at", "payorder"),
        ]
        permissions = [
            ("view_personal_data", _("Can see personal data (mobile numbers) unmasked")),
            ("export_orders", _("Can export orders, coupons and summaries as CSV")),
        ]

    def __str__(self) -> str:
        return self.pay_serial


class Channel(models.Model):
    """A payment channel's name, by the code the platform sends in ``channel``.

    Not a foreign key of the order: the platform may push any code (``200102`` is in its own
    examples but in no table), and an order is stored whatever its channel. Finance names the
    codes here; a code without a row is shown as it is, with a hint (``orders.channels``).
    """

    code = models.CharField(_("channel code"), max_length=64, unique=True)
    name = models.CharField(_("Chinese name"), max_length=64)
    name_en = models.CharField(_("English name"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("payment channel")
        verbose_name_plural = _("payment channels")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(condition=~Q(code=""), name="channel_code_not_empty"),
            models.CheckConstraint(condition=~Q(name=""), name="channel_name_not_empty"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class Discount(models.Model):
    """A discount the platform applied to an order."""

    order = models.ForeignKey(
        PayOrder, on_delete=models.CASCADE, related_name="discounts", verbose_name=_("order")
    )
    type = models.CharField(_("type"), max_length=255, blank=True)
    token = models.CharField(_("token"), max_length=255, blank=True)
    openid = models.CharField(_("openid"), max_length=255, blank=True)
    mobile = models.CharField(_("mobile"), max_length=255, blank=True)
    relief_amount = models.BigIntegerField(_("relief amount"), default=0)
    relief_value = models.BigIntegerField(_("relief value (fen)"), default=0)
    extra = models.JSONField(_("extra fields"), default=dict, blank=True)

    class Meta:
        verbose_name = _("discount")
        verbose_name_plural = _("discounts")
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(relief_value__gte=0) & Q(relief_amount__gte=0),
                name="discount_relief_gte_0",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.relief_value}"


class MerchantCoupon(models.Model):
    """A third-party merchant's coupon used on an order: what the park bills the merchant."""

    # The code table and its units: ``orders.coupons`` (their one home).
    CouponType = coupons.CouponType

    order = models.ForeignKey(
        PayOrder, on_delete=models.CASCADE, related_name="mcoupons", verbose_name=_("order")
    )
    coupon_name = models.CharField(_("coupon name"), max_length=255, blank=True)
    coupon_code = models.CharField(_("coupon code"), max_length=255, blank=True)
    store_name = models.CharField(_("store name"), max_length=255, blank=True)
    store_code = models.CharField(_("store code"), max_length=255, blank=True)
    # Unknown types (the platform may add some) are stored as given, so no `choices=` check.
    coupon_type = models.IntegerField(_("coupon type"), null=True, blank=True)
    coupon_value = models.BigIntegerField(_("coupon value"), default=0)
    grant_time_raw = models.CharField(_("grant time as pushed"), max_length=255, blank=True)
    grant_time = models.DateTimeField(_("grant time"), null=True, blank=True)
    grant_serial = models.CharField(_("grant serial"), max_length=255, blank=True)
    extra = models.JSONField(_("extra fields"), default=dict, blank=True)

    class Meta:
        verbose_name = _("merchant coupon")
        verbose_name_plural = _("merchant coupons")
        ordering = ["pk"]
        indexes = [models.Index(fields=["store_code"], name="mcoupon_store_code")]
        constraints = [
            models.CheckConstraint(
                condition=Q(coupon_value__gte=0), name="mcoupon_coupon_value_gte_0"
            ),
            in_timerange("grant_time", "mcoupon", nullable=True),
        ]

    def __str__(self) -> str:
        return f"{self.store_name} {self.coupon_name}"

    @property
    def coupon_type_label(self) -> str:
        """Return the documented name of the type, or the bare number for an unknown one."""
        return coupons.type_label(self.coupon_type)

    @property
    def coupon_value_text(self) -> str:
        """Return the value in its type's unit (``¥5.00``, ``120 分钟``, ``80%``)."""
        return coupons.value_text(self.coupon_type, self.coupon_value)


class PushLog(models.Model):
    """One request to a push endpoint, whatever its outcome."""

    class Kind(models.TextChoices):
        """Which push it was (PLATFORM_PUSHES.md): each has its own URL, one pipeline."""

        PAY = "pay", _("pay order")
        ENTRY = "entry", _("entry")
        EXIT = "exit", _("exit")
        RENEWAL = "renewal", _("renewal")

    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.PAY)
    received_at = models.DateTimeField(_("received at"), default=timezone.now)
    remote_addr = models.CharField(_("remote address"), max_length=64, blank=True)
    content_type = models.CharField(_("content type"), max_length=255, blank=True)
    body = models.TextField(_("raw body"), blank=True, help_text=_("The first 64 KiB."))
    authorization = models.CharField(
        _("signature header"),
        max_length=255,
        blank=True,
        help_text=_("The Authorization header (a signature, not a secret), kept for replay."),
    )
    code = models.CharField(_("code"), max_length=8)
    # The answer's reason (PUSH_PROTOCOL.md); every outcome but the throttle's, never logged.
    reason = models.CharField(_("reason"), max_length=32, choices=LOGGED_CHOICES)
    message = models.CharField(_("message"), max_length=500, blank=True)
    app_id = models.CharField(_("app id"), max_length=64, blank=True)
    pay_serial = models.CharField(_("pay serial"), max_length=64, blank=True)
    plate = models.CharField(_("plate"), max_length=64, blank=True)
    order = models.ForeignKey(
        PayOrder,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="push_logs",
        verbose_name=_("order"),
    )
    # The stay or renewal an entry, exit or renewal push concerns (as ``order`` for a pay order).
    stay = models.ForeignKey(
        "orders.Stay",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="push_logs",
        verbose_name=_("stay"),
    )
    renewal = models.ForeignKey(
        "orders.Renewal",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="push_logs",
        verbose_name=_("renewal"),
    )
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), default=0)
    # What a refusal was about, decided when it was refused (the entries may change since);
    # blank on other rows and on rows logged before these were kept. invalid_field: the
    # field's path as the message names it (``discounts[0].relief_value``).
    field_path = models.CharField(_("field at fault"), max_length=255, blank=True)
    # not_whitelisted: why (``whitelist.selectors.why_not_covered``), the entry it is about
    # (its id, not a foreign key: the entry may be deleted, and a foreign key would make every
    # entry's deletion look through the log), its end or start and, for another park's, the park.
    refusal = models.CharField(
        _("why not whitelisted"), max_length=16, choices=Uncovered.choices, blank=True
    )
    refusal_entry_id = models.PositiveBigIntegerField(_("whitelist entry"), null=True, blank=True)
    refusal_date = models.DateTimeField(_("entry's end or start"), null=True, blank=True)
    refusal_park = models.CharField(_("entry's park"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("push log")
        verbose_name_plural = _("push log")
        ordering = ["-received_at", "-pk"]
        indexes = [
            # The time first, so every range on received_at (the list, pruning) uses it; the
            # reason second, so the home page's pushes per hour and outcome read the index only
            # (on PostgreSQL it also carries the plate: migration 0014).
            models.Index(fields=["received_at", "reason"], name="pushlog_received_at_reason"),
            models.Index(fields=["code"], name="pushlog_code"),
            models.Index(fields=["reason"], name="pushlog_reason"),
            models.Index(fields=["pay_serial"], name="pushlog_pay_serial"),
            # The push-log admin searches by plate (operations: "why was this car refused?").
            models.Index(fields=["plate"], name="pushlog_plate"),
            # The refused rows, newest first: the list's 已修复/未修复 filter walks these
            # (a few of the log's rows; accepted pushes, the hot path, never write to it).
            models.Index(
                fields=["received_at"],
                name="pushlog_refused_received_at",
                condition=~Q(reason__in=ACKNOWLEDGED_REASONS),
            ),
            models.Index(fields=["kind"], name="pushlog_kind"),
        ]
        constraints = [in_timerange("received_at", "pushlog")]
        permissions = [("replay_pushlog", _("Can replay a logged push"))]

    def __str__(self) -> str:
        return f"{localtime(self.received_at):%Y-%m-%d %H:%M:%S} {self.code} {self.reason}"


# Last: they use ``in_timerange`` above, and Django finds an app's models through this module.
from orders.rollup.models import DailyCoupons, DailyStays, DailyTakings, RollupMark  # noqa: E402, F401, I001
from orders.stays.models import Renewal, Stay  # noqa: E402, F401
