"""Benchmark the file source: parse rate (touches per second) and peak memory.

Generates synthetic exports (100k and 1M touches by default) in a temporary
directory and reads each in a fresh subprocess, so every peak RSS figure is that
read's own. Usage: ``.venv/bin/python scripts/bench_sources.py [N ...]``.
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

TYPES = ["web_visit", "email_open", "email_click", "form_fill", "ad_click",
         "webinar_registered", "webinar_attended", "content_download"]


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


def read_once(directory: Path) -> dict[str, float]:
    from connector.mappings import load_mappings
    from connector.models import Touch
    from connector.sources.files import FileExportReader

    mappings = load_mappings()
    reader = FileExportReader(directory, mappings, as_of=datetime.now(UTC))
    began = time.perf_counter()
    touches = 0
    for item in reader.read(None, {}):
        touches += isinstance(item, Touch)
    seconds = time.perf_counter() - began
    again = FileExportReader(directory, mappings, as_of=datetime.now(UTC))
    began = time.perf_counter()
    assert list(again.read(reader.checkpoint, {})) == []
    unchanged = time.perf_counter() - began
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"touches": touches, "seconds": seconds, "unchanged_seconds": unchanged,
            "peak_rss_mb": peak_kb / 1024}


def main(argv: list[str]) -> None:
    if argv[:1] == ["--one"]:
        print(json.dumps(read_once(Path(argv[1]))))
        return
    sizes = [int(a) for a in argv] or [100_000, 1_000_000]
    rows = []
    for size in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            generate(Path(tmp), size)
            mb = sum(p.stat().st_size for p in Path(tmp).iterdir()) / 1e6
            out = subprocess.run([sys.executable, __file__, "--one", tmp], check=True,
                                 capture_output=True, text=True).stdout
            result = json.loads(out)
            rows.append((size, mb, result))
    print(f"{'touches':>10} {'export MB':>10} {'seconds':>8} {'touches/s':>10} "
          f"{'peak RSS MB':>12} {'re-read unchanged s':>20}")
    for size, mb, r in rows:
        print(f"{size:>10,} {mb:>10.1f} {r['seconds']:>8.1f} {r['touches'] / r['seconds']:>10,.0f}"
              f" {r['peak_rss_mb']:>12.0f} {r['unchanged_seconds']:>20.3f}")


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    main(sys.argv[1:])
