"""The incremental sync against a transaction that commits late, with real threads and
connections (PostgreSQL: SQLite has one writer at a time; its emulation is in ``test_sync``).

A push stamps ``received_at`` and then writes; while its transaction is open, another push
stamped later commits. A reader that pages past the later row's time would never see the
earlier one. The settle horizon (``parkingops.sync``) holds the reader behind the oldest open
writing transaction, so the late row is served when it commits, before the later one.
"""

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from orders.tests.api.test_sync import FEEDS, pull
from orders.tests.api.test_views import key_client, make_user

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="one writer at a time on SQLite"),
]

SETTLE = 1  # seconds: the window, short so the test waits little


@pytest.mark.parametrize("name", ["orders", "renewals", "stays", "coupons"])
def test_a_row_committed_late_is_served_before_the_rows_stamped_after_it(settings, name):
    settings.API_SYNC_SETTLE_SECONDS = SETTLE
    feed = FEEDS[name]
    reader = key_client(
        make_user(
            permissions=(
                "orders.view_payorder",
                "orders.view_merchantcoupon",
                "orders.view_stay",
                "orders.view_renewal",
            )
        )
    )
    old = feed.make(timezone.now() - timedelta(minutes=5))
    written, release = threading.Event(), threading.Event()
    late: list = []
    errors: list[BaseException] = []

    def slow_push() -> None:
        try:
            with transaction.atomic():
                late.append(feed.make(timezone.now()))  # stamped now, committed later
                written.set()
                assert release.wait(30)
        except BaseException as error:  # reported by the main thread
            errors.append(error)
            written.set()
        finally:
            connection.close()

    writer = threading.Thread(target=slow_push)
    writer.start()
    try:
        assert written.wait(30)
        later = feed.make(timezone.now())  # stamped after the late row, committed at once
        time.sleep(SETTLE + 0.5)  # both stamps are now older than the window

        keys, resume = pull(reader, feed)
        assert keys == [old]  # held behind the open transaction: "later" not served yet
    finally:
        release.set()
        writer.join(30)
    assert not errors, errors

    time.sleep(SETTLE + 0.5)
    keys, resume = pull(reader, feed, resume)
    assert keys == [late[0], later]
    assert pull(reader, feed, resume)[0] == []
