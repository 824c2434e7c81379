"""The platform's call log: one row per call of the open API, kept beside its client."""

from django.db import models
from django.utils import timezone
from django.utils.timezone import localtime
from django.utils.translation import gettext_lazy as _

from parkingops.pcloud.codes import answer_label

# As long as the whitelist's plates (``whitelist.plates.MAX_LENGTH``, which this layer may not
# import); a longer value sent is cut.
PLATE_MAX_LENGTH = 16


class PlatformCall(models.Model):
    """One call to the platform's open API (``pcloud.client``): never the secret or the sign."""

    called_at = models.DateTimeField(_("called at"), default=timezone.now, db_index=True)
    method = models.CharField(_("method"), max_length=8)
    endpoint = models.CharField(_("endpoint"), max_length=128)
    # The plate a whitelist call was about, copied from ``params`` when the call is recorded
    # so the admin can search the calls by plate on an index; blank for other calls.
    plate = models.CharField(_("plate"), max_length=PLATE_MAX_LENGTH, blank=True)
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    code = models.CharField(_("code as sent"), max_length=16)
    message = models.CharField(_("message as sent"), max_length=500, blank=True)
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), default=0)

    class Meta:
        # Created by the orders app before the call log moved beside its client.
        db_table = "orders_platformcall"
        verbose_name = _("platform call")
        verbose_name_plural = _("platform calls")
        ordering = ["-called_at", "-pk"]
        indexes = [
            # The admin filters by endpoint and by answer code.
            models.Index(fields=["endpoint"], name="platformcall_endpoint"),
            models.Index(fields=["code"], name="platformcall_code"),
            # The admin searches whitelist calls by plate.
            models.Index(fields=["plate"], name="platformcall_plate"),
        ]

    def __str__(self) -> str:
        called_at = localtime(self.called_at)
        return f"{called_at:%Y-%m-%d %H:%M:%S} {self.method} {self.endpoint} {self.code}"

    @property
    def answer(self) -> str:
        """What the platform answered, for people (``codes.answer_label``)."""
        return answer_label(self.code, self.message)
