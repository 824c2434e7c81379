"""One entry per plate, park and start: a second one is refused where it is typed or posted."""

import json

import pytest

from parkingops.roles import OPERATIONS
from whitelist.models import WhitelistEntry
from whitelist.tests.factories import WhitelistEntryFactory
from whitelist.tests.test_admin import ADD, china, entry_form
from whitelist.tests.test_api import JSON, LIST, entry_url, key_client, make_user, post

pytestmark = pytest.mark.django_db

TAKEN = "Another entry for this plate and park already starts at this time"


def test_the_admin_form_refuses_a_second_entry_with_the_same_identity(admin_en, now):
    existing = WhitelistEntryFactory(plate="川A660P1", valid_from=now.replace(microsecond=0))
    day, time = china(existing.valid_from)

    response = admin_en.post(
        ADD, entry_form(plate="川a 660p1", valid_from_0=day, valid_from_1=time)
    )

    assert response.status_code == 200
    assert TAKEN in str(response.context["adminform"].form.non_field_errors())
    assert WhitelistEntry.objects.count() == 1


def test_the_api_refuses_adding_or_moving_onto_a_taken_identity():
    hr = key_client(make_user(OPERATIONS))
    WhitelistEntryFactory(plate="川A660P1", valid_from="2026-01-01T00:00:00+08:00")
    other = WhitelistEntryFactory(plate="川A660P1", valid_from="2026-02-01T00:00:00+08:00")
    taken = {"plate": "川a660p1", "valid_from": "2026-01-01T00:00:00"}

    added = post(hr, LIST, taken)
    moved = hr.patch(entry_url(other), json.dumps(taken), content_type=JSON)

    for response in (added, moved):
        assert response.status_code == 400
        assert TAKEN in response.json()["fields"]["non_field_errors"][0]
    assert WhitelistEntry.objects.count() == 2


@pytest.fixture
def check_passes_then_loses_the_race(monkeypatch):
    """The form's and the serializer's check find the identity free, as when a simultaneous
    save takes it between that check and this save: the database's constraint decides."""
    monkeypatch.setattr(WhitelistEntry, "validate_constraints", lambda self, exclude=None: None)


def test_an_admin_save_that_loses_the_race_is_shown_the_reason(
    admin_en, now, check_passes_then_loses_the_race
):
    existing = WhitelistEntryFactory(plate="川A660P1", valid_from=now.replace(microsecond=0))
    day, time = china(existing.valid_from)

    response = admin_en.post(ADD, entry_form(valid_from_0=day, valid_from_1=time))

    assert response.status_code == 302
    assert response["Location"] == ADD
    followed = admin_en.get(response["Location"])
    assert any(TAKEN in str(message) for message in followed.context["messages"])
    assert WhitelistEntry.objects.count() == 1


def test_an_api_save_that_loses_the_race_is_a_400(check_passes_then_loses_the_race):
    hr = key_client(make_user(OPERATIONS))
    WhitelistEntryFactory(plate="川A660P1", valid_from="2026-01-01T00:00:00+08:00")

    response = post(hr, LIST, {"plate": "川A660P1", "valid_from": "2026-01-01T00:00:00"})

    assert response.status_code == 400
    assert TAKEN in response.json()["fields"]["non_field_errors"][0]
    assert WhitelistEntry.objects.count() == 1
