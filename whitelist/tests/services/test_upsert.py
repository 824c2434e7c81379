"""whitelist.services.upsert: one entry per identity, whatever the rows ask."""

from datetime import UTC, datetime

import pytest
from django.db.models import UniqueConstraint
from django.utils import translation

from whitelist.models import IDENTITY_TAKEN, WhitelistEntry
from whitelist.services import upsert
from whitelist.services.entries import IdentityTaken, save_entry
from whitelist.tests.factories import WhitelistEntryFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


START = datetime(2026, 1, 1, tzinfo=UTC)
LATER = datetime(2026, 2, 1, tzinfo=UTC)


def test_the_database_holds_the_identity_the_upsert_matches_on():
    [unique] = [c for c in WhitelistEntry._meta.constraints if isinstance(c, UniqueConstraint)]
    assert unique.fields == upsert.IDENTITY == ("plate", "park_uuid", "valid_from")


def test_a_row_without_id_updates_the_entry_with_its_identity():
    entry = WhitelistEntryFactory(plate="川A660P1", valid_from=START, holder="张三")

    result = upsert.upsert_entries(
        rows={1: {"plate": "川a660p1", "valid_from": START, "holder": "李四"}}
    )

    assert [(row.entry.pk, row.result) for row in result.rows] == [(entry.pk, upsert.UPDATED)]
    assert WhitelistEntry.objects.get().holder == "李四"


@pytest.mark.parametrize(
    ("moving", "change"),
    [
        ({"valid_from": LATER}, {"valid_from": START}),
        ({"plate": "川B12345"}, {"plate": "川a 660p1"}),
        ({"park_uuid": "P1"}, {"park_uuid": " "}),
    ],
    ids=["start", "plate", "park"],
)
def test_moving_an_entry_onto_another_entrys_identity_is_refused(moving, change):
    WhitelistEntryFactory(plate="川A660P1", valid_from=START)
    entry = WhitelistEntryFactory(**{"plate": "川A660P1", "valid_from": START, **moving})

    with pytest.raises(upsert.UpsertRejected) as refused:
        upsert.upsert_entries(rows={1: {"id": entry.pk, **change}})

    assert refused.value.errors == [{"row": 1, "__all__": [str(IDENTITY_TAKEN)]}]
    assert WhitelistEntry.objects.filter(**moving).get() == entry


def test_an_exported_file_imported_back_leaves_its_entries_unchanged():
    entries = [WhitelistEntryFactory(valid_from=START) for _ in range(3)]
    rows = {
        number: {name: getattr(entry, name) for name in ("id", *upsert.UPSERT_FIELDS)}
        for number, entry in enumerate(entries, start=1)
    }

    result = upsert.upsert_entries(rows=rows)

    assert [row.result for row in result.rows] == [upsert.UNCHANGED] * 3


def test_two_rows_giving_entries_one_identity_are_refused():
    first = WhitelistEntryFactory(plate="川A660P1", valid_from=START)

    with pytest.raises(upsert.UpsertRejected) as refused:
        upsert.upsert_entries(
            rows={
                1: {"id": first.pk, "valid_from": LATER},
                2: {"plate": "川A660P1", "valid_from": LATER},
            }
        )

    assert refused.value.errors == [
        {"row": 2, "__all__": ["This row names the same entry as row 1."]}
    ]


def test_entries_trading_identities_are_refused_with_nothing_written():
    first = WhitelistEntryFactory(plate="川A660P1", valid_from=START, holder="甲")
    second = WhitelistEntryFactory(plate="川A660P1", valid_from=LATER, holder="乙")

    with pytest.raises(upsert.UpsertRejected) as refused:
        upsert.upsert_entries(
            rows={
                1: {"id": first.pk, "valid_from": LATER},
                2: {"id": second.pk, "valid_from": START},
            },
            change_reason="调换起始时间",
        )

    assert [error["row"] for error in refused.value.errors] == [1, 2]
    assert "Change them in two steps" in refused.value.errors[0]["__all__"][0]
    assert dict(WhitelistEntry.objects.values_list("holder", "valid_from")) == {
        "甲": START,
        "乙": LATER,
    }


def test_saving_an_entry_with_a_taken_identity_raises_and_saves_nothing():
    WhitelistEntryFactory(plate="川A660P1", valid_from=START)
    twin = WhitelistEntry(plate="川A660P1", valid_from=START)

    with pytest.raises(IdentityTaken):
        save_entry(entry=twin)

    assert twin.pk is None
    assert WhitelistEntry.objects.count() == 1
