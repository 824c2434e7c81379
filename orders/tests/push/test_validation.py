"""Validating a decoded push's fields: orders.push.validation, with no database."""

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import translation

from conftest import SAMPLE_COUPON, SAMPLE_DISCOUNT
from orders.push.kinds import KINDS
from orders.push.validation import InvalidField, field_label, validate_push

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
NOW = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
NOW_MS = int(NOW.timestamp() * 1000)
CHINA = ZoneInfo("Asia/Shanghai")


def base(**changes):
    """A decoded push (every value a string, as a form gives them) with ``changes``."""
    payload = {
        "app_id": "op00961963581daa7",
        "park_uuid": "49f0cc52-e8c7-41e3-b54d-af666b8cc11a",
        "park_name": "P云支付体验-停车场",
        "parking_serial": "591668151763415041",
        "pay_serial": "20210421164242075523115813",
        "pay_value": "100",
        "pay_time": str(NOW_MS - 60_000),
        "plate": "川A660P1",
        "channel": "200102",
        "identity": "5aeV05nlt6/ig4LplITisYg=",
        "sign_type": "MD5",
        "timestamp": str(NOW_MS),
        "sign": "F13D21E00DCC8DA7D574F68F1E7EC54A",
        "discounts": "[]",
    }
    payload.update(changes)
    return {key: value for key, value in payload.items() if value is not DROP}


DROP = object()


def invalid(payload) -> InvalidField:
    with pytest.raises(InvalidField) as excinfo:
        validate_push(payload, now=NOW)
    return excinfo.value


def test_the_seed_sample_is_valid_and_normalised():
    data = validate_push(base(plate="川a 660p1"), now=NOW)

    assert data.plate == "川A660P1"
    assert data.plate_raw == "川a 660p1"
    assert data.pay_value == 100
    assert data.pay_time == NOW - timedelta(minutes=1)
    assert data.discounts == data.mcoupons == []
    assert data.extra == {}


@pytest.mark.parametrize(
    "field",
    ["park_uuid", "park_name", "parking_serial", "pay_serial", "pay_value", "pay_time", "plate"]
    + ["channel"],
)
def test_a_required_field_missing_empty_or_blank_is_named(field):
    for value in (DROP, "", None, "   "):
        error = invalid(base(**{field: value}))
        assert error.field == field, value
        assert str(error).startswith(f"{field}: ")


@pytest.mark.parametrize(
    "value, expected",
    [(0, 0), ("0", 0), ("100", 100), (10**10, 10**10), (str(10**10), 10**10), ("007", 7)],
)
def test_pay_value_accepts_fen_from_zero_to_ten_billion(value, expected):
    assert validate_push(base(pay_value=value), now=NOW).pay_value == expected


@pytest.mark.parametrize(
    "value",
    [
        10**10 + 1,
        str(10**10 + 1),
        "9" * 5000,
        "1.00",
        "-5",
        -5,
        "abc",
        " 5",
        "5 ",
        "+5",
        "1e3",
        "５",  # full-width digit
        "٥",  # Arabic-Indic digit
        1.0,
        100.5,
        True,
        False,
        [],
        {},
    ],
)
def test_pay_value_refuses_anything_but_digits_in_range(value):
    assert invalid(base(pay_value=value)).field == "pay_value"


def test_pay_time_edges_are_2000_01_01_china_time_and_one_day_after_now():
    earliest = int(datetime(2000, 1, 1, tzinfo=CHINA).timestamp() * 1000)
    latest = NOW_MS + 24 * 3600 * 1000

    assert validate_push(base(pay_time=str(earliest)), now=NOW).pay_time_ms == earliest
    assert validate_push(base(pay_time=latest), now=NOW).pay_time_ms == latest
    assert invalid(base(pay_time=str(earliest - 1))).field == "pay_time"
    assert invalid(base(pay_time=str(latest + 1))).field == "pay_time"


@pytest.mark.parametrize("value", ["253402300799999", 253402300799999, "4102415999999" + "0"])
def test_pay_time_past_the_products_span_is_refused_naming_the_field(value):
    later = NOW.replace(year=2099, month=12, day=31)

    assert invalid(base(pay_time=value)).field == "pay_time"
    with pytest.raises(InvalidField, match="^pay_time: .*2000-01-01"):
        validate_push(base(pay_time=value), now=later)


@pytest.mark.parametrize("value", ["0", "1618994563", "1618994563000.0", "-1", 1.6e12, "x"])
def test_pay_time_refuses_seconds_floats_and_text(value):
    assert invalid(base(pay_time=value)).field == "pay_time"


