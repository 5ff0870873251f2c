"""`pip install .` gives a working `connector`: wheel built, installed into a fresh
virtual environment (not editable, nothing shared with the test environment),
`--version` and a small demo run from there, and the build prints no
deprecation warnings."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = [pytest.mark.slow, pytest.mark.e2e]


def _run(args: list[str], **kw: object) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SF_", "MAP_", "CONNECTOR_", "PYTHON", "VIRTUAL_ENV"))}
    return subprocess.run(args, capture_output=True, text=True, check=False, env=env,
                          **kw)  # type: ignore[call-overload,no-any-return]


def test_wheel_installs_into_a_fresh_venv_and_runs_the_demo(tmp_path: Path) -> None:
    # build from a copy: pip builds in the source tree, and a stale build/ there
    # (or one a parallel test is writing) must neither leak into the wheel nor be touched
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    for name in ("connector", "mappings"):
        shutil.copytree(ROOT / name, source / name,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    dist = tmp_path / "dist"
    built = _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--wheel-dir", str(dist),
                  str(source)], timeout=600)
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    for marker in ("deprecated", "DeprecationWarning", "BuildBackendWarning"):
        assert marker not in built.stdout + built.stderr, marker
    wheel = next(dist.glob("map_salesforce_connector-*.whl"))
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    assert "connector/bundled_mappings/fields.yaml" in names
    assert "connector/emulator/standard_objects.yaml" in names

    venv = tmp_path / "venv"
    made = _run([sys.executable, "-m", "venv", str(venv)], timeout=300)
    assert made.returncode == 0, made.stderr
    python = venv / "bin" / "python"
    # a real install: every dependency resolved from the index (pip's cache may serve them)
    installed = _run([str(python), "-m", "pip", "install", "--quiet", str(wheel)], timeout=1200)
    assert installed.returncode == 0, installed.stdout[-3000:] + installed.stderr[-3000:]
    location = _run([str(python), "-c", "import connector; print(connector.__file__)"],
                    timeout=60, cwd=tmp_path)
    assert location.stdout.strip().startswith(str(venv)), location.stdout  # not this checkout

    connector = venv / "bin" / "connector"
    version = _run([str(connector), "--version"], timeout=60, cwd=tmp_path)
    assert version.returncode == 0 and version.stdout.startswith("connector 0."), version
    demo = _run([str(connector), "demo", "--people", "200"], timeout=900, cwd=tmp_path)
    assert demo.returncode == 0, demo.stdout[-3000:] + demo.stderr[-3000:]
    assert "0 write calls" in demo.stdout
