"""The rollup's tables: the totals per day, park and channel, and the watermark."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from whitelist.models import Park


class _ParkDay(models.Model):
    """A rollup row's key: one China-time day at one park (each table indexes (park, day),
    which serves every lookup by park, so the foreign key needs no index of its own)."""

    day = models.DateField(_("date"))
    park = models.ForeignKey(
        Park, on_delete=models.CASCADE, related_name="+", verbose_name=_("park"), db_index=False
    )

    class Meta:
        abstract = True


class DailyTakings(_ParkDay):
    """The orders of one China-time day (their pay time's) at one park on one channel, added
    up: how many, the amount paid, their discounts' relief, their coupons and the amount
    coupons' value (fen). Holds the orders received before ``RollupMark.received_before``."""

    channel = models.CharField(_("channel"), max_length=64)
    order_count = models.BigIntegerField(_("orders"))
    paid = models.BigIntegerField(_("amount paid (fen)"))
    relief = models.BigIntegerField(_("discount relief (fen)"))
    coupon_count = models.BigIntegerField(_("merchant coupons"))
    coupon_value = models.BigIntegerField(_("amount coupons' value (fen)"))

    class Meta:
        verbose_name = _("daily takings")
        verbose_name_plural = _("daily takings")
        constraints = [
            # Also the index of every range of days.
            models.UniqueConstraint(
                fields=["day", "park", "channel"], name="dailytakings_day_park_channel"
            ),
        ]
        indexes = [models.Index(fields=["park", "day"], name="dailytakings_park_day")]

    def __str__(self) -> str:
        return f"{self.day:%Y-%m-%d} {self.park_id} {self.channel}"


class RollupMark(models.Model):
    """How far the rollup reaches: every order received before ``received_before`` is in it,
    none received since. One row (id 1), written only by ``services.roll_up``."""

    received_before = models.DateTimeField(_("orders received before"))
    rolled_at = models.DateTimeField(_("rolled up at"))

    class Meta:
        verbose_name = _("rollup watermark")
        verbose_name_plural = _("rollup watermarks")
        constraints = [models.CheckConstraint(condition=Q(id=1), name="rollupmark_single_row")]

    def __str__(self) -> str:
        return f"{self.received_before:%Y-%m-%d %H:%M:%S}"


class DailyCoupons(_ParkDay):
    """The merchant coupons of one China-time day's orders (their pay time's) at one park, per
    store and coupon type: how many, and their values added up (whatever their unit; the
    reads keep only the types whose values add up, ``orders.coupons``). Rebuilt with
    ``DailyTakings``, under the same watermark."""

    store_code = models.CharField(_("store code"), max_length=255)
    store_name = models.CharField(_("store name"), max_length=255)
    coupon_type = models.IntegerField(_("coupon type"), null=True)
    coupon_count = models.BigIntegerField(_("merchant coupons"))
    value_total = models.BigIntegerField(_("coupon values added up"))

    class Meta:
        verbose_name = _("daily coupons")
        verbose_name_plural = _("daily coupons")
        indexes = [
            models.Index(fields=["day"], name="dailycoupons_day"),
            models.Index(fields=["park", "day"], name="dailycoupons_park_day"),
        ]

    def __str__(self) -> str:
        return f"{self.day:%Y-%m-%d} {self.park_id} {self.store_code} {self.coupon_type}"


class DailyStays(_ParkDay):
    """The stays that left on one China-time day (their exit's) at one park: how many had a
    pushed length and those lengths added up (seconds), how many left in all and their money
    (fen): the fee, discounts and autopay their exits told, what their pay orders paid, their
    gaps and how many have one (``orders.stays.selectors.with_gap``). Holds the stays whose
    exit was received before the watermark (an exit is written once: its day, length and fee
    never change after) with their pay orders received before it, rebuilt with
    ``DailyTakings``; a day is rebuilt too when a pay order of one of its stays arrives."""

    stay_count = models.BigIntegerField(_("stays"))
    seconds = models.BigIntegerField(_("length of stay (s)"))
    left_count = models.BigIntegerField(_("stays that left"), default=0)
    fee = models.BigIntegerField(_("fee (fen)"), default=0)
    discounts = models.BigIntegerField(_("discounts (fen)"), default=0)
    autopay = models.BigIntegerField(_("autopay (fen)"), default=0)
    paid = models.BigIntegerField(_("paid by pay orders (fen)"), default=0)
    gap = models.BigIntegerField(_("gap (fen)"), default=0)
    gapped = models.BigIntegerField(_("stays with a gap"), default=0)

    class Meta:
        verbose_name = _("daily stays")
        verbose_name_plural = _("daily stays")
        constraints = [
            models.UniqueConstraint(fields=["day", "park"], name="dailystays_day_park"),
        ]
        indexes = [models.Index(fields=["park", "day"], name="dailystays_park_day")]

    def __str__(self) -> str:
        return f"{self.day:%Y-%m-%d} {self.park_id}"
