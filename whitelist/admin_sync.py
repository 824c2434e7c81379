"""Telling the admin's user when the platform did not confirm the change a page just saved.

Every whitelist write syncs its plates once it has committed (``sync.request_sync``), which in
the admin is after the page has chosen its messages. ``SyncOutcomeMixin`` holds the page's
messages until the request's syncs have run, then shows them: green only when the platform
confirmed every plate; otherwise as information, followed by a warning naming the plates,
what happens to them, and a link to the list filtered to them.
"""

from contextlib import contextmanager

from django.conf import settings
from django.contrib import messages
from django.urls import reverse
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from whitelist import display
from whitelist.admin_filters import SyncStateFilter
from whitelist.models import PlateSync
from whitelist.services import sync as platform_sync

# The warning names this many plates, then says how many there are in all.
NAMED_PLATES = 10


def plates_text(plates: list[str]) -> str:
    """Return ``plates`` listed for a message, the first ``NAMED_PLATES`` by name."""
    named = _(", ").join(plates[:NAMED_PLATES])
    if len(plates) <= NAMED_PLATES:
        return named
    return _("%(plates)s and others (%(count)d plates)") % {"plates": named, "count": len(plates)}


def unconfirmed_warning(outcome: platform_sync.InlineOutcome) -> str:
    """Return the warning (safe HTML) for the plates the platform did not confirm."""
    plates = plates_text(outcome.unconfirmed)
    if outcome.not_configured:
        return _(
            "The platform is not configured (PLATFORM_API_BASE): the change to %(plates)s was "
            "saved and has not been sent."
        ) % {"plates": plates}
    text = _(
        "The platform did not confirm %(plates)s. The scheduled sync retries every "
        "%(minutes)d minutes; you can also select them in the list and use “Sync now”."
    ) % {"plates": plates, "minutes": settings.SCHEDULE_SYNC_MINUTES}
    if outcome.answers:
        # The platform's answers in words (``codes``), each once.
        answers = dict.fromkeys(display.platform_message(m) for m in outcome.answers.values())
        text += " " + _("The platform answered: %(answers)s.") % {
            "answers": _("; ").join(list(answers)[:3])
        }
    return with_sync_state_link(text, failed=bool(outcome.failed))


def with_sync_state_link(text: str, *, failed: bool) -> str:
    """Return ``text`` (escaped) followed by a link to the whitelist list filtered to the
    plates that failed to sync (``failed``) or are waiting to sync, as safe HTML."""
    state = PlateSync.State.FAILED if failed else PlateSync.State.PENDING
    url = reverse("admin:whitelist_whitelistentry_changelist")
    url += "?" + urlencode({SyncStateFilter.parameter_name: state})
    if failed:
        label = _("Show the plates that failed to sync")
    else:
        label = _("Show the plates waiting to sync")
    return format_html('{} <a href="{}">{}</a>', text, url, label)


class SyncOutcomeMixin:
    """For a ModelAdmin whose pages change whitelist entries: ``reporting_syncs`` around a
    view that writes (see the module's docstring)."""

    def message_user(self, request, message, level=messages.INFO, *args, **kwargs):
        held = getattr(request, "_held_admin_messages", None)
        if held is None:
            super().message_user(request, message, level, *args, **kwargs)
        else:
            held.append((message, level, args, kwargs))

    @contextmanager
    def reporting_syncs(self, request):
        held = request._held_admin_messages = []
        outcome = platform_sync.InlineOutcome()
        try:
            with platform_sync.collect_inline_syncs() as outcome:
                yield
        finally:
            del request._held_admin_messages
            for message, level, args, kwargs in held:
                if level == messages.SUCCESS and not outcome.ok:
                    level = messages.INFO
                self.message_user(request, message, level, *args, **kwargs)
            if not outcome.ok:
                messages.warning(request, unconfirmed_warning(outcome))
