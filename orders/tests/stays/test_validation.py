"""orders.stays.validation: the fields of the entry, exit and renewal pushes, plain calls."""

from datetime import timedelta

import pytest

from orders.push.validation import InvalidField
from orders.stays import validation
from orders.tests.stays.conftest import NOW, build, ms

APP = "op00961963581daa7"


def entry(**fields):
    return validation.validate_entry(build("entry", app_id=APP, **fields), now=NOW)


def renewal(**fields):
    return validation.validate_renewal(build("renewal", app_id=APP, **fields), now=NOW)


def test_the_same_content_in_any_encoding_has_one_fingerprint():
    as_form = entry(plate="川a 660p1", car_type="2")
    as_json = entry(plate="川A660P1", car_type=2, timestamp="1", total_space=3, remain_space=0)

    assert as_form.fingerprint == as_json.fingerprint
    assert as_form.plate == "川A660P1"
    assert entry(car_type="3").fingerprint != as_form.fingerprint


def test_a_position_of_minus_one_is_unknown_and_numbers_are_read():
    data = entry(latitude="-1.0", longitude=104.5)

    assert (data.fields["latitude"], data.fields["longitude"]) == (None, 104.5)


@pytest.mark.parametrize("value", ["nan", "1e3", "", None])
def test_a_position_is_a_plain_decimal_or_absent(value):
    if value in ("", None):
        assert entry(latitude=value).fields["latitude"] is None
    else:
        with pytest.raises(InvalidField, match="^latitude: "):
            entry(latitude=value)


def test_unknown_codes_are_stored_and_optional_codes_may_be_empty():
    data = entry(plate_color="42", car_type="", vehicle_type="-1")

    assert (data.fields["plate_color"], data.fields["car_type"]) == (42, None)
    assert data.fields["vehicle_type"] == -1


def test_a_renewal_period_may_lie_ahead_but_must_end_after_it_starts():
    paid = ms(NOW - timedelta(minutes=1))
    year = renewal(pay_time_ms=paid, vip_type=5, quantity=365)
    assert year.fields["end_time"] - year.fields["start_time"] == 365 * 86_400_000

    with pytest.raises(InvalidField, match="^end_time: must be after start_time"):
        renewal(start_time=str(paid), end_time=str(paid))


@pytest.mark.parametrize("vip_type", [1, 4, 5, 6, 7])
def test_time_based_renewals_need_their_period(vip_type):
    params = build("renewal", app_id=APP, vip_type=vip_type)
    del params["start_time"]

    with pytest.raises(InvalidField, match="^start_time: is required"):
        validation.validate_renewal(params, now=NOW)


def test_the_event_time_is_the_kinds_own():
    data = validation.validate_exit(build("exit", app_id=APP), now=NOW)

    assert data.event_time_ms == data.fields["leave_time"]
    assert renewal().event_time_ms == renewal().fields["pay_time"]
