"""Operations: --version, completion, init, JSON logs, the metrics file, console width."""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from importlib.metadata import version
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from typer.testing import CliRunner

from connector.cli import _mount_optional, app
from connector.emulator.testing import EmulatorHandle, running_emulator
from connector.logs import REDACTED, JsonFormatter, Redactor
from tests.e2e.harness import Export

_mount_optional()
runner = CliRunner()
AS_OF = ["--as-of", "2026-11-01T12:00:00+00:00"]
CONNECTOR = Path(sys.executable).parent / "connector"


def test_version_comes_from_the_package_metadata() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout.strip() == f"connector {version('map-salesforce-connector')}"


@pytest.mark.skipif(not CONNECTOR.exists(), reason="the console script is not installed")
def test_shell_completion_script_is_offered() -> None:
    shown = subprocess.run([str(CONNECTOR), "--show-completion", "bash"], capture_output=True,
                           text=True, timeout=60, check=False,
                           # typer finds the shell from the process tree, which a
                           # test worker's is not; this makes it take the argument
                           env={**os.environ, "SHELL": "/bin/bash",
                                "_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION": "1"})
    assert shown.returncode == 0, shown.stderr
    assert "_CONNECTOR_COMPLETE" in shown.stdout and "complete " in shown.stdout


def test_init_writes_a_loadable_config_and_refuses_to_overwrite(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "conf"
    result = runner.invoke(app, ["init", str(target)])
    assert result.exit_code == 0, result.output
    config = target / "connector.toml"
    assert config.exists() and (target / "mappings" / "fields.yaml").exists()
    assert "Next steps" in result.stdout
    for step in ("schema export", "connector doctor", "sync --dry-run", "Marketing User"):
        assert step in result.stdout
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CONNECTOR_CONFIG", str(config))
    for name in ("CONNECTOR_MAPPINGS", "CONNECTOR_STATE", "SF_LOGIN_URL", "MAP_KIND"):
        monkeypatch.delenv(name, raising=False)
    from connector.config import load_settings
    from connector.mappings import load_mappings

    settings = load_settings()
    assert settings.connector.mappings == target.resolve() / "mappings"
    assert load_mappings(settings.connector.mappings).directory == target.resolve() / "mappings"
    config.write_text(config.read_text() + "\n# my edit\n")
    again = runner.invoke(app, ["init", str(target)])
    assert again.exit_code == 2 and "--force" in again.output
    assert "# my edit" in config.read_text()
    forced = runner.invoke(app, ["init", str(target), "--force"])
    assert forced.exit_code == 0 and "# my edit" not in config.read_text()


@pytest.mark.parametrize(("message", "secret"), [
    pytest.param("Authorization: Bearer 00Dabc!AQ.token_value", "00Dabc!AQ.token_value",
                 id="bearer"),
    pytest.param("POST body client_secret=S3CR3Tvalue&grant_type=x", "S3CR3Tvalue",
                 id="form-secret"),
    pytest.param('{"access_token": "tok-123456"}', "tok-123456", id="json-token"),
    pytest.param("login with configured-secret-xyz failed", "configured-secret-xyz",
                 id="configured-value"),
])
def test_redactor_blanks_secrets(message: str, secret: str) -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "%s", (message,), None)
    Redactor(["configured-secret-xyz"]).filter(record)
    line = JsonFormatter().format(record)
    assert secret not in line and REDACTED in line
    assert json.loads(line)["level"] == "info"


def test_non_terminal_output_is_not_wrapped_at_80_columns(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from connector.reports.console import NON_TERMINAL_WIDTH, _console

    monkeypatch.delenv("COLUMNS", raising=False)
    console = _console()
    assert not console.is_terminal and console.width == NON_TERMINAL_WIDTH > 80


# ------------------------------------------------------------- against the org


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
              "CONNECTOR_STATE": str(tmp_path / "state" / "state.db"),
              "CONNECTOR_METRICS_FILE": str(tmp_path / "textfile" / "connector.prom")}
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("CONNECTOR_LOG_FORMAT", raising=False)
    return values


def _families(path: Path) -> dict[str, list[tuple[dict[str, str], float]]]:
    out: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(path.read_text()):
        for sample in family.samples:
            out.setdefault(sample.name, []).append((dict(sample.labels), sample.value))
    return out


