"""find_valid_entry: the protocol's whitelist rule, edge by edge."""

from datetime import UTC, datetime, timedelta

import pytest

from whitelist.selectors import find_valid_entry
from whitelist.tests.factories import WhitelistEntryFactory

PLATE = "川A660P1"
PARK = "49f0cc52-e8c7-41e3-b54d-af666b8cc11a"
OTHER_PARK = "0c1f7a52-0000-4000-8000-000000000000"
AT = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)

pytestmark = pytest.mark.django_db


def find(at: datetime = AT, park_uuid: str = PARK, plate: str = PLATE):
    return find_valid_entry(plate=plate, park_uuid=park_uuid, at=at)


def test_an_active_all_parks_entry_lets_the_plate_in_everywhere():
    entry = WhitelistEntryFactory(plate=PLATE, park_uuid="", valid_from=AT - timedelta(days=1))

    assert find() == entry
    assert find(park_uuid=OTHER_PARK) == entry


def test_no_entry_for_the_plate_lets_nothing_in():
    WhitelistEntryFactory(plate="川A660P2", valid_from=AT - timedelta(days=1))

    assert find() is None


def test_an_inactive_entry_lets_nothing_in():
    WhitelistEntryFactory(plate=PLATE, valid_from=AT - timedelta(days=1), is_active=False)

    assert find() is None


def test_an_expired_entry_lets_nothing_in():
    WhitelistEntryFactory(
        plate=PLATE, valid_from=AT - timedelta(days=30), valid_until=AT - timedelta(seconds=1)
    )

    assert find() is None


def test_an_entry_not_yet_valid_lets_nothing_in():
    WhitelistEntryFactory(plate=PLATE, valid_from=AT + timedelta(seconds=1))

    assert find() is None


def test_an_entry_scoped_to_another_park_lets_nothing_in():
    WhitelistEntryFactory(plate=PLATE, park_uuid=OTHER_PARK, valid_from=AT - timedelta(days=1))

    assert find() is None
    assert find(park_uuid=OTHER_PARK) is not None


def test_an_entry_scoped_to_the_park_lets_the_plate_in_there():
    entry = WhitelistEntryFactory(plate=PLATE, park_uuid=PARK, valid_from=AT - timedelta(days=1))

    assert find() == entry


def test_valid_from_equal_to_pay_time_is_inside_the_window():
    entry = WhitelistEntryFactory(plate=PLATE, valid_from=AT, valid_until=AT + timedelta(hours=1))

    assert find() == entry
    assert find(at=AT - timedelta(microseconds=1)) is None


def test_valid_until_equal_to_pay_time_is_outside_the_window():
    entry = WhitelistEntryFactory(plate=PLATE, valid_from=AT - timedelta(hours=1), valid_until=AT)

    assert find() is None
    assert find(at=AT - timedelta(microseconds=1)) == entry


def test_an_open_ended_entry_is_valid_far_in_the_future():
    entry = WhitelistEntryFactory(plate=PLATE, valid_from=AT, valid_until=None)

    assert find(at=AT + timedelta(days=3650)) == entry


def test_the_park_scoped_entry_wins_over_the_all_parks_entry():
    WhitelistEntryFactory(plate=PLATE, park_uuid="", valid_from=AT - timedelta(days=2))
    scoped = WhitelistEntryFactory(plate=PLATE, park_uuid=PARK, valid_from=AT - timedelta(days=1))

    assert find() == scoped


def test_the_plate_must_match_the_normalised_form_exactly():
    WhitelistEntryFactory(plate=PLATE, valid_from=AT - timedelta(days=1))

    assert find(plate="川a660p1") is None


def test_a_valid_entry_is_found_beside_inactive_and_expired_ones():
    WhitelistEntryFactory(plate=PLATE, valid_from=AT - timedelta(days=1), is_active=False)
    WhitelistEntryFactory(
        plate=PLATE, valid_from=AT - timedelta(days=9), valid_until=AT - timedelta(days=1)
    )
    valid = WhitelistEntryFactory(plate=PLATE, valid_from=AT - timedelta(days=3))

    assert find() == valid
