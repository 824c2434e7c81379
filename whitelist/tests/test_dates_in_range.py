"""Every date and time entering the whitelist lies in ``parkingops.timerange``'s span.

Outside it (year 1, year 9999) Python cannot always show the value, so it is refused where it
enters — the admin form, the "valid until" action, the import, the API (add, change, bulk) —
with a message naming the field, and the database's check constraints keep it out of the table.
"""

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.db import IntegrityError, transaction

from parkingops.roles import OPERATIONS
from parkingops.timerange import EARLIEST, LATEST
from whitelist.models import WhitelistEntry
from whitelist.tests.factories import WhitelistEntryFactory
from whitelist.tests.test_admin import ADD, action, entry_form, messages_of
from whitelist.tests.test_api import BULK, JSON, LIST, entry_url, key_client, make_user, post
from whitelist.tests.test_import import CHINESE_HEADER, preview, totals

pytestmark = pytest.mark.django_db

# Typed as a person would: the first and last days Python has, and a day just outside the span.
OUTSIDE = ["0001-01-01", "9999-12-31", "1999-12-31", "2100-01-01"]
OUT_OF_RANGE = "is out of range: use a time between 2000-01-01 and 2099-12-31."


# --- the admin ---------------------------------------------------------------------------------


@pytest.mark.parametrize("day", OUTSIDE)
@pytest.mark.parametrize("field", ["valid_from", "valid_until"])
def test_the_admin_form_refuses_a_day_outside_the_span_under_its_field(admin_en, day, field):
    data = entry_form(**{f"{field}_0": day, f"{field}_1": "00:00:00"})
    if field == "valid_until":
        data.update(valid_from_0="2026-01-01", valid_from_1="00:00:00")

    response = admin_en.post(ADD, data)

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert list(errors) == [field]
    assert OUT_OF_RANGE in errors[field][0]
    assert not WhitelistEntry.objects.exists()


def test_the_admin_form_accepts_the_spans_first_and_last_moments(admin_en):
    data = entry_form(
        valid_from_0="2000-01-01",
        valid_from_1="00:00:00",
        valid_until_0="2099-12-31",
        valid_until_1="23:59:59",
    )

    response = admin_en.post(ADD, data, follow=True)

    assert response.status_code == 200
    entry = WhitelistEntry.objects.get()
    assert entry.valid_from == EARLIEST
    assert entry.valid_until == LATEST.replace(microsecond=0)


def test_the_admin_form_says_so_in_chinese(operator):
    from django.test import Client

    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(operator)

    response = client.post(ADD, entry_form(valid_from_0="0001-01-01"))

    message = response.context["adminform"].form.errors["valid_from"][0]
    assert "超出范围" in message and "2000-01-01" in message


def test_the_valid_until_action_refuses_an_end_outside_the_span(admin_en):
    entry = WhitelistEntryFactory()

    response = action(
        admin_en,
        "change_valid_until",
        [entry],
        apply="1",
        valid_until_0="9999-12-31",
        valid_until_1="23:00:00",
    )

    assert response.status_code == 200
    assert OUT_OF_RANGE in str(response.context["form"].errors["valid_until"])
    entry.refresh_from_db()
    assert entry.valid_until is None


def test_extending_past_the_span_changes_nothing_and_names_the_plates(admin_en):
    near_the_end = WhitelistEntryFactory(plate="川A00001", valid_until=LATEST - timedelta(days=10))
    early = WhitelistEntryFactory(plate="川A00002", valid_until=datetime(2030, 1, 1, tzinfo=UTC))

    response = action(
        admin_en, "change_valid_until", [near_the_end, early], apply="1", extend_days="30"
    )

    [message] = messages_of(response)
    assert "Nothing was changed" in message and "川A00001" in message
    assert "2099-12-31" in message
    early.refresh_from_db()
    assert early.valid_until == datetime(2030, 1, 1, tzinfo=UTC)


# --- the import --------------------------------------------------------------------------------


@pytest.mark.parametrize("day", OUTSIDE)
def test_the_import_shows_a_day_outside_the_span_as_an_invalid_row(admin_en, day):
    content = (CHINESE_HEADER + f"川A660P1,,{day} 00:00,,1,张三,\r\n").encode("utf-8-sig")

    response = preview(admin_en, content)

    assert response.status_code == 200
    assert totals(response)["invalid"] == 1
    [row] = response.context["result"].rows
    assert any(
        OUT_OF_RANGE in message for messages in row.error_dict.values() for message in messages
    )
    assert "confirm_form" not in response.context


# --- the API -----------------------------------------------------------------------------------


@pytest.fixture
def hr():
    """An API key of an operations user, as the HR system holds."""
    return key_client(make_user(OPERATIONS))


@pytest.mark.parametrize(
    "moment",
    ["0001-01-01T00:00:00", "0001-01-01T00:00:00+08:00", "9999-12-31T23:59:59", "2100-01-01"],
)
@pytest.mark.parametrize("field", ["valid_from", "valid_until"])
def test_the_api_refuses_a_time_outside_the_span_under_its_field(hr, moment, field):
    data = {"plate": "川A660P1", "valid_from": "2026-01-01T00:00:00", field: moment}

    created = post(hr, LIST, data)
    bulk = post(hr, BULK, {"entries": [data]})

    assert created.status_code == 400, created.content
    assert list(created.json()["fields"]) == [field]
    assert bulk.status_code == 400, bulk.content
    assert list(bulk.json()["fields"]) == [f"entries.1.{field}"]
    assert not WhitelistEntry.objects.exists()


@pytest.mark.parametrize("method", ["patch", "put"])
def test_changing_an_entry_through_the_api_is_bounded_too(hr, method):
    entry = WhitelistEntryFactory(plate="川A660P1")
    data = {"plate": "川A660P1", "valid_from": "0001-01-01T00:00:00"}

    response = getattr(hr, method)(entry_url(entry), json.dumps(data), content_type=JSON)

    assert response.status_code == 400
    assert OUT_OF_RANGE in response.json()["fields"]["valid_from"][0]
    entry.refresh_from_db()
    assert entry.valid_from == datetime(2020, 1, 1, tzinfo=UTC)


# --- the database ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fields",
    [
        {"valid_from": EARLIEST - timedelta(microseconds=1)},
        {"valid_from": LATEST + timedelta(microseconds=1)},
        {"valid_until": LATEST + timedelta(microseconds=1)},
    ],
)
def test_the_database_refuses_what_skips_validation(fields):
    entry = WhitelistEntryFactory()

    with pytest.raises(IntegrityError), transaction.atomic():
        WhitelistEntry.objects.filter(pk=entry.pk).update(**fields)
