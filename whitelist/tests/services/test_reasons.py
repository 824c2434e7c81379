"""The change-reason rule (``services.reasons``): which changes need a reason, and what a
reason may be. Plain objects: the rule reads no database."""

from datetime import UTC, datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from whitelist.models import WhitelistEntry
from whitelist.services.reasons import (
    REASON_MAX_LENGTH,
    ReasonRequired,
    changed,
    clean_reason,
    needs_reason,
)

JAN, FEB, MAR, APR = (datetime(2026, month, 1, tzinfo=UTC) for month in (1, 2, 3, 4))


def entry(**values) -> WhitelistEntry:
    fields = {
        "plate": "川A660P1",
        "park_uuid": "",
        "valid_from": FEB,
        "valid_until": MAR,
        "is_active": True,
        "holder": "张三",
    }
    return WhitelistEntry(**{**fields, **values})


@pytest.mark.parametrize(
    "change",
    [
        {"is_active": False},
        {"valid_until": datetime(2026, 2, 15, tzinfo=UTC)},  # ends earlier
        {"valid_from": datetime(2026, 2, 15, tzinfo=UTC)},  # starts later
        {"park_uuid": "park-1"},  # all parks to one
        {"plate": "川B00002"},  # the old plate loses its entry
    ],
)
def test_disabling_shortening_or_narrowing_needs_a_reason(change):
    old = entry()
    assert needs_reason(old, changed(old, **change))


def test_an_open_end_becoming_closed_needs_a_reason():
    old = entry(valid_until=None)
    assert needs_reason(old, changed(old, valid_until=APR))


def test_moving_to_another_park_needs_a_reason_and_to_all_parks_does_not():
    old = entry(park_uuid="park-1")
    assert needs_reason(old, changed(old, park_uuid="park-2"))
    assert not needs_reason(old, changed(old, park_uuid=""))


@pytest.mark.parametrize(
    "change",
    [
        {},
        {"holder": "李四", "note": "换人"},
        {"is_active": True},
        {"valid_until": APR},  # ends later
        {"valid_until": None},  # no end any more
        {"valid_from": JAN},  # starts earlier
        {"valid_from": JAN, "valid_until": APR},
    ],
)
def test_other_or_widening_changes_need_none(change):
    old = entry()
    assert not needs_reason(old, changed(old, **change))


def test_enabling_a_disabled_entry_needs_none_and_adding_needs_none_deleting_does():
    old = entry(is_active=False)
    assert not needs_reason(old, changed(old, is_active=True))
    assert not needs_reason(None, entry())
    assert needs_reason(entry(), None)


def test_changed_leaves_the_entry_it_copies_alone():
    old = entry()
    changed(old, is_active=False)
    assert old.is_active


def test_a_reason_is_kept_trimmed_on_one_line_without_control_characters():
    assert clean_reason("  车主\n退租\t\x00 ", required=True) == "车主 退租"
    assert clean_reason("车主\x00退租", required=True) == "车主 退租"
    assert clean_reason(None, required=False) == ""


@pytest.mark.parametrize("blank", ["", "   ", "\n\t \u3000", "\x00\x01"])
def test_a_blank_reason_is_refused_when_one_is_needed(blank):
    with pytest.raises(ReasonRequired), translation.override("zh-hans"):
        try:
            clean_reason(blank, required=True)
        except ReasonRequired as error:
            assert error.messages == ["请填写变更原因：此次变更会停用、删除或缩短白名单条目。"]
            raise
    assert clean_reason(blank, required=False) == ""


def test_a_reason_longer_than_the_history_keeps_is_refused_with_its_length():
    assert clean_reason("因" * REASON_MAX_LENGTH, required=True) == "因" * REASON_MAX_LENGTH
    with translation.override("zh-hans"), pytest.raises(ValidationError) as refused:
        clean_reason("x" * 10_000, required=False)
    assert refused.value.messages == ["变更原因最多 100 个字符（现有 10000 个）。"]
