"""Parks in the admin: learnt from the pushes, read-only. Registered by ``whitelist.admin``."""

from django.contrib import admin

from parkingops.adminkit import ReadOnlyAdmin
from whitelist.models import Park


@admin.register(Park)
class ParkAdmin(ReadOnlyAdmin):
    """Parks are learnt from the pushes; the newest name wins."""

    list_display = ["name", "park_uuid", "first_seen", "last_seen"]
    search_fields = ["name", "park_uuid"]
    fields = ["name", "park_uuid", "first_seen", "last_seen"]
    readonly_fields = ["first_seen", "last_seen"]
