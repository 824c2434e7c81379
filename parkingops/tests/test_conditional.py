"""The validators and the preconditions of ``parkingops.conditional``, on plain requests."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from django.test import RequestFactory

from parkingops import conditional

WHEN = datetime(2026, 11, 1, 8, 30, 15, 123456, tzinfo=UTC)
ETAG = conditional.strong_etag("whitelist", 41, WHEN)


def request(method: str = "GET", **headers: str):
    return RequestFactory().generic(method, "/api/v1/whitelist/41/", **headers)


def test_a_strong_etag_is_quoted_opaque_and_the_same_for_the_same_instant():
    assert ETAG.startswith('"') and ETAG.endswith('"') and "41" not in ETAG
    china = WHEN.astimezone(timezone(timedelta(hours=8)))
    assert conditional.strong_etag("whitelist", 41, china) == ETAG  # on every host
    assert conditional.strong_etag("whitelist", 41, WHEN + timedelta(microseconds=1)) != ETAG
    assert conditional.strong_etag("whitelist", 4, "1") != conditional.strong_etag("whitelist", 41)
    assert conditional.strong_etag("\udcff") != conditional.strong_etag("")  # never raises


def test_a_weak_etag_is_the_bodys():
    assert conditional.weak_etag(b"{}") == conditional.weak_etag(b"{}")
    assert conditional.weak_etag(b"{}").startswith('W/"')
    assert conditional.weak_etag(b"{}") != conditional.weak_etag(b"[]")


def test_without_conditions_the_request_goes_on():
    assert conditional.evaluate(request(), etag=ETAG, last_modified=WHEN) is None
    assert conditional.evaluate(request("PUT"), etag=ETAG, last_modified=WHEN) is None


@pytest.mark.parametrize(
    "headers",
    [
        {"HTTP_IF_NONE_MATCH": ETAG},
        {"HTTP_IF_NONE_MATCH": f"W/{ETAG}"},  # weak comparison for If-None-Match
        {"HTTP_IF_NONE_MATCH": "*"},
        {"HTTP_IF_MODIFIED_SINCE": "Sun, 01 Nov 2026 08:30:15 GMT"},
        {"HTTP_IF_MODIFIED_SINCE": "Sun, 01 Nov 2026 08:30:15 GMT", "HTTP_IF_MATCH": ETAG},
    ],
)
def test_a_current_copy_is_304_with_its_validators(headers):
    answer = conditional.evaluate(request(**headers), etag=ETAG, last_modified=WHEN)

    assert answer is not None and answer.status_code == 304
    assert answer["ETag"] == ETAG
    assert answer["Last-Modified"] == "Sun, 01 Nov 2026 08:30:15 GMT"


@pytest.mark.parametrize(
    "method, headers",
    [
        ("PUT", {"HTTP_IF_MATCH": '"other"'}),
        ("PUT", {"HTTP_IF_MATCH": f"W/{ETAG}"}),  # strong comparison for If-Match
        ("PUT", {"HTTP_IF_MATCH": "garbage"}),  # names no version: matches none
        ("PUT", {"HTTP_IF_MATCH": ","}),
        ("PUT", {"HTTP_IF_NONE_MATCH": "*"}),  # "only if it does not exist"
        ("DELETE", {"HTTP_IF_UNMODIFIED_SINCE": "Sun, 01 Nov 2026 08:30:14 GMT"}),
        ("GET", {"HTTP_IF_MATCH": '"other"'}),
    ],
)
def test_a_failed_precondition_is_412(method, headers):
    with pytest.raises(conditional.PreconditionFailed) as failed:
        conditional.evaluate(request(method, **headers), etag=ETAG, last_modified=WHEN)

    assert failed.value.status_code == 412
    assert failed.value.get_codes() == "precondition_failed"


@pytest.mark.parametrize(
    "headers",
    [
        {"HTTP_IF_MATCH": ETAG},
        {"HTTP_IF_MATCH": "*"},
        {"HTTP_IF_MATCH": f'"a", {ETAG}, garbage'},
        {"HTTP_IF_MATCH": " "},  # empty: no condition
        {"HTTP_IF_UNMODIFIED_SINCE": "Sun, 01 Nov 2026 08:30:15 GMT"},
        {"HTTP_IF_UNMODIFIED_SINCE": "not a date"},  # unreadable dates are ignored
        {"HTTP_IF_MODIFIED_SINCE": "Sun, 01 Nov 2026 08:30:15 GMT"},  # reads only
        {"HTTP_IF_NONE_MATCH": '"other"'},
    ],
)
def test_a_change_whose_preconditions_hold_goes_on(headers):
    assert conditional.evaluate(request("PATCH", **headers), etag=ETAG, last_modified=WHEN) is None
