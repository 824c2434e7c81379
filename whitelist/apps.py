from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WhitelistConfig(AppConfig):
    name = "whitelist"
    verbose_name = _("Whitelist")
