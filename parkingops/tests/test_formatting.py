"""Money, times, masking, day parsing and push-body display: plain functions, plain asserts."""

from datetime import UTC, date, datetime
from urllib.parse import urlencode

import pytest
from django.utils import translation

from parkingops.formatting import (
    china_time,
    fen_to_yuan,
    hours_minutes,
    mask_mobile,
    mask_mobiles,
    mask_mobiles_in_text,
    parse_day,
    pretty_push_body,
    yuan,
)
from parkingops.timerange import FIRST_DAY, LAST_DAY


@pytest.mark.parametrize(
    ("fen", "plain", "shown"),
    [
        (0, "0.00", "¥0.00"),
        (1, "0.01", "¥0.01"),
        (1250, "12.50", "¥12.50"),
        (123456789, "1234567.89", "¥1,234,567.89"),
        (None, "0.00", "¥0.00"),
        (10**10, "100000000.00", "¥100,000,000.00"),
    ],
)
def test_fen_become_yuan_with_two_decimals_without_floats(fen, plain, shown):
    assert fen_to_yuan(fen) == plain
    assert yuan(fen) == shown


@pytest.mark.parametrize(
    ("mobile", "masked"),
    [
        ("13800138000", "138****8000"),
        (" 13800138000 ", "138****8000"),
        ("+8613800138000", "+86****8000"),
        ("1234567", "1*****7"),
        ("12", "**"),
        ("", ""),
        (None, ""),
    ],
)
def test_mobile_numbers_are_masked_in_the_middle(mobile, masked):
    assert mask_mobile(mobile) == masked


@pytest.mark.parametrize(
    ("seconds", "english", "chinese"),
    [
        (7500, "2 h 05 min", "2 小时 05 分"),
        (29.9, "0 h 00 min", "0 小时 00 分"),  # to the nearest minute
        (3599.5, "1 h 00 min", "1 小时 00 分"),
        (90_000, "25 h 00 min", "25 小时 00 分"),  # hours, never days
        (None, "—", "—"),
    ],
)
def test_a_length_of_time_is_shown_in_hours_and_minutes(seconds, english, chinese):
    with translation.override("en"):
        assert hours_minutes(seconds) == english
    with translation.override("zh-hans"):
        assert hours_minutes(seconds) == chinese


def test_times_are_shown_in_china_time():
    assert china_time(datetime(2026, 10, 31, 16, 0, 0, tzinfo=UTC)) == "2026-11-01 00:00:00"
    assert china_time(None) == ""


@translation.override("en")
def test_a_day_is_read_as_yyyy_mm_dd_or_refused_with_the_expected_form():
    assert parse_day(" 2026-11-01 ") == date(2026, 11, 1)
    with pytest.raises(ValueError, match="“2026-02-30” is not a date: use YYYY-MM-DD"):
        parse_day("2026-02-30")
    with pytest.raises(ValueError, match="use YYYY-MM-DD"):
        parse_day("01/11/2026")


def test_a_json_body_is_indented_with_mobiles_masked_at_any_depth():
    body = (
        '{"plate":"川A660P1","discounts":[{"mobile":"13800138000","x":{"mobile":"13912345678"}}]}'
    )

    shown = pretty_push_body(body, "application/json; charset=utf-8")

    assert shown.startswith('{\n  "plate": "川A660P1",\n  "discounts": [\n')
    assert '"mobile": "138****8000"' in shown
    assert '"mobile": "139****5678"' in shown
    assert "13800138000" not in shown
    assert '"mobile": "13800138000"' in pretty_push_body(body, "application/json", mask=False)


def test_a_form_body_is_decoded_key_value_lines_with_embedded_json_indented():
    body = urlencode(
        {
            "park_name": "南门 停车场",
            "discounts": '[{"mobile":"13800138000","relief_value":"100"}]',
            "mcoupons": "[not json",
        }
    )

    shown = pretty_push_body(body, "application/x-www-form-urlencoded")

    lines = shown.split("\n")
    assert lines[0] == "park_name = 南门 停车场"
    assert lines[1] == "discounts = ["
    assert '    "mobile": "138****8000",' in lines
    assert lines[-1] == "mcoupons = [not json"


def test_an_unreadable_body_is_shown_as_it_was_received():
    assert pretty_push_body("{broken", "application/json") == "{broken"
    assert pretty_push_body("plain text", "text/plain") == "plain text"


