"""Benchmark the local org emulator over real HTTPS, as the connector would drive it.

Starts ``connector emulator serve`` in a subprocess (so its RSS is the server's
alone), then upserts N Leads by ``MAP_Id__c`` twice (new, then updated) through
sObject Collections (200 per call) and through Bulk API 2.0, with
simple-salesforce unmodified. Prints records/s, API calls and server RSS.

    .venv/bin/python scripts/bench_emulator.py --records 10000 --records 100000
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import psutil  # type: ignore[import-untyped]
import requests
from simple_salesforce.api import Salesforce

BATCH = 200


def start_server(data_dir: Path) -> tuple[subprocess.Popen[bytes], dict[str, str]]:
    env_file = data_dir / "connection.env"
    proc = subprocess.Popen(
        [sys.executable, "-c",
         "from connector.emulator.cli import emulator_app; emulator_app()",
         "serve", "--data-dir", str(data_dir), "--port", "0", "--daily-max", "100000000"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while not env_file.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            detail = proc.stderr.read().decode() if proc.stderr else ""
            raise SystemExit(f"emulator did not start: {detail}")
        time.sleep(0.05)
    values = dict(line.split("=", 1) for line in env_file.read_text().splitlines()
                  if "=" in line and not line.startswith("#"))
    return proc, values


def connect(env: dict[str, str]) -> tuple[Salesforce, requests.Session]:
    session = requests.Session()
    session.trust_env = False  # REQUESTS_CA_BUNDLE would override session.verify
    session.verify = env["SF_CA_BUNDLE"]
    token = session.post(f"{env['SF_LOGIN_URL']}/services/oauth2/token", data={
        "grant_type": "client_credentials", "client_id": env["SF_CLIENT_ID"],
        "client_secret": env["SF_CLIENT_SECRET"]}, timeout=30).json()["access_token"]
    sf = Salesforce(instance_url=env["SF_INSTANCE_URL"], session_id=token, session=session,
                    version=env["SF_API_VERSION"])
    return sf, session


def leads(n: int, prefix: str, title: str) -> list[dict[str, Any]]:
    return [{"MAP_Id__c": f"{prefix}{i}", "LastName": f"Person {i}", "FirstName": "Bench",
             "Company": f"Company {i % 997}", "Email": f"person{i}@company{i % 997}.example",
             "Title": title, "Lead_Score__c": i % 100} for i in range(n)]


def stats(env: dict[str, str], session: requests.Session) -> dict[str, Any]:
    result: dict[str, Any] = session.get(f"{env['SF_INSTANCE_URL']}/__emulator__/stats",
                                         timeout=30).json()
    return result


def collections_upsert(sf: Salesforce, records: list[dict[str, Any]]) -> None:
    for start in range(0, len(records), BATCH):
        chunk = [{"attributes": {"type": "Lead"}, **r} for r in records[start:start + BATCH]]
        results: list[dict[str, Any]] = sf.restful(
            "composite/sobjects/Lead/MAP_Id__c", method="PATCH",
            json={"allOrNone": False, "records": chunk}) or []
        failed = [r for r in results if not r["success"]]
        if failed:
            raise SystemExit(f"collections upsert failed: {failed[:3]}")


def bulk_upsert(sf: Salesforce, records: list[dict[str, Any]]) -> None:
    bulk2: Any = sf.bulk2  # simple-salesforce resolves objects by attribute at run time
    results = bulk2.Lead.upsert(records=records, external_id_field="MAP_Id__c", wait=0)
    failed = sum(int(r["numberRecordsFailed"]) for r in results)
    if failed:
        raise SystemExit(f"bulk upsert: {failed} records failed")


def measure(label: str, n: int, action: Callable[[], None], env: dict[str, str],
            session: requests.Session, proc: subprocess.Popen[bytes]) -> None:
    """Wall-clock rate as the client sees it, and the server's own CPU per record
    (the machine may be shared; CPU time is what the emulator itself costs)."""
    server = psutil.Process(proc.pid)
    before = stats(env, session)["api_calls"]
    cpu_before = sum(server.cpu_times()[:2])
    started = time.perf_counter()
    action()
    elapsed = time.perf_counter() - started
    cpu = sum(server.cpu_times()[:2]) - cpu_before
    after = stats(env, session)["api_calls"]
    rss = server.memory_info().rss / 2**20
    calls = after["total"] - before["total"]
    print(f"{label:<28} {n:>8,} {elapsed:>7.2f}s {n / elapsed:>9,.0f}/s {cpu:>7.2f}s "
          f"{n / cpu:>9,.0f}/s {calls:>6} {cpu * 1000 / calls:>8.1f} {rss:>6.0f} MiB")


def run_all(n: int, env: dict[str, str], proc: subprocess.Popen[bytes]) -> None:
    sf, session = connect(env)
    runs: list[tuple[str, Callable[[], None]]] = [
        ("collections upsert new", partial(collections_upsert, sf, leads(n, "c", "Analyst"))),
        ("collections upsert update",
         partial(collections_upsert, sf, leads(n, "c", "Director"))),
        ("bulk2 upsert new", partial(bulk_upsert, sf, leads(n, "b", "Analyst"))),
        ("bulk2 upsert update", partial(bulk_upsert, sf, leads(n, "b", "Director"))),
    ]
    for label, action in runs:
        measure(label, n, action, env, session, proc)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, action="append",
                        help="record counts to run (default 10000 and 100000)")
    args = parser.parse_args()
    counts = args.records or [10_000, 100_000]
    print(f"{'run':<28} {'records':>8} {'wall':>8} {'wall rate':>11} {'srv CPU':>8} "
          f"{'CPU rate':>11} {'calls':>6} {'ms/call':>8} {'srv RSS':>10}")
    for n in counts:
        with tempfile.TemporaryDirectory(prefix="bench-emulator-") as tmp:
            proc, env = start_server(Path(tmp) / "org")
            try:
                run_all(n, env, proc)
            finally:
                proc.terminate()
                proc.wait(timeout=30)
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
