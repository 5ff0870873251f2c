"""Audit findings as a current state: opened once, kept while seen, closed when gone."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from connector.state import findings as state
from connector.state.store import StateStore, open_store

T0 = datetime(2026, 11, 1, 12, tzinfo=UTC)


def _audit(store: StateStore, day: int, keys: set[str],
           checked: tuple[str, ...] = ("a", "b")) -> state.Recorded:
    return state.record_audit(
        store, as_of=T0 + timedelta(days=day), started_at=T0, status="ok",
        summary={"a": len(keys)}, api_calls=3,
        findings=[(k, k.split(":")[0], {"category": k.split(":")[0], "key": k})
                  for k in sorted(keys)], checked=checked)


def test_a_finding_opens_once_stays_open_and_closes_with_the_date(tmp_path: Path) -> None:
    store = open_store(tmp_path / "s.db")
    first = _audit(store, 0, {"a:1", "a:2"})
    assert (first.opened, first.closed) == (2, 0)
    second = _audit(store, 1, {"a:1", "a:2"})
    assert (second.opened, second.closed) == (0, 0)
    assert second.opened_at["a:1"] == first.opened_at["a:1"]
    third = _audit(store, 2, {"a:1"})
    assert (third.opened, third.closed) == (0, 1)
    [closed] = state.closed_findings(store, third.audit_id)
    assert closed["key"] == "a:2" and closed["closed_at"].startswith("2026-11-03")
    assert closed["opened_at"].startswith("2026-11-01")
    again = _audit(store, 3, {"a:1", "a:2"})  # back again: a new finding
    assert again.opened == 1 and again.opened_at["a:2"].startswith("2026-11-04")
    assert [h["audit_id"] for h in state.history(store)] == [4, 3, 2, 1]


def test_categories_not_checked_do_not_close(tmp_path: Path) -> None:
    store = open_store(tmp_path / "s.db")
    _audit(store, 0, {"a:1", "b:1"})
    partial = _audit(store, 1, set(), checked=("a",))
    assert partial.closed == 1
    assert state.open_count(store) == {"b": 1}


@settings(max_examples=30, deadline=None)
@given(st.lists(st.sets(st.sampled_from(["a:1", "a:2", "b:1", "b:2"])), min_size=1,
                max_size=6))
def test_open_findings_are_exactly_the_last_audit_s(audits: list[set[str]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(Path(tmp) / "s.db")
        seen_before: set[str] = set()
        for day, keys in enumerate(audits):
            rec = _audit(store, day, keys)
            assert rec.opened == len(keys - seen_before)
            assert rec.closed == len(seen_before - keys)
            seen_before = keys
        rows = store.db.execute(
            "SELECT key FROM audit_findings WHERE closed_audit IS NULL").fetchall()
        assert {r[0] for r in rows} == audits[-1]
        store.close()
