"""Paging through a MAP's API: one loop for every cursor shape.

HubSpot continues a list with ``paging.next.after`` (and its legacy email
events API with ``offset`` while ``hasMore``); Marketo's activities with
``nextPageToken`` while ``moreResult``, and its asset API with ``offset`` until a
short page. The loop is the same each time: fetch a page from a cursor, find
the next cursor and whether there is a next page, repeat. ``pages`` owns that
loop; a *step* function per API reads the cursor out of a page.

Each ``Page`` carries the cursor of the page after it, so a reader can
checkpoint after handling a page and resume later by passing that cursor as
``start``. Pages are fetched lazily: a reader that stops iterating (the rest is
not needed, or the budget is spent) makes no further call.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

C = TypeVar("C")
Body = dict[str, Any]


@dataclass(frozen=True)
class Page(Generic[C]):
    """One page's body, and where the next one starts."""

    body: Body
    cursor: C | None   # the cursor of the next page: what a checkpoint keeps
    more: bool         # False on the last page


def pages(fetch: Callable[[C | None], Body],
          step: Callable[[Body, C | None], tuple[C | None, bool]],
          *, start: C | None = None) -> Iterator[Page[C]]:
    """Every page from ``start`` (``None``: the first page) to the last. ``step``
    takes a page's body and the cursor it was fetched with, and returns the next
    cursor and whether there is a next page."""
    cursor = start
    while True:
        body = fetch(cursor)
        cursor, more = step(body, cursor)
        yield Page(body, cursor, more)
        if not more:
            return


def hubspot_after(body: Body, _cursor: str | None) -> tuple[str | None, bool]:
    """HubSpot's CRM and marketing APIs: ``paging.next.after``, absent on the last page."""
    after = ((body.get("paging") or {}).get("next") or {}).get("after")
    return (str(after), True) if after else (None, False)


def hubspot_offset(body: Body, _cursor: str | None) -> tuple[str | None, bool]:
    """HubSpot's legacy email events API: ``offset`` while ``hasMore``."""
    offset = body.get("offset")
    return (str(offset) if offset else None), bool(body.get("hasMore") and offset)


def marketo_token(body: Body, cursor: str | None) -> tuple[str | None, bool]:
    """Marketo's activities: ``nextPageToken`` (the last one stays valid when a page
    omits it) while ``moreResult``."""
    return body.get("nextPageToken") or cursor, bool(body.get("moreResult"))


def offset_step(size: int, results: str = "result") -> Callable[[Body, int | None],
                                                                  tuple[int | None, bool]]:
    """Offset paging (Marketo's asset API): the next offset, until a page is short."""

    def step(body: Body, offset: int | None) -> tuple[int | None, bool]:
        return (offset or 0) + size, len(body.get(results) or []) >= size

    return step


__all__ = ["Page", "hubspot_after", "hubspot_offset", "marketo_token", "offset_step", "pages"]
