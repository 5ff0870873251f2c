"""Benchmark: `connector sync` at 10k, 100k and 1M people (10 touches each).

For each size, in one child process (so its peak memory is its own), against a
seeded emulator over loopback HTTPS:

* a first sync, a re-run with nothing changed, and an incremental sync after 1%
  of people gained a touch: wall time, API calls (counted by the emulator)
  against the minimum write calls, and peak RSS;
* the **transport floor**: the same numbers of records, with the same fields,
  pushed straight into a fresh copy of the seeded org with one Bulk 2.0 job per
  step (no MAP read, no planning), timed the same way. ``connector / floor``
  is the overhead of everything the connector does around the transport.

The write minimum per step is the cheaper of sObject Collections (one call per
200 records) and Bulk 2.0 at its best case on the emulator (create, upload,
close, one poll, plus the successful results when ids are needed), with one job
per 80 MB of CSV.

    .venv/bin/python scripts/bench_sync.py                 # 10k and 100k people
    .venv/bin/python scripts/bench_sync.py 2000 10000      # chosen sizes
    .venv/bin/python scripts/bench_sync.py 1000000         # a long run (hours)
    .venv/bin/python scripts/bench_sync.py --first-only 1000000  # first sync and floor
"""

from __future__ import annotations

import csv
import json
import math
import random
import re
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
from connector.plan.model import Plan
from connector.run.sync import Sync, SyncOptions, SyncResult
from connector.salesforce import SalesforceClient, WriteOp, Writer
from connector.salesforce.writer import MAX_BULK_UPLOAD_BYTES, collections_calls
from connector.state.store import open_store


def bulk_best(n: int, action: str) -> int:
    """Bulk 2.0 calls on the emulator at best: create, upload, close, one poll,
    and the successful results when the ids are needed; a job per 80 MB."""
    if n == 0:
        return 0
    jobs = max(1, math.ceil(n * 200 / MAX_BULK_UPLOAD_BYTES))
    return jobs * (4 + (1 if action in ("create", "upsert") else 0))


def writes_minimum(plan: Plan) -> int:
    total = 0
    for step in plan.steps:
        options = [collections_calls(step.total)]
        if step.action != "create" or step.bulk_key:
            options.append(bulk_best(step.total, step.action))
        total += min(options)
    return total


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


def run(store_path: Path, settings: Any, org: Any, label: str) -> tuple[dict[str, Any],
                                                                         SyncResult]:
    store = open_store(store_path)
    org.reset()
    start, cpu = time.perf_counter(), time.process_time()
    result = Sync(settings, load_mappings(), store).run(SyncOptions(as_of=DEFAULT_AS_OF))
    seconds = time.perf_counter() - start
    cpu = time.process_time() - cpu  # the connector's own CPU: steadier on a busy machine
    store.close()
    calls = org.stats()["api_calls"]
    written = {k: v["created"] + v["updated"] for k, v in result.objects.items()}
    return {"phase": label, "status": result.status, "seconds": round(seconds, 1),
            "cpu_seconds": round(cpu, 1),
            "calls": calls["total"], "reads": calls["read"], "writes": calls["write"],
            "write_minimum": writes_minimum(result.plan), "written": written,
            "failed": sum(v["failed"] for v in result.objects.values()),
            "peak_rss_mb": round(peak_rss_mb(), 1)}, result


# ------------------------------------------------------------------ the floor

def _clone(sample: dict[str, Any], key: str | None, i: int) -> dict[str, Any]:
    fields = dict(sample)
    if key:
        fields[key] = f"floor-{i}"
    return fields


def _portable(fields: dict[str, Any], campaign_id: str) -> dict[str, Any]:
    """A sample write's fields without ids of the connector's org: lookups to a
    campaign point at a seeded one; person and parent ids are set per record."""
    out = {}
    for name, value in fields.items():
        if name in ("Id", "CampaignId", "LeadId", "ContactId", "ParentId"):
            continue
        if isinstance(value, str) and re.fullmatch(r"[A-Za-z0-9]{18}", value):
            if "Campaign" not in name:
                continue
            value = campaign_id
        out[name] = value
    return out


