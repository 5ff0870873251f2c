"""Shared pieces of the fault suite: data, the fault-free reference, comparisons."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from connector.emulator.testing import EmulatorHandle
from connector.run.sync import Sync, SyncOptions, SyncResult
from tests.e2e.harness import AS_OF, Rig, snapshot

# A few hundred people: every object and step is exercised (about 1,200 members
# in 90 new campaigns, 190 Leads, 100 Contacts) and a run takes about a second.
PEOPLE = 300
SEED = 11


def rig_for(org: EmulatorHandle, root: Path, map_dir: Path) -> Rig:
    rig = Rig(org, root)
    if not rig.map_dir.exists():
        rig.map_dir.symlink_to(map_dir, target_is_directory=True)
    return rig


def full_snapshot(rig: Rig) -> dict[str, Any]:
    """Everything the connector writes, by natural keys, plus the Accounts it must
    leave alone (their count and names)."""
    snap = snapshot(rig)
    snap["accounts"] = sorted(str(r["Name"]) for r in rig.query("SELECT Name FROM Account"))
    return snap


def no_duplicates(rig: Rig) -> None:
    leads = rig.query("SELECT MAP_Id__c FROM Lead WHERE MAP_Id__c != null")
    keys = [r["MAP_Id__c"].lower() for r in leads]
    assert len(keys) == len(set(keys)), "a Lead was created twice"
    campaigns = rig.query("SELECT MAP_Program_Id__c FROM Campaign "
                          "WHERE MAP_Program_Id__c != null")
    assert len(campaigns) == len({c["MAP_Program_Id__c"] for c in campaigns})
    members = rig.query("SELECT CampaignId, LeadId, ContactId FROM CampaignMember")
    pairs = [(m["CampaignId"], m["LeadId"] or m["ContactId"]) for m in members]
    assert len(pairs) == len(set(pairs)), "a Campaign Member was created twice"
    statuses = rig.query("SELECT CampaignId, Label FROM CampaignMemberStatus")
    labels = [(s["CampaignId"], s["Label"].lower()) for s in statuses]
    assert len(labels) == len(set(labels)), "a member status was created twice"


def converge(rig: Rig, **salesforce: Any) -> SyncResult:
    """With faults cleared: replay what was kept until nothing waits (at most 3 runs)."""
    rig.org.clear_faults()
    result: SyncResult | None = None
    for _ in range(3):
        store = rig.store()
        try:
            result = Sync(rig.settings(**salesforce), rig.mappings, store,
                          http=rig.org.session(), sleep=lambda s: None).run(
                SyncOptions(as_of=AS_OF, replay=True))
        finally:
            store.close()
        if result.status == "ok" and not rig.store().dead_letters("failed_write"):
            break
    assert result is not None
    return result


def cli_env(rig: Rig, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SF_", "MAP_", "CONNECTOR_", "MARKETO_", "HUBSPOT_"))
           or k == "SF_BULK_THRESHOLD"}
    env.update({**rig.org.env(), "MAP_KIND": "files", "MAP_FILES_DIR": str(rig.map_dir),
                "CONNECTOR_STATE": str(rig.state_path), "PYTHONUNBUFFERED": "1", **extra})
    return env


def start_sync(rig: Rig, *args: str, **extra: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "connector", "sync", "--format", "json", "--as-of",
         AS_OF.isoformat(), *args], env=cli_env(rig, **extra), stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, cwd=rig.root)


def finish(proc: subprocess.Popen[bytes], timeout: float = 300) -> tuple[int, dict[str, Any],
                                                                        str]:
    out, err = proc.communicate(timeout=timeout)
    text = out.decode()
    return proc.returncode, (json.loads(text) if text.strip() else {}), err.decode()
