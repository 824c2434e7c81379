"""why_not_covered: why no entry let a plate in, from the same conditions as valid_entries."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from whitelist.models import Uncovered, WhitelistEntry
from whitelist.selectors import NotCovered, find_valid_entry, why_not_covered
from whitelist.tests.factories import WhitelistEntryFactory

PLATE = "川A660P1"
PARK = "49f0cc52-e8c7-41e3-b54d-af666b8cc11a"
OTHER_PARK = "0c1f7a52-0000-4000-8000-000000000000"
AT = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)

pytestmark = pytest.mark.django_db


def why(park_uuid: str = PARK) -> NotCovered | None:
    return why_not_covered(plate=PLATE, park_uuid=park_uuid, at=AT)


def entry(**fields) -> WhitelistEntry:
    return WhitelistEntryFactory(plate=PLATE, **{"valid_from": AT - 10 * DAY, **fields})


def test_a_plate_without_entries_has_no_entry():
    WhitelistEntryFactory(plate="川A660P2", valid_from=AT - DAY)

    assert why() == NotCovered(why=Uncovered.NO_ENTRY)


def test_a_covered_plate_needs_no_explanation():
    entry()

    assert why() is None


def test_a_disabled_entry_is_named():
    disabled = entry(is_active=False)

    assert why() == NotCovered(why=Uncovered.DISABLED, entry_id=disabled.pk)


def test_an_expired_entry_says_when_it_ended():
    ended = entry(valid_until=AT - DAY)

    assert why() == NotCovered(why=Uncovered.EXPIRED, entry_id=ended.pk, date=AT - DAY)


def test_the_window_end_is_exclusive_as_in_the_rule():
    ended = entry(valid_until=AT)

    assert why() == NotCovered(why=Uncovered.EXPIRED, entry_id=ended.pk, date=AT)


def test_an_entry_not_yet_started_says_when_it_starts():
    later = entry(valid_from=AT + DAY)

    assert why() == NotCovered(why=Uncovered.NOT_YET_VALID, entry_id=later.pk, date=AT + DAY)


def test_an_entry_for_another_park_names_the_park():
    elsewhere = entry(park_uuid=OTHER_PARK)

    assert why() == NotCovered(
        why=Uncovered.OTHER_PARK, entry_id=elsewhere.pk, park_uuid=OTHER_PARK
    )


def test_the_entry_nearest_to_letting_the_plate_in_is_named():
    entry(valid_from=AT - 400 * DAY, valid_until=AT - 300 * DAY)  # long expired
    entry(valid_from=AT - 30 * DAY, is_active=False, valid_until=AT - 20 * DAY)  # off, past
    recent = entry(valid_from=AT - 20 * DAY, valid_until=AT - DAY)
    entry(valid_from=AT + 60 * DAY)

    assert why().entry_id == recent.pk

    covering_but_off = entry(valid_from=AT - 5 * DAY, is_active=False)
    assert why().entry_id == covering_but_off.pk


def test_an_entry_here_is_named_before_one_for_another_park():
    entry(park_uuid=OTHER_PARK)
    ended = entry(park_uuid=PARK, valid_until=AT - DAY)

    assert why().why == Uncovered.EXPIRED
    assert why().entry_id == ended.pk


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.booleans(),
            st.integers(-5, 5),
            st.one_of(st.none(), st.integers(1, 5)),
            st.sampled_from(["", PARK, OTHER_PARK]),
        ),
        max_size=4,
    )
)
def test_it_explains_exactly_when_the_push_check_finds_nothing(windows):
    """The explanation is derived from the rule: it is None exactly when find_valid_entry
    finds an entry, and otherwise names an entry the rule looked at and turned away."""
    WhitelistEntry.objects.all().delete()
    for n, (active, start, length, park) in enumerate(windows):
        valid_from = AT + start * DAY + n * timedelta(seconds=1)
        WhitelistEntry.objects.create(
            plate=PLATE,
            park_uuid=park,
            is_active=active,
            valid_from=valid_from,
            valid_until=valid_from + length * DAY if length else None,
        )

    found = find_valid_entry(plate=PLATE, park_uuid=PARK, at=AT)
    explained = why()

    assert (found is None) == (explained is not None)
    if explained is not None and explained.entry_id is not None:
        named = WhitelistEntry.objects.get(pk=explained.entry_id)
        if explained.why == Uncovered.OTHER_PARK:
            assert named.park_uuid not in ("", PARK)
        else:
            assert named.status_at(AT).value == explained.why.value