@pytest.mark.e2e
def test_json_logs_are_one_object_per_line_without_secrets(env: dict[str, str]) -> None:
    result = runner.invoke(app, ["--log-format", "json", "sync", "--format", "json", *AS_OF])
    assert result.exit_code == 1, result.output  # the export has a rejected (naive) row
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    records = [json.loads(line) for line in lines]  # every line is one JSON object
    assert records and all({"time", "level", "run_id", "phase", "message"} <= set(r)
                           for r in records)
    summary = json.loads(result.stdout)
    assert {r["run_id"] for r in records if r["phase"]} == {summary["run_id"]}
    assert any(r["phase"] and "mirror" in r["phase"] for r in records)
    finished = [r for r in records if r["phase"] == "finished"]
    assert finished and finished[-1]["counts"]["created"] >= 1
    for secret in (env["SF_CLIENT_SECRET"],):
        assert secret not in result.stderr and secret not in result.stdout


@pytest.mark.e2e
def test_log_format_from_the_environment_and_errors_as_json(
        env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONNECTOR_LOG_FORMAT", "json")
    monkeypatch.setenv("SF_CLIENT_SECRET", "wrong-secret-value")
    result = runner.invoke(app, ["sync", *AS_OF])
    assert result.exit_code == 3
    records = [json.loads(line) for line in result.stderr.splitlines() if line.strip()]
    assert records[-1]["level"] == "error"
    assert "wrong-secret-value" not in result.stderr
    monkeypatch.setenv("CONNECTOR_LOG_FORMAT", "xml")
    assert runner.invoke(app, ["runs"]).exit_code == 2


@pytest.mark.e2e
def test_metrics_file_matches_the_json_summary_and_survives_a_failed_run(
        env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    path = Path(env["CONNECTOR_METRICS_FILE"])
    result = runner.invoke(app, ["sync", "--format", "json", *AS_OF])
    assert result.exit_code == 1, result.output  # the export has a rejected (naive) row
    summary = json.loads(result.stdout)
    figures = summary["metrics"]
    metrics = _families(path)
    lead = {s[0]["outcome"]: s[1] for s in metrics["connector_last_run_records"]
            if s[0]["object"] == "Lead"}
    assert lead["created"] == summary["objects"]["Lead"]["created"] == 1
    assert metrics["connector_last_run_rejected_rows"][0][1] == figures["rejected_rows"] == 1
    calls = {s[0]["kind"]: s[1] for s in metrics["connector_last_run_api_calls"]}
    assert calls == {k: float(v) for k, v in summary["api_calls_by_kind"].items()}
    assert metrics["connector_org_api_requests_remaining"][0][1] == \
        figures["org_api_remaining"] > 0
    status = {s[0]["status"]: s[1] for s in metrics["connector_last_run_status"]}
    assert status["ok"] == 1 and status["failed"] == 0
    success = metrics["connector_last_success_timestamp_seconds"][0][1]
    assert success > 0
    assert metrics["connector_last_run_duration_seconds"][0][1] >= 0
    assert not [p for p in path.parent.iterdir() if p.name != path.name]  # no temp files left
    # a dry run leaves the file alone
    before = path.read_text()
    assert runner.invoke(app, ["sync", "--dry-run", *AS_OF]).exit_code == 0
    assert path.read_text() == before
    # a failed run says so and keeps the last success
    monkeypatch.setenv("SF_CLIENT_SECRET", "wrong")
    assert runner.invoke(app, ["sync", *AS_OF]).exit_code == 3
    failed = _families(path)
    status = {s[0]["status"]: s[1] for s in failed["connector_last_run_status"]}
    assert status["failed"] == 1 and status["ok"] == 0
    assert failed["connector_last_run_exit_code"][0][1] == 3
    assert failed["connector_last_success_timestamp_seconds"][0][1] == success


@pytest.mark.e2e
@pytest.mark.slow
def test_demo_keep_writes_an_env_file_and_the_kept_org_serves_again(tmp_path: Path) -> None:
    if not CONNECTOR.exists():
        pytest.skip("the console script is not installed")
    keep = tmp_path / "kept"
    demo = subprocess.run([str(CONNECTOR), "--log-format", "json", "demo", "--people", "200",
                           "--keep", str(keep)], capture_output=True, text=True, timeout=600,
                          check=False, cwd=tmp_path)
    assert demo.returncode == 0, demo.stderr[-2000:]
    logged = [json.loads(line) for line in demo.stderr.splitlines() if line.strip()]
    assert {r["phase"] for r in logged} >= {"finished"}
    env_file = keep / "connector.env"
    assert f"source {env_file}" in demo.stdout
    assert oct(env_file.stat().st_mode & 0o777) == "0o600"
    assert str(keep / "funnel.html") in demo.stdout  # the demo ends with the funnel report
    assert (keep / "funnel.html").read_text(encoding="utf-8").count("<svg") == 3
    variables: dict[str, str] = {}
    for line in env_file.read_text().splitlines():
        if line.startswith("export "):
            key, _, value = line.removeprefix("export ").partition("=")
            variables[key] = value.strip("'")
    for key in ("SF_INSTANCE_URL", "SF_CLIENT_ID", "SF_CLIENT_SECRET", "SF_CA_BUNDLE",
                "MAP_KIND", "MAP_FILES_DIR", "CONNECTOR_STATE", "CONNECTOR_MAPPINGS"):
        assert variables.get(key), key
    port = variables["SF_INSTANCE_URL"].rsplit(":", 1)[-1]
    server = subprocess.Popen([str(CONNECTOR), "emulator", "serve", "--data-dir",
                               str(keep / "org"), "--port", port],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert server.stdout is not None
        for _ in range(50):
            line = server.stdout.readline()
            if "https://" in line or not line:
                break
        clean = {k: v for k, v in os.environ.items()
                 if not k.startswith(("SF_", "MAP_", "CONNECTOR_"))}
        ran = subprocess.run([str(CONNECTOR), "sync", "--format", "json",
                              "--as-of", "2026-11-01T12:00:00+00:00"],
                             env={**clean, **variables}, capture_output=True, text=True,
                             timeout=300, check=False, cwd=tmp_path)
        assert ran.returncode in (0, 1), ran.stderr[-2000:]
        summary = json.loads(ran.stdout)
        assert summary["run_id"] == 3  # the demo's two runs are in the kept state
        assert summary["status"] in ("ok", "partial")
    finally:
        server.terminate()
        server.wait(timeout=30)
    shutil.rmtree(keep, ignore_errors=True)


def test_demo_keep_never_empties_a_directory_that_is_not_a_demo(tmp_path: Path) -> None:
    precious = tmp_path / "home"
    precious.mkdir()
    (precious / "notes.txt").write_text("keep me")
    result = runner.invoke(app, ["demo", "--people", "50", "--keep", str(precious)])
    assert result.exit_code == 2
    assert "not empty" in result.output
    assert (precious / "notes.txt").read_text() == "keep me"


def test_init_template_names_only_real_settings(tmp_path: Path) -> None:
    """Every key of connector.toml, set or commented out, is a setting of its table."""
    import re
    import tomllib

    from connector.config import (
        ConnectorSettings,
        HubSpotSettings,
        MapSettings,
        MarketoSettings,
        SalesforceSettings,
    )
    from connector.init_cmd import init_project

    tables = {"salesforce": SalesforceSettings, "map": MapSettings, "marketo": MarketoSettings,
              "hubspot": HubSpotSettings, "connector": ConnectorSettings}
    config = init_project(tmp_path).written[0]
    text = config.read_text()
    for table, values in tomllib.loads(text).items():
        assert set(values) <= set(tables[table].model_fields), table
    table = None
    for line in text.splitlines():
        if header := re.fullmatch(r"\[(\w+)\]", line):
            table = header.group(1)
        elif (key := re.match(r"#\s*(\w+) = ", line)) and table:
            assert key.group(1) in tables[table].model_fields, (table, key.group(1))


def test_a_metrics_file_that_cannot_be_written_does_not_fail_the_run(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    from connector.metrics import RunMetrics

    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    monkeypatch.setenv("CONNECTOR_METRICS_FILE", str(blocker / "connector.prom"))
    with caplog.at_level(logging.WARNING):
        RunMetrics("sync").failed(3)
    assert "could not write the metrics file" in caplog.text
