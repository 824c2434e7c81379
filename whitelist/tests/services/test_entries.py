"""whitelist.services.entries: bulk writes that keep the history and updated_at."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError

from whitelist.models import WhitelistEntry
from whitelist.services import entries as entry_services
from whitelist.tests.factories import WhitelistEntryFactory

pytestmark = pytest.mark.django_db


def test_disabling_records_one_history_row_per_changed_entry(superuser):
    active = WhitelistEntryFactory()
    already = WhitelistEntryFactory(is_active=False)

    result = entry_services.set_entries_active(
        entries=WhitelistEntry.objects.all(), active=False, user=superuser, reason="租户退租"
    )

    assert result == entry_services.BulkResult(changed=1, unchanged=1)
    assert active.history.count() == 2
    record = active.history.latest()
    assert (record.history_type, record.is_active, record.history_user) == ("~", False, superuser)
    assert already.history.count() == 1


def test_enabling_sets_updated_at(superuser):
    entry = WhitelistEntryFactory(is_active=False)
    before = entry.updated_at

    entry_services.set_entries_active(
        entries=WhitelistEntry.objects.all(), active=True, user=superuser
    )

    entry.refresh_from_db()
    assert entry.is_active
    assert entry.updated_at > before


def test_set_valid_until_accepts_an_annotated_queryset(superuser, now):
    from whitelist.selectors import with_park_name

    entry = WhitelistEntryFactory(valid_from=now - timedelta(days=1))
    until = now + timedelta(days=7)

    result = entry_services.set_valid_until(
        entries=with_park_name(WhitelistEntry.objects.all()),
        valid_until=until,
        user=superuser,
        reason="合同提前结束",
    )

    assert result.changed == 1
    entry.refresh_from_db()
    assert entry.valid_until == until
    assert entry.history.latest().valid_until == until


def test_set_valid_until_none_removes_the_end(now):
    entry = WhitelistEntryFactory(valid_until=now + timedelta(days=1))

    result = entry_services.set_valid_until(entries=WhitelistEntry.objects.all(), valid_until=None)

    assert result.changed == 1
    entry.refresh_from_db()
    assert entry.valid_until is None


def test_set_valid_until_is_all_or_nothing(now):
    WhitelistEntryFactory(plate="川A00001", valid_from=now - timedelta(days=1))
    WhitelistEntryFactory(plate="川A00002", valid_from=now + timedelta(days=30))

    with pytest.raises(ValidationError) as raised:
        entry_services.set_valid_until(
            entries=WhitelistEntry.objects.all(), valid_until=now + timedelta(days=1)
        )

    assert "川A00002" in raised.value.messages[0]
    assert "川A00001" not in raised.value.messages[0]
    assert not WhitelistEntry.objects.filter(valid_until__isnull=False).exists()
    assert WhitelistEntry.history.filter(history_type="~").count() == 0


def test_extend_adds_days_to_the_current_end_even_when_expired(now):
    expired = WhitelistEntryFactory(
        valid_from=now - timedelta(days=100), valid_until=now - timedelta(days=40)
    )

    entry_services.extend_valid_until(entries=WhitelistEntry.objects.all(), days=30)

    expired.refresh_from_db()
    assert expired.valid_until == now - timedelta(days=10)
    assert expired.status == "expired"


@pytest.mark.parametrize("days", [0, -5, entry_services.MAX_EXTENSION_DAYS + 1])
def test_extend_refuses_a_nonsensical_number_of_days(days, now):
    entry = WhitelistEntryFactory(valid_until=now + timedelta(days=1))

    with pytest.raises(ValidationError):
        entry_services.extend_valid_until(entries=WhitelistEntry.objects.all(), days=days)

    entry.refresh_from_db()
    assert entry.valid_until == now + timedelta(days=1)


def test_history_user_defaults_to_none_outside_a_request():
    WhitelistEntryFactory()

    entry_services.set_entries_active(
        entries=WhitelistEntry.objects.all(), active=False, reason="停用"
    )

    assert WhitelistEntry.history.latest().history_user is None
