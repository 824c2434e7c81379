"""The whitelist's validity rule: its SQL form (``status_q``) and its Python form agree."""

from datetime import UTC, datetime, timedelta

import pytest

from whitelist.models import Status, WhitelistEntry
from whitelist.tests.factories import WhitelistEntryFactory

pytestmark = pytest.mark.django_db

AT = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def test_status_q_selects_exactly_the_entries_whose_status_at_says_so():
    windows = [
        (AT - HOUR, None),
        (AT, None),  # starts at the very moment: active
        (AT + HOUR, None),
        (AT - 2 * HOUR, AT),  # ends at the very moment: expired
        (AT - 2 * HOUR, AT + HOUR),
        (AT - 2 * HOUR, AT - HOUR),
    ]
    for number, (valid_from, valid_until) in enumerate(windows):
        for active in (True, False):
            WhitelistEntryFactory(
                plate=f"川A{number}000{int(active)}",
                valid_from=valid_from,
                valid_until=valid_until,
                is_active=active,
            )

    for status in Status:
        in_sql = set(WhitelistEntry.objects.in_status(status, at=AT))
        in_python = {
            entry for entry in WhitelistEntry.objects.all() if entry.status_at(AT) == status
        }
        assert in_sql == in_python, status
    assert WhitelistEntry.objects.in_status(Status.ACTIVE, at=AT).count() == 3
