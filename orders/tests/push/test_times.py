"""Reading the push's times inside the product's span: orders.push.times, with no database."""

from datetime import UTC, datetime

import pytest

from orders.push import times
from parkingops import timerange


@pytest.mark.parametrize(
    "value, expected",
    [
        ("1618994563000", datetime(2021, 4, 21, 8, 42, 43, tzinfo=UTC)),
        (1618994563000, datetime(2021, 4, 21, 8, 42, 43, tzinfo=UTC)),
        (times.EARLIEST_MS, timerange.EARLIEST),
        (str(times.LATEST_MS), timerange.LATEST.replace(microsecond=999000)),
    ],
)
def test_ms_inside_the_span_are_read(value, expected):
    assert times.moment_from_ms(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        times.EARLIEST_MS - 1,
        times.LATEST_MS + 1,
        "253402300799999",  # year 9999 in UTC: year 10000 in China time
        "1" + "0" * 400,  # no overflow, just out of range
        10**400,
        "-1",
        "1.5",
        "１６１８９９４５６３０００",  # full-width digits
        True,
        None,
        1.6e12,
        "",
    ],
)
def test_anything_else_is_none(value):
    assert times.moment_from_ms(value) is None
