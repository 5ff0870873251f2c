"""The mirror's set lookups use an index on the looked-up column: a lookup that
scans every row of the object costs O(org) per batch, quadratic over a sync."""

from __future__ import annotations

from pathlib import Path

import pytest

from connector.state.store import open_store


@pytest.mark.parametrize("column", ["email", "map_key", "parent_id", "lead_id", "contact_id"])
def test_each_mirror_by_lookup_searches_an_index_on_its_column(tmp_path: Path,
                                                               column: str) -> None:
    store = open_store(tmp_path / "state.db")
    plan = " ".join(str(row[-1]) for row in store.db.execute(
        "EXPLAIN QUERY PLAN SELECT id FROM sf_records WHERE sobject = ? AND is_deleted = 0 "
        f"AND {column} IN (?, ?)", ("CampaignMember", "a", "b")))
    assert "SEARCH" in plan and f"{column}=?" in plan, plan
