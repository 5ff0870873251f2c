"""Sync._plan_and_write: people planned and written in batches write exactly what
one batch writes, and what a dry run plans."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

import connector.run.sync as sync_module
from connector.plan.model import Plan
from connector.run.execute import ExecutionOutcome, Executor
from connector.run.mirror import MirrorRefresh
from connector.run.sync import Sync, SyncOptions
from connector.state.store import StateStore, open_store
from tests.factories import mappings, person, program, touch
from tests.plan.conftest import (
    AS_OF,
    FakeClient,
    FakeOrg,
    FakeWriter,
    campaign_as_planned,
    fill,
    lead,
    member,
    offline_settings,
    sf_id,
)

WEBINAR = program("P-W", "Webinar")      # new: its campaign is created in the run
EVENT = program("P-E", "Event")          # exists in Salesforce already
C1 = sf_id("Campaign", 1)
PEOPLE = 9


def world(path: Path) -> StateStore:
    """Nine people: two on existing Leads (one with a member), the rest new,
    two of them sharing an email; touches on a new and an existing program."""
    store = open_store(path)
    run = store.start_run("sync", AS_OF)
    people = [person(f"M-{i}", "shared@acme.com" if i in (8, 9) else f"p{i}@acme.com")
              for i in range(1, PEOPLE + 1)]
    touches = []
    for i in range(1, PEOPLE + 1):
        touches.append(touch(f"w{i}", i, "webinar_registered", map_id=f"M-{i}",
                             program=WEBINAR))
        if i % 2:
            touches.append(touch(f"e{i}", 20 + i, "event_attended", map_id=f"M-{i}",
                                 program=EVENT))
    fill(store, run, programs=[WEBINAR, EVENT], people=people, touches=touches,
         rows=[campaign_as_planned(EVENT, mappings(), 1), lead(1, "p1@acme.com"),
               lead(2, "p2@acme.com"),
               member(1, C1, lead_id=sf_id("Lead", 1), status="Sent")])
    store.finish_run(run, "failed", {})  # nothing completed: everyone is in scope
    return store


def run(tmp_path: Path, *, batch: int, samples: int = 20, dry: bool = False,
        monkeypatch: pytest.MonkeyPatch) -> tuple[Plan, ExecutionOutcome | None, FakeWriter]:
    monkeypatch.setattr(sync_module, "PEOPLE_BATCH", batch)
    monkeypatch.setattr(sync_module, "SAMPLE_WRITES", samples)
    store = world(tmp_path / f"state-{batch}-{dry}.db")
    run_id = store.start_run("sync", AS_OF)
    org = FakeOrg()
    writer = FakeWriter(org)
    executor = None if dry else Executor(FakeClient(org), writer, store,  # type: ignore[arg-type]
                                         mappings(), run_id)
    sync = Sync(offline_settings(store.path), mappings(), store)
    plan, outcome, estimate = sync._plan_and_write(run_id, SyncOptions(as_of=AS_OF),
                                                   MirrorRefresh(), writer,  # type: ignore[arg-type]
                                                   executor)
    assert estimate["api_calls"] > 0
    store.close()
    return plan, outcome, writer


def test_batches_write_what_one_batch_writes(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    whole, whole_outcome, one = run(tmp_path, batch=1000, monkeypatch=monkeypatch)
    parts, parts_outcome, many = run(tmp_path, batch=2, samples=1, monkeypatch=monkeypatch)
    assert one.normalized() == many.normalized()
    assert whole_outcome is not None and parts_outcome is not None
    assert whole_outcome.objects == parts_outcome.objects
    assert whole_outcome.failed == parts_outcome.failed == 0
    # people were written in several calls per step, campaigns once
    assert sum(sobject == "Lead" and action == "upsert" for sobject, action, _ in many.calls) \
        > sum(sobject == "Lead" and action == "upsert" for sobject, action, _ in one.calls)
    # the summary of a batched run counts everything and keeps samples only
    assert parts.counts() == whole.counts()
    assert parts.total_writes == whole.total_writes
    assert parts.drift == whole.drift
    assert all(len(s.writes) <= 1 for s in parts.steps if s.sobject in ("Lead",
                                                                          "CampaignMember"))
    assert any(s.dropped for s in parts.steps)
    assert parts.people_in_scope == whole.people_in_scope == PEOPLE


def test_a_dry_run_plans_what_a_real_run_writes(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    dry, outcome, writer = run(tmp_path, batch=2, dry=True, monkeypatch=monkeypatch)
    assert outcome is None and writer.calls == []
    _, real, real_writer = run(tmp_path, batch=2, monkeypatch=monkeypatch)
    assert real is not None
    # a write with an id updates (also Salesforce's default statuses, by the id
    # looked up); one without creates
    written = Counter((sobject, "update" if op.id else "create")
                      for sobject, _, ops in real_writer.calls for op in ops)
    planned = Counter({(sobject, kind): n for sobject, row in dry.counts().items()
                       for kind, n in row.items() if kind != "unchanged" and n})
    assert written == planned
    assert {obj: (c["created"], c["updated"]) for obj, c in real.objects.items()
            if c["created"] or c["updated"]} == \
        {obj: (c["create"], c["update"]) for obj, c in dry.counts().items()
         if c["create"] or c["update"]}
