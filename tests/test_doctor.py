"""`connector doctor`: object access, member statuses, next-run cost, features switched on."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from connector.cli import app
from connector.doctor_org import estimate_next_run, member_status_setup, object_access
from connector.emulator.testing import running_emulator
from connector.errors import SalesforceApiError
from tests.e2e.harness import Export

runner = CliRunner()


class FakeClient:
    """Describe answers as an org with restricted permissions would give them."""

    def __init__(self, flags: dict[str, dict[str, Any]],
                 rows: list[dict[str, str]] | None = None) -> None:
        self.flags = flags
        self.rows = rows or []

    def describe(self, sobject: str) -> dict[str, Any]:
        if sobject not in self.flags:
            raise SalesforceApiError("not found", status=404, error_code="NOT_FOUND")
        return self.flags[sobject]

    def query(self, soql: str) -> list[dict[str, str]]:
        return self.rows


FULL = {"queryable": True, "createable": True, "updateable": True}
READ = {"queryable": True, "createable": False, "updateable": False}


@pytest.mark.parametrize(("flags", "ok", "expected"), [
    pytest.param({"Lead": FULL, "Campaign": FULL, "Account": READ}, True, "", id="ready"),
    pytest.param({"Lead": READ, "Campaign": FULL, "Account": READ}, False,
                 "Lead: no create/edit access", id="lead-read-only"),
    pytest.param({"Lead": FULL, "Campaign": {**FULL, "createable": False}, "Account": READ},
                 False, "Campaign: no create access", id="no-marketing-user"),
    pytest.param({"Lead": FULL, "Campaign": FULL}, False, "Account: not visible",
                 id="object-hidden"),
])
def test_object_access(flags: dict[str, dict[str, Any]], ok: bool, expected: str) -> None:
    check = object_access(FakeClient(flags), ["Lead", "Campaign", "Account"])
    assert check.ok is ok
    assert expected in check.detail
    if not ok:
        assert check.hint and "MAP_Connector_Integration" in check.hint
        assert "Marketing User" in check.hint


def test_member_status_setup_counts_campaigns_missing_the_ladder() -> None:
    describe = {**FULL, "fields": [{"name": n} for n in ("Label", "HasResponded", "IsDefault",
                                                         "SortOrder", "CampaignId")]}
    rows = [{"CampaignId": "c1", "Label": "Sent"}, {"CampaignId": "c1", "Label": "Attended"},
            {"CampaignId": "c2", "Label": "Sent"}]
    check = member_status_setup(FakeClient({"CampaignMemberStatus": describe}, rows),
                                ["Sent", "Attended"], "MAP_Program_Id__c")
    assert check.ok and "2 connector campaign(s), 1 still missing" in check.detail
    denied = member_status_setup(FakeClient({"CampaignMemberStatus": {**describe,
                                                                      "createable": False}}),
                                 ["Sent"], "MAP_Program_Id__c")
    assert not denied.ok and denied.hint and "Marketing User" in denied.hint


@pytest.mark.parametrize(("runs", "dead", "people", "records", "calls"), [
    pytest.param([{"run_id": 4, "status": "ok", "summary": {"api_calls": 30}}], 0, None, None,
                 30, id="like-the-last-run"),
    pytest.param([{"run_id": 5, "status": "failed", "summary": {"error": "x"}},
                  {"run_id": 4, "status": "partial", "summary": {"api_calls": 30}}], 401, None,
                 None, 33, id="skips-failed-adds-replay"),
    pytest.param([], 0, 1000, 4000, 2 + 12 + 15, id="first-run"),
    pytest.param([], 0, None, None, 12, id="first-run-unknown-size"),
])
def test_estimate_next_run(runs: list[dict[str, Any]], dead: int, people: int | None,
                           records: int | None, calls: int) -> None:
    assert estimate_next_run(runs, dead, people, records)[0] == calls


# ------------------------------------------------------------- against the org


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    monkeypatch.chdir(tmp_path)
    Export(tmp_path / "map").person("P1", "ada@acme.com").program("W1", "Webinar") \
        .touch("t1", "P1", "webinar_registered", 1, "W1").write()
    with running_emulator(tmp_path / "org") as org:
        values = {**org.env(), "MAP_KIND": "files", "MAP_FILES_DIR": str(tmp_path / "map"),
                  "CONNECTOR_STATE": str(tmp_path / "state" / "state.db")}
        for key, value in values.items():
            monkeypatch.setenv(key, value)
        yield values


@pytest.mark.e2e
def test_doctor_checks_the_org_and_ignores_features_switched_off(
        env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from connector.mappings import bundled_dir

    custom = tmp_path / "mappings"
    custom.mkdir()
    text = (bundled_dir() / "fields.yaml").read_text()
    # a field only attribution would write: not in the org, not checked while it is off
    text = text.replace("      position:", "      extra: {api_name: Extra__c, type: string, "
                        "length: 40, policy: always}\n      position:")
    (custom / "fields.yaml").write_text(text)
    monkeypatch.setenv("CONNECTOR_MAPPINGS", str(custom))
    result = runner.invoke(app, ["doctor", "--format", "json"])
    data = json.loads(result.stdout)
    assert result.exit_code == 0, result.stdout
    names = {c["name"]: c for c in data["checks"]}
    assert {"object access", "mapped fields", "campaign member statuses", "next run",
            "API allocation"} <= set(names)
    assert "first run" in names["next run"]["detail"]
    assert "Extra__c" not in result.stdout
    runner.invoke(app, ["sync", "--as-of", "2026-11-01T12:00:00+00:00"])
    again = json.loads(runner.invoke(app, ["doctor", "--format", "json"]).stdout)
    nxt = {c["name"]: c for c in again["checks"]}["next run"]
    assert "like run 1" in nxt["detail"]
