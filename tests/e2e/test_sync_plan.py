"""The plan is the truth about a run: a dry run plans exactly the writes a real
run makes, and its call estimate is what the real run spends."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from connector.datagen import GeneratedData, generate
from connector.emulator.testing import inprocess_emulator
from connector.plan import Plan
from connector.salesforce.writer import BULK_EXPECTED_POLLS
from tests.e2e.harness import Rig


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> GeneratedData:
    # a generated world has conversions, duplicates, recycled leads and dirty rows
    return generate(tmp_path_factory.mktemp("world"), people=300, seed=5)


def _writes(plan: Plan) -> dict[str, Any]:
    """Every planned write by ref: object, kind, the fields with their values (ids
    that flow from this run's creates compared by the ref they come from)."""
    out: dict[str, Any] = {}
    for step in plan.steps:
        for w in step.writes:
            fields = {k: v for k, v in w.fields.items() if k not in w.depends}
            out[w.ref] = (step.sobject, step.action, w.is_create,
                          sorted((k, str(v)) for k, v in fields.items()),
                          sorted(w.depends.items()))
    return out


def _rig(root: Path, data: GeneratedData) -> tuple[Rig, Any]:
    cm = inprocess_emulator(root / "org", seed_dir=data.sf_dir)
    org = cm.__enter__()
    rig = Rig(org, root)
    (root / "map").symlink_to(data.map_dir, target_is_directory=True)
    return rig, cm


def test_a_dry_run_plans_exactly_the_writes_of_the_real_run(
        world: GeneratedData, tmp_path: Path) -> None:
    dry_rig, dry_cm = _rig(tmp_path / "dry", world)
    real_rig, real_cm = _rig(tmp_path / "real", world)
    try:
        dry = dry_rig.sync(dry_run=True)
        assert dry_rig.org.stats()["api_calls"]["write"] == 0
        real_rig.org.reset_stats()
        real = real_rig.sync()
        assert real.status in ("ok", "partial"), real.as_json()
        planned, done = _writes(dry.plan), _writes(real.plan)
        assert planned.keys() == done.keys()
        assert planned == done
        # new campaigns' default statuses are planned as updates, not creates
        updates = [w for s in dry.plan.steps if s.sobject == "CampaignMemberStatus"
                   and s.action == "update" for w in s.writes]
        assert updates and all(dict(w.depends).get("Id") in dry.plan.implicit
                               for w in updates if w.record_id is None)
        # and the estimate is what the run spent on writes, plus the status id reads
        # (the estimate allows BULK_EXPECTED_POLLS polls per Bulk job; the emulator
        # finishes a job before the first poll)
        calls = real_rig.org.stats()["api_calls"]
        reads_for_ids = -(-len({c for c, _ in dry.plan.implicit.values()}) // 200)
        jobs = calls["by_endpoint"].get("bulk2.ingest.create", 0)
        assert jobs >= 1
        assert dry.estimate["api_calls"] == \
            calls["write"] + reads_for_ids + jobs * (BULK_EXPECTED_POLLS - 1)
    finally:
        dry_cm.__exit__(None, None, None)
        real_cm.__exit__(None, None, None)
