"""Benchmark: `connector report funnel` over N people and M accounts of synthetic facts.

Builds a state database with the facts a sync would have kept (stage entries
per person and cycle with channels and programs, meaningful engagements, links
to accounts, account target flags and engaged dates, opportunities in the
mirror, some accounts with a second deal after the first closed), inserted
directly, then times the report (JSON and the HTML page with its charts) in a
fresh child process so that its wall time and peak memory are the report's
alone. Target: under 60 s and under 1 GB for 1M people and 50k accounts.

    .venv/bin/python scripts/bench_funnel.py                   # 1M people, 50k accounts
    .venv/bin/python scripts/bench_funnel.py 100000 5000       # smaller
    .venv/bin/python scripts/bench_funnel.py 1000000 50000 --keep /tmp/funnel-bench
"""

from __future__ import annotations

import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from connector.state.store import StateStore

CHANNELS = ["Paid Search", "Paid Social", "Organic Search", "Email", "Webinar", "Event",
            "Content Syndication", "Direct", "Referral", "Partner"]
STAGES = ["Inquiry", "MQL", "SAL", "SQL", "Opportunity", "Customer"]
# the share of those at a stage who go on to the next
ADVANCE = [0.45, 0.6, 0.7, 0.5, 0.3]
START = datetime(2025, 1, 1, tzinfo=UTC)
AS_OF = datetime(2026, 3, 31, tzinfo=UTC)


def iso(moment: datetime) -> str:
    return moment.isoformat(timespec="microseconds")


