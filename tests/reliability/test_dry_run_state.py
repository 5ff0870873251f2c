"""Defect 9: a dry run reads and plans, and leaves the state exactly as it was."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.harness import Rig

pytestmark = pytest.mark.e2e


def _dump(path: Path) -> dict[str, list[Any]]:
    """Every table but the run history, row by row."""
    db = sqlite3.connect(path)
    try:
        tables = [r[0] for r in db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
        return {t: sorted(map(repr, db.execute(f"SELECT * FROM {t}")))
                for t in tables if t != "runs"}
    finally:
        db.close()


def test_a_dry_run_between_two_runs_changes_nothing(rig: Rig) -> None:
    export = rig.export().program("W1", "Webinar")
    export.person("P1", "p1@acme.com").touch("t1", "P1", "form_fill", 1, "W1")
    export.write()
    assert rig.sync().status == "ok"
    export.person("P2", "p2@acme.com").touch("t2", "P2", "form_fill", 2, "W1")
    export.write()
    before = _dump(rig.state_path)

    dry = rig.sync(dry_run=True)

    assert dry.status == "dry-run"
    assert dry.objects["Lead"]["created"] == 1  # P2 is planned
    assert _dump(rig.state_path) == before  # checkpoint, watermarks, ledger, dead letters
    runs = rig.store().runs()
    assert runs[0]["kind"] == "sync-dry-run" and runs[0]["run_id"] == dry.run_id
    assert runs[0]["summary"]["objects"] == {}  # the history claims nothing written
    assert runs[0]["summary"]["planned"]["Lead"]["created"] == 1

    real = rig.sync()  # the files were not marked read: P2 is created now
    assert real.objects["Lead"]["created"] == 1
    assert {r["MAP_Id__c"] for r in rig.query("SELECT MAP_Id__c FROM Lead")} == {"P1", "P2"}
