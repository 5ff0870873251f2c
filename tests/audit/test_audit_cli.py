"""`connector audit` through CliRunner: json, csv, html, table, --fail-on, --history."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from connector.cli import _mount_optional, app
from connector.emulator.testing import EmulatorHandle, running_emulator
from tests.e2e.harness import Export

pytestmark = pytest.mark.e2e
_mount_optional()
runner = CliRunner()
AS_OF = ["--as-of", "2026-11-01T12:00:00+00:00"]


@pytest.fixture
def org(tmp_path: Path) -> Iterator[EmulatorHandle]:
    with running_emulator(tmp_path / "org") as handle:
        yield handle


@pytest.fixture
def unsynced(org: EmulatorHandle, tmp_path: Path,
             monkeypatch: pytest.MonkeyPatch) -> EmulatorHandle:
    """An org and an export with one rejected row, not synced yet."""
    monkeypatch.chdir(tmp_path)
    export = Export(tmp_path / "map").person("P1", "ada@acme.com") \
        .program("W1", "Webinar").touch("t1", "P1", "webinar_registered", 1, "W1")
    export.touches.append({"touch_id": "t2", "map_id": "P1", "touch_type": "form_fill",
                           "occurred_at": "2026-01-01T10:00:00"})  # naive: rejected
    export.write()
    values = {**org.env(), "MAP_KIND": "files", "MAP_FILES_DIR": str(tmp_path / "map"),
              "CONNECTOR_STATE": str(tmp_path / "state" / "state.db")}
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    return org


@pytest.fixture
def env(unsynced: EmulatorHandle) -> EmulatorHandle:
    """A synced org with one rejected row and one Lead named like a formula."""
    org = unsynced
    # exit 1: done, but this run rejected an input row
    assert runner.invoke(app, ["sync", "--format", "json", *AS_OF]).exit_code == 1
    org.salesforce().Lead.create({"LastName": "X", "Company": "=HYPERLINK(\"http://x\")",
                                  "MAP_Id__c": "=cmd|' /C calc'!A0"})
    return org


def test_json_has_the_contract_shape(env: EmulatorHandle) -> None:
    result = runner.invoke(app, ["audit", "--format", "json", *AS_OF])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["summary"]["rejected_input"] == 1
    assert data["summary"]["missing_in_map"] == 1
    assert data["summary"]["count_mismatch"] == 1  # two Leads with a MAP id, one expected
    assert sum(data["summary"].values()) == len(data["findings"]) == 3
    for finding in data["findings"]:
        assert {"category", "object", "record_id", "map_id", "field", "salesforce_value",
                "expected_value", "detail"} <= set(finding)
    [rejected] = [f for f in data["findings"] if f["category"] == "rejected_input"]
    assert "touches.csv, row 3, field occurred_at" in rejected["detail"]
    assert isinstance(data["api_calls"], int) and data["api_calls"] > 0


def test_csv_neutralizes_formulas(env: EmulatorHandle, tmp_path: Path) -> None:
    target = tmp_path / "out" / "audit.csv"
    result = runner.invoke(app, ["audit", "--format", "csv", "--out", str(target), *AS_OF])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8"))))
    [ghost] = [r for r in rows if r["category"] == "missing_in_map"]
    assert ghost["map_id"] == "'=cmd|' /C calc'!A0"
    assert not any(v.startswith(("=", "+", "-", "@")) for r in rows for v in r.values())


def test_html_is_one_self_contained_file(env: EmulatorHandle, tmp_path: Path) -> None:
    target = tmp_path / "audit.html"
    result = runner.invoke(app, ["audit", "--format", "html", "--out", str(target), *AS_OF])
    assert result.exit_code == 0, result.output
    page = target.read_text(encoding="utf-8")
    assert page.count("<svg") >= 2 and 'id="findings"' in page
    for remote in ('src="http', "src='http", 'href="http', "@import", "url(http"):
        assert remote not in page
    assert "default-src 'none'" in page


def test_table_shows_summary_and_top_findings(env: EmulatorHandle) -> None:
    result = runner.invoke(app, ["audit", *AS_OF])
    assert result.exit_code == 0, result.output
    assert "missing_in_map" in result.stdout and "Top findings" in result.stdout


@pytest.mark.parametrize(("fail_on", "code"), [
    pytest.param("missing_in_map=0", 1, id="over-threshold"),
    pytest.param("missing_in_map=1,rejected_input=1", 0, id="at-threshold"),
    pytest.param("any=2", 1, id="total-over"),
    pytest.param("field_drift=0", 0, id="category-without-findings"),
    pytest.param("nonsense=1", 2, id="unknown-category-is-a-usage-error"),
    pytest.param("missing_in_map", 2, id="no-number-is-a-usage-error"),
])
def test_fail_on_exits_1_when_a_threshold_is_exceeded(env: EmulatorHandle, fail_on: str,
                                                      code: int) -> None:
    result = runner.invoke(app, ["audit", "--format", "json", "--fail-on", fail_on, *AS_OF])
    assert result.exit_code == code, result.output


def test_history_lists_past_audits(env: EmulatorHandle) -> None:
    for _ in range(2):
        assert runner.invoke(app, ["audit", "--format", "json", *AS_OF]).exit_code == 0
    result = runner.invoke(app, ["audit", "--history", "--format", "json"])
    assert result.exit_code == 0, result.output
    audits = json.loads(result.stdout)["audits"]
    assert [a["audit_id"] for a in audits] == [2, 1]
    assert [a["opened"] for a in audits] == [0, 3]
    assert audits[0]["summary"]["missing_in_map"] == 1
    table = runner.invoke(app, ["audit", "--history"])
    assert "Past audits" in table.stdout


def test_the_sync_summary_names_rejected_rows_and_points_to_the_audit(
        unsynced: EmulatorHandle) -> None:
    result = runner.invoke(app, ["sync", *AS_OF])
    assert result.exit_code == 1, result.output  # a row was rejected in this run
    assert "First rejected rows and failed writes" in result.stdout
    for part in ("rejected_input", "touches.csv,", "row 3", "occurred_at", "has no UTC"):
        assert part in result.stdout  # (the table wraps at the test terminal's width)
    assert "connector audit" in result.stdout
    data = json.loads(runner.invoke(app, ["sync", "--format", "json", "--full",
                                          *AS_OF]).stdout)
    [problem] = data["first_problems"]
    assert (problem["kind"], problem["file"], problem["row"], problem["field"]) == \
        ("rejected_input", "touches.csv", 3, "occurred_at")


def test_fix_dry_run_writes_nothing_and_dry_run_alone_is_a_usage_error(
        env: EmulatorHandle) -> None:
    assert runner.invoke(app, ["audit", "--dry-run", *AS_OF]).exit_code == 2
    env.reset_stats()
    result = runner.invoke(app, ["audit", "--fix", "--dry-run", "--format", "json", *AS_OF])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["fix"]["dry_run"] is True and data["fix"]["planned"] == {}
    assert env.stats()["api_calls"]["write"] == 0
