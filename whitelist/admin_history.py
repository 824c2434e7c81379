"""The whitelist entry's history page, as simple-history means it to be customised: its own
list template (``history_list.html``: when, who, the change in words, each changed field and
the reason) and a context helper that shows each changed value as the list shows it
(``whitelist.display``), so a clerk reads 是/否, 长期有效 and 全部车场, not True, None or ''."""

from typing import Any

from simple_history.models import ModelChange
from simple_history.template_utils import HistoricalRecordContextHelper

from whitelist import display

# How each field's value is shown; a field not named here is shown as it is ("–" when blank).
_SHOWN = {
    "park_uuid": display.park_by_uuid,
    "valid_from": display.moment,
    "valid_until": display.valid_until,
    "is_active": display.yes_no,
}


class EntryHistoryHelper(HistoricalRecordContextHelper):
    """Shows a change's old and new values for people (the field is its verbose name)."""

    def prepare_delta_change_value(self, change: ModelChange, value: Any) -> Any:
        show = _SHOWN.get(change.field)
        if show is not None:
            return show(value)
        return "–" if value in (None, "") else value


class EntryHistoryMixin:
    """Adds the readable history to ``WhitelistEntryAdmin`` (a ``SimpleHistoryAdmin``)."""

    object_history_list_template = "admin/whitelist/whitelistentry/history_list.html"

    def get_historical_record_context_helper(self, request, historical_record):
        return EntryHistoryHelper(self.model, historical_record)

    def set_history_delta_changes(self, request, historical_records, foreign_keys_are_objs=True):
        super().set_history_delta_changes(request, historical_records, foreign_keys_are_objs)
        # The time of each change, as every other time of the whitelist is shown.
        for record in historical_records:
            record.history_when = display.moment(record.history_date)
