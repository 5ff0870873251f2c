"""Benchmark reading a file export: parsing, then writing the ledger.

Each measurement runs in a fresh subprocess, so every peak RSS figure is that
read's own. A measurement has three passes over the same export: the reader alone
(parsing: touches per second), then the sync's whole MAP read into a fresh state
database (``Sync._read_map``: parsing, hashing, the ledger upserts, rejections),
whose time less the first pass's is the ledger-write time, then the same read
again with nothing changed (as ``--full-map`` does). Times are given as wall time
and as process CPU time: on a shared, loaded machine the CPU time is the steadier
figure.

    .venv/bin/python scripts/bench_sources.py [N ...]     # synthetic, N touches
        (default 100k and 1M touches, 20 per person, plain rows)
    .venv/bin/python scripts/bench_sources.py --people 10000 100000 \\
        [--baseline REV] [--repeat 3] [--data DIR] [--profile DIR]

``--people`` reads generated worlds (``connector.datagen``, 10 touches a
person, 5% dirty rows: rejections, unknown programs, duplicate ids), kept in
``--data`` for the next run. ``--baseline REV`` also measures the connector as of
git revision ``REV`` (extracted with ``git archive``), alternating with this tree
``--repeat`` times, prints medians and ratios, and checks that both wrote the
same ledger (people, programs, touches, target accounts and rejections, compared
by digest). ``--profile DIR`` writes a pyinstrument profile of one more read per
tree and size (``pip install pyinstrument``; a dev-only tool).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
TYPES = ["web_visit", "email_open", "email_click", "form_fill", "ad_click",
         "webinar_registered", "webinar_attended", "content_download"]
AS_OF = datetime(2026, 10, 1, 12, tzinfo=UTC)


def generate(directory: Path, touches: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    people = max(1, touches // 20)
    programs = 200
    with (directory / "programs.csv").open("w", encoding="utf-8") as fh:
        fh.write("program_id,name,channel,type,start_date,cost\n")
        for p in range(programs):
            channel = rng.choice(["Webinar", "Email", "Paid Search", "Event", "Display"])
            fh.write(f"P{p},Program {p},{channel},Default,2024-01-01,{rng.randint(0, 9999)}\n")
    with (directory / "people.csv").open("w", encoding="utf-8") as fh:
        fh.write("map_id,email,first_name,last_name,company,created_at,source\n")
        for i in range(people):
            fh.write(f"L{i},person{i}@company{i % 997}.com,First{i},Last{i},Company {i % 997},"
                     f"2023-01-01T00:00:00Z,Paid Search\n")
    start = datetime(2024, 1, 1, tzinfo=UTC)
    with (directory / "touches.csv").open("w", encoding="utf-8") as fh:
        fh.write("touch_id,map_id,program_id,touch_type,occurred_at,url,referrer,"
                 "utm_source,utm_medium,utm_campaign\n")
        for i in range(touches):
            when = (start + timedelta(seconds=i * 17)).strftime("%Y-%m-%dT%H:%M:%SZ")
            program = f"P{rng.randrange(programs)}" if rng.random() < 0.6 else ""
            medium = rng.choice(["", "", "cpc", "email", "social"])
            fh.write(f"T{i},L{rng.randrange(people)},{program},{rng.choice(TYPES)},{when},"
                     f"https://acme.com/p/{i % 300},https://www.google.com/,"
                     f"{'google' if medium else ''},{medium},{'spring' if medium else ''}\n")


# ------------------------------------------------------------- in the child

def _settings(map_dir: Path, state: Path) -> Any:
    from connector.config import (
        ConnectorSettings,
        HubSpotSettings,
        MapSettings,
        MarketoSettings,
        SalesforceSettings,
        Settings,
    )
    # Salesforce is never called: only the MAP read runs.
    sf = SalesforceSettings(_env_file=None, instance_url="https://org.invalid",
                            login_url="https://org.invalid", client_id="bench",
                            client_secret="bench")
    return Settings(salesforce=sf, map=MapSettings(_env_file=None, kind="files",
                                                   files_dir=map_dir),
                    marketo=MarketoSettings(_env_file=None),
                    hubspot=HubSpotSettings(_env_file=None),
                    connector=ConnectorSettings(_env_file=None, state=state))


def ledger_digest(db: Any) -> str:
    """A digest of what a read wrote: the ledger tables and the rejections."""
    h = hashlib.sha256()
    queries = [
        "SELECT map_id, email, email_valid, data, hash, first_run, seen_run, changed_run "
        "FROM people ORDER BY map_id",
        "SELECT program_id, data, hash, seen_run, changed_run FROM programs "
        "ORDER BY program_id",
        "SELECT touch_id, map_id, program_id, touch_type, occurred_at, is_response, data, "
        "hash, seen_run, changed_run FROM touches ORDER BY touch_id",
        "SELECT key, data, seen_run FROM target_accounts ORDER BY key",
        "SELECT id, run_id, kind, sobject, ref, map_id, error_code, message, file, row, "
        "field, payload, attempts, resolved_run FROM dead_letters ORDER BY id",
    ]
    for sql in queries:
        for row in db.execute(sql):
            h.update(json.dumps(row).encode())
        h.update(b"\x00")
    return h.hexdigest()


def measure_one(map_dir: Path, *, profile: Path | None = None) -> dict[str, Any]:
    """Parse ``map_dir`` alone, then read it into a fresh ledger; times of both."""
    from connector.mappings import load_mappings
    from connector.models import Rejection, Touch
    from connector.run.sync import Sync, SyncOptions
    from connector.sources.files import FileExportReader
    from connector.state.store import StateStore

    mappings = load_mappings()
    reader = FileExportReader(map_dir, mappings, as_of=AS_OF)
    wall, cpu = time.perf_counter(), time.process_time()
    touches = rejected = 0
    for item in reader.read(None, {}):
        touches += isinstance(item, Touch)
        rejected += isinstance(item, Rejection)
    parse_wall, parse_cpu = time.perf_counter() - wall, time.process_time() - cpu
    again = FileExportReader(map_dir, mappings, as_of=AS_OF)
    began = time.perf_counter()
    assert list(again.read(reader.checkpoint, {})) == []
    unchanged = time.perf_counter() - began

    with tempfile.TemporaryDirectory() as tmp:
        state = Path(tmp) / "state.db"
        store = StateStore(state)
        sync = Sync(_settings(map_dir, state), mappings, store)
        run_id = store.start_run("sync", AS_OF)
        profiler = None
        if profile is not None:
            from pyinstrument import Profiler

            profiler = Profiler(interval=0.001)
            profiler.start()
        wall, cpu = time.perf_counter(), time.process_time()
        ledger = sync._read_map(run_id, SyncOptions(as_of=AS_OF))
        read_wall, read_cpu = time.perf_counter() - wall, time.process_time() - cpu
        if profiler is not None and profile is not None:
            profiler.stop()
            profile.write_text(profiler.output_text(unicode=False, color=False))
        digest = ledger_digest(store.db)
        # the whole export read again with nothing changed (`--full-map`)
        run_id = store.start_run("sync", AS_OF)
        wall, cpu = time.perf_counter(), time.process_time()
        again_counts = sync._read_map(run_id, SyncOptions(as_of=AS_OF, full_map=True))
        full_wall, full_cpu = time.perf_counter() - wall, time.process_time() - cpu
        digest += ledger_digest(store.db)
        store.close()
    return {"touches": touches, "rejected": rejected, "parse_seconds": parse_wall,
            "parse_cpu": parse_cpu, "read_seconds": read_wall, "read_cpu": read_cpu,
            "ledger_seconds": read_wall - parse_wall, "ledger_cpu": read_cpu - parse_cpu,
            "unchanged_seconds": unchanged, "full_again_seconds": full_wall,
            "full_again_cpu": full_cpu,
            "counts": [ledger["counts"], again_counts["counts"]], "digest": digest,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


# ------------------------------------------------------------ in the parent

def child(tree: Path, map_dir: Path, profile: Path | None = None) -> dict[str, Any]:
    """One measurement with the connector of ``tree``, in a fresh process."""
    args = [sys.executable, __file__, "--one", str(tree), str(map_dir)]
    if profile is not None:
        args += ["--profile-out", str(profile)]
    done = subprocess.run(args, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-4000:])
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def baseline_tree(rev: str, into: Path) -> Path:
    """The connector package as of ``rev``, extracted beside this tree's mappings."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "connector"],
                             capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def world(data: Path, people: int) -> Path:
    map_dir = data / f"people-{people}" / "map"
    if not (map_dir / "touches.csv").exists():
        from connector.datagen import generate as generate_world

        generate_world(map_dir.parent, people=people, touches_per_person=10.0)
    return map_dir


