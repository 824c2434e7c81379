"""parkingops.uploads: a file kept on the server between two requests, taken once."""

import threading

import pytest
from django.db import connection

from parkingops.uploads import discard_upload, keep_upload, read_upload, take_upload

pytestmark = pytest.mark.django_db


def test_a_kept_file_reads_back_until_it_is_taken_once():
    key = keep_upload(b"\x00\xffplate\r\n")

    assert read_upload(key) == read_upload(key) == b"\x00\xffplate\r\n"
    assert take_upload(key) == b"\x00\xffplate\r\n"
    assert take_upload(key) is None
    assert read_upload(key) is None


def test_a_discarded_or_unknown_file_is_none():
    key = keep_upload(b"data")
    discard_upload(key)

    assert read_upload(key) is None
    assert take_upload("no-such-key") is None
    discard_upload("no-such-key")  # nothing to forget, no error


@pytest.mark.django_db(transaction=True)
def test_of_two_simultaneous_takes_one_gets_the_file():
    key = keep_upload(b"data")
    barrier = threading.Barrier(2)
    got = []

    def take():
        barrier.wait()
        try:
            got.append(take_upload(key))
        finally:
            connection.close()

    threads = [threading.Thread(target=take) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(got, key=bool) == [None, b"data"]