@pytest.mark.parametrize(
    "field, limit", [("park_uuid", 64), ("parking_serial", 64), ("pay_serial", 64)]
)
def test_identifiers_are_at_most_64_characters(field, limit):
    assert getattr(validate_push(base(**{field: "x" * limit}), now=NOW), field) == "x" * limit
    assert invalid(base(**{field: "x" * (limit + 1)})).field == field


def test_park_name_is_at_most_128_characters():
    assert validate_push(base(park_name="停" * 128), now=NOW).park_name == "停" * 128
    assert invalid(base(park_name="停" * 129)).field == "park_name"


def test_plate_is_at_most_16_characters_after_normalisation():
    sixteen = "川A" + "1" * 14
    spaced = " · ".join(sixteen)  # long as given, 16 once separators are gone

    assert validate_push(base(plate=spaced), now=NOW).plate == sixteen
    assert validate_push(base(plate=spaced), now=NOW).plate_raw == spaced
    assert invalid(base(plate=sixteen + "1")).field == "plate"
    assert invalid(base(plate="·-•")).field == "plate"


def test_the_push_only_normalises_the_plate_it_does_not_validate_it():
    assert validate_push(base(plate="hk-12 34"), now=NOW).plate == "HK1234"


def test_identity_is_optional():
    assert validate_push(base(identity=DROP), now=NOW).identity == ""
    assert validate_push(base(identity=""), now=NOW).identity == ""
    assert validate_push(base(identity=None), now=NOW).identity == ""


def test_json_numbers_in_text_fields_are_taken_as_their_text():
    data = validate_push(base(channel=200102, parking_serial=591668151763415041), now=NOW)

    assert data.channel == "200102"
    assert data.parking_serial == "591668151763415041"


@pytest.mark.parametrize("field", ["park_uuid", "pay_serial", "channel", "plate"])
def test_json_objects_lists_and_booleans_in_text_fields_are_invalid(field):
    for value in ({"a": 1}, ["a"], True):
        assert invalid(base(**{field: value})).field == field


def test_unknown_top_level_fields_are_kept_verbatim_and_protocol_fields_are_not():
    data = validate_push(
        base(car_type="1", extra_note="", nested={"a": [1, "二"]}, n=None), now=NOW
    )

    assert data.extra == {"car_type": "1", "extra_note": "", "nested": {"a": [1, "二"]}, "n": None}


DISCOUNT, COUPON = SAMPLE_DISCOUNT, SAMPLE_COUPON


def test_discounts_and_coupons_arrive_as_json_strings_or_real_lists_alike():
    as_strings = validate_push(
        base(discounts=json.dumps([DISCOUNT]), mcoupons=json.dumps([COUPON])), now=NOW
    )
    as_lists = validate_push(base(discounts=[DISCOUNT], mcoupons=[COUPON]), now=NOW)

    assert as_strings.discounts == as_lists.discounts
    assert as_strings.mcoupons == as_lists.mcoupons
    assert as_strings.discounts[0]["relief_value"] == 500
    assert as_strings.mcoupons[0]["coupon_type"] == 1
    assert as_strings.fingerprint() == as_lists.fingerprint()


@pytest.mark.parametrize("empty", [DROP, "", None, "[]", [], "null"])
def test_discounts_and_coupons_are_optional(empty):
    data = validate_push(base(discounts=empty, mcoupons=empty), now=NOW)

    assert data.discounts == data.mcoupons == []


def test_the_platforms_own_example_with_numbers_inside_a_discount_is_valid():
    discount = {**DISCOUNT, "relief_value": 10, "relief_amount": 1, "type": 1}

    (stored,) = validate_push(base(discounts=[discount]), now=NOW).discounts

    assert stored["relief_value"] == 10
    assert stored["type"] == "1"


@pytest.mark.parametrize(
    "discounts, field",
    [
        ([{**DISCOUNT, "relief_value": "-1"}], "discounts[0].relief_value"),
        ([{**DISCOUNT, "relief_value": "5.00"}], "discounts[0].relief_value"),
        ([{**DISCOUNT, "relief_value": 1.5}], "discounts[0].relief_value"),
        ([{**DISCOUNT, "relief_value": True}], "discounts[0].relief_value"),
        ([DISCOUNT, {**DISCOUNT, "relief_amount": "x"}], "discounts[1].relief_amount"),
        ([{**DISCOUNT, "relief_value": 10**10 + 1}], "discounts[0].relief_value"),
        (["not an object"], "discounts[0]"),
        ([None], "discounts[0]"),
        ({"type": "1"}, "discounts"),
        ("{}", "discounts"),
        ("[", "discounts"),
        ('"[]"', "discounts"),
        (7, "discounts"),
        ('[{"a": "x\\u0000"}]', "discounts"),  # NUL inside the JSON string of a form
        ('[{"a": 1e999}]', "discounts"),
    ],
)
def test_a_bad_discount_is_named_by_its_path(discounts, field):
    assert invalid(base(discounts=discounts)).field == field