def synthetic(sizes: list[int]) -> None:
    rows = []
    for size in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            generate(Path(tmp), size)
            mb = sum(p.stat().st_size for p in Path(tmp).iterdir()) / 1e6
            rows.append((size, mb, child(ROOT, Path(tmp))))
    print(f"{'touches':>10} {'export MB':>10} {'parse s':>8} {'touches/s':>10} "
          f"{'ledger s':>9} {'read s':>7} {'peak RSS MB':>12} {'re-read unchanged s':>20}")
    for size, mb, r in rows:
        print(f"{size:>10,} {mb:>10.1f} {r['parse_seconds']:>8.1f} "
              f"{r['touches'] / r['parse_seconds']:>10,.0f} {r['ledger_seconds']:>9.1f} "
              f"{r['read_seconds']:>7.1f} {r['peak_rss_mb']:>12.0f} "
              f"{r['unchanged_seconds']:>20.3f}")


def compare(people: list[int], rev: str | None, repeat: int, data: Path,
            profile_dir: Path | None) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        trees = {"this tree": ROOT}
        if rev:
            trees[f"baseline {rev}"] = baseline_tree(rev, Path(tmp))
        failed = 0
        for size in people:
            map_dir = world(data, size)
            runs: dict[str, list[dict[str, Any]]] = {label: [] for label in trees}
            for _ in range(repeat):
                for label, tree in reversed(list(trees.items())):  # baseline first
                    runs[label].append(child(tree, map_dir))
            if profile_dir is not None:
                profile_dir.mkdir(parents=True, exist_ok=True)
                for tree in trees.values():
                    name = "after" if tree == ROOT else "before"
                    child(tree, map_dir, profile_dir / f"read-{name}-{size}.txt")
            failed += report(size, runs)
        return failed


