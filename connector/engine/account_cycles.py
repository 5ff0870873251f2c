"""An account's buying cycles in the account-based (ABM) funnel.

Stages in order: Target, Engaged, SQL, Opportunity, Won. An account counts once
per buying cycle, and it re-enters at the top only after a Won or a closed-lost
opportunity (DOMAIN "The dual funnel"). This engine turns an account's dated
events into its cycles; the funnel report feeds it what the state database
holds and counts the cycles it returns, so volumes, cohorts and velocity are
per cycle, never per account.

The events (each up to ``as_of``; later ones are not known yet):

* a meaningful engagement of any person matched to the account (Engaged);
* a person of the account reaching SQL (SQL);
* an opportunity's creation (Opportunity); its close, won or lost.

The rules:

* A cycle opens at the first event when no cycle is open. Each stage date is
  set once per cycle, at the first event reaching it; stages skipped on the
  way (an opportunity with no engaged person before it: a sales-sourced deal)
  take that event's date and are *inferred*.
* An opportunity belongs to the cycle open when it was created. The cycle
  closes when one of its opportunities is won (Won is dated at the close) or
  when all of its opportunities are closed lost (a close dated before its
  opportunity's creation counts at the creation). A close date is a day: the
  cycle owns the whole close day, so the next cycle opens at the first event
  after it (activity on the signing day is the deal closing, not a new journey).
* Target: only a target account has one. The first cycle's Target date is when
  the account became a target (``target_at``, the moment the connector first
  saw it on the list) or the cycle's opening if that came first; a later
  cycle's Target is its opening (the account re-enters at the top). A Target
  date earlier than ``target_at`` is inferred: the account was not known to be
  a target then. A target account with no events has one cycle, Target only.

Pure: plain values in, frozen values out.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

STAGES = ("Target", "Engaged", "SQL", "Opportunity", "Won")
RANK = {name: i for i, name in enumerate(STAGES)}
CLOSE_DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class AccountOpportunity:
    """An opportunity of the account. ``closed_at``: the start of its close date
    (UTC) when it is closed, else None."""

    opportunity_id: str
    created_at: datetime
    closed_at: datetime | None = None
    won: bool = False


@dataclass(frozen=True, slots=True)
class AccountCycle:
    number: int
    opened_at: datetime
    dates: dict[str, datetime]          # stage -> date, only the stages reached
    inferred: frozenset[str]
    opportunities: tuple[str, ...]      # the opportunities created in this cycle
    closed_at: datetime | None = None   # a won or the last lost close, if closed by as_of
    outcome: str | None = None          # "won", "lost" or None (still open)
    previous_closed_at: datetime | None = None


@dataclass
class _Open:
    number: int
    opened_at: datetime
    previous_closed_at: datetime | None
    dates: dict[str, datetime] = field(default_factory=dict)
    inferred: set[str] = field(default_factory=set)
    opps: list[AccountOpportunity] = field(default_factory=list)

    def reach(self, rank: int, at: datetime) -> None:
        """Set the stage of ``rank`` and every unset stage below it (inferred),
        never earlier than a date already set."""
        latest = max(self.dates.values(), default=at)
        at = max(at, latest)
        for r in range(RANK["Engaged"], rank + 1):
            name = STAGES[r]
            if name not in self.dates:
                self.dates[name] = at
                if r < rank:
                    self.inferred.add(name)

    def end(self, as_of: datetime) -> tuple[datetime, str] | None:
        """When and how the cycle closed by ``as_of``: the first won close of its
        opportunities, or the last close when all of them were lost."""
        closes = [(max(o.closed_at, o.created_at), o.won) for o in self.opps
                  if o.closed_at is not None and o.closed_at <= as_of]
        won = [at for at, is_won in closes if is_won]
        if won:
            return min(won), "won"
        if self.opps and len(closes) == len(self.opps):
            return max(at for at, _ in closes), "lost"
        return None

    def freeze(self, as_of: datetime) -> AccountCycle:
        closed = self.end(as_of)
        dates = dict(self.dates)
        if closed is not None and closed[1] == "won":
            dates["Won"] = max(closed[0], *dates.values())
        return AccountCycle(self.number, self.opened_at, dates, frozenset(self.inferred),
                            tuple(o.opportunity_id for o in self.opps),
                            closed[0] if closed else None, closed[1] if closed else None,
                            self.previous_closed_at)


def account_cycles(*, engagements: Iterable[datetime], sqls: Iterable[datetime],
                   opportunities: Sequence[AccountOpportunity], as_of: datetime,
                   target_at: datetime | None = None) -> list[AccountCycle]:
    """The account's buying cycles at ``as_of``, oldest first (see the module doc).

    ``engagements``: the meaningful engagements of its people; ``sqls``: its
    people's SQL dates; ``target_at``: None when it is not a target account.
    """
    events: list[tuple[datetime, int, AccountOpportunity | None]] = []
    events += [(at, RANK["Engaged"], None) for at in engagements if at <= as_of]
    events += [(at, RANK["SQL"], None) for at in sqls if at <= as_of]
    events += [(o.created_at, RANK["Opportunity"], o) for o in opportunities
               if o.created_at <= as_of]
    events.sort(key=lambda e: (e[0], e[1], e[2].opportunity_id if e[2] else ""))
    cycles: list[AccountCycle] = []
    current: _Open | None = None
    for at, rank, opp in events:
        if current is not None:
            closed = current.end(as_of)
            if closed is not None and at >= closed[0] + CLOSE_DAY:
                cycles.append(current.freeze(as_of))
                current = None
        if current is None:
            previous = cycles[-1].closed_at if cycles else None
            current = _Open(len(cycles) + 1, at, previous)
        current.reach(rank, at)
        if opp is not None:
            current.opps.append(opp)
    if current is not None:
        cycles.append(current.freeze(as_of))
    if target_at is None or target_at > as_of:
        return cycles
    if not cycles:
        return [AccountCycle(1, target_at, {"Target": target_at}, frozenset(), ())]
    out = []
    for c in cycles:
        at = min(target_at, c.opened_at) if c.number == 1 else c.opened_at
        inferred = c.inferred | ({"Target"} if at < target_at else set())
        out.append(AccountCycle(c.number, c.opened_at, {"Target": at, **c.dates},
                                frozenset(inferred), c.opportunities, c.closed_at, c.outcome,
                                c.previous_closed_at))
    return out
