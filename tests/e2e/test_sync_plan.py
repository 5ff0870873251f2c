"""The plan is the truth about a run: a dry run plans exactly the writes a real
run makes, and its call estimate is what the real run spends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from connector.datagen import GeneratedData, generate
from connector.emulator.testing import inprocess_emulator
from connector.normalize import parse_timestamp
from connector.plan.model import Plan
from connector.run import sync as sync_module
from connector.run.explain import explain_person
from connector.salesforce.writer import BULK_EXPECTED_POLLS
from tests.e2e.harness import AS_OF, Rig, snapshot


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


def test_explain_shows_what_sync_wrote_for_every_person(
        world: GeneratedData, tmp_path: Path) -> None:
    """Explain calls the sync's gather and engines: after a sync, for every person of
    a world with conversions, duplicates and recycled leads, the connector's values
    it shows are what Salesforce holds, and nothing is left to write."""
    rig, cm = _rig(tmp_path / "org", world)
    try:
        # the org recycles some leads and converts others after a first sync
        assert rig.sync(as_of=AS_OF).status in ("ok", "partial")
        recycled = _recycle_and_convert(rig)
        # the org stamps the recycle with its own clock: explain as of after it
        later = datetime.now(UTC) + timedelta(minutes=1)
        result = rig.sync(as_of=later)
        assert result.status in ("ok", "partial"), result.as_json()
        store = rig.store()
        try:
            failed = {d.map_id for d in store.dead_letters("failed_write")}
            people = [p for p in store.people().values()
                      if p.map_id not in failed]
            checked = recycled_seen = 0
            for person in people:
                data = explain_person(store, rig.mappings, person.map_id, tz=UTC,
                                      as_of=later)
                match = data["match"]
                if match.get("rule") == "unmatched":
                    continue
                record = rig.query(
                    f"SELECT {', '.join(f['field'] for f in data['fields'])} "
                    f"FROM {match['sobject']} WHERE Id = '{match['sf_id']}'")[0]
                for f in data["fields"]:
                    assert f["decision"] == "keep", (person.map_id, f)
                    if f["policy"] == "always":
                        assert _same(record[f["field"]], f["connector"]), (person.map_id, f)
                if match["sf_id"] in recycled or set(match["converted_from"]) & recycled:
                    recycled_seen += 1
                    assert any("Recycled" in e["reason"] for e in data["close_events"])
                checked += 1
            assert checked > 100 and recycled_seen >= 1
        finally:
            store.close()
    finally:
        cm.__exit__(None, None, None)


def _recycle_and_convert(rig: Rig) -> set[str]:
    """Hand edits an admin makes: a few Leads set to a recycle status, one of them
    then converted (its recycle history must follow it to the Contact)."""
    sf = rig.org.salesforce()
    leads = rig.query("SELECT Id FROM Lead WHERE IsConverted = false AND MAP_Id__c != null "
                      "ORDER BY MAP_Id__c LIMIT 6")
    ids = {r["Id"] for r in leads}
    for lead_id in ids:
        sf.Lead.update(lead_id, {"Status": "Recycled"})
    rig.sync(as_of=datetime.now(UTC))
    rig.org.convert_lead(sorted(ids)[0])
    return ids


def _same(salesforce: Any, connector: Any) -> bool:
    if salesforce in (None, "") and connector in (None, ""):
        return True
    if isinstance(connector, datetime):
        return parse_timestamp(str(salesforce)) == connector
    if isinstance(connector, str) and len(connector) > 18 and connector[10:11] == "T":
        return parse_timestamp(str(salesforce)) == parse_timestamp(connector)
    if isinstance(connector, (int, float)) and salesforce is not None:
        return float(salesforce) == float(connector)
    return str(salesforce) == str(connector)


def test_people_in_several_batches_give_the_same_org_and_counts(
        world: GeneratedData, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Planning and writing per batch of records (bounded memory) changes nothing:
    the org ends as with one batch, a dry run counts the same writes, and ids of
    campaigns created in the first step reach every batch."""
    one, one_cm = _rig(tmp_path / "one", world)
    many, many_cm = _rig(tmp_path / "many", world)
    try:
        whole = one.sync()
        monkeypatch.setattr(sync_module, "PEOPLE_BATCH", 37)
        dry = many.sync(dry_run=True)
        batched = many.sync()
        assert whole.status == batched.status == "ok", batched.as_json()
        assert snapshot(many) == snapshot(one)
        assert batched.objects == whole.objects
        counts = {k: {"created": v["created"], "updated": v["updated"]}
                  for k, v in dry.objects.items()}
        assert counts == {k: {"created": v["created"], "updated": v["updated"]}
                          for k, v in whole.objects.items()}
        # a run of several batches keeps samples, not every write
        step = next(s for s in batched.plan.steps if s.name == "campaign members")
        assert len(step.writes) == sync_module.SAMPLE_WRITES
        assert step.total == whole.objects["CampaignMember"]["created"]
        assert many.sync().objects.get("Lead", {}).get("created", 0) == 0
    finally:
        one_cm.__exit__(None, None, None)
        many_cm.__exit__(None, None, None)