def report(size: int, runs: dict[str, list[dict[str, Any]]]) -> int:
    first = next(iter(runs.values()))[0]
    print(f"\n{size:,} people, {first['touches']:,} touches, {first['rejected']:,} rejected"
          f" (medians of {len(next(iter(runs.values())))} runs; seconds)")
    keys = [("parse_seconds", "parse wall"), ("parse_cpu", "parse CPU"),
            ("ledger_seconds", "ledger wall"), ("ledger_cpu", "ledger CPU"),
            ("read_seconds", "read+ledger wall"), ("read_cpu", "read+ledger CPU"),
            ("full_again_seconds", "again, unchanged wall"),
            ("full_again_cpu", "again, unchanged CPU"), ("peak_rss_mb", "peak RSS MB")]
    labels = list(runs)
    medians = {label: {k: statistics.median(r[k] for r in runs[label]) for k, _ in keys}
               for label in labels}
    header = f"{'':>22}" + "".join(f"{label:>22}" for label in labels)
    if len(labels) == 2:
        header += f"{'before / after':>16}"
    print(header)
    for key, name in keys:
        line = f"{name:>22}" + "".join(f"{medians[label][key]:>22.2f}" for label in labels)
        if len(labels) == 2:
            after, before = medians[labels[0]][key], medians[labels[1]][key]
            line += f"{before / after:>16.2f}" if after else f"{'':>16}"
        print(line)
    digests = {r["digest"] for label in labels for r in runs[label]}
    counts = {json.dumps(r["counts"], sort_keys=True) for label in labels
              for r in runs[label]}
    same = len(digests) == 1 and len(counts) == 1
    print(f"ledger and rejections identical across trees and runs: {'yes' if same else 'NO'}")
    return 0 if same else 1


def main(argv: list[str]) -> int:
    if argv[:1] == ["--one"]:
        sys.path.insert(0, argv[1])  # the tree whose connector is measured
        profile = Path(argv[4]) if argv[3:4] == ["--profile-out"] else None
        print(json.dumps(measure_one(Path(argv[2]), profile=profile)))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="*", type=int, help="synthetic touches per export")
    parser.add_argument("--people", nargs="+", type=int, help="generated worlds' sizes")
    parser.add_argument("--baseline", help="git revision to compare with")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--data", type=Path,
                        default=Path(tempfile.gettempdir()) / "bench_sources_data")
    parser.add_argument("--profile", type=Path, help="directory for pyinstrument profiles")
    args = parser.parse_args(argv)
    if args.people:
        return compare(args.people, args.baseline, args.repeat, args.data, args.profile)
    synthetic(args.sizes or [100_000, 1_000_000])
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main(sys.argv[1:]))
