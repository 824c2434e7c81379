"""The finance and operations back-office, one module per admin area.

Everything here is read-only for everyone, superusers included: orders come only from the
platform. The one exception is the payment channels' names (``channels``), which finance keeps.
Importing the modules registers their admins (Django's autodiscovery imports this package; the
reconciliation's admin lives in its own package and is imported here); the daily summary's
pages are routed by ``parkingops/urls.py``.
"""

from orders.admin import channels, coupons, orders, pushlog, stays, summary
from orders.reconciliation import admin as reconciliation

__all__ = ["channels", "coupons", "orders", "pushlog", "reconciliation", "stays", "summary"]
