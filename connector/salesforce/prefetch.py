"""Read ahead: the next page of a large read is fetched while this one is stored.

A mirror refresh alternates between waiting on Salesforce for a page and
working on it (decoding, digesting, storing); done in turn, the two add up.
``prefetch`` runs the reading side in one background thread a few chunks
ahead, so the waits overlap the work. Order is kept, an error in the reader
is raised in the caller at the point it would have been, and a caller that
stops early stops the reader (and closes its iterator) too.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import TypeVar, cast

T = TypeVar("T")

_DONE = object()


class _Failure:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


def prefetch(rows: Iterator[T], *, chunk: int = 500, depth: int = 8) -> Iterator[T]:
    """The items of ``rows``, read in a background thread up to ``depth`` chunks
    of ``chunk`` items ahead of the caller."""
    ahead: queue.Queue[object] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: object) -> bool:
        while not stop.is_set():
            try:
                ahead.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            batch: list[T] = []
            for row in rows:
                batch.append(row)
                if len(batch) >= chunk:
                    if not put(batch):
                        return
                    batch = []
            if batch and not put(batch):
                return
            put(_DONE)
        except BaseException as exc:  # handed to the caller, raised there
            put(_Failure(exc))
        finally:
            close = getattr(rows, "close", None)
            if close is not None:
                close()

    reader = threading.Thread(target=produce, name="read-ahead", daemon=True)
    reader.start()
    try:
        while True:
            item = ahead.get()
            if item is _DONE:
                return
            if isinstance(item, _Failure):
                raise item.exc
            yield from cast(list[T], item)
    finally:
        stop.set()
        # A reader inside an HTTP call finishes it on its own (the client takes
        # one call at a time, so the caller may go on): Ctrl-C does not wait
        # for the page to arrive.
        reader.join(timeout=1.0)