@pytest.mark.parametrize("text", ["0001-01-01", "1999-12-31", "2100-01-01", "9999-12-31"])
def test_parse_day_refuses_days_outside_the_products_span(text):
    with translation.override("en"), pytest.raises(ValueError, match="2000-01-01 and 2099-12-31"):
        parse_day(text)


@pytest.mark.parametrize("day", [FIRST_DAY, LAST_DAY])
def test_parse_day_takes_the_first_and_last_day_of_the_products_span(day):
    assert parse_day(day.isoformat()) == day


@pytest.mark.parametrize(
    "url",
    [
        "/admin/orders/summary/daily/?from=0001-01-01&to=0001-01-02",
        "/admin/orders/summary/daily/?from=9999-12-30&to=9999-12-31",
        "/admin/orders/payorder/?pay_date_from=0001-01-01",
        "/admin/orders/payorder/?pay_date_to=9999-12-31",
    ],
)
def test_admin_pages_answer_extreme_dates_with_a_message_not_a_500(admin_client, url):
    response = admin_client.get(url, HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code in (200, 400)  # the list shows it, the summary refuses it
    assert "out of range" in response.content.decode()


# --- Masking by content: whatever the shape of the text ---------------------------------------

MOBILE = "13800138000"


@pytest.mark.parametrize(
    "body, content_type",
    [
        # discounts as a JSON-encoded string inside a JSON body
        ('{"discounts":"[{\\"mobile\\":\\"13800138000\\"}]"}', "application/json"),
        # leading spaces, in the body and inside the embedded JSON
        ('   {"discounts": "  [{\\"mobile\\": \\"13800138000\\"}]"}', "application/json"),
        (
            urlencode({"discounts": '  [{"mobile":"13800138000"}]'}),
            "application/x-www-form-urlencoded",
        ),
        # a body cut at 64 KiB that no longer parses, in both encodings
        ('{"discounts":[{"mobile":"13800138000","relief_value":1', "application/json"),
        ('{"discounts":"[{\\"mobile\\":\\"13800138000', "application/json"),
        (
            "discounts=%5B%7B%22mobile%22%3A%2213800138000%22%2C%22",
            "application/x-www-form-urlencoded",
        ),
        ("discounts=%5B%7B%22mobile%22%3A%2213800138000%22", "text/plain"),
        # a mobile number under any other key, or in free text, with +86 and separators
        ('{"x_note":"call +86 138-0013-8000"}', "application/json"),
        ('{"x_contact":13800138000}', "application/json"),
        ("remark=8613800138000", "application/x-www-form-urlencoded"),
        ("mobile=13800138000&plate=x", "application/weird"),
    ],
)
def test_a_mobile_number_is_masked_whatever_the_shape_of_the_body(body, content_type):
    shown = pretty_push_body(body, content_type)

    assert "0013" not in shown.replace("-", "").replace(" ", "")
    assert "****" in shown


def test_any_value_under_a_mobile_key_is_masked_even_when_not_a_mobile_number():
    assert mask_mobiles_in_text('{"mobile": "12345"}') == '{"mobile": "1***5"}'
    assert mask_mobiles_in_text("mobile = 0871-6543210") == "mobile = 087****3210"
    assert mask_mobiles_in_text('{"Mobile":"13800138000"}') == '{"Mobile":"138****8000"}'
    assert mask_mobiles_in_text('{"mobile": null}') == '{"mobile": null}'


def test_serials_times_and_amounts_are_not_mistaken_for_mobile_numbers():
    text = (
        "pay_serial = 20210421164242075523115813\nparking_serial = 591668151763415041\n"
        "pay_time = 1618994563000\npay_value = 13800138000000\nautomobile = 1\n"
    )

    assert mask_mobiles_in_text(text) == text


def test_a_json_encoded_string_in_a_json_body_is_shown_decoded_and_indented():
    body = '{"discounts":"[{\\"mobile\\":\\"13800138000\\",\\"relief_value\\":\\"1\\"}]"}'

    shown = pretty_push_body(body, "application/json")

    assert '      "mobile": "138****8000",' in shown
    assert '"mobile": "13800138000"' in pretty_push_body(body, "application/json", mask=False)


def test_structures_are_masked_in_mobile_entries_numbers_and_text():
    value = {"mobile": 13800138000, "x": ["tel 13912345678", 13700000000, 1618994563000, True]}

    assert mask_mobiles(value) == {
        "mobile": "138****8000",
        "x": ["tel 139****5678", "137****0000", 1618994563000, True],
    }
