"""parkingops.iterables: walking a sequence a chunk at a time."""

from parkingops.iterables import chunked


def test_chunked_yields_consecutive_slices_the_last_one_shorter():
    assert list(chunked(list(range(7)), 3)) == [[0, 1, 2], [3, 4, 5], [6]]


def test_chunked_of_nothing_yields_nothing():
    assert list(chunked([], 3)) == []
