"""Account buying cycles (connector.engine.account_cycles): table-driven cases for
each rule, and properties that hold for any events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connector.engine.account_cycles import (
    CLOSE_DAY,
    STAGES,
    AccountCycle,
    AccountOpportunity,
    account_cycles,
)

AS_OF = datetime(2026, 6, 30, tzinfo=UTC)


def d(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(tzinfo=UTC)


def opp(name: str, created: str, closed: str | None = None,
        won: bool = False) -> AccountOpportunity:
    return AccountOpportunity(name, d(created), d(closed) if closed else None, won)


def view(cycles: list[AccountCycle]) -> list[dict[str, Any]]:
    """Each cycle as {stage: 'MM-DD' (+ '*' when inferred)}, its outcome and opps."""
    return [{**{s: c.dates[s].strftime("%m-%d") + ("*" if s in c.inferred else "")
                for s in STAGES if s in c.dates},
             "outcome": c.outcome, "opps": c.opportunities} for c in cycles]


CASES = [
    pytest.param(dict(), [], id="nothing-no-cycle"),
    pytest.param(dict(target_at="2026-01-01"),
                 [{"Target": "01-01", "outcome": None, "opps": ()}], id="target-never-engaged"),
    pytest.param(dict(target_at="2026-07-01", engagements=["2026-02-01"]),
                 [{"Engaged": "02-01", "outcome": None, "opps": ()}],
                 id="a-target-only-after-as-of-is-not-one-yet"),
    pytest.param(dict(engagements=["2026-02-01", "2026-02-05"], sqls=["2026-03-01"]),
                 [{"Engaged": "02-01", "SQL": "03-01", "outcome": None, "opps": ()}],
                 id="one-open-cycle-first-dates-kept"),
    pytest.param(dict(opps=[opp("O1", "2026-01-10", "2026-02-01", True)],
                      engagements=["2026-03-01"], sqls=["2026-03-05"]),
                 [{"Engaged": "01-10*", "SQL": "01-10*", "Opportunity": "01-10",
                   "Won": "02-01", "outcome": "won", "opps": ("O1",)},
                  {"Engaged": "03-01", "SQL": "03-05", "outcome": None, "opps": ()}],
                 id="sales-sourced-won-then-re-entry"),
    pytest.param(dict(engagements=["2026-01-02", "2026-02-10"],
                      opps=[opp("O1", "2026-01-05", "2026-01-20")]),
                 [{"Engaged": "01-02", "SQL": "01-05*", "Opportunity": "01-05",
                   "outcome": "lost", "opps": ("O1",)},
                  {"Engaged": "02-10", "outcome": None, "opps": ()}],
                 id="closed-lost-then-re-entry"),
    pytest.param(dict(engagements=["2026-01-02", "2026-01-20T15:00"],
                      opps=[opp("O1", "2026-01-05", "2026-01-20")]),
                 [{"Engaged": "01-02", "SQL": "01-05*", "Opportunity": "01-05",
                   "outcome": "lost", "opps": ("O1",)}],
                 id="the-close-day-belongs-to-the-cycle"),
    pytest.param(dict(engagements=["2026-01-02", "2026-01-21"],
                      opps=[opp("O1", "2026-01-05", "2026-01-20")]),
                 [{"Engaged": "01-02", "SQL": "01-05*", "Opportunity": "01-05",
                   "outcome": "lost", "opps": ("O1",)},
                  {"Engaged": "01-21", "outcome": None, "opps": ()}],
                 id="the-day-after-the-close-re-enters"),
    pytest.param(dict(opps=[opp("O1", "2026-01-05", "2026-01-20"),
                            opp("O2", "2026-01-10", None)],
                      engagements=["2026-02-01"]),
                 [{"Engaged": "01-05*", "SQL": "01-05*", "Opportunity": "01-05",
                   "outcome": None, "opps": ("O1", "O2")}],
                 id="one-lost-one-open-the-cycle-goes-on"),
    pytest.param(dict(opps=[opp("O1", "2026-01-05", "2026-01-20"),
                            opp("O2", "2026-01-10", "2026-03-01", True)]),
                 [{"Engaged": "01-05*", "SQL": "01-05*", "Opportunity": "01-05",
                   "Won": "03-01", "outcome": "won", "opps": ("O1", "O2")}],
                 id="lost-then-won-in-one-cycle"),
    pytest.param(dict(opps=[opp("O1", "2026-01-05", "2026-02-01", True),
                            opp("O2", "2026-03-01", "2026-04-01", True)]),
                 [{"Engaged": "01-05*", "SQL": "01-05*", "Opportunity": "01-05",
                   "Won": "02-01", "outcome": "won", "opps": ("O1",)},
                  {"Engaged": "03-01*", "SQL": "03-01*", "Opportunity": "03-01",
                   "Won": "04-01", "outcome": "won", "opps": ("O2",)}],
                 id="expansion-deal-is-a-second-cycle"),
    pytest.param(dict(opps=[opp("O1", "2026-01-05", "2026-07-15", True)]),
                 [{"Engaged": "01-05*", "SQL": "01-05*", "Opportunity": "01-05",
                   "outcome": None, "opps": ("O1",)}],
                 id="a-close-after-as-of-is-not-known"),
    pytest.param(dict(engagements=["2026-07-01"], opps=[opp("O1", "2026-07-02")]), [],
                 id="events-after-as-of-are-not-known"),
    pytest.param(dict(target_at="2026-06-01", engagements=["2026-01-02", "2026-03-01"],
                      opps=[opp("O1", "2026-02-01", "2026-02-10", True)]),
                 [{"Target": "01-02*", "Engaged": "01-02", "SQL": "02-01*",
                   "Opportunity": "02-01", "Won": "02-10", "outcome": "won", "opps": ("O1",)},
                  {"Target": "03-01*", "Engaged": "03-01", "outcome": None, "opps": ()}],
                 id="target-seen-after-the-history-inferred-at-each-opening"),
    pytest.param(dict(target_at="2026-01-01", engagements=["2026-01-15", "2026-03-01"],
                      opps=[opp("O1", "2026-02-01", "2026-02-10", True)]),
                 [{"Target": "01-01", "Engaged": "01-15", "SQL": "02-01*",
                   "Opportunity": "02-01", "Won": "02-10", "outcome": "won", "opps": ("O1",)},
                  {"Target": "03-01", "Engaged": "03-01", "outcome": None, "opps": ()}],
                 id="target-first-re-enters-at-the-top"),
    pytest.param(dict(sqls=["2026-02-01"], engagements=["2026-01-20"],
                      opps=[opp("O1", "2026-01-25", "2026-01-26", True)]),
                 [{"Engaged": "01-20", "SQL": "01-25*", "Opportunity": "01-25", "Won": "01-26",
                   "outcome": "won", "opps": ("O1",)},
                  {"Engaged": "02-01*", "SQL": "02-01", "outcome": None, "opps": ()}],
                 id="a-person-at-sql-after-the-won-opens-a-cycle"),
]


@pytest.mark.parametrize(("given_", "expected"), CASES)
def test_cycles(given_: dict[str, Any], expected: list[dict[str, Any]]) -> None:
    target = given_.get("target_at")
    cycles = account_cycles(
        engagements=[d(x) for x in given_.get("engagements", [])],
        sqls=[d(x) for x in given_.get("sqls", [])],
        opportunities=given_.get("opps", []), as_of=AS_OF,
        target_at=d(target) if target else None)
    assert view(cycles) == expected
    assert [c.number for c in cycles] == list(range(1, len(cycles) + 1))


START = datetime(2026, 1, 1, tzinfo=UTC)
moment = st.integers(0, 240 * 24).map(lambda h: START + timedelta(hours=h))


@st.composite
def opportunities(draw: st.DrawFn) -> list[AccountOpportunity]:
    out = []
    for n in range(draw(st.integers(0, 4))):
        created = draw(moment)
        closes = draw(st.one_of(st.none(), st.integers(0, 60)))
        closed = (created + timedelta(days=closes)).replace(hour=0) if closes is not None \
            else None
        out.append(AccountOpportunity(f"O{n}", created, closed, draw(st.booleans())))
    return out


@settings(max_examples=300, deadline=None)
@given(st.lists(moment, max_size=6), st.lists(moment, max_size=4), opportunities(),
       st.one_of(st.none(), moment))
def test_cycle_invariants(engagements: list[datetime], sqls: list[datetime],
                          opps: list[AccountOpportunity], target_at: datetime | None) -> None:
    cycles = account_cycles(engagements=engagements, sqls=sqls, opportunities=opps,
                            as_of=AS_OF, target_at=target_at)
    known = [o for o in opps if o.created_at <= AS_OF]
    # every known opportunity is in exactly one cycle
    assert sorted(o for c in cycles for o in c.opportunities) == \
        sorted(o.opportunity_id for o in known)
    for i, c in enumerate(cycles):
        stages = [s for s in STAGES if s in c.dates]
        # stages reached form a prefix (from Target or Engaged), in date order
        first = 0 if "Target" in c.dates else 1
        assert stages == list(STAGES[first:first + len(stages)])
        dates = [c.dates[s] for s in stages]
        assert dates == sorted(dates) and all(x <= AS_OF for x in dates)
        assert ("Target" in c.dates) == (target_at is not None and target_at <= AS_OF)
        assert c.inferred <= set(c.dates)
        assert ("Won" in c.dates) == (c.outcome == "won")
        # only the last cycle may be open; the next one opens after the close day
        if i < len(cycles) - 1:
            assert c.closed_at is not None and c.outcome in ("won", "lost")
            assert cycles[i + 1].opened_at >= c.closed_at + CLOSE_DAY
            assert cycles[i + 1].previous_closed_at == c.closed_at
    # no event falls between cycles: the cycle open at each event (the last opened
    # at or before it) had not closed yet, or closed that same close day
    for at in [*engagements, *sqls, *(o.created_at for o in known)]:
        if at > AS_OF:
            continue
        holder = [c for c in cycles if c.opened_at <= at][-1]
        assert holder.closed_at is None or at < holder.closed_at + CLOSE_DAY
    # an account with any known event has a cycle; a target has one even without
    assert bool(cycles) == bool([x for x in [*engagements, *sqls] if x <= AS_OF] or known
                                or (target_at is not None and target_at <= AS_OF))
