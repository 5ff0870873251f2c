"""Benchmark the scoring step: person scores, lifecycle and account scores.

Generates plain values in memory (no database, no emulator): N people with
about 10 touches each over two years, a Salesforce view for some of them
(Lead statuses, conversions, opportunity roles), five people per account on
average. People are produced and scored in batches of 2,000, as the sync's
planning step streams them; each person's scored touches are kept for the
account step, which runs at the end. Only the engines are timed (generation
is timed apart); peak RSS is the whole process's.

Usage: ``.venv/bin/python scripts/bench_scoring.py [PEOPLE] [TOUCHES]``
(default 100000 1000000).
"""

from __future__ import annotations

import random
import resource
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from connector.engine.accounts import (
    AccountMember,
    AccountProfile,
    OpenOpportunity,
    first_meaningful,
    score_account,
)
from connector.engine.lifecycle import (
    LifecycleRules,
    OpportunityRole,
    SalesforceView,
    StatusChange,
    lifecycle,
)
from connector.engine.scoring import Profile, score_person
from connector.mappings import load_mappings
from connector.models import Touch

AS_OF = datetime(2026, 6, 30, tzinfo=UTC)
SPAN_SECONDS = 2 * 365 * 86_400
TYPES = [("web_visit", 40), ("email_open", 22), ("email_click", 8), ("form_fill", 6),
         ("content_download", 6), ("webinar_registered", 4), ("webinar_attended", 3),
         ("ad_click", 5), ("demo_request", 1), ("trial_start", 1), ("sales_meeting", 2),
         ("event_attended", 1), ("direct_mail", 1)]
PAGES = ["/", "/product", "/pricing", "/customers", "/blog/lead-scoring", "/careers",
         "/integrations/salesforce", "/docs/getting-started", "/about"]
CHANNELS = ["Website", "Email", "Paid Search", "Webinar", "Content Syndication", "Event"]
TITLES = ["VP Marketing", "Director of Marketing Operations", "Marketing Manager",
          "Software Engineer", "CEO", "Student", "Sales Operations Manager", None]
