"""Plate normalisation (the protocol's rule) and mainland plate validation (the admin's)."""

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from whitelist import plates


@pytest.mark.parametrize(
    "raw",
    [
        "川A660P1",
        "川a 660p1",
        "川Ａ·660P1",
        "川A•660P1",
        "川A-660P1",
        "川A\u3000660P1",  # ideographic (full-width) space
        "川A－660P1",  # full-width hyphen
        " 川 a\t6 6 0 p 1\n",
        "川ａ６６０ｐ１",  # full-width lower-case letters and digits
        "川A·-•660P1",
    ],
)
def test_normalise_gives_the_stored_form(raw):
    assert plates.normalise(raw) == "川A660P1"


def test_normalise_keeps_chinese_characters_and_other_text_as_they_are():
    assert plates.normalise("粤Z1234港") == "粤Z1234港"
    assert plates.normalise("使123456") == "使123456"
    assert plates.normalise("") == ""
    assert plates.normalise("·-•") == ""


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("京A12345", "京A12345"),
        ("沪b 6789c", "沪B6789C"),
        ("粤BD12345", "粤BD12345"),  # new energy, small car: energy letter first
        ("粤B12345D", "粤B12345D"),  # new energy, large car: energy letter last
        ("川AF1234", "川AF1234"),
        ("鲁A1234挂", "鲁A1234挂"),
        ("京A1234学", "京A1234学"),
        ("京A1234警", "京A1234警"),
        ("粤Z1234港", "粤Z1234港"),
        ("粤Z1234澳", "粤Z1234澳"),
        ("京A1234领", "京A1234领"),
        ("使123456", "使123456"),
        ("123456使", "123456使"),
        ("川Ａ·660P1", "川A660P1"),
    ],
)
def test_validate_accepts_mainland_formats_and_returns_the_normal_form(raw, expected):
    assert plates.validate(raw) == expected


def _message(raw: str) -> str:
    with pytest.raises(ValidationError) as excinfo, translation.override("en"):
        plates.validate(raw)
    error = excinfo.value
    with translation.override("en"):
        return str(error.message) % (error.params or {})


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("", "Enter a plate number."),
        (" · ", "Enter a plate number."),
        ("川A" + "1" * 15, "A plate has at most 16 characters; “川A111111111111111” has 17."),
        ("XA12345", "“XA12345” does not start with a province abbreviation"),
        ("AB12345", "does not start with a province abbreviation such as 京, 沪 or 粤"),
        ("川A1234", "“川A1234” has 6 characters; a plate has 7 (standard) or 8 (new energy)."),
        ("川A1234567", "has 9 characters"),
        ("川AI2345", "“川AI2345” is not a valid plate"),  # no I
        ("川AO2345", "no I or O"),  # no O
        ("川1A2345", "is not a valid plate"),  # the region is a letter
        ("粤BZ12345", "is not a valid plate"),  # Z is not an energy letter
        ("粤B1234D5", "is not a valid plate"),  # new energy: digits around the letter
        ("京A1234使", "is not a valid plate"),  # 使 is a prefix/suffix of embassy plates only
        ("使12345", "“使12345” has 6 characters"),
    ],
)
def test_validate_refuses_with_a_message_saying_why(raw, expected):
    assert expected in _message(raw)


def test_validate_refuses_full_width_digits_only_after_normalising_them():
    assert plates.validate("京Ａ１２３４５") == "京A12345"
    # Other Unicode digits are not plate digits (a regex's \\d would let them in).
    with pytest.raises(ValidationError):
        plates.validate("京A١٢٣٤٥")


def test_the_maximum_length_is_sixteen():
    assert plates.MAX_LENGTH == 16
