"""The `generate-data` command and the scripts/ wrapper call the same generator."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from connector.datagen.cli import datagen_app

ROOT = Path(__file__).resolve().parents[2]


def test_json_summary_goes_to_stdout_alone(tmp_path: Path) -> None:
    result = CliRunner().invoke(datagen_app, ["--out", str(tmp_path), "--people", "120",
                                              "--seed", "3", "--format", "json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["people"] == 120 and summary["seed"] == 3
    assert (tmp_path / "map" / "people.csv").exists()
    assert (tmp_path / "sf" / "manifest.json").exists()


def test_every_option_reaches_the_generator(tmp_path: Path) -> None:
    result = CliRunner().invoke(datagen_app, [
        "-o", str(tmp_path), "--people", "90", "--seed", "5", "--dirty", "0",
        "--file-format", "jsonl", "--as-of", "2026-03-31T18:00:00-04:00",
        "--touches-per-person", "4", "--format", "json", "--quiet"])
    assert result.exit_code == 0, result.output
    s = json.loads(result.stdout)
    assert s["format"] == "jsonl" and s["dirty_rate"] == 0 and s["dirty_people"] == 0
    assert s["as_of"] == "2026-03-31T22:00:00.000+0000"
    assert s["touches_per_person"] == 4 and s["touches"] < 90 * 6
    assert (tmp_path / "map" / "touches.jsonl").exists()


def test_table_output_names_the_directories(tmp_path: Path) -> None:
    result = CliRunner().invoke(datagen_app, ["--out", str(tmp_path), "--people", "50"])
    assert result.exit_code == 0, result.output
    assert "opportunities" in result.stdout and str(tmp_path / "map") in result.stdout


@pytest.mark.parametrize("args", [
    pytest.param(["--dirty", "1.5"], id="dirty-above-range"),
    pytest.param(["--people", "0"], id="no-people"),
    pytest.param(["--file-format", "xml"], id="unknown-format"),
    pytest.param(["--as-of", "2026-01-01T00:00:00"], id="as-of-without-offset"),
    pytest.param(["--as-of", "next tuesday"], id="as-of-not-a-timestamp"),
])
def test_bad_options_exit_with_usage_error(tmp_path: Path, args: list[str]) -> None:
    result = CliRunner().invoke(datagen_app, ["--out", str(tmp_path / "x"), *args])
    assert result.exit_code == 2
    assert not (tmp_path / "x").exists()


def test_the_script_wrapper_generates_the_same_bytes(tmp_path: Path) -> None:
    completed = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "generate_data.py"), "--out",
         str(tmp_path / "script"), "--people", "60", "--seed", "7", "--format", "json"],
        capture_output=True, text=True, check=False, timeout=120)
    assert completed.returncode == 0, completed.stderr
    CliRunner().invoke(datagen_app, ["--out", str(tmp_path / "cli"), "--people", "60",
                                     "--seed", "7", "--quiet"])
    for name in ("map/people.csv", "map/touches.csv", "sf/Lead.jsonl"):
        assert (tmp_path / "script" / name).read_bytes() == (tmp_path / "cli" / name).read_bytes()
