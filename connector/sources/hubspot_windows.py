"""Reading every contact modified in a time range through HubSpot's CRM search,
whatever its 10,000-result cap.

A search never yields more than 10,000 results for one query, so a range is
split in halves until each window's ``total`` fits under the cap. Within a
window, pages are read by keyset (``hs_object_id`` greater than the last one
seen, ascending) rather than by the ``after`` offset: a contact modified while
the window is being read leaves the window without shifting the ones not yet
read, so none is skipped. A window narrower than a millisecond cannot be split;
keyset paging still reads it whole. Windows are read oldest first, and each
completed window is reported so the checkpoint can advance to its end.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

SEARCH_CAP = 10_000
SEARCH_PAGE = 200


@dataclass(frozen=True)
class WindowDone:
    """Every record modified in ``[start, end)`` (epoch ms) has been yielded."""

    start: int
    end: int


Search = Callable[[dict[str, Any]], dict[str, Any]]


def _body(start: int, end: int, after_id: str | None, properties: Sequence[str],
          page: int) -> dict[str, Any]:
    filters: list[dict[str, str]] = [
        {"propertyName": "lastmodifieddate", "operator": "GTE", "value": str(start)},
        {"propertyName": "lastmodifieddate", "operator": "LT", "value": str(end)},
    ]
    if after_id is not None:
        filters.append({"propertyName": "hs_object_id", "operator": "GT", "value": after_id})
    return {
        "filterGroups": [{"filters": filters}],
        "sorts": [{"propertyName": "hs_object_id", "direction": "ASCENDING"}],
        "properties": list(properties), "limit": page,
    }


def read_modified(search: Search, start: int, end: int, properties: Sequence[str], *,
                  cap: int = SEARCH_CAP, page: int = SEARCH_PAGE,
                  ) -> Iterator[dict[str, Any] | WindowDone]:
    """Every record with ``start <= lastmodifieddate < end`` once, and a ``WindowDone``
    after each window, oldest window first."""
    pending: list[tuple[int, int]] = [(start, end)]
    while pending:
        lo, hi = pending.pop()
        if lo >= hi:
            continue
        first = search(_body(lo, hi, None, properties, page))
        total = int(first.get("total", 0))
        if total > cap and hi - lo > 1:
            mid = lo + (hi - lo) // 2
            pending.append((mid, hi))
            pending.append((lo, mid))
            continue
        results: list[dict[str, Any]] = list(first.get("results") or [])
        while True:
            yield from results
            if len(results) < page:
                break
            last_id = str(results[-1]["id"])
            results = list(search(_body(lo, hi, last_id, properties, page)).get("results")
                           or [])
            if not results:
                break
        yield WindowDone(lo, hi)
