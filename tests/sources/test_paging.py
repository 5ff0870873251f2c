"""The paging helper (connector.sources.paging) against fake HubSpot and
Marketo APIs served by httpx.MockTransport: every page once, the cursor of the
next page exposed for checkpoints, resume from a kept cursor, and no call past
the point where the reader stops."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from connector.sources.paging import (
    hubspot_after,
    hubspot_offset,
    marketo_token,
    offset_step,
    pages,
)

ITEMS = [f"r{i}" for i in range(7)]


def hubspot_api(seen: list[dict[str, str]]) -> httpx.Client:
    """``/list`` in pages of 3 with ``paging.next.after``; ``/events`` the legacy
    ``offset``/``hasMore`` shape."""

    def handle(request: httpx.Request) -> httpx.Response:
        params = dict(request.url.params)
        seen.append(params)
        start = int(params.get("after") or params.get("offset") or 0)
        chunk = ITEMS[start:start + 3]
        more = start + 3 < len(ITEMS)
        if request.url.path == "/list":
            body: dict[str, Any] = {"results": chunk}
            if more:
                body["paging"] = {"next": {"after": str(start + 3), "link": "..."}}
        else:
            body = {"events": chunk, "hasMore": more, "offset": str(start + 3)}
        return httpx.Response(200, json=body)

    return httpx.Client(transport=httpx.MockTransport(handle), base_url="https://api.test")


def marketo_api(seen: list[dict[str, str]], omit_token_on: int | None = None) -> httpx.Client:
    """Activities in pages of 3 keyed by ``nextPageToken`` (``T<n>``) while
    ``moreResult``; Marketo may omit the token on a page, the old one stays valid.
    Assets by ``offset`` until a short page."""

    def handle(request: httpx.Request) -> httpx.Response:
        params = dict(request.url.params)
        seen.append(params)
        if request.url.path == "/activities":
            start = int(params["nextPageToken"][1:])
            body: dict[str, Any] = {"result": ITEMS[start:start + 3],
                                    "moreResult": start + 3 < len(ITEMS)}
            if start != omit_token_on:
                body["nextPageToken"] = f"T{start + 3}"
            return httpx.Response(200, json=body)
        start = int(params["offset"])
        return httpx.Response(200, json={"result": ITEMS[start:start + 3]})

    return httpx.Client(transport=httpx.MockTransport(handle), base_url="https://api.test")


def getter(client: httpx.Client, path: str, name: str) -> Callable[[Any], dict[str, Any]]:
    def fetch(cursor: Any) -> dict[str, Any]:
        params = {name: str(cursor)} if cursor is not None else {}
        return dict(client.get(path, params=params).json())
    return fetch


@pytest.mark.parametrize(("api", "path", "name", "step", "key", "start", "cursors"), [
    pytest.param(hubspot_api, "/list", "after", hubspot_after, "results", None,
                 ["3", "6", None], id="hubspot-after"),
    pytest.param(hubspot_api, "/events", "offset", hubspot_offset, "events", None,
                 ["3", "6", "9"], id="hubspot-offset"),
    pytest.param(marketo_api, "/activities", "nextPageToken", marketo_token, "result", "T0",
                 ["T3", "T6", "T9"], id="marketo-token"),
    pytest.param(marketo_api, "/assets", "offset", offset_step(3), "result", 0,
                 [3, 6, 9], id="marketo-offset"),
])
def test_every_page_once_with_the_next_cursor(api: Any, path: str, name: str, step: Any,
                                              key: str, start: Any,
                                              cursors: list[Any]) -> None:
    seen: list[dict[str, str]] = []
    got = list(pages(getter(api(seen), path, name), step, start=start))
    assert [item for page in got for item in page.body[key]] == ITEMS
    assert [page.cursor for page in got] == cursors
    assert [page.more for page in got] == [True, True, False]
    assert len(seen) == 3


@pytest.mark.parametrize(("api", "path", "name", "step", "key", "cursor"), [
    pytest.param(hubspot_api, "/list", "after", hubspot_after, "results", "3",
                 id="hubspot-after"),
    pytest.param(marketo_api, "/activities", "nextPageToken", marketo_token, "result", "T3",
                 id="marketo-token"),
])
def test_resumes_from_a_kept_cursor(api: Any, path: str, name: str, step: Any, key: str,
                                    cursor: str) -> None:
    """A checkpoint keeps the cursor of the page after the last one handled; a
    later run passing it as ``start`` reads only the pages not yet read."""
    seen: list[dict[str, str]] = []
    first = pages(getter(api(seen), path, name), step,
                  start="T0" if step is marketo_token else None)
    kept = next(first).cursor
    assert kept == cursor
    rest = list(pages(getter(api(seen), path, name), step, start=kept))
    assert [item for page in rest for item in page.body[key]] == ITEMS[3:]
    assert [s.get(name) for s in seen[1:]] == [cursor, rest[0].cursor]
    assert len(seen) == 1 + 2


def test_a_reader_that_stops_makes_no_further_call() -> None:
    seen: list[dict[str, str]] = []
    for page in pages(getter(hubspot_api(seen), "/list", "after"), hubspot_after):
        if "r4" in page.body["results"]:
            break
    assert len(seen) == 2


def test_marketo_keeps_the_last_token_when_a_page_omits_it() -> None:
    """The last page may name no token: the checkpoint keeps the one that fetched
    it, so the next run continues from there (Marketo's tokens stay valid)."""
    seen: list[dict[str, str]] = []
    got = list(pages(getter(marketo_api(seen, omit_token_on=6), "/activities",
                            "nextPageToken"), marketo_token, start="T0"))
    assert [page.cursor for page in got] == ["T3", "T6", "T6"]
    assert [s["nextPageToken"] for s in seen] == ["T0", "T3", "T6"]


def test_a_single_page_is_the_last() -> None:
    got = list(pages(lambda cursor: {"results": ["only"]}, hubspot_after))
    assert [(page.body["results"], page.cursor, page.more) for page in got] == \
        [(["only"], None, False)]
