"""Attribution engine benchmark: every model over 50k opportunities and 1M touches.

    .venv/bin/python scripts/bench_attribution.py [--opportunities 50000]
        [--touches 1000000] [--batch 1000] [--seed 7]

Opportunities and their candidate touches are generated deterministically, in
batches as a run gathers them; each batch goes through touch selection
(contact roles, with some touches of people without a role), all eight models,
and the Attribution__c diff against an empty org (the first run's creates).
Prints wall time (generation apart), peak memory of the process, the credit
records, the minimum write calls for them (200 records per sObject Collections
call), and a digest of every record so two runs can be compared byte for byte.
Target: under 2 minutes and under 1 GB; the exit status judges CPU time, as
wall time on a shared machine measures the other work too (both are printed).
"""

from __future__ import annotations

import argparse
import hashlib
import math
import random
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from bench_common import peak_rss_mb

from connector.engine.attribution import (
    OpportunityValue,
    Settings,
    TouchValue,
)
from connector.engine.attribution_config import MODEL_NAMES
from connector.engine.attribution_diff import diff_attribution
from connector.engine.attribution_scope import (
    ContactRoleScope,
    attribute_in_scope,
)
from connector.mappings import load_mappings

BASE = datetime(2023, 1, 1, tzinfo=UTC)
TYPES = [("form_fill", True), ("webinar_registered", True), ("ad_click", False),
         ("webinar_attended", False), ("email_click", False), ("demo_request", True)]
CHANNELS = ["Paid Search", "Webinar", "Email", "Event", "Paid Social", "Website"]

Batch = list[tuple[OpportunityValue, list[TouchValue], ContactRoleScope]]


def batches(n_opps: int, n_touches: int, size: int, seed: int) -> Iterator[Batch]:
    """Opportunities with ``n_touches`` candidate touches in all, ``size`` at a time."""
    per_opp = n_touches / n_opps
    made = spread = 0
    for start in range(0, n_opps, size):
        rng = random.Random(seed * 1_000_003 + start)
        out: Batch = []
        for i in range(start, min(start + size, n_opps)):
            # the exact total, varied in pairs: +d for one opportunity, -d for the next
            base = round(per_opp * (i + 1)) - round(per_opp * i)
            if i % 2 == 0:
                spread = rng.randint(0, max(base - 1, 0))
                count = base + spread
            else:
                count = base - spread
            count = min(count, n_touches - made)
            made += count
            created = BASE + timedelta(minutes=rng.randint(0, 700 * 1440))
            closed = rng.random() < 0.7
            opp = OpportunityValue(
                id=f"006{i:015d}", account_id=f"001{i // 3:015d}",
                amount=Decimal(rng.randint(100, 10_000_000)) / 100,
                created_at=created,
                close_date=(created + timedelta(days=rng.randint(10, 120))).date(),
                is_closed=closed, is_won=closed and rng.random() < 0.4)
            contacts = [f"003{i:012d}{k:03d}" for k in range(rng.randint(1, 4))]
            touches = []
            for j in range(count):
                kind, conversion = TYPES[rng.randrange(len(TYPES))]
                no_role = rng.random() < 0.1
                contact = None if no_role else contacts[rng.randrange(len(contacts))]
                touches.append(TouchValue(
                    touch_id=f"t{i:07d}-{j:03d}", person_id=f"p{i}-{j % 5}",
                    contact_id=contact or f"003{i:012d}999",
                    campaign_id=f"701{rng.randrange(5000):015d}",
                    program_id=None, channel=CHANNELS[rng.randrange(len(CHANNELS))],
                    touch_type=kind,
                    occurred_at=created + timedelta(minutes=rng.randint(-400 * 1440, 60 * 1440)),
                    is_response=kind != "email_click", is_conversion=conversion))
            out.append((opp, touches, ContactRoleScope(frozenset(contacts))))
        yield out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--opportunities", type=int, default=50_000)
    parser.add_argument("--touches", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    decl = load_mappings().fields.obj("Attribution__c")
    settings = Settings(models=MODEL_NAMES)
    as_of = BASE + timedelta(days=800)
    digest = hashlib.sha256()
    engine_s = diff_s = gen_s = cpu_s = 0.0
    records = attributed = touches = creates = 0
    clock = time.perf_counter()
    for batch in batches(args.opportunities, args.touches, args.batch, args.seed):
        t0 = time.perf_counter()
        c0 = time.process_time()
        gen_s += t0 - clock
        desired = []
        for opp, candidates, scope in batch:
            touches += len(candidates)
            result = attribute_in_scope(opp, candidates, scope, settings, as_of=as_of)
            attributed += result.attributed
            desired.extend(result.records)
        t1 = time.perf_counter()
        diff = diff_attribution(desired, [], decl)
        t2 = time.perf_counter()
        cpu_s += time.process_time() - c0
        engine_s += t1 - t0
        diff_s += t2 - t1
        records += len(desired)
        creates += len(diff.creates)
        for r in desired:
            digest.update(f"{r.key}|{r.credit}|{r.revenue}|{r.position}\n".encode())
        clock = time.perf_counter()
    print(f"opportunities       {args.opportunities:>12,}  (attributed {attributed:,})")
    print(f"candidate touches   {touches:>12,}")
    print(f"models              {len(settings.models):>12}  ({', '.join(settings.models)})")
    print(f"credit records      {records:>12,}  (creates planned {creates:,})")
    print(f"min write calls     {math.ceil(records / 200):>12,}  "
          "(sObject Collections, 200 records a call)")
    print(f"engine              {engine_s:>11.1f}s")
    print(f"diff                {diff_s:>11.1f}s")
    print(f"engine + diff       {engine_s + diff_s:>11.1f}s  (generation apart: {gen_s:.1f}s)")
    print(f"  of which CPU      {cpu_s:>11.1f}s  (wall time exceeds it on a busy machine)")
    print(f"peak memory         {peak_rss_mb():>10.0f}MB")
    print(f"digest              {digest.hexdigest()[:16]}")
    memory_ok = peak_rss_mb() < 1024
    cpu_ok, wall_ok = cpu_s < 120 and memory_ok, engine_s + diff_s < 120 and memory_ok
    print("target (<2 min, <1 GB):", "met" if cpu_ok else "MISSED", "on CPU time,",
          "met" if wall_ok else "missed", "on wall time")
    return 0 if cpu_ok else 1


if __name__ == "__main__":
    sys.exit(main())
