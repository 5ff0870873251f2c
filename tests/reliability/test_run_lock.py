"""Defect 5: one writer at a time; a killed holder never blocks; killed runs are marked."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from connector.errors import RunLocked
from connector.run_lock import RunLock
from connector.state.interrupted import mark_interrupted_runs
from connector.state.store import open_store

HOLD = """
import sys, time
from connector.run_lock import RunLock
lock = RunLock(sys.argv[1], "sync").acquire()
print("locked", flush=True)
time.sleep(120)
"""


@pytest.fixture
def holder(tmp_path: Path) -> Iterator[subprocess.Popen[str]]:
    state = tmp_path / "state.db"
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(state)], stdout=subprocess.PIPE,
                            text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
    yield proc
    if proc.poll() is None:
        proc.kill()
    proc.wait()


def test_a_second_run_is_refused_at_once_naming_the_holder(
        tmp_path: Path, holder: subprocess.Popen[str]) -> None:
    with pytest.raises(RunLocked) as info:
        RunLock(tmp_path / "state.db", "sync").acquire()
    assert f"pid {holder.pid}" in info.value.message
    assert info.value.exit_code == 5


def test_the_cli_exits_5_and_does_nothing(tmp_path: Path,
                                          holder: subprocess.Popen[str]) -> None:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SF_", "MAP_", "CONNECTOR_", "MARKETO_", "HUBSPOT_"))}
    env.update({"CONNECTOR_STATE": str(tmp_path / "state.db"), "MAP_FILES_DIR": str(tmp_path),
                "SF_CLIENT_ID": "x", "SF_CLIENT_SECRET": "y",
                "SF_LOGIN_URL": "https://127.0.0.1:9"})
    proc = subprocess.run([sys.executable, "-m", "connector", "sync", "--format", "json"],
                          env=env, capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert proc.returncode == 5, proc.stderr
    assert f"pid {holder.pid}" in proc.stderr
    assert '"exit_code": 5' in proc.stdout
    assert not (tmp_path / "state.db").exists()  # nothing was done, not even a migration


def test_a_lock_left_by_a_killed_process_is_released(tmp_path: Path,
                                                     holder: subprocess.Popen[str]) -> None:
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    with RunLock(tmp_path / "state.db", "sync"):
        pass


def test_the_lock_is_exclusive_within_one_process_too(tmp_path: Path) -> None:
    with RunLock(tmp_path / "state.db", "sync"), pytest.raises(RunLocked):
        RunLock(tmp_path / "state.db", "replay").acquire()
    with RunLock(tmp_path / "state.db", "replay"):  # released on exit
        pass


def test_runs_left_running_are_marked_interrupted(tmp_path: Path) -> None:
    store = open_store(tmp_path / "state.db")
    killed = store.start_run("sync", datetime(2026, 1, 1, tzinfo=UTC))
    done = store.start_run("sync", datetime(2026, 1, 1, tzinfo=UTC))
    store.finish_run(done, "ok", {})
    assert mark_interrupted_runs(store) == [killed]
    statuses = {r["run_id"]: r["status"] for r in store.runs()}
    assert statuses == {killed: "interrupted", done: "ok"}
    assert mark_interrupted_runs(store) == []
    store.close()
