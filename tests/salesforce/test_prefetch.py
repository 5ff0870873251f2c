"""Read-ahead keeps order, raises where the reader failed, overlaps waits, and
stops the reader when the caller stops."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connector.errors import ConnectorError
from connector.salesforce.prefetch import prefetch


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(), max_size=60), st.integers(1, 7), st.integers(1, 3))
def test_every_item_comes_once_in_order(items: list[int], chunk: int, depth: int) -> None:
    assert list(prefetch(iter(items), chunk=chunk, depth=depth)) == items


def test_a_reader_error_is_raised_after_the_items_before_it() -> None:
    def rows() -> Iterator[int]:
        yield 1
        yield 2
        raise ConnectorError("query more failed", hint="retry later")

    got: list[int] = []
    with pytest.raises(ConnectorError, match="query more failed"):
        for item in prefetch(rows(), chunk=1):
            got.append(item)
    assert got == [1, 2]


def test_stopping_early_stops_and_closes_the_reader() -> None:
    produced: list[int] = []
    closed = threading.Event()

    def rows() -> Iterator[int]:
        try:
            for i in range(10_000):
                produced.append(i)
                yield i
        finally:
            closed.set()

    reader = prefetch(rows(), chunk=10, depth=2)
    assert [next(reader) for _ in range(5)] == [0, 1, 2, 3, 4]
    reader.close()  # the caller gives up (an error while storing, say)
    assert closed.wait(2)
    assert len(produced) < 100  # it did not read on to the end


def test_waiting_for_pages_overlaps_the_callers_work() -> None:
    def pages() -> Iterator[int]:
        for i in range(6):
            time.sleep(0.05)  # a page's round trip
            yield i

    start = time.perf_counter()
    for _ in prefetch(pages(), chunk=1, depth=6):
        time.sleep(0.05)  # storing the page
    overlapped = time.perf_counter() - start
    assert overlapped < 0.5  # in turn it takes 0.6 s; overlapped about 0.35 s


def test_a_caller_that_stops_does_not_wait_for_a_slow_page() -> None:
    release = threading.Event()

    def rows() -> Iterator[int]:
        yield 1
        release.wait(10)  # a page that takes long to arrive
        yield 2

    reader = prefetch(rows(), chunk=1)
    assert next(reader) == 1
    start = time.perf_counter()
    reader.close()  # Ctrl-C while the next page is on its way
    assert time.perf_counter() - start < 5
    release.set()
