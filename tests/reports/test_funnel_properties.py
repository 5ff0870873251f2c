"""Property tests: on random people, the SQL report equals a plain-Python reading
of the definitions, and its invariants hold (in flight and converters within the
cohort, percentiles ordered, channel rows adding up to the totals)."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connector.reports.funnel import DEMAND, FunnelQuery, funnel_report, label
from connector.state import funnel_facts
from connector.state.funnel_facts import StageFact
from connector.state.store import StateStore

START = datetime(2026, 1, 1, tzinfo=UTC)
AS_OF = datetime(2026, 4, 1, tzinfo=UTC)
QUERY = FunnelQuery(AS_OF, date(2026, 1, 15), date(2026, 3, 15))
COUNTER = itertools.count()

cycle = st.tuples(
    st.integers(-20, 100),                        # Inquiry, days after START
    st.lists(st.integers(0, 40), max_size=5),     # days between the next stages
    st.lists(st.booleans(), min_size=6, max_size=6),  # inferred flags
    st.one_of(st.none(), st.integers(0, 120)),    # closed after opening, days
    st.sampled_from(["Email", "Webinar", None]),
)


def _facts(people: list[list[Any]]) -> dict[str, list[StageFact]]:
    out: dict[str, list[StageFact]] = {}
    for n, cycles in enumerate(people):
        rows: list[StageFact] = []
        for number, (opened, gaps, inferred, closed, channel) in enumerate(cycles, 1):
            at = START + timedelta(days=opened + 200 * (number - 1))
            close = at + timedelta(days=closed) if closed is not None else None
            for i, stage in enumerate(DEMAND[:len(gaps) + 1]):
                if i:
                    at += timedelta(days=gaps[i - 1])
                rows.append(StageFact(f"m{n}", number, stage, at, i > 0 and inferred[i], close,
                                      channel, None, "Email", None))
        out[f"m{n}"] = rows
    return out


def _percentile(values: list[float], p: float) -> float:
    values = sorted(values)
    pos = (len(values) - 1) * p
    lo = int(pos)
    hi = min(lo + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (pos - lo)


def _reference(facts: dict[str, list[StageFact]]) -> list[dict[str, Any]]:
    start = datetime.combine(QUERY.start, datetime.min.time(), UTC)
    end = datetime.combine(QUERY.end + timedelta(days=1), datetime.min.time(), UTC)
    rows = []
    for i, stage in enumerate(DEMAND):
        cohort = [f for fs in facts.values() for f in fs
                  if f.stage == stage and start <= f.at < end and f.at <= AS_OF]
        last = i == len(DEMAND) - 1
        days, flight = [], 0
        for f in cohort:
            later = [g.at for g in facts[f.map_id] if g.cycle == f.cycle
                     and DEMAND.index(g.stage) > i and g.at <= AS_OF]
            if later:
                days.append(max(0.0, (min(later) - f.at).total_seconds() / 86400))
            elif f.closed_at is None or f.closed_at > AS_OF:
                flight += 1
        rows.append({
            "stage": label(stage), "entered": len(cohort),
            "inferred": sum(f.inferred for f in cohort),
            "reached_next": None if last else len(days),
            "in_flight": None if last else flight,
            "conversion": None if last or not cohort else round(len(days) / len(cohort), 4),
            **{k: None if last or not days else round(_percentile(days, p), 2)
               for k, p in (("median_days", .5), ("p75_days", .75), ("p90_days", .9))}})
    return rows


@settings(max_examples=20, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.lists(cycle, min_size=1, max_size=2), max_size=12))
def test_the_sql_report_equals_the_definitions(tmp_path: Path, people: list[list[Any]]) -> None:
    facts = _facts(people)
    store = StateStore(tmp_path / f"s{next(COUNTER)}.db")
    try:
        with store.transaction():
            funnel_facts.set_person_stages(store, facts)
        report = funnel_report(store.db, QUERY)
    finally:
        store.close()
    stages = report["demand"]["stages"]
    assert stages == _reference(facts)
    for r in stages[:-1]:
        assert r["reached_next"] + r["in_flight"] <= r["entered"]
        assert r["inferred"] <= r["entered"]
        if r["median_days"] is not None:
            assert 0 <= r["median_days"] <= r["p75_days"] <= r["p90_days"]
    for view in ("first_touch", "original_source"):
        rows = [c for c in report["by_channel"] if c["view"] == view]
        for r in stages:
            assert sum(c["demand"][r["stage"]] for c in rows) == r["entered"]
    assert sum(p["demand"]["Inquiry"] for p in report["periods"]) == stages[0]["entered"]


def test_an_empty_state_gives_zeros_not_errors(tmp_path: Path) -> None:
    store = StateStore(tmp_path / "empty.db")
    try:
        report = funnel_report(store.db, QUERY)
    finally:
        store.close()
    assert [r["entered"] for r in report["demand"]["stages"]] == [0] * 6
    assert [r["entered"] for r in report["abm"]["stages"]] == [0] * 5
    assert report["by_channel"] == [] and report["revenue"] == {"pipeline": 0.0, "won": 0.0}
    assert [p["period"] for p in report["periods"]] == ["2026-01", "2026-02", "2026-03"]


# ------------------------------------------------------------ accounts

account = st.tuples(
    st.one_of(st.none(), st.integers(0, 150)),                  # target since, days
    st.lists(st.integers(0, 150 * 24), max_size=4),              # engagements, hours
    st.lists(st.integers(0, 150), max_size=2),                   # people's SQL, days
    st.lists(st.tuples(st.integers(0, 150), st.one_of(st.none(), st.integers(0, 50)),
                       st.booleans()), max_size=3),              # opportunities
)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(account, max_size=8))
def test_the_account_funnel_counts_the_engines_cycles(tmp_path: Path,
                                                      accounts: list[Any]) -> None:
    """Over a range holding every date: each stage's volume is the number of target
    accounts' cycles (connector.engine.account_cycles) that reached it, so the
    account funnel never widens; non-target accounts are not counted."""
    from connector.engine.account_cycles import AccountOpportunity, account_cycles
    from connector.state.funnel_facts import ENGAGED, AccountFact
    from connector.values import Link, MirrorRow

    as_of = START + timedelta(days=140)
    query = FunnelQuery(as_of, date(2025, 12, 1), date(2026, 6, 30))
    facts: dict[str, list[StageFact]] = {}
    links, opps, rows = [], [], []
    expected = {s: 0 for s in ("Target", "Engaged", "SQL", "Opportunity", "Won")}
    for k, (target, engaged, sqls, deals) in enumerate(accounts):
        a = f"A{k}"
        target_at = START + timedelta(days=target) if target is not None else None
        rows.append(AccountFact(a, target is not None, target_at, None))
        moments = [START + timedelta(hours=h) for h in engaged]
        facts[f"e{k}"] = [StageFact(f"e{k}", 0, ENGAGED, m, False, None, None, None, None, None)
                          for m in moments]
        links.append(Link(f"e{k}", "Contact", f"Ce{k}", "email", {}, a))
        for j, day in enumerate(sqls):
            facts[f"s{k}_{j}"] = [StageFact(f"s{k}_{j}", 1, "SQL", START + timedelta(days=day),
                                            False, None, None, None, None, None)]
            links.append(Link(f"s{k}_{j}", "Contact", f"Cs{k}_{j}", "email", {}, a))
        engine_opps = []
        for j, (created, closes, won) in enumerate(deals):
            made = START + timedelta(days=created)
            close = made + timedelta(days=closes if closes is not None else 400)
            opps.append(MirrorRow("Opportunity", f"O{k}_{j}", {
                "Amount": 100, "IsClosed": closes is not None, "IsWon": won and closes is not None,
                "CloseDate": close.date().isoformat()}, parent_id=a,
                created_date=made.isoformat(timespec="milliseconds")))
            engine_opps.append(AccountOpportunity(f"O{k}_{j}", made,
                                                  close if closes is not None else None,
                                                  won and closes is not None))
        if target_at is None:
            continue
        for c in account_cycles(engagements=moments,
                                sqls=[START + timedelta(days=d) for d in sqls],
                                opportunities=engine_opps, as_of=as_of, target_at=target_at):
            if "Target" not in c.dates:  # a target only after as_of: not one yet
                continue
            for stage in c.dates:
                expected[stage] += 1
    store = StateStore(tmp_path / f"a{next(COUNTER)}.db")
    try:
        run = store.start_run("test", as_of)
        with store.transaction():
            funnel_facts.set_person_stages(store, facts)
            funnel_facts.set_accounts(store, rows)
            store.set_links(run, links)
            store.mirror_upsert(opps)
        report = funnel_report(store.db, query)
    finally:
        store.close()
    stages = report["abm"]["stages"]
    assert {r["stage"]: r["entered"] for r in stages} == expected
    volumes = [r["entered"] for r in stages]
    assert volumes == sorted(volumes, reverse=True)
    for r in stages[:-1]:
        assert r["reached_next"] + r["in_flight"] <= r["entered"]
        assert r["inferred"] <= r["entered"]
