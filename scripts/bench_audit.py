"""Benchmark: `connector audit` of N people against the emulator, against a full
mirror refresh (the reads of `connector sync --full` before it plans).

For each size: generate a MAP export and a matching seeded org, run a first
sync (not measured), then measure (1) a full mirror refresh alone: connect,
check the fields, read every Lead, Contact, Account, connector Campaign,
member status and member; (2) an audit: the same full read (into a private copy
of the state), the planner over every person, opportunities, contact roles and
Attribution__c, every rule, and the findings recorded. Reported: wall time and
API calls (counted by the emulator) and their ratio; the target is at most
1.2x the refresh's read calls.

    .venv/bin/python scripts/bench_audit.py               # 10k people
    .venv/bin/python scripts/bench_audit.py 10000 100000
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_common import emulator, peak_rss_mb, run_child, settings_for

from connector.audit.collect import store_copy
from connector.audit.run import run_audit
from connector.datagen import generate
from connector.datagen.generate import DEFAULT_AS_OF
from connector.mappings import load_mappings
from connector.run.mirror import refresh_mirror
from connector.run.sync import SYNC_OBJECTS, Sync, SyncOptions
from connector.salesforce import DescribeCache, SalesforceClient, require_valid_mappings
from connector.state.store import open_store


def measure(data_dir: Path) -> dict[str, Any]:
    mappings = load_mappings()
    with tempfile.TemporaryDirectory() as tmp, \
            emulator(Path(tmp) / "org", seed=str(data_dir / "sf")) as org:
        state = Path(tmp) / "state.db"
        settings = settings_for(org.env, map_dir=data_dir / "map", state=state)
        store = open_store(state)
        start = time.perf_counter()
        first = Sync(settings, mappings, store).run(SyncOptions(as_of=DEFAULT_AS_OF))
        sync_seconds = time.perf_counter() - start

        org.reset()
        start = time.perf_counter()
        with store_copy(store) as copy:
            client = SalesforceClient(settings.salesforce).connect()
            describe = DescribeCache(client)
            require_valid_mappings(describe, mappings, SYNC_OBJECTS)
            run_id = copy.start_run("bench", DEFAULT_AS_OF)
            refresh_mirror(client, describe, copy, mappings, run_id, full=True)
        refresh_seconds = time.perf_counter() - start
        refresh_calls = org.stats()["api_calls"]

        org.reset()
        start = time.perf_counter()
        phases: dict[str, float] = {}

        def phase(name: str) -> None:
            phases[name] = time.perf_counter()  # when each phase started

        result = run_audit(settings, mappings, store, as_of=DEFAULT_AS_OF, on_phase=phase)
        audit_seconds = time.perf_counter() - start
        audit_calls = org.stats()["api_calls"]
        marks = [("connect and copy the state", start), *phases.items(),
                 ("end", start + audit_seconds)]
        split = {name: round(marks[i + 1][1] - at, 1)
                 for i, (name, at) in enumerate(marks[:-1])}
        store.close()
        return {
            "people": first.plan.people_in_scope, "first_sync_status": first.status,
            "first_sync_seconds": round(sync_seconds, 1),
            "refresh": {"seconds": round(refresh_seconds, 1), "reads": refresh_calls["read"],
                        "by_endpoint": refresh_calls.get("by_endpoint", {})},
            "audit": {"seconds": round(audit_seconds, 1), "reads": audit_calls["read"],
                      "writes": audit_calls["write"],
                      "by_endpoint": audit_calls.get("by_endpoint", {}),
                      "findings": result.summary, "phases": split},
            "ratio": round(audit_calls["read"] / max(1, refresh_calls["read"]), 2),
            "peak_rss_mb": round(peak_rss_mb(), 1),
        }


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--one":
        print(json.dumps(measure(Path(sys.argv[2]))))
        return
    sizes = [int(a) for a in sys.argv[1:]] or [10_000]
    report = {}
    for n in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            data = generate(Path(tmp) / "data", people=n, seed=42)
            print(f"{n} people: {data.summary.get('touches')} touches", flush=True)
            row = json.loads(run_child(Path(__file__), "--one", str(Path(tmp) / "data")))
        report[n] = row
        print(f"  first sync {row['first_sync_status']} in {row['first_sync_seconds']} s; "
              f"full mirror refresh {row['refresh']['reads']} read calls in "
              f"{row['refresh']['seconds']} s; audit {row['audit']['reads']} read calls, "
              f"{row['audit']['writes']} writes in {row['audit']['seconds']} s "
              f"(ratio {row['ratio']}x); peak {row['peak_rss_mb']} MB", flush=True)
        print(f"  audit phases (s): {row['audit']['phases']}", flush=True)
        print(f"  findings: { {k: v for k, v in row['audit']['findings'].items() if v} }",
              flush=True)
    print(json.dumps(report))


if __name__ == "__main__":
    main()