def build(path: Path, people: int, accounts: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    store = StateStore(path)
    db = store.db
    run = store.start_run("bench", AS_OF)
    programs = [f"P{i}" for i in range(300)]
    db.execute("BEGIN")
    db.executemany(
        "INSERT INTO programs (program_id, data, hash, seen_run, changed_run) "
        "VALUES (?, ?, '', ?, ?)",
        [(p, json.dumps({"program_id": p, "name": f"Program {p}", "cost": str(500 + i * 10),
                         "start_date": (START + timedelta(days=i)).date().isoformat()}),
          run, run) for i, p in enumerate(programs)])
    span = (AS_OF - START).total_seconds()
    batch_stages: list[tuple[object, ...]] = []
    batch_links: list[tuple[object, ...]] = []
    batch_engaged: list[tuple[object, ...]] = []
    sqls: dict[int, str] = {}
    for n in range(people):
        map_id = f"M{n:07d}"
        account = rng.randrange(accounts) if rng.random() < 0.8 else None
        batch_links.append((map_id, "Lead", f"00Q{n:015d}", "email", "{}",
                            f"001{account:015d}" if account is not None else None, run))
        source = rng.choice(CHANNELS)
        source_program = rng.choice(programs)
        cycles = 2 if rng.random() < 0.1 else 1
        at = START + timedelta(seconds=rng.random() * span * 0.9)
        if rng.random() < 0.3:  # pricing pages, demo requests, meetings
            for k in range(rng.randint(1, 3)):
                batch_engaged.append((map_id, iso(at + timedelta(days=rng.randint(0, 300),
                                                                 seconds=k)), 1, source))
        for cycle in range(1, cycles + 1):
            channel = source if cycle == 1 else rng.choice(CHANNELS)
            program = source_program if cycle == 1 else rng.choice(programs)
            depth = 0
            while depth < 5 and rng.random() < ADVANCE[depth]:
                depth += 1
            closed = None
            if depth in (1, 2) and rng.random() < 0.5:
                closed = at + timedelta(days=30 + depth * 10)
            moment = at
            for i in range(depth + 1):
                inferred = i > 0 and rng.random() < 0.05
                batch_stages.append((map_id, cycle, STAGES[i], iso(moment), int(inferred),
                                     iso(closed) if closed else None, channel, program,
                                     source, source_program))
                if STAGES[i] == "SQL" and account is not None:
                    sqls.setdefault(account, iso(moment))
                moment += timedelta(days=rng.expovariate(1 / 12))
            at = (closed or moment) + timedelta(days=rng.randint(10, 90))
        if len(batch_stages) > 200_000:
            _flush(db, batch_stages, batch_links, batch_engaged)
    _flush(db, batch_stages, batch_links, batch_engaged)
    accounts_rows = []
    opps = []
    for a in range(accounts):
        account_id = f"001{a:015d}"
        target = rng.random() < 0.2
        engaged = START + timedelta(seconds=rng.random() * span) if rng.random() < 0.6 \
            else None
        accounts_rows.append((account_id, int(target),
                              iso(START + timedelta(days=rng.randint(0, 200))) if target
                              else None, iso(engaged) if engaged else None))
        if a in sqls and rng.random() < 0.6:
            created = datetime.fromisoformat(sqls[a]) + timedelta(days=rng.randint(1, 40))
            won = rng.random() < 0.35
            closed = rng.random() < 0.6
            close = created + timedelta(days=rng.randint(20, 120))
            fields = {"Amount": rng.randint(5, 200) * 1000, "IsClosed": closed or won,
                      "IsWon": won, "CloseDate": close.date().isoformat()}
            opps.append(("Opportunity", f"006{a:015d}", account_id,
                         created.isoformat(timespec="milliseconds"), json.dumps(fields)))
            again = close + timedelta(days=rng.randint(30, 200))
            if (closed or won) and again < AS_OF and rng.random() < 0.3:  # a second deal
                fields = {"Amount": rng.randint(5, 200) * 1000, "IsClosed": False,
                          "IsWon": False, "CloseDate": (again + timedelta(days=60)).date()
                          .isoformat()}
                opps.append(("Opportunity", f"006{a + accounts:015d}", account_id,
                             again.isoformat(timespec="milliseconds"), json.dumps(fields)))
    db.executemany("INSERT INTO funnel_accounts (account_id, target, target_at, engaged_at) "
                   "VALUES (?, ?, ?, ?)", accounts_rows)
    db.executemany("INSERT INTO sf_records (sobject, id, parent_id, created_date, fields) "
                   "VALUES (?, ?, ?, ?, ?)", opps)
    db.execute("COMMIT")
    store.close()


def _flush(db: object, stages: list[tuple[object, ...]], links: list[tuple[object, ...]],
           engaged: list[tuple[object, ...]]) -> None:
    db.executemany(  # type: ignore[attr-defined]
        "INSERT INTO funnel_stages (map_id, cycle, stage, at, inferred, closed_at, channel, "
        "program_id, source_channel, source_program_id) VALUES (?,?,?,?,?,?,?,?,?,?)", stages)
    db.executemany(  # type: ignore[attr-defined]
        "INSERT INTO person_links (map_id, sobject, sf_id, rule, detail, account_id, run_id) "
        "VALUES (?,?,?,?,?,?,?)", links)
    db.executemany(  # type: ignore[attr-defined]
        "INSERT OR IGNORE INTO funnel_engagements (map_id, at, cycle, channel) "
        "VALUES (?,?,?,?)", engaged)
    stages.clear()
    links.clear()
    engaged.clear()


CHILD = """
import json, resource, sys, time
from pathlib import Path
from connector.reports.funnel import FunnelQuery, funnel_report
from connector.reports.funnel_render import render_html
from connector.state.store import StateStore
from datetime import date, datetime
store = StateStore(Path(sys.argv[1]))
t0 = time.perf_counter()
report = funnel_report(store.db, FunnelQuery(datetime.fromisoformat(sys.argv[2]),
                                             date(2025, 4, 1), date(2026, 3, 31)))
t1 = time.perf_counter()
page = render_html(report)
t2 = time.perf_counter()
print(json.dumps({"report_s": t1 - t0, "html_s": t2 - t1, "html_bytes": len(page),
                  "inquiries": report["demand"]["stages"][0]["entered"],
                  "targets": report["abm"]["stages"][0]["entered"],
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    people = int(args[0]) if args else 1_000_000
    accounts = int(args[1]) if len(args) > 1 else 50_000
    keep = sys.argv[sys.argv.index("--keep") + 1] if "--keep" in sys.argv else None
    root = Path(keep) if keep else Path(tempfile.mkdtemp(prefix="bench-funnel-"))
    root.mkdir(parents=True, exist_ok=True)
    path = root / f"state-{people}-{accounts}.db"
    if not path.exists():
        t0 = time.perf_counter()
        build(path, people, accounts)
        print(f"built {path} in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", CHILD, str(path), AS_OF.isoformat()],
                          capture_output=True, text=True, check=True,
                          cwd=Path(__file__).resolve().parent.parent)
    wall = time.perf_counter() - t0
    figures = json.loads(proc.stdout)
    child_peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    rows = {"people": people, "accounts": accounts, "wall_s": round(wall, 1),
            "report_s": round(figures["report_s"], 1), "html_s": round(figures["html_s"], 1),
            "peak_rss_mb": round(max(figures["peak_rss_mb"], child_peak)),
            "inquiries": figures["inquiries"], "targets": figures["targets"]}
    print(json.dumps(rows))
    ok = rows["wall_s"] < 60 and rows["peak_rss_mb"] < 1024
    print("within target (< 60 s, < 1 GB)" if ok else "OVER TARGET (60 s, 1 GB)")


if __name__ == "__main__":
    main()