INDUSTRIES = ["Technology", "Finance", "Healthcare", "Retail", "Education", None]
COUNTRIES = ["United States", "United Kingdom", "Germany", "India", "Brazil", None]
STATUSES = ["Open - Not Contacted", "Working - Contacted", "Qualified", "Nurture"]
BATCH = 2_000


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def people_batches(n_people: int, n_touches: int, accounts: int, seed: int = 11
                   ) -> Iterator[list[tuple[str, int, Profile, list[Touch], SalesforceView]]]:
    rng = random.Random(seed)
    m = load_mappings()
    decls = m.touches.touch_types
    kinds = [k for k, _ in TYPES]
    weights = [w for _, w in TYPES]
    per_person = n_touches / n_people
    start = AS_OF.timestamp() - SPAN_SECONDS
    made = 0
    batch: list[tuple[str, int, Profile, list[Touch], SalesforceView]] = []
    for i in range(n_people):
        map_id = f"L{i}"
        account = rng.randrange(accounts)
        count = min(n_touches - made, max(0, round(rng.expovariate(1 / per_person))))
        if i == n_people - 1:
            count = n_touches - made
        made += count
        base = start + rng.random() * SPAN_SECONDS * 0.8
        touches: list[Touch] = []
        for j in range(count):
            kind = rng.choices(kinds, weights)[0]
            ts = min(AS_OF.timestamp(), base + rng.expovariate(1 / (20 * 86_400)) * (j + 1))
            url = f"https://www.lumora.io{rng.choice(PAGES)}" if kind in (
                "web_visit", "form_fill") else None
            decl = decls[kind]
            touches.append(Touch.model_construct(
                touch_id=f"{map_id}-{j}", map_id=map_id, program_id=None, touch_type=kind,
                occurred_at=datetime.fromtimestamp(ts, UTC), url=url, referrer=None,
                utm_source=None, utm_medium=None, utm_campaign=None, utm_content=None,
                utm_term=None, channel=rng.choice(CHANNELS), channel_rule="bench",
                is_response=decl.response, is_conversion=decl.conversion, extra={},
                origin=None))
        domain = "gmail.com" if rng.random() < 0.1 else f"company{account}.com"
        profile = Profile(email=f"p{i}@{domain}", title=rng.choice(TITLES),
                          industry=rng.choice(INDUSTRIES), country=rng.choice(COUNTRIES),
                          employees=rng.choice([5, 60, 300, 2500, None]))
        statuses: tuple[StatusChange, ...] = ()
        roles: tuple[OpportunityRole, ...] = ()
        if touches and rng.random() < 0.2:
            first = touches[0].occurred_at
            statuses = tuple(StatusChange(first + timedelta(days=rng.randint(1, 200)),
                                          rng.choice(STATUSES)) for _ in range(2))
        if touches and rng.random() < 0.04:
            since = touches[-1].occurred_at
            won = rng.random() < 0.3
            roles = (OpportunityRole(f"006{i}", since, is_closed=won, is_won=won,
                                     closed_at=since + timedelta(days=60) if won else None),)
        batch.append((map_id, account, profile, touches, SalesforceView(
            statuses=statuses, opportunities=roles)))
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def main() -> int:
    n_people = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    n_touches = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000
    n_accounts = max(1, n_people // 5)
    m = load_mappings()
    scoring = m.scoring
    assert scoring is not None
    rules = LifecycleRules.from_mappings(m)
    free_mail = m.sync.free_mail_domains
    meaningful = scoring.accounts.meaningful_engagement
    members: dict[int, list[AccountMember]] = {}
    stages: dict[str, int] = {}
    scored_seconds = gen_seconds = scored_cpu = 0.0
    touches_seen = 0
    clock = time.perf_counter()
    for batch in people_batches(n_people, n_touches, n_accounts):
        began = time.perf_counter()
        cpu = time.process_time()
        gen_seconds += began - clock
        for map_id, account, profile, touches, sf in batch:
            touches_seen += len(touches)
            scores = score_person(profile, touches, scoring, free_mail, AS_OF)
            life = lifecycle(touches, scores, sf, rules, AS_OF)
            stages[life.stage or "-"] = stages.get(life.stage or "-", 0) + 1
            if profile.email_domain not in free_mail:
                members.setdefault(account, []).append(AccountMember(
                    map_id, scores.scored, first_meaningful(map_id, touches, meaningful,
                                                            AS_OF)))
        clock = time.perf_counter()
        scored_seconds += clock - began
        scored_cpu += time.process_time() - cpu
    person_seconds = scored_seconds
    began = time.perf_counter()
    cpu = time.process_time()
    rng = random.Random(5)
    buying: dict[str, int] = {}
    for account, people in members.items():
        profile = AccountProfile(domain=f"company{account}.com",
                                 industry=rng.choice(INDUSTRIES),
                                 employees=rng.choice([20, 300, 5000]),
                                 country=rng.choice(COUNTRIES),
                                 tier=rng.choice([None, None, None, "1", "2"]))
        opps = [OpenOpportunity(f"006A{account}", AS_OF - timedelta(days=10))] if \
            rng.random() < 0.03 else []
        result = score_account(profile, people, scoring.accounts,
                               scoring.behavior.half_life_days, AS_OF, opportunities=opps,
                               on_target_list=profile.tier is not None)
        buying[result.buying_stage] = buying.get(result.buying_stage, 0) + 1
    account_seconds = time.perf_counter() - began
    account_cpu = time.process_time() - cpu
    total = person_seconds + account_seconds
    print(f"people {n_people:,}  touches {touches_seen:,}  accounts {len(members):,}")
    print(f"generation (not timed as scoring): {gen_seconds:.1f} s")
    print(f"person scores + lifecycle: {person_seconds:.1f} s "
          f"({touches_seen / person_seconds:,.0f} touches/s)")
    print(f"account scores: {account_seconds:.1f} s")
    print(f"scoring step total: {total:.1f} s wall, {scored_cpu + account_cpu:.1f} s CPU "
          f"(target < 60 s)")
    print(f"peak RSS of the process: {peak_rss_mb():.0f} MB (target < 500 MB)")
    print("stages:", dict(sorted(stages.items(), key=lambda kv: -kv[1])))
    print("buying stages:", dict(sorted(buying.items(), key=lambda kv: -kv[1])))
    return 0 if total < 60 and peak_rss_mb() < 500 else 1


if __name__ == "__main__":
    sys.exit(main())
