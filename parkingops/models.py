"""API keys: how other systems (HR, BI, accounting) call the integration API as a user."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from parkingops.filestore import StoredFile, StoredFileChunk
from parkingops.jobs.models import Job, ScheduleRun
from parkingops.pcloud.models import PlatformCall

__all__ = ["ApiKey", "Job", "PlatformCall", "ScheduleRun", "StoredFile", "StoredFileChunk"]


class ApiKey(models.Model):
    """A long random key acting as ``user``; only its SHA-256 is kept.

    The key reads ``<prefix>.<secret>``: the prefix is stored in clear to find the row (and to
    tell keys apart in the admin), the hash of the whole key to check it. A revoked key stays
    listed, so its history and last use remain visible.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="api_keys",
        verbose_name=_("user"),
        help_text=_("The key acts as this user: the user's groups decide what it may do."),
    )
    name = models.CharField(
        _("name"), max_length=100, help_text=_("Which system uses the key, e.g. “HR system”.")
    )
    prefix = models.CharField(_("prefix"), max_length=16, unique=True, editable=False)
    key_hash = models.CharField(_("key hash (SHA-256)"), max_length=64, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None
