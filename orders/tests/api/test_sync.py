"""The incremental sync of orders, coupons, renewals and stays (docs/api.md#incremental-sync).

A job pulls ``ordering=received_at`` (stays: ``updated_at``) page by page to the end, keeps the
last page's ``resume`` and calls it later: it must get exactly the rows that arrived since, each
once, whatever the ties on one time, and never lose a row whose transaction committed late (the
settle horizon, ``parkingops.sync``). Real HTTP through the test client with real API keys; the
late commit with real threads and connections is in ``test_sync_concurrency``.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client
from django.utils import timezone

from orders.tests.api.test_views import key_client, make_user
from orders.tests.factories import (
    MerchantCouponFactory,
    PayOrderFactory,
    RenewalFactory,
    StayFactory,
)

READ = (
    "orders.view_payorder",
    "orders.view_merchantcoupon",
    "orders.view_stay",
    "orders.view_renewal",
)


@dataclass(frozen=True)
class Feed:
    """One list read by arrival: its URL, the sync's parameters and how to make a row."""

    url: str
    time: str  # the ordering, and the prefix of its filters (received_after, updated_after)
    key: str  # the field that names a row in the answer
    make: Callable  # make(at) -> the row's key

    def params(self, **more) -> dict[str, str]:
        return {"ordering": self.time, **more}

    @property
    def after(self) -> str:
        return self.time.replace("_at", "_after")

    @property
    def before(self) -> str:
        return self.time.replace("_at", "_before")


def _order(at) -> str:
    return PayOrderFactory(received_at=at).pay_serial


def _coupon(at) -> int:
    return MerchantCouponFactory(order=PayOrderFactory(received_at=at)).pk


def _renewal(at) -> str:
    return RenewalFactory(received_at=at).pay_serial


def _stay(at) -> str:
    return StayFactory(updated_at=at).parking_serial


FEEDS = {
    "orders": Feed("/api/v1/orders/", "received_at", "pay_serial", _order),
    "coupons": Feed("/api/v1/coupons/", "received_at", "id", _coupon),
    "renewals": Feed("/api/v1/renewals/", "received_at", "pay_serial", _renewal),
    "stays": Feed("/api/v1/stays/", "updated_at", "parking_serial", _stay),
}


@pytest.fixture(params=list(FEEDS))
def feed(request) -> Feed:
    return FEEDS[request.param]


@pytest.fixture
def reader(db) -> Client:
    return key_client(make_user(permissions=READ))


@pytest.fixture
def window(settings) -> timedelta:
    settings.API_SYNC_SETTLE_SECONDS = 60
    return timedelta(seconds=60)


def ago(**delta) -> timezone.datetime:
    return timezone.now() - timedelta(**delta)


def pull(client: Client, feed: Feed, url: str | None = None, **params) -> tuple[list, str]:
    """Follow ``next`` to the end; return the rows' keys and the last page's ``resume``."""
    keys: list = []
    response = client.get(url) if url else client.get(feed.url, feed.params(**params))
    for _ in range(100):
        assert response.status_code == 200, response.content
        body = response.json()
        keys += [row[feed.key] for row in body["results"]]
        assert body["resume"], body  # every page of a sync carries it, the last one too
        if body["next"] is None:
            return keys, body["resume"]
        response = client.get(body["next"])
    raise AssertionError("no end")


def test_paging_to_the_end_and_resuming_gets_exactly_the_new_rows(reader, feed, window):
    first = [feed.make(ago(minutes=30) + timedelta(seconds=i)) for i in range(5)]

    keys, resume = pull(reader, feed, page_size=2)
    assert keys == first

    again, resume_again = pull(reader, feed, resume)
    assert again == []  # nothing new: nothing repeated
    assert (
        parse_qs(urlsplit(resume_again).query)["cursor"]
        == parse_qs(urlsplit(resume).query)["cursor"]
    )

    new = [feed.make(ago(minutes=20) + timedelta(seconds=i)) for i in range(3)]
    keys, resume = pull(reader, feed, resume_again)
    assert keys == new
    assert pull(reader, feed, resume)[0] == []


def test_the_resume_link_keeps_the_query_and_its_page_size(reader, feed, window):
    feed.make(ago(minutes=30))

    _, resume = pull(reader, feed, page_size=7)

    query = parse_qs(urlsplit(resume).query)
    assert query["ordering"] == [feed.time] and query["page_size"] == ["7"]
    assert "cursor" in query


def test_an_empty_list_resumes_from_its_start(reader, feed, window):
    keys, resume = pull(reader, feed)
    assert keys == [] and "cursor" not in parse_qs(urlsplit(resume).query)

    row = feed.make(ago(minutes=5))
    assert pull(reader, feed, resume)[0] == [row]


