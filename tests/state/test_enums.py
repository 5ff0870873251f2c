"""The enums replace strings that the state database, the JSON output and the
docs have always carried: their values must stay exactly those strings."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path

import pytest

from connector.audit.rules import CATEGORIES
from connector.run.status import FINISHED, SUCCEEDED, RunStatus
from connector.sources.base import StreamStatus
from connector.state.dead_letters import DeadLetterKind
from connector.state.store import open_store
from connector.values import FindingCategory, WriteAction

INTERFACES = (Path(__file__).resolve().parents[2] / "docs" / "interfaces.md").read_text()


@pytest.mark.parametrize(("enum", "values"), [
    pytest.param(RunStatus, ["running", "ok", "partial", "stopped", "dry-run", "failed",
                             "interrupted"], id="run-status"),
    pytest.param(FindingCategory, [
        "missing_in_salesforce", "missing_in_map", "field_drift", "original_source_conflict",
        "duplicate", "campaign_member_gap", "unmapped_program", "attribution_gap",
        "failed_write", "rejected_input", "count_mismatch"], id="finding-category"),
    pytest.param(DeadLetterKind, ["rejected_input", "failed_write"], id="dead-letter-kind"),
    pytest.param(WriteAction, ["create", "update", "upsert", "delete"], id="write-action"),
    pytest.param(StreamStatus, ["read", "appended", "reread", "unchanged"], id="stream-status"),
])
def test_values_are_the_documented_strings(enum: type[StrEnum], values: list[str]) -> None:
    assert [m.value for m in enum] == values
    for member in enum:
        assert str(member) == f"{member}" == member.value
        assert json.dumps({"k": member}) == json.dumps({"k": member.value})


def test_metrics_statuses_and_audit_categories_keep_their_order_and_type() -> None:
    assert FINISHED == ("ok", "partial", "stopped", "dry-run", "failed")
    assert SUCCEEDED == ("ok", "partial")
    # the report order, as plain strings (charts and CSV columns serialise them)
    assert tuple(m.value for m in FindingCategory) == CATEGORIES
    assert all(type(c) is str for c in CATEGORIES)


@pytest.mark.parametrize("status", [pytest.param(s, id=s.value) for s in FINISHED])
def test_documented_metric_statuses_appear_in_interfaces(status: RunStatus) -> None:
    assert f"`{status.value}`" in INTERFACES


def test_a_run_stores_its_status_as_plain_text(tmp_path: Path) -> None:
    store = open_store(tmp_path / "state.db")
    run = store.start_run("sync", datetime(2026, 1, 1, tzinfo=UTC))
    assert store.runs()[0]["status"] == "running"
    store.finish_run(run, RunStatus.DRY_RUN, {"status": RunStatus.DRY_RUN})
    store.close()
    db = sqlite3.connect(tmp_path / "state.db")
    row = db.execute("SELECT status, typeof(status), summary FROM runs").fetchone()
    assert row == ("dry-run", "text", '{"status": "dry-run"}')
