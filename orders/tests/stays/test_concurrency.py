"""Entry, exit and renewal pushes arriving at the same instant, over real HTTP (the live
server, one thread per request), on both databases — as the pay order's race tests."""

from datetime import UTC, datetime
from urllib.parse import urlencode

import pytest

from conftest import FORM, signed
from orders.models import PushLog
from orders.stays.models import Renewal, Stay
from orders.tests.push.racing import post_all_at_once
from orders.tests.stays.conftest import OTHER_KINDS, build, ms
from orders.tests.stays.test_views import _times_now
from whitelist.tests.factories import WhitelistEntryFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def plate_whitelisted():
    WhitelistEntryFactory(plate="川A660P1", valid_from=datetime(2020, 1, 1, tzinfo=UTC))


def body(kind: str, app_id: str, secret: str, **fields) -> tuple[str, str]:
    now_ms = ms(datetime.now(UTC))
    params = build(kind, app_id=app_id, **_times_now(kind, now_ms), **fields)
    return urlencode(signed(params, secret)), FORM


@pytest.mark.parametrize("kind", OTHER_KINDS)
def test_twenty_identical_pushes_at_once_make_one_record_and_twenty_1001(
    live_server, plate_whitelisted, app_id, secret, kind
):
    from orders.demo import simulator

    results = post_all_at_once(
        live_server.url + simulator.PUSH_PATHS[kind], [body(kind, app_id, secret)] * 20
    )

    assert [(status, reply.get("code")) for status, reply in results] == [(200, "1001")] * 20
    assert sorted(reply["reason"] for _, reply in results) == ["accepted"] + ["duplicate"] * 19
    record = Renewal.objects.get() if kind == "renewal" else Stay.objects.get()
    link = "renewal_id" if kind == "renewal" else "stay_id"
    assert PushLog.objects.filter(kind=kind).count() == 20
    assert set(PushLog.objects.values_list(link, flat=True)) == {record.pk}


def test_the_entry_and_the_exit_of_one_stay_at_once_make_one_stay_with_both(
    live_server, plate_whitelisted, app_id, secret
):
    from concurrent.futures import ThreadPoolExecutor

    from orders.demo import simulator

    now_ms = ms(datetime.now(UTC))
    times = {"enter_time_ms": now_ms - 3_600_000}
    entry = build("entry", app_id=app_id, **times)
    leave = build("exit", app_id=app_id, leave_time_ms=now_ms - 60_000, **times)
    halves = [
        ("entry", urlencode(signed(entry, secret))),
        ("exit", urlencode(signed(leave, secret))),
    ]

    def race(kind_body):
        kind, text = kind_body
        return post_all_at_once(live_server.url + simulator.PUSH_PATHS[kind], [(text, FORM)] * 8)

    # Both kinds' bursts at once: 16 requests racing for one row.
    with ThreadPoolExecutor(max_workers=2) as pool:
        entries, exits = pool.map(race, halves)

    for results in (entries, exits):
        assert sorted(reply["reason"] for _, reply in results) == ["accepted"] + ["duplicate"] * 7
    stay = Stay.objects.get()
    assert (stay.has_entry, stay.has_left, stay.needs_review) == (True, True, False)
    assert PushLog.objects.filter(stay=stay).count() == 16
