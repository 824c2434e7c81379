from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DemoConfig(AppConfig):
    """Installed only so Django finds the demo's management commands; it has no models."""

    name = "orders.demo"
    label = "orders_demo"
    verbose_name = _("Demo")
