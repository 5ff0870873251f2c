"""Benchmark: the Salesforce writer, 1k / 10k / 100k upserts against the emulator.

For each size and transport (sObject Collections, Bulk API 2.0) it reports the
API calls used against the minimum possible (ceil(n/200) for collections; one
job's create, upload, close, poll and three result reads for Bulk), wall time,
throughput and the connector process's peak memory. Each measurement runs in a
fresh process; the emulator runs in its own.

    .venv/bin/python scripts/bench_client.py            # 1k, 10k, 100k
    .venv/bin/python scripts/bench_client.py 1000 5000  # chosen sizes
"""

from __future__ import annotations

import json
import math
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_common import emulator, peak_rss_mb, run_child, settings_for

from connector.salesforce import SalesforceClient, WriteOp, Writer

BULK_MINIMUM = 7  # create, upload, close, poll, successful/failed/unprocessed results


def measure(n: int, transport: str) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp, emulator(Path(tmp) / "org") as org:
        settings = settings_for(org.env, bulk_threshold=1 if transport == "bulk2" else 10**9)
        client = SalesforceClient(settings.salesforce).connect()
        ops = [WriteOp(f"m{i}", {"MAP_Id__c": f"m{i}", "LastName": f"Last {i}",
                                 "Company": f"Company {i % 977}",
                                 "Email": f"person{i}@example.com"}) for i in range(n)]
        writer = Writer(client)
        org.reset()
        start = time.perf_counter()
        outcome = writer.write("Lead", "upsert", ops, external_id_field="MAP_Id__c")
        seconds = time.perf_counter() - start
        stats = org.stats()["api_calls"]
        ok = sum(r.success for r in outcome.results)
        minimum = math.ceil(n / 200) if transport == "collections" else BULK_MINIMUM
        return {"n": n, "transport": transport, "ok": ok, "calls": stats["total"],
                "minimum": minimum, "seconds": round(seconds, 2),
                "records_per_s": round(n / seconds), "peak_rss_mb": round(peak_rss_mb(), 1),
                "emulator_rss_mb": round(org.server_rss_mb(), 1)}


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--one":
        print(json.dumps(measure(int(sys.argv[2]), sys.argv[3])))
        return
    sizes = [int(a) for a in sys.argv[1:]] or [1_000, 10_000, 100_000]
    rows = []
    for n in sizes:
        for transport in ("collections", "bulk2"):
            rows.append(json.loads(run_child(Path(__file__), "--one", str(n), transport)))
            r = rows[-1]
            print(f"{r['n']:>7} {r['transport']:<11} calls {r['calls']:>4} (min {r['minimum']:>3})"
                  f"  {r['seconds']:>7.2f} s  {r['records_per_s']:>7}/s  "
                  f"peak {r['peak_rss_mb']:>6.1f} MB  ok {r['ok']}", flush=True)
    print(json.dumps(rows))


if __name__ == "__main__":
    main()