@pytest.mark.parametrize(
    "coupon, field",
    [
        ({**COUPON, "coupon_value": "-1"}, "mcoupons[0].coupon_value"),
        ({**COUPON, "coupon_value": "ten"}, "mcoupons[0].coupon_value"),
        ({**COUPON, "coupon_type": "one"}, "mcoupons[0].coupon_type"),
        ({**COUPON, "coupon_type": 1.5}, "mcoupons[0].coupon_type"),
        ({**COUPON, "coupon_type": 2**31}, "mcoupons[0].coupon_type"),
        ({**COUPON, "coupon_type": False}, "mcoupons[0].coupon_type"),
    ],
)
def test_a_bad_coupon_is_named_by_its_path(coupon, field):
    assert invalid(base(mcoupons=[coupon])).field == field


def test_the_message_names_the_field_in_english():
    assert str(invalid(base(discounts=[{**DISCOUNT, "relief_value": "-1"}]))) == (
        "discounts[0].relief_value: must be a non-negative integer (decimal digits only)"
    )
    assert str(invalid(base(pay_value="1.00"))).startswith("pay_value: must be a non-negative")


def test_unknown_coupon_type_is_kept_and_documented_keys_may_be_missing_or_empty():
    (coupon,) = validate_push(base(mcoupons=[{"coupon_type": "7"}]), now=NOW).mcoupons
    (discount,) = validate_push(base(discounts=[{**DISCOUNT, "mobile": ""}]), now=NOW).discounts
    (bare,) = validate_push(base(discounts=[{}]), now=NOW).discounts

    assert coupon["coupon_type"] == 7
    assert coupon["coupon_value"] == 0
    assert coupon["coupon_name"] == ""
    assert discount["mobile"] == ""
    assert bare == {
        "type": "",
        "token": "",
        "openid": "",
        "mobile": "",
        "relief_amount": 0,
        "relief_value": 0,
        "extra": {},
    }


def test_unknown_nested_keys_are_kept_in_extra():
    (discount,) = validate_push(base(discounts=[{**DISCOUNT, "note": {"a": 1}}]), now=NOW).discounts
    (coupon,) = validate_push(base(mcoupons=[{**COUPON, "batch": "B1"}]), now=NOW).mcoupons

    assert discount["extra"] == {"note": {"a": 1}}
    assert coupon["extra"] == {"batch": "B1"}


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("1618994000000", datetime(2021, 4, 21, 8, 33, 20, tzinfo=UTC)),
        (1618994000000, datetime(2021, 4, 21, 8, 33, 20, tzinfo=UTC)),
        ("2021-04-21 16:33:20", datetime(2021, 4, 21, 8, 33, 20, tzinfo=UTC)),
        ("2021-04-21T16:33:20", None),
        ("yesterday", None),
        ("", None),
        ("0001-01-01 00:00:00", None),  # year 0 in UTC: no database stores it
        ("9" * 15, None),
        ("9" * 16, None),
        # Outside the product's span (parkingops.timerange): kept raw, never parsed.
        ("253402300799999", None),  # year 9999 in UTC, year 10000 in China time
        ("9999-12-31 23:59:59", None),
        ("1999-12-31 23:59:59", None),
        ("946655999999", None),  # 1 ms before 2000-01-01 China time
        ("946656000000", datetime(2000, 1, 1, tzinfo=CHINA)),
        ("2099-12-31 23:59:59", datetime(2099, 12, 31, 23, 59, 59, tzinfo=CHINA)),
        ("2100-01-01 00:00:00", None),
    ],
)
def test_grant_time_is_kept_raw_and_parsed_when_it_can_be(raw, expected):
    (coupon,) = validate_push(base(mcoupons=[{**COUPON, "grant_time": raw}]), now=NOW).mcoupons

    assert coupon["grant_time_raw"] == str(raw)
    assert coupon["grant_time"] == expected


def test_same_content_in_other_encodings_has_the_same_fingerprint():
    form = validate_push(base(plate="川a 660p1", discounts=json.dumps([DISCOUNT])), now=NOW)
    as_json = validate_push(
        base(
            pay_value=100,
            pay_time=NOW_MS - 60_000,
            discounts=[{**DISCOUNT, "relief_value": 500, "relief_amount": 1}],
            timestamp="1",
            sign="other",
            park_name="a new name",
            unknown="extra",
        ),
        now=NOW,
    )

    assert form.fingerprint() == as_json.fingerprint()