def transport_floor(data_dir: Path, plan: Plan) -> dict[str, Any]:
    """Push as many records per step as ``plan`` wrote, each with the fields of
    the step's first sample write, one Bulk 2.0 job per step, into a fresh copy of
    the seeded org. Updates go to seeded records (their ids read untimed)."""
    with tempfile.TemporaryDirectory() as tmp, \
            emulator(Path(tmp) / "org", seed=str(data_dir / "sf")) as org:
        settings = settings_for(org.env)
        client = SalesforceClient(settings.salesforce).connect()
        writer = Writer(client, bulk_threshold=1)
        seeded = {obj: [r["Id"] for r in client.bulk_query(
            f"SELECT Id FROM {obj}" + (" WHERE IsConverted = false" if obj == "Lead" else ""))]
                  for obj in ("Lead", "Contact", "Campaign")}
        org.reset()
        start = time.perf_counter()
        new_leads: list[str] = []
        pushed: dict[str, int] = {}
        for step in plan.steps:
            if not step.writes or step.sobject == "CampaignMemberStatus":
                continue  # statuses: a few per campaign, not a volume
            sample = _portable(step.writes[0].fields, seeded["Campaign"][0])
            n = step.total
            if step.sobject == "CampaignMember":
                leads = new_leads or seeded["Lead"]
                campaigns = seeded["Campaign"]
                per = max(1, math.ceil(n / len(leads)))
                ops = [WriteOp(f"m{i}", {**sample, "CampaignId": campaigns[i % per % len(
                    campaigns)], "LeadId": leads[i // per]}) for i in range(n)]
                outcome = writer.write("CampaignMember", "create", ops,
                                       bulk_key=("CampaignId", "LeadId"))
            elif step.action == "update":
                ids = seeded.get(step.sobject, [])[:n]
                ops = [WriteOp(f"u{i}", sample, id=record_id) for i, record_id in enumerate(ids)]
                outcome = writer.write(step.sobject, "update", ops)
            else:
                key = step.external_id_field
                ops = [WriteOp(f"c{i}", _clone(sample, key, i)) for i in range(n)]
                outcome = writer.write(step.sobject, step.action, ops,
                                       external_id_field=key, bulk_key=step.bulk_key)
                if step.sobject == "Lead":
                    new_leads = [r.id for r in outcome.results if r.success and r.id]
            pushed[step.name] = sum(r.success for r in outcome.results)
            errors = {r.error_code for r in outcome.results if not r.success}
            if errors:
                print(f"floor {step.name}: {errors}", file=sys.stderr)
        seconds = time.perf_counter() - start
        calls = org.stats()["api_calls"]
        return {"seconds": round(seconds, 1), "calls": calls["total"], "pushed": pushed}


def measure(data_dir: Path, first_only: bool = False) -> list[dict[str, Any]]:
    map_dir = data_dir / "map"
    with tempfile.TemporaryDirectory() as tmp, \
            emulator(Path(tmp) / "org", seed=str(data_dir / "sf")) as org:
        settings = settings_for(org.env, map_dir=map_dir, state=Path(tmp) / "state.db")
        state = Path(tmp) / "state.db"
        first, result = run(state, settings, org, "first sync")
        rows = [first]
        if not first_only:
            rows.append(run(state, settings, org, "re-run, nothing changed")[0])
            changed = append_touches(map_dir, 0.01, seed=1)
            rows.append(run(state, settings, org, f"incremental ({changed} people changed)")[0])
        rows[-1]["emulator_rss_mb"] = round(org.server_rss_mb(), 1)
    floor = transport_floor(data_dir, result.plan)
    first["floor_seconds"] = floor["seconds"]
    first["floor_calls"] = floor["calls"]
    first["floor_pushed"] = floor["pushed"]
    first["vs_floor"] = round(first["seconds"] / max(floor["seconds"], 0.1), 2)
    return rows


def main() -> None:
    if len(sys.argv) >= 3 and sys.argv[1] == "--one":
        print(json.dumps(measure(Path(sys.argv[2]), first_only="--first-only" in sys.argv)))
        return
    first_only = "--first-only" in sys.argv
    sizes = [int(a) for a in sys.argv[1:] if a != "--first-only"] or [10_000, 100_000]
    report = {}
    for n in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            data = generate(Path(tmp) / "data", people=n, seed=42)
            print(f"{n} people: generated {data.summary.get('touches')} touches in "
                  f"{time.perf_counter() - start:.1f} s", flush=True)
            rows = json.loads(run_child(Path(__file__), "--one", str(Path(tmp) / "data"),
                                        *(["--first-only"] if first_only else [])))
        report[n] = rows
        for r in rows:
            print(f"  {r['phase']:<36} {r['status']:<8} {r['seconds']:>7.1f} s "
                  f"(CPU {r.get('cpu_seconds', 0):.1f} s)  calls "
                  f"{r['calls']:>5} (reads {r['reads']}, writes {r['writes']}; write minimum "
                  f"{r['write_minimum']})  peak {r['peak_rss_mb']} MB  written {r['written']}",
                  flush=True)
        first = rows[0]
        rerun = "" if len(rows) < 2 else \
            f"; re-run / first = {rows[1]['seconds'] / max(first['seconds'], 0.1):.2f} " \
            f"(CPU {rows[1]['cpu_seconds'] / max(first['cpu_seconds'], 0.1):.2f})"
        print(f"  transport floor: {first['floor_seconds']} s ({first['floor_calls']} calls); "
              f"connector / floor = {first['vs_floor']}{rerun}", flush=True)
    print(json.dumps(report))


if __name__ == "__main__":
    main()
