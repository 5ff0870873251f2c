"""`connector score train` through the CLI: JSON contract, refusal, HTML, --apply."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from connector.cli import _mount_optional, app

_mount_optional()
runner = CliRunner()
FAST = ["--min-positives", "30", "--bootstrap", "20", "--as-of", "2026-10-01T12:00:00+00:00"]


def test_json_report_on_stdout(small_dir: Path) -> None:
    result = runner.invoke(app, ["score", "train", "--data", str(small_dir), "--format",
                                 "json", *FAST])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["target"] == "opportunity" and report["horizon_days"] == 90
    assert set(report["models"]) == {"learned", "rules"}
    assert report["test"]["from"] >= report["settings"]["train_until"]


def test_refusal_exits_1_with_the_contract_shape(small_dir: Path) -> None:
    result = runner.invoke(app, ["score", "train", "--data", str(small_dir), "--format",
                                 "json", "--min-positives", "100000", "--target", "won"])
    assert result.exit_code == 1
    payload = json.loads(result.stdout)
    assert {"refused", "positives", "needed"} <= set(payload)
    assert payload["needed"] == 100000


def test_refusal_in_table_mode_says_why_on_stderr(small_dir: Path) -> None:
    result = runner.invoke(app, ["score", "train", "--data", str(small_dir),
                                 "--min-positives", "100000"])
    assert result.exit_code == 1
    assert "refusing to train" in result.output and "more are needed" in result.output


def test_html_report_and_apply(small_dir: Path, tmp_path: Path) -> None:
    out, learned = tmp_path / "report.html", tmp_path / "scoring.yaml"
    result = runner.invoke(app, ["score", "train", "--data", str(small_dir), "--format",
                                 "html", "--out", str(out), "--apply", str(learned),
                                 "--top-k", "10,100", *FAST])
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    for marker in ("chart-lift", "chart-capture", "chart-calibration", "chart-factors",
                   "<svg", "Deciles: learned", "Top k per snapshot date"):
        assert marker in html
    assert "REVIEW BEFORE USE" in learned.read_text(encoding="utf-8")


def test_table_output(small_dir: Path) -> None:
    result = runner.invoke(app, ["score", "train", "--data", str(small_dir), *FAST])
    assert result.exit_code == 0, result.output
    assert "Back-test on the test period" in result.stdout
    assert "Deciles: learned" in result.stdout and "Verdict:" in result.stdout


def test_bad_top_k_is_a_usage_error(small_dir: Path) -> None:
    result = runner.invoke(app, ["score", "train", "--data", str(small_dir),
                                 "--top-k", "ten"])
    assert result.exit_code == 2


def test_data_dir_that_is_not_generated_is_a_config_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["score", "train", "--data", str(tmp_path)])
    assert result.exit_code == 2
    assert "not a generate-data output" in result.output


def test_an_empty_state_database_is_refused(tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONNECTOR_STATE", str(tmp_path / "state.db"))
    result = runner.invoke(app, ["score", "train", "--format", "json"])
    assert result.exit_code == 1
    payload = json.loads(result.stdout)
    assert payload["refused"] == "no_history" and payload["positives"] == 0


def test_a_test_period_without_positives_is_refused(small_dir: Path) -> None:
    result = runner.invoke(app, ["score", "train", "--data", str(small_dir), "--format",
                                 "json", "--min-positives", "1", "--train-until",
                                 "2026-09-30", "--test-until", "2026-10-01"])
    assert result.exit_code == 1
    assert json.loads(result.stdout)["refused"] == "empty_test_period"


def test_account_level_table_html_and_apply(small_dir: Path, tmp_path: Path) -> None:
    table = runner.invoke(app, ["score", "train", "--data", str(small_dir), "--level",
                                "account", "--min-positives", "10", "--bootstrap", "20",
                                "--as-of", "2026-10-01T12:00:00+00:00"])
    assert table.exit_code == 0, table.output
    assert "Snapshots of accounts" in table.stdout and "account_fit:" in table.stdout
    out, learned = tmp_path / "accounts.html", tmp_path / "scoring.yaml"
    result = runner.invoke(app, ["score", "train", "--data", str(small_dir), "--level",
                                 "account", "--format", "html", "--out", str(out),
                                 "--apply", str(learned), "--min-positives", "10",
                                 "--bootstrap", "20", "--boosting",
                                 "--as-of", "2026-10-01T12:00:00+00:00"])
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    assert "(accounts)" in html and "intervals over accounts" in html
    assert "Gradient boosting factors" in html
    assert "learned from ACCOUNT snapshots" in learned.read_text(encoding="utf-8")


def test_account_refusal_names_accounts(small_dir: Path) -> None:
    result = runner.invoke(app, ["score", "train", "--data", str(small_dir), "--format",
                                 "json", "--level", "account", "--min-positives", "100000"])
    assert result.exit_code == 1
    payload = json.loads(result.stdout)
    assert payload["refused"] == "too_few_positives" and payload["level"] == "account"
    assert "accounts who reached" in payload["message"]