@pytest.mark.parametrize(
    "change",
    [
        {"pay_value": "101"},
        {"pay_time": str(NOW_MS)},
        {"plate": "川A660P2"},
        {"park_uuid": "other"},
        {"parking_serial": "1"},
        {"channel": "200103"},
        {"identity": ""},
        {"discounts": json.dumps([DISCOUNT])},
        {"mcoupons": json.dumps([COUPON])},
    ],
)
def test_other_business_content_has_another_fingerprint(change):
    assert validate_push(base(**change), now=NOW).fingerprint() != (
        validate_push(base(), now=NOW).fingerprint()
    )


# --- No field inside another (PUSH_PROTOCOL.md, Hardening) -----------------------------------


@pytest.mark.parametrize(
    "changes, field",
    [
        # The probe: a captured push re-sent with the other fields moved into one value.
        ({"park_name": "P云&channel=200102&discounts=[]&identity=x"}, "park_name"),
        ({"identity": "x&pay_value=1"}, "identity"),
        ({"plate": "川A660P1&sign_type=MD5"}, "plate"),
        ({"x_note": "a&timestamp=1"}, "x_note"),
        ({"discounts": json.dumps([{**SAMPLE_DISCOUNT, "type": "1&plate=B"}])}, "discounts"),
        ({"discounts": [{**SAMPLE_DISCOUNT, "token": "t&app_id=op"}]}, "discounts"),
        ({"x&channel": "200102"}, "x&channel"),
    ],
)
def test_a_value_holding_another_documented_field_is_refused_naming_it(changes, field):
    error = invalid(base(**changes))

    assert error.field == field
    assert "would sign as another field" in str(error)


@pytest.mark.parametrize(
    "changes",
    [
        {"park_name": "A&B停车场"},
        {"park_name": "A & B"},
        {"identity": "a=b&c"},
        {"x_note": "&unknown=1"},  # not a field of the push
        {"x_note": "&Channel=1"},  # names are case-sensitive: not the field channel
        {"x=y": "1"},
    ],
)
def test_ordinary_ampersands_and_equals_signs_are_fine(changes):
    assert validate_push(base(**changes), now=NOW).pay_serial


# --- Naming a field for staff ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "chinese"),
    [
        ("pay_time", "支付时间"),
        ("park_uuid", "车场编号"),
        ("discounts", "优惠"),
        ("discounts[0].relief_value", "优惠 › 第 1 项 › 抵扣金额（分）"),
        ("mcoupons[12].grant_time", "商户券 › 第 13 项 › 发券时间"),
    ],
)
def test_a_fields_path_is_named_by_the_serializers_labels(path, chinese):
    with translation.override("zh-hans"):
        assert field_label(path) == chinese


def test_every_business_field_has_a_label_of_its_own():
    # DRF would make one up from the name ("Pay time"): each must be given, and translated.
    from orders.push.validation import PayOrderPushSerializer

    serializer = PayOrderPushSerializer()
    fields = list(serializer.fields.values())
    for nested in ("discounts", "mcoupons"):
        fields += list(serializer.fields[nested].child.fields.values())
    with translation.override("zh-hans"):
        for field in fields:
            assert any("\u4e00" <= char <= "\u9fff" for char in str(field.label)) or str(
                field.label
            ) in {"OpenID"}, field.field_name


@pytest.mark.parametrize("kind", list(KINDS))
def test_every_kinds_fields_have_chinese_labels(kind):
    # An invalid field of an entry, exit or renewal push is named by its kind's labels too.
    with translation.override("zh-hans"):
        for name, field in KINDS[kind].fields().fields.items():
            assert any("\u4e00" <= char <= "\u9fff" for char in str(field.label)), (kind, name)


def test_an_exit_pushs_field_is_named_by_the_exits_labels():
    with translation.override("zh-hans"):
        assert field_label("leave_time", serializer_class=KINDS["exit"].fields) == "离场时间"
        # Not a pay-order field: the pay order's labels do not know it.
        assert field_label("leave_time") is None


@pytest.mark.parametrize(
    "path",
    [
        "",
        "x&channel",
        "app_id",
        "discounts[0].nope",
        "pay_time.x",
        "discounts.[0]",
        "[0]",
        "discounts[0]relief_value",
        "discounts[99999999999]",
        "discounts[0].relief_value.x",
        "\x00",
    ],
)
def test_a_path_the_push_does_not_define_has_no_label(path):
    assert field_label(path) is None


def test_the_invalid_fields_path_is_what_the_log_names():
    refused = invalid(base(discounts=[{"relief_value": "x"}]))

    assert refused.field == "discounts[0].relief_value"
    assert field_label(refused.field) is not None
