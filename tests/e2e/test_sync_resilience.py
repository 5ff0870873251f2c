"""Killed runs and injected faults converge to exactly the uninterrupted result."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from connector.datagen import GeneratedData, generate
from connector.emulator.testing import inprocess_emulator, running_emulator
from tests.e2e.harness import AS_OF, Rig, snapshot

PEOPLE = 150


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> GeneratedData:
    return generate(tmp_path_factory.mktemp("data"), people=PEOPLE, seed=11)


@pytest.fixture(scope="module")
def reference(data: GeneratedData, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("reference")
    with inprocess_emulator(root / "org", seed_dir=data.sf_dir) as org:
        rig = _rig(org, root, data)
        result = rig.sync()
        assert result.status in ("ok", "partial"), result.as_json()
        return snapshot(rig)


def _rig(org: Any, root: Path, data: GeneratedData) -> Rig:
    rig = Rig(org, root)
    (root / "map").symlink_to(data.map_dir, target_is_directory=True)
    return rig


def _no_duplicates(rig: Rig) -> None:
    leads = rig.query("SELECT MAP_Id__c FROM Lead WHERE MAP_Id__c != null")
    keys = [r["MAP_Id__c"].lower() for r in leads]
    assert len(keys) == len(set(keys)), "a Lead was created twice"
    campaigns = rig.query("SELECT MAP_Program_Id__c FROM Campaign "
                          "WHERE MAP_Program_Id__c != null")
    assert len(campaigns) == len({c["MAP_Program_Id__c"] for c in campaigns})
    members = rig.query("SELECT CampaignId, LeadId, ContactId FROM CampaignMember")
    pairs = [(m["CampaignId"], m["LeadId"] or m["ContactId"]) for m in members]
    assert len(pairs) == len(set(pairs)), "a Campaign Member was created twice"


@pytest.fixture
def https_org(tmp_path: Path, data: GeneratedData) -> Iterator[Rig]:
    with running_emulator(tmp_path / "org", seed_dir=data.sf_dir) as org:
        yield _rig(org, tmp_path, data)


def _sync_process(rig: Rig) -> subprocess.Popen[bytes]:
    env = {**os.environ, **rig.org.env(), "MAP_KIND": "files",
           "MAP_FILES_DIR": str(rig.map_dir), "CONNECTOR_STATE": str(rig.state_path),
           "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "connector", "sync", "--format", "json", "--as-of",
         AS_OF.isoformat()], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        cwd=rig.root)


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_kill_9_at_random_points_then_resume_converges(https_org: Rig, seed: int,
                                                       reference: dict[str, Any]) -> None:
    rng = random.Random(seed)
    rig = https_org
    # stretch the run so kills land in every phase (reads, campaigns, leads, members)
    # (Bulk 2.0 jobs make few calls, so each of them is slowed more)
    rig.org.set_faults([{"match": "composite", "error": "SLOW", "scope": "request",
                         "delay_ms": 200, "rate": 1, "seed": seed},
                        {"match": "jobs/", "error": "SLOW", "scope": "request",
                         "delay_ms": 600, "rate": 1, "seed": seed}])
    kills = 0
    for _ in range(2):
        proc = _sync_process(rig)
        time.sleep(rng.uniform(0.8, 2.5))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        proc.wait(timeout=60)
    rig.org.clear_faults()
    proc = _sync_process(rig)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode in (0, 1), err.decode()[-2000:]
    summary = json.loads(out)
    assert summary["status"] in ("ok", "partial")
    assert kills >= 1
    _no_duplicates(rig)
    assert snapshot(rig) == reference
    # and nothing is left to do
    again = rig.sync()
    assert sum(o["created"] + o["updated"] for o in again.objects.values()) == 0


def test_faults_during_the_run_are_retried_and_change_nothing(
        tmp_path: Path, data: GeneratedData, reference: dict[str, Any]) -> None:
    with inprocess_emulator(tmp_path / "org", seed_dir=data.sf_dir) as org:
        rig = _rig(org, tmp_path, data)
        org.set_faults([
            {"match": "composite/sobjects", "error": "UNABLE_TO_LOCK_ROW", "scope": "record",
             "rate": 0.3, "seed": 7},
            {"match": "composite/sobjects", "error": "SERVER_UNAVAILABLE", "scope": "request",
             "count": 2, "seed": 1},
            {"match": "query", "error": "INVALID_SESSION_ID", "scope": "request", "count": 1,
             "seed": 1},
            {"match": "composite/sobjects", "error": "REQUEST_LIMIT_EXCEEDED",
             "scope": "request", "count": 1, "seed": 3, "retry_after": 1,
             "limit": "concurrent"},
        ])
        sleeps: list[float] = []
        result = rig.sync(sleep=sleeps.append)
        assert result.status in ("ok", "partial"), result.as_json()
        assert sleeps, "retries should have backed off"
        assert max(sleeps) <= 120
        # records still locked after every resend are kept with Salesforce's code,
        # and what depends on them waits with them
        kept = rig.store().dead_letters("failed_write")
        assert {d.error_code for d in kept} <= {"UNABLE_TO_LOCK_ROW", "DEPENDENCY_FAILED"}
        org.clear_faults()
        store = rig.store()
        from connector.run.sync import Sync, SyncOptions

        replayed = Sync(rig.settings(), rig.mappings, store, http=org.session()).run(
            SyncOptions(as_of=AS_OF, replay=True))
        store.close()
        assert replayed.status == "ok", replayed.as_json()
        assert not rig.store().dead_letters("failed_write")
        _no_duplicates(rig)
        assert snapshot(rig) == reference


def test_the_daily_limit_stops_cleanly_with_exit_4_and_resumes(
        tmp_path: Path, data: GeneratedData, reference: dict[str, Any]) -> None:
    with inprocess_emulator(tmp_path / "org", seed_dir=data.sf_dir) as org:
        rig = _rig(org, tmp_path, data)
        org.set_faults([{"match": "composite/sobjects", "error": "REQUEST_LIMIT_EXCEEDED",
                         "scope": "request", "count": 1, "seed": 3}])
        stopped = rig.sync()
        assert stopped.status == "stopped" and stopped.exit_code == 4
        resumed = rig.sync()
        assert resumed.status in ("ok", "partial")
        _no_duplicates(rig)
        assert snapshot(rig) == reference
