"""Benchmark: `connector sync` on 10k and 100k people (10x touches) against the emulator.

For each size: a first sync of a seeded org, a re-run with nothing changed, and
an incremental sync after 1% of people gained a touch. Reported: wall time, API
calls (reads and writes, counted by the emulator) against the minimum write
calls (ceil(n/200) per step through sObject Collections; Bulk 2.0 jobs may go
below it), and the connector process's peak memory. Data generation and the
seed load happen outside the measured process.

    .venv/bin/python scripts/bench_sync.py              # 10k and 100k people
    .venv/bin/python scripts/bench_sync.py 2000         # a quick run
"""

from __future__ import annotations

import csv
import json
import math
import random
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_common import emulator, peak_rss_mb, run_child, settings_for

from connector.datagen import generate
from connector.datagen.generate import DEFAULT_AS_OF
from connector.mappings import load_mappings
from connector.state.store import open_store
from connector.sync import Sync, SyncOptions, SyncResult


def writes_minimum(result: SyncResult) -> int:
    return sum(math.ceil(len(step.writes) / 200) for step in result.plan.steps)


def append_touches(map_dir: Path, share: float, seed: int) -> int:
    """1% of people gain a form fill on a program they know: appended rows."""
    with open(map_dir / "people.csv", encoding="utf-8") as fh:
        people = [r["map_id"] for r in csv.DictReader(fh)]
    with open(map_dir / "programs.csv", encoding="utf-8") as fh:
        programs = [r["program_id"] for r in csv.DictReader(fh)]
    rng = random.Random(seed)
    chosen = rng.sample(people, max(1, int(len(people) * share)))
    when = (DEFAULT_AS_OF - timedelta(days=1)).isoformat()
    with open(map_dir / "touches.csv", "a", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        for i, map_id in enumerate(chosen):
            writer.writerow([f"bench-{seed}-{i}", map_id, rng.choice(programs), "form_fill",
                             when, "https://example.com/demo", "", "", "", "", "", ""])
    return len(chosen)


def run(store_path: Path, settings: Any, org: Any, label: str) -> dict[str, Any]:
    store = open_store(store_path)
    org.reset()
    start = time.perf_counter()
    result = Sync(settings, load_mappings(), store).run(SyncOptions(as_of=DEFAULT_AS_OF))
    seconds = time.perf_counter() - start
    store.close()
    calls = org.stats()["api_calls"]
    written = {k: v["created"] + v["updated"] for k, v in result.objects.items()}
    return {"phase": label, "status": result.status, "seconds": round(seconds, 1),
            "calls": calls["total"], "reads": calls["read"], "writes": calls["write"],
            "write_minimum": writes_minimum(result), "written": written,
            "failed": sum(v["failed"] for v in result.objects.values()),
            "peak_rss_mb": round(peak_rss_mb(), 1)}


def measure(data_dir: Path) -> list[dict[str, Any]]:
    map_dir = data_dir / "map"
    with tempfile.TemporaryDirectory() as tmp, \
            emulator(Path(tmp) / "org", seed=str(data_dir / "sf")) as org:
        settings = settings_for(org.env, map_dir=map_dir, state=Path(tmp) / "state.db")
        state = Path(tmp) / "state.db"
        rows = [run(state, settings, org, "first sync")]
        rows.append(run(state, settings, org, "re-run, nothing changed"))
        changed = append_touches(map_dir, 0.01, seed=1)
        rows.append(run(state, settings, org, f"incremental ({changed} people changed)"))
        rows[-1]["emulator_rss_mb"] = round(org.server_rss_mb(), 1)
        return rows


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--one":
        print(json.dumps(measure(Path(sys.argv[2]))))
        return
    sizes = [int(a) for a in sys.argv[1:]] or [10_000, 100_000]
    report = {}
    for n in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            data = generate(Path(tmp) / "data", people=n, seed=42)
            print(f"{n} people: generated {data.summary.get('touches')} touches in "
                  f"{time.perf_counter() - start:.1f} s", flush=True)
            rows = json.loads(run_child(Path(__file__), "--one", str(Path(tmp) / "data")))
        report[n] = rows
        for r in rows:
            print(f"  {r['phase']:<36} {r['status']:<8} {r['seconds']:>7.1f} s  calls "
                  f"{r['calls']:>5} (reads {r['reads']}, writes {r['writes']}; write minimum "
                  f"{r['write_minimum']})  peak {r['peak_rss_mb']} MB  written {r['written']}",
                  flush=True)
    print(json.dumps(report))


if __name__ == "__main__":
    main()
