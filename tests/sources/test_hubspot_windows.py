"""Window splitting under the search cap never loses nor repeats a record."""

from __future__ import annotations

import itertools
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from connector.sources.hubspot_windows import WindowDone, read_modified


def _searcher(records: dict[int, int], cap: int, calls: list[dict[str, Any]]) -> Any:
    """A search over ``{id: modified_ms}`` that, like HubSpot, reports the true total
    but refuses to page past ``cap`` results."""

    def search(body: dict[str, Any]) -> dict[str, Any]:
        calls.append(body)
        assert int(body.get("after", 0)) + body["limit"] <= cap
        filters = body["filterGroups"][0]["filters"]
        matched = []
        for record_id, modified in records.items():
            ok = True
            for f in filters:
                actual = modified if f["propertyName"] == "lastmodifieddate" else record_id
                wanted = int(f["value"])
                ok &= {"GTE": actual >= wanted, "LT": actual < wanted,
                       "GT": actual > wanted}[f["operator"]]
            if ok:
                matched.append(record_id)
        matched.sort()
        page = matched[: body["limit"]]
        return {"total": len(matched), "results": [{"id": str(i)} for i in page]}

    return search


modification_times = st.one_of(
    st.integers(0, 10_000),           # spread out
    st.integers(5_000, 5_003),        # clustered: many records within a few ms
    st.just(7_777),                   # many records in the same millisecond
)


@settings(max_examples=150, deadline=None)
@given(times=st.lists(modification_times, max_size=300), cap=st.integers(5, 40),
       page=st.integers(1, 12))
def test_every_record_in_the_range_is_read_exactly_once(times: list[int], cap: int,
                                                        page: int) -> None:
    records = {i + 1: t for i, t in enumerate(times)}
    calls: list[dict[str, Any]] = []
    out = list(read_modified(_searcher(records, cap, calls), 0, 10_001, ["email"],
                             cap=cap, page=min(page, cap)))
    ids = [int(r["id"]) for r in out if not isinstance(r, WindowDone)]
    assert sorted(ids) == sorted(records)  # none lost, none twice
    windows = [w for w in out if isinstance(w, WindowDone)]
    assert windows[0].start == 0 and windows[-1].end == 10_001
    assert all(a.end == b.start for a, b in itertools.pairwise(windows))


def test_a_window_over_the_cap_is_split_until_each_part_fits() -> None:
    records = {i: i * 10 for i in range(1, 101)}
    calls: list[dict[str, Any]] = []
    out = list(read_modified(_searcher(records, 30, calls), 0, 2_000, [], cap=30, page=10))
    windows = [w for w in out if isinstance(w, WindowDone)]
    assert len(windows) >= 4
    assert len([r for r in out if not isinstance(r, WindowDone)]) == 100