def test_rows_on_one_time_are_each_served_once_across_pages(reader, feed, window):
    at = ago(minutes=30)
    tied = [feed.make(at) for _ in range(7)]

    keys, resume = pull(reader, feed, page_size=2)
    assert keys == tied  # ties broken by id

    more = [feed.make(at) for _ in range(2)]  # same time, later ids: after the cursor
    assert pull(reader, feed, resume, page_size=2)[0] == more


def test_a_row_inside_the_settle_window_waits_so_a_late_commit_is_never_missed(
    reader, feed, window, settings
):
    """SQLite's emulation of the late commit (one writer at a time): the row stamped 30 s ago
    commits after the reader read; the reader had not gone past its time."""
    old = feed.make(ago(minutes=10))
    recent = feed.make(ago(seconds=5))  # inside the window: not served yet

    keys, resume = pull(reader, feed)
    assert keys == [old]

    late = feed.make(ago(seconds=30))  # stamped before ``recent``, committed after the read
    assert pull(reader, feed, resume)[0] == []  # both still inside the window

    settings.API_SYNC_SETTLE_SECONDS = 1  # the window has passed for both
    keys, _ = pull(reader, feed, resume)
    assert keys == [late, recent]


def test_the_other_orderings_are_not_held_back(reader, feed, window):
    fresh = feed.make(ago(seconds=1))

    response = reader.get(feed.url)

    assert response.status_code == 200
    body = response.json()
    assert [row[feed.key] for row in body["results"]] == [fresh]
    assert "resume" not in body


def test_the_arrival_filters_bound_the_sync(reader, feed, window):
    early = feed.make(ago(hours=3))
    middle = feed.make(ago(hours=2))
    feed.make(ago(hours=1))

    keys, _ = pull(
        reader,
        feed,
        **{
            feed.after: (ago(hours=2, minutes=30)).isoformat(),
            feed.before: (ago(hours=1, minutes=30)).isoformat(),
        },
    )
    assert keys == [middle]
    assert early not in keys


def test_a_cursor_of_another_ordering_is_refused(reader, feed, window):
    feed.make(ago(minutes=30))
    feed.make(ago(minutes=29))
    body = reader.get(feed.url, feed.params(page_size=1)).json()

    response = reader.get(
        feed.url, {"cursor": parse_qs(urlsplit(body["resume"]).query)["cursor"][0]}
    )
    assert response.status_code == 400 and "cursor" in response.json()["fields"]


@pytest.mark.parametrize(
    "value",
    [
        "",
        " ",
        "garbage",
        "0001-01-01",
        "0001-01-01T00:00:00",
        "0000-12-31",
        "2026-13-01",
        "2026-11-01T25:00:00",
        "9999-12-31T23:59:59-12:00",
        "2026-11-01\x00",
        "２０２６-１１-０１",
    ],
)
def test_hostile_arrival_filters_are_a_400_naming_them(reader, feed, value):
    for name in (feed.after, feed.before):
        response = reader.get(feed.url, {name: value, "ordering": feed.time})
        assert response.status_code == 400, (name, value, response.content)
        assert name in response.json()["fields"]


@pytest.mark.parametrize(
    "value", ["0001-01-02", "9999-12-31", "9999-12-31T23:59:59", "2026-11-01T08:00:00 08:00"]
)
def test_far_but_readable_times_answer_without_error(reader, feed, window, value):
    feed.make(ago(minutes=30))
    for name in (feed.after, feed.before):
        response = reader.get(feed.url, {name: value, "ordering": feed.time})
        assert response.status_code == 200, (name, value, response.content)


@pytest.mark.parametrize(
    "raw", ["1" * 500, "2026-11-01T08%3A00%3A00%2B99%3A00", "%00", "%FF%FE", "%E5%B9%B4", "%2B"]
)
def test_odd_arrival_filters_never_fail_the_server(reader, feed, raw):
    """Raw query strings: bytes that are not UTF-8, NUL, an offset of 99 hours."""
    for name in (feed.after, feed.before):
        response = reader.get(f"{feed.url}?ordering={feed.time}&{name}={raw}")
        assert response.status_code in (200, 400), (name, raw, response.content)


@pytest.mark.parametrize("ordering", ["", "received_at ", "-received_at", "updated_at;"])
def test_an_unknown_or_empty_ordering_is_a_400(reader, feed, ordering):
    response = reader.get(feed.url, {"ordering": ordering})
    if ordering.strip() == feed.time:  # the feed's own ordering, spaces around it: read as it
        assert response.status_code == 200, response.content
        assert "resume" in response.json()
        return
    assert response.status_code == 400 and "ordering" in response.json()["fields"]


def test_coupons_arrive_with_their_order_and_say_when(reader, window):
    order = PayOrderFactory(received_at=ago(minutes=30))
    coupons = [MerchantCouponFactory(order=order).pk for _ in range(3)]

    body = reader.get("/api/v1/coupons/", {"ordering": "received_at"}).json()

    assert [row["id"] for row in body["results"]] == coupons
    assert {row["received_at"] for row in body["results"]} == {
        timezone.localtime(order.received_at).isoformat()
    }
