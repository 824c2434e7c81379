"""The whitelist list's filters: status, expiring soon, park and platform sync, each refusing a
value that is none of its choices (``parkingops.adminkit.ChoiceFilter``): the list says so in a
message and the export answers 400, instead of ignoring a typo."""

from django.utils import timezone
from django.utils.translation import gettext_lazy

from parkingops.adminkit import ChoiceFilter
from whitelist import selectors
from whitelist.models import PlateSync, Status

# The park filter's value for the entries valid in every park (their park uuid is empty).
ALL_PARKS_PARAM = "-"


class StatusFilter(ChoiceFilter):
    """Filter by the computed status, in SQL (see ``WhitelistEntryQuerySet.in_status``)."""

    title = gettext_lazy("status")
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return Status.choices

    def filter(self, queryset, value):
        return queryset.in_status(value)


class ExpiringFilter(ChoiceFilter):
    """The entries whose validity ends in the next ``EXPIRING_DAYS`` days: not those ended
    already, nor those without an end. Enabled or not: the status filter narrows it."""

    EXPIRING_DAYS = selectors.EXPIRING_DAYS

    title = gettext_lazy("expiring soon")
    parameter_name = "expiring"

    def lookups(self, request, model_admin):
        return [("7d", gettext_lazy("within 7 days"))]

    def filter(self, queryset, value):
        return selectors.expiring_entries(queryset, now=timezone.now(), days=self.EXPIRING_DAYS)


class ParkFilter(ChoiceFilter):
    """Filter by the entry's park, exactly: "All parks" lists the entries valid in every park."""

    title = gettext_lazy("park")
    parameter_name = "park"

    def lookups(self, request, model_admin):
        return [
            (uuid or ALL_PARKS_PARAM, name or uuid or gettext_lazy("All parks"))
            for uuid, name in selectors.whitelisted_parks()
        ]

    def filter(self, queryset, value):
        return queryset.filter(park_uuid="" if value == ALL_PARKS_PARAM else value)


class SyncStateFilter(ChoiceFilter):
    """Filter by the plate's platform sync state; a plate never synced counts as pending."""

    title = gettext_lazy("platform sync")
    parameter_name = "sync"

    def lookups(self, request, model_admin):
        return PlateSync.State.choices

    def filter(self, queryset, value):
        return selectors.in_sync_state(queryset, state=value)
