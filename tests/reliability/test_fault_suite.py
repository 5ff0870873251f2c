"""The fault suite: every failure a production org produces, injected through the
emulator, must end, after a clean re-run where one is needed, in exactly the org a
fault-free run produces (compared field by field), with nothing written twice."""

from __future__ import annotations

import random
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from connector.datagen import GeneratedData, generate
from connector.emulator.testing import inprocess_emulator, running_emulator
from tests.e2e.harness import Rig
from tests.reliability.faults_helpers import (
    PEOPLE,
    SEED,
    converge,
    finish,
    full_snapshot,
    no_duplicates,
    rig_for,
    start_sync,
)

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> GeneratedData:
    return generate(tmp_path_factory.mktemp("data"), people=PEOPLE, seed=SEED)


@pytest.fixture(scope="module")
def reference(data: GeneratedData, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The org after one fault-free run."""
    root = tmp_path_factory.mktemp("reference")
    with inprocess_emulator(root / "org", seed_dir=data.sf_dir) as org:
        rig = rig_for(org, root, data.map_dir)
        result = rig.sync()
        assert result.status == "ok", result.as_json()
        snap = full_snapshot(rig)
        snap_members = len(snap["members"])
        assert snap_members > 1000  # big enough for several batches per step
        return snap


@pytest.fixture
def rig(tmp_path: Path, data: GeneratedData) -> Iterator[Rig]:
    with inprocess_emulator(tmp_path / "org", seed_dir=data.sf_dir) as org:
        yield rig_for(org, tmp_path, data.map_dir)


@pytest.fixture
def https_rig(tmp_path: Path, data: GeneratedData) -> Iterator[Rig]:
    with running_emulator(tmp_path / "org", seed_dir=data.sf_dir) as org:
        yield rig_for(org, tmp_path, data.map_dir)


def _same_as_reference(rig: Rig, reference: dict[str, Any]) -> None:
    no_duplicates(rig)
    got = full_snapshot(rig)
    for key in reference:  # one object at a time, for a readable diff
        assert got[key] == reference[key], key
    again = rig.sync()  # and nothing is left to do
    assert sum(o["created"] + o["updated"] + o["failed"] for o in again.objects.values()) == 0


def _fired(rig: Rig) -> int:
    return sum(int(r["fired"]) for r in rig.org.org.faults.describe())


# ------------------------------------------------------------- in-process


@pytest.mark.parametrize("rate", [pytest.param(0.1, id="10pct"), pytest.param(0.3, id="30pct")])
def test_record_lock_errors(rig: Rig, reference: dict[str, Any], rate: float) -> None:
    rig.org.set_faults([{"match": "composite/sobjects", "error": "UNABLE_TO_LOCK_ROW",
                         "scope": "record", "rate": rate, "seed": 7}])
    first = rig.sync()
    assert first.status in ("ok", "partial")
    assert _fired(rig) > 50
    kept = rig.store().dead_letters("failed_write")
    assert {d.error_code for d in kept} <= {"UNABLE_TO_LOCK_ROW", "DEPENDENCY_FAILED"}
    assert converge(rig).status == "ok"
    _same_as_reference(rig, reference)


def test_503s_at_5_percent(rig: Rig, reference: dict[str, Any]) -> None:
    rig.org.set_faults([{"match": "*", "error": "SERVER_UNAVAILABLE", "rate": 0.05,
                         "seed": 1}])  # a seed that fails several of the run's ~40 calls
    result = rig.sync()
    assert result.status == "ok", result.as_json()
    assert _fired(rig) >= 3
    rig.org.clear_faults()
    _same_as_reference(rig, reference)


@pytest.mark.parametrize(("match", "method", "bulk"), [
    pytest.param("query", "GET", False, id="rest-query"),
    pytest.param("composite/sobjects", "PATCH", False, id="rest-upsert"),
    pytest.param("composite/sobjects", "POST", False, id="rest-create"),
    pytest.param("jobs/ingest", "POST", True, id="bulk-create-job"),
    pytest.param("batches", "PUT", True, id="bulk-upload"),
    pytest.param("jobs/ingest/", "PATCH", True, id="bulk-close"),
    pytest.param("jobs/ingest/", "GET", True, id="bulk-poll-and-results"),
])
def test_a_session_expiring_mid_run(rig: Rig, reference: dict[str, Any], match: str,
                                    method: str, bulk: bool) -> None:
    options: dict[str, Any] = {"bulk_threshold": 100} if bulk else {}
    # let the first matching calls through, so the expiry lands mid-step
    rig.org.set_faults([{"match": match, "method": method, "error": "INVALID_SESSION_ID",
                         "rate": 0.5, "count": 2, "seed": 3}])
    result = rig.sync(salesforce=options)
    assert result.status == "ok", result.as_json()
    assert _fired(rig) == 2
    rig.org.clear_faults()
    _same_as_reference(rig, reference)


def test_request_limit_bursts(rig: Rig, reference: dict[str, Any]) -> None:
    rig.org.set_faults([{"match": "composite/sobjects", "error": "REQUEST_LIMIT_EXCEEDED",
                         "limit": "concurrent", "retry_after": 1, "rate": 0.5, "count": 6,
                         "seed": 2}])
    sleeps: list[float] = []
    result = rig.sync(sleep=sleeps.append)
    assert result.status == "ok", result.as_json()
    assert _fired(rig) == 6 and sleeps
    rig.org.clear_faults()
    _same_as_reference(rig, reference)


def test_the_daily_allocation_running_out_mid_run(rig: Rig, reference: dict[str, Any]) -> None:
    rig.org.set_faults([{"match": "composite/sobjects", "error": "REQUEST_LIMIT_EXCEEDED",
                         "rate": 0.3, "count": 1, "seed": 5}])
    stopped = rig.sync()
    assert stopped.status == "stopped" and stopped.exit_code == 4
    assert sum(o["created"] for o in stopped.objects.values()) > 0  # it was mid-run
    rig.org.clear_faults()
    resumed = rig.sync()
    assert resumed.status == "ok", resumed.as_json()
    _same_as_reference(rig, reference)


def test_the_run_budget_spent_mid_run_then_completion(rig: Rig,
                                                      reference: dict[str, Any]) -> None:
    used = 0
    for _ in range(10):  # a small share of a nearly spent allocation, run after run
        rig.org.set_daily_max(100_000, daily_used=100_000 - 60)
        result = rig.sync(salesforce={"budget_share": 0.5})
        used += 1
        if result.status == "ok":
            break
        assert result.status == "stopped" and result.exit_code == 4
    assert used > 1  # it really stopped at least once
    _same_as_reference(rig, reference)


# ---------------------------------------------------------- over HTTPS


def test_lost_responses_past_the_client_timeout(https_rig: Rig,
                                                reference: dict[str, Any]) -> None:
    """The server commits, the client times out and resends: the resends meet
    DUPLICATE_VALUE for hundreds of members at once, which are looked up (split
    queries) and reconciled, never written twice (defect 1's reproduction with real
    timeouts; test_soql_split.py has the deterministic one)."""
    rig = https_rig
    rig.org.set_faults([{"match": "composite/sobjects", "method": "POST", "error": "SLOW",
                         "delay_ms": 1300, "rate": 0.4, "seed": 8}])
    code, summary, err = finish(start_sync(rig, SF_TIMEOUT_SECONDS="1"))
    # on a loaded machine every attempt of one call may time out: exit 3, re-run
    assert code in (0, 1, 3), err[-3000:]
    assert "Traceback" not in err and "unexpected" not in err
    assert summary["status"] in ("ok", "partial", "failed")
    assert _fired(rig) >= 3
    rig.org.clear_faults()
    if summary["status"] != "ok":
        assert converge(rig).status == "ok"
    _same_as_reference(rig, reference)


def test_the_emulator_killed_and_restarted_mid_run(https_rig: Rig,
                                                   reference: dict[str, Any]) -> None:
    rig = https_rig
    rig.org.set_faults([{"match": "composite/sobjects", "error": "SLOW", "delay_ms": 60,
                         "rate": 1, "seed": 1}])
    proc = start_sync(rig)
    time.sleep(2.0)
    assert proc.poll() is None, "the run ended before the org went down"
    rig.org.restart()  # every connection drops; the org comes back on the same port
    code, summary, err = finish(proc)
    assert code in (0, 1, 3), err[-3000:]
    assert "Traceback" not in err
    rig.org.clear_faults()
    if code != 0:  # gave up while the org was down: the next run completes
        code, summary, err = finish(start_sync(rig))
        assert code in (0, 1), err[-3000:]
    if summary.get("status") != "ok":
        converge(rig)
    _same_as_reference(rig, reference)


def test_two_runs_started_together_exactly_one_writes(https_rig: Rig,
                                                      reference: dict[str, Any]) -> None:
    rig = https_rig
    rig.org.set_faults([{"match": "composite/sobjects", "error": "SLOW", "delay_ms": 30,
                         "rate": 1, "seed": 1}])
    procs = [start_sync(rig), start_sync(rig)]
    results = [finish(p) for p in procs]
    codes = sorted(r[0] for r in results)
    # the generated export has dirty rows: the run that writes exits 1 (done, rows
    # rejected), the other 5 (the lock is held)
    assert codes == [1, 5], [r[2][-1500:] for r in results]
    loser = next(r for r in results if r[0] == 5)
    assert "another run holds" in loser[2] and "pid" in loser[2]
    rig.org.clear_faults()
    _same_as_reference(rig, reference)


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_sigkill_at_20_random_points_then_resume(https_rig: Rig, reference: dict[str, Any],
                                                 seed: int) -> None:
    """Four fresh orgs, five kills each: 20 random points across every phase."""
    rng = random.Random(seed)
    rig = https_rig
    # stretch the run to a few seconds so kills land in every phase
    rig.org.set_faults([{"match": "composite", "error": "SLOW", "delay_ms": 300, "rate": 1,
                         "seed": seed}])
    kills = 0
    endings: list[tuple[int, str]] = []
    for _ in range(5):
        proc = start_sync(rig)
        time.sleep(rng.uniform(0.6, 2.6))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        _out, err = proc.communicate(timeout=120)
        endings.append((proc.returncode, err.decode()[-300:]))
    assert kills >= 3, endings
    rig.org.clear_faults()
    code, summary, err = finish(start_sync(rig))
    assert code in (0, 1), err[-3000:]
    if summary["status"] != "ok":
        converge(rig)
    runs = rig.store().runs(limit=50)
    assert not [r for r in runs if r["status"] == "running"]  # killed runs were marked
    _same_as_reference(rig, reference)
