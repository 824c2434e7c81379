from django.contrib import admin

from whitelist.models import WhitelistEntry


@admin.register(WhitelistEntry)
class WhitelistEntryAdmin(admin.ModelAdmin):
    list_display = ["plate", "park_uuid", "valid_from", "valid_until", "is_active", "holder"]
    list_filter = ["is_active"]
    search_fields = ["plate", "holder"]
