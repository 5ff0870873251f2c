"""The command line through CliRunner: output shapes and exit codes (CONTRACT.md)."""

from __future__ import annotations

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


@pytest.fixture
def org(tmp_path: Path) -> Iterator[EmulatorHandle]:
    with running_emulator(tmp_path / "org") as handle:
        yield handle


@pytest.fixture
def env(org: EmulatorHandle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.chdir(tmp_path)
    export = Export(tmp_path / "map").person("P1", "ada@acme.com").person("P2", "bad-email") \
        .program("W1", "Webinar").touch("t1", "P1", "webinar_registered", 1, "W1")
    export.touches.append({"touch_id": "t2", "map_id": "P1", "touch_type": "form_fill",
                           "occurred_at": "2026-01-01T10:00:00"})  # naive: rejected
    export.write()
    values = {**org.env(), "MAP_KIND": "files", "MAP_FILES_DIR": str(tmp_path / "map"),
              "CONNECTOR_STATE": str(tmp_path / "state" / "state.db")}
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    return values


AS_OF = ["--as-of", "2026-11-01T12:00:00+00:00"]


def test_sync_json_has_the_contract_shape_and_rejections_are_kept(env: dict[str, str]) -> None:
    result = runner.invoke(app, ["sync", "--format", "json", *AS_OF])
    assert result.exit_code == 1, result.output  # done, but an input row was rejected
    data = json.loads(result.stdout)
    assert {"run_id", "status", "as_of", "api_calls", "objects", "dead_letters"} <= set(data)
    assert data["status"] == "ok" and isinstance(data["api_calls"], int)
    assert set(data["objects"]["Lead"]) >= {"created", "updated", "unchanged", "failed"}
    assert data["objects"]["Lead"]["created"] == 1
    assert data["dead_letters_by_kind"] == {"rejected_input": 1}
    second = runner.invoke(app, ["sync", "--format", "json", *AS_OF])
    assert second.exit_code == 0, second.output  # nothing new was rejected
    again = json.loads(second.stdout)
    assert again["api_calls_by_kind"].get("write", 0) == 0


def test_attribution_run_json_and_explain_opportunity(env: dict[str, str],
                                                      org: EmulatorHandle) -> None:
    runner.invoke(app, ["sync", "--format", "json", "--no-attribution", *AS_OF])
    lead = org.salesforce().query("SELECT Id FROM Lead")["records"][0]["Id"]
    opp = org.convert_lead(lead, create_opportunity=True)["opportunity_id"]
    synced = json.loads(runner.invoke(app, ["sync", "--format", "json", *AS_OF]).stdout)
    assert synced["attribution"]["attributed"] == 1  # the sync ran attribution at its end
    result = runner.invoke(app, ["attribution", "run", "--format", "json", "--model",
                                 "linear", *AS_OF])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert {"run_id", "status", "as_of", "models", "opportunities", "attributed",
            "unattributed", "api_calls", "objects"} <= set(data)
    assert data["models"] == ["linear"] and data["opportunities"] == 1
    assert set(data["objects"]["Attribution__c"]) == {"created", "updated", "unchanged",
                                                       "deleted", "failed"}
    # only linear now: the other models' records are deleted as stale
    assert data["objects"]["Attribution__c"]["deleted"] > 0
    explained = runner.invoke(app, ["explain", "opportunity", str(opp), "--format", "json",
                                    *AS_OF])
    assert explained.exit_code == 0, explained.output
    assert json.loads(explained.stdout)["opportunity_id"] == opp
    bad = runner.invoke(app, ["attribution", "run", "--model", "nonsense", *AS_OF])
    assert bad.exit_code == 2


def test_dry_run_table_shows_the_plan(env: dict[str, str]) -> None:
    result = runner.invoke(app, ["sync", "--dry-run", *AS_OF])
    assert result.exit_code == 1, result.output  # the export has a rejected row
    assert "dry run" in result.stdout and "new leads" in result.stdout
    assert "Writing this plan would take about" in result.stdout


def test_explain_runs_and_doctor(env: dict[str, str]) -> None:
    runner.invoke(app, ["sync", *AS_OF])
    explained = json.loads(runner.invoke(app, ["explain", "person", "ADA@acme.com",
                                               "--format", "json"]).stdout)
    assert explained["match"]["rule"] == "created"
    assert explained["touches"][0]["channel"] == "Webinar"
    assert any(f["field"] == "Original_Source__c" and f["salesforce"] == "Webinar"
               for f in explained["fields"])
    runs = json.loads(runner.invoke(app, ["runs", "--format", "json"]).stdout)
    assert runs["runs"][0]["status"] == "ok" and runs["open_dead_letters"] == 1
    doctor = runner.invoke(app, ["doctor", "--format", "json"])
    assert doctor.exit_code == 0, doctor.output
    assert json.loads(doctor.stdout)["ok"] is True


def test_unknown_person_is_a_usage_error(env: dict[str, str]) -> None:
    result = runner.invoke(app, ["explain", "person", "nobody@nowhere.io"])
    assert result.exit_code == 2
    assert "no MAP person" in result.stderr


def test_configuration_error_exits_2(env: dict[str, str], monkeypatch: pytest.MonkeyPatch
                                     ) -> None:
    monkeypatch.setenv("MAP_KIND", "pardot")
    result = runner.invoke(app, ["sync", *AS_OF])
    assert result.exit_code == 2 and "invalid configuration" in result.stderr


def test_wrong_secret_exits_3_without_showing_it(env: dict[str, str],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SF_CLIENT_SECRET", "definitely-wrong-secret")
    result = runner.invoke(app, ["sync", "--format", "json", *AS_OF])
    assert result.exit_code == 3
    assert "invalid_client" in result.stderr
    assert "definitely-wrong-secret" not in result.stderr + result.stdout
    failure = json.loads(result.stdout)  # machines still get an object on stdout
    assert failure["status"] == "failed" and failure["exit_code"] == 3


def test_budget_stop_exits_4(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SF_BUDGET_CALLS", "3")
    result = runner.invoke(app, ["sync", "--format", "json", *AS_OF])
    assert result.exit_code == 4, result.output
    assert json.loads(result.stdout)["status"] == "stopped"


def test_doctor_reports_every_missing_field(env: dict[str, str], tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    custom = tmp_path / "mappings"
    custom.mkdir()
    from connector.mappings import bundled_dir

    text = (bundled_dir() / "fields.yaml").read_text()
    text = text.replace("  excluded_reason:", "  nickname: {api_name: Nickname__c, type: string, "
                        "length: 40, policy: always}\n  excluded_reason:")
    (custom / "fields.yaml").write_text(text)
    monkeypatch.setenv("CONNECTOR_MAPPINGS", str(custom))
    doctor = runner.invoke(app, ["doctor"])
    assert doctor.exit_code == 2
    assert "Lead.Nickname__c" in doctor.stdout and "Contact.Nickname__c" in doctor.stdout
    sync = runner.invoke(app, ["sync", *AS_OF])
    assert sync.exit_code == 2 and "schema export" in sync.stderr


def test_schema_export_writes_the_project(env: dict[str, str], tmp_path: Path) -> None:
    result = runner.invoke(app, ["schema", "export", "--out", str(tmp_path / "meta")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "meta" / "sfdx-project.json").exists()
