"""Plates the platform may push pay orders for."""

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from whitelist import plates


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
    valid_from = models.DateTimeField(_("valid from"), default=timezone.now)
    valid_until = models.DateTimeField(
        _("valid until"),
        null=True,
        blank=True,
        help_text=_("Exclusive end of the window; leave blank for no end."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    holder = models.CharField(_("holder"), max_length=100, blank=True)
    note = models.CharField(_("note"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("whitelist entry")
        verbose_name_plural = _("whitelist entries")
        ordering = ["plate", "-valid_from"]
        indexes = [
            # The push's whitelist check is one query on this index.
            models.Index(fields=["plate", "is_active"], name="whitelist_plate_active"),
            models.Index(fields=["park_uuid"], name="whitelist_park"),
            models.Index(fields=["valid_until"], name="whitelist_valid_until"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True) | Q(valid_until__gt=models.F("valid_from")),
                name="whitelist_window_not_empty",
                violation_error_message=_("“Valid until” must be later than “valid from”."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.plate} @ {self.park_uuid or '*'}"
