"""Lifecycle stages per funnel cycle, with SLA recycling.

Stages in order: Inquiry, MQL, SAL, SQL, Opportunity, Customer; side states
Recycled and Excluded. A cycle opens with a response (``connector.engine.cycles``)
and closes on a close event: a Lead Status entering a recycle status, or the
SLA running out at MQL or SAL, which this engine adds as one more kind of
close event (``build_cycles`` takes close events as inputs for that reason).

Within a cycle the engine replays what happened in time order:

* Inquiry at the cycle's first response;
* MQL at the first touch after which lead score >= threshold with fit >= its
  minimum (the behavior score is replayed through time with its decay), never
  while excluded;
* SAL at an accepted Lead Status or a fast-track response (never a
  fast-track while excluded: a student's demo request is not sales' yes);
* SQL at a qualified Lead Status, or the Lead's conversion with an opportunity;
* Opportunity when the person becomes a contact role on an opportunity;
  Customer when one of those is won.

A stage date is set once per cycle, when first reached; stages skipped on
the way get the same date and are flagged inferred. Salesforce evidence
observed before a cycle opened counts at the cycle's opening, but only if it
came after the previous cycle closed: a status set in cycle 1 does not carry
into cycle 2. A person at MQL or SAL who has not progressed at exactly stage
date + SLA is recycled then (one second earlier they are not). Dates written
earlier in the same cycle (``previous``) are kept: never moved, never cleared.
Everything depends on the inputs and ``as_of`` only, so a later ``as_of`` with
no new data recycles exactly the people whose SLA ran out in between.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from connector.engine.cycles import Cycle, build_cycles
from connector.engine.scoring import PersonScores, first_reaching
from connector.engine.scoring_config import STAGES
from connector.values import TouchLike

if TYPE_CHECKING:
    from connector.mappings import Mappings

RANK = {name: i for i, name in enumerate(STAGES)}
SLA_STAGES = ("MQL", "SAL")
RECYCLED, EXCLUDED = "Recycled", "Excluded"


@dataclass(frozen=True)
class LifecycleRules:
    """The lifecycle part of the mappings, as plain values."""

    mql_threshold: int
    fit_minimum: int
    accepted_statuses: frozenset[str] = frozenset()
    qualified_statuses: frozenset[str] = frozenset()
    recycle_statuses: frozenset[str] = frozenset()
    fast_track_touch_types: frozenset[str] = frozenset()
    sla: Mapping[str, timedelta] = field(
        default_factory=lambda: {"MQL": timedelta(days=30), "SAL": timedelta(days=30)})
    write_lead_status_on_recycle: bool = False
    recycled_lead_status: str = "Recycled"

    @classmethod
    def from_mappings(cls, m: Mappings) -> LifecycleRules:
        """scoring.yaml's stages, plus touches.yaml fast_track and sync.yaml recycle_statuses."""
        if m.scoring is None:
            raise ValueError("the mappings have no scoring.yaml")
        st = m.scoring.stages
        fast = set(st.fast_track_touch_types) | {
            name for name, decl in m.touches.touch_types.items() if decl.fast_track}
        return cls(mql_threshold=m.scoring.mql.threshold,
                   fit_minimum=m.scoring.mql.fit_minimum,
                   accepted_statuses=st.accepted_statuses,
                   qualified_statuses=st.qualified_statuses,
                   recycle_statuses=st.recycle_statuses | frozenset(m.sync.recycle_statuses),
                   fast_track_touch_types=frozenset(fast),
                   sla={k: timedelta(days=v) for k, v in st.sla_days.items()},
                   write_lead_status_on_recycle=st.write_lead_status_on_recycle,
                   recycled_lead_status=st.recycled_lead_status)


@dataclass(frozen=True)
class StatusChange:
    """The Lead Status observed from ``at`` on (the mirror's modstamp or record event)."""

    at: datetime
    status: str


@dataclass(frozen=True)
class OpportunityRole:
    """The person as a contact role on an opportunity since ``since``."""

    opportunity_id: str
    since: datetime
    is_closed: bool = False
    is_won: bool = False
    closed_at: datetime | None = None


@dataclass(frozen=True)
class SalesforceView:
    """What Salesforce says about the person, from the mirror."""

    statuses: tuple[StatusChange, ...] = ()
    converted_at: datetime | None = None
    converted_opportunity_id: str | None = None
    opportunities: tuple[OpportunityRole, ...] = ()
    # close events recorded by the mirror refresh (state record_events)
    close_events: tuple[tuple[datetime, str], ...] = ()


@dataclass(frozen=True)
class StageState:
    """What the connector wrote last time: the current cycle and its stage dates."""

    cycle: int
    stage: str | None = None
    dates: Mapping[str, datetime] = field(default_factory=dict)
    recycled_at: datetime | None = None


@dataclass(frozen=True)
class StageEntry:
    cycle: int
    stage: str
    at: datetime
    inferred: bool
    reason: str


@dataclass(frozen=True)
class CycleStages:
    number: int
    opened_at: datetime
    first_touch_id: str
    closed_at: datetime | None
    close_reason: str | None
    stage: str                      # furthest stage reached in the cycle
    dates: Mapping[str, datetime]
    inferred: frozenset[str]
    history: tuple[StageEntry, ...]


@dataclass(frozen=True)
class Lifecycle:
    stage: str | None               # Lifecycle_Stage__c
    cycle: int | None               # Funnel_Cycle__c
    dates: Mapping[str, datetime]   # the current cycle's dates (MQL/SAL/SQL_Date__c)
    recycled_at: datetime | None    # Recycled_Date__c: the latest recycle
    excluded_reason: str | None     # Excluded_Reason__c
    cycles: tuple[CycleStages, ...]
    # every close event, SLA ones included: compute_source_fields takes them so
    # first touch restarts with the new cycle
    close_events: tuple[tuple[datetime, str], ...]
    # the Lead Status to write (opt-in), when the current cycle was recycled by SLA
    lead_status_to_write: str | None = None

    def date(self, stage: str) -> datetime | None:
        return self.dates.get(stage)


@dataclass(frozen=True, order=True)
class _Event:
    at: datetime
    rank: int
    reason: str = field(compare=False)


def _status_changes(statuses: Sequence[StatusChange]) -> list[StatusChange]:
    """Observations in time order with repeats of the same status dropped."""
    out: list[StatusChange] = []
    for obs in sorted(statuses, key=lambda s: s.at):
        if not out or out[-1].status != obs.status:
            out.append(obs)
    return out


def _clamp(at: datetime, opened: datetime) -> datetime:
    return at if at > opened else opened


def _events(cycle: Cycle, carry_from: datetime | None, end: datetime, end_inclusive: bool,
            touches: Sequence[TouchLike], scores: PersonScores, sf: SalesforceView,
            changes: Sequence[StatusChange], rules: LifecycleRules) -> list[_Event]:
    opened = cycle.opened_at

    def in_cycle(at: datetime) -> bool:
        if at > end or (at == end and not end_inclusive):
            return False
        return carry_from is None or at >= carry_from

    first = cycle.first_response
    events = [_Event(opened, RANK["Inquiry"],
                     f"first response of the cycle: {first.touch_type} {first.touch_id}")]
    excluded = scores.excluded_reason is not None
    if not excluded and scores.fit.total >= rules.fit_minimum:
        hit = first_reaching(scores.scored, rules.mql_threshold - scores.fit.total,
                             scores.half_life_days, opened, end, end_inclusive)
        if hit is not None:
            events.append(_Event(hit.occurred_at, RANK["MQL"],
                                 f"lead score reached {rules.mql_threshold} (fit "
                                 f"{scores.fit.total} >= {rules.fit_minimum}) with "
                                 f"{hit.touch_type} {hit.touch_id}"))
    if not excluded:
        for t in touches:
            if t.touch_type in rules.fast_track_touch_types and t.occurred_at >= opened \
                    and in_cycle(t.occurred_at):
                events.append(_Event(t.occurred_at, RANK["SAL"],
                                     f"fast-track response {t.touch_type} {t.touch_id}"))
                break
    # the status in force when the cycle opened, then every change during it
    for i, ch in enumerate(changes):
        nxt = changes[i + 1].at if i + 1 < len(changes) else None
        if not in_cycle(ch.at) or (ch.at < opened and nxt is not None and nxt <= opened):
            continue
        if ch.status in rules.accepted_statuses:
            events.append(_Event(_clamp(ch.at, opened), RANK["SAL"],
                                 f"Lead Status {ch.status!r} (accepted)"))
        elif ch.status in rules.qualified_statuses:
            events.append(_Event(_clamp(ch.at, opened), RANK["SQL"],
                                 f"Lead Status {ch.status!r} (qualified)"))
    if sf.converted_at is not None and sf.converted_opportunity_id and \
            in_cycle(sf.converted_at):
        events.append(_Event(_clamp(sf.converted_at, opened), RANK["SQL"],
                             f"converted with opportunity {sf.converted_opportunity_id}"))
    for role in sf.opportunities:
        if in_cycle(role.since):
            state = "won" if role.is_won else "closed" if role.is_closed else "open"
            events.append(_Event(_clamp(role.since, opened), RANK["Opportunity"],
                                 f"contact role on opportunity {role.opportunity_id} "
                                 f"({state})"))
        if role.is_won and role.closed_at is not None and in_cycle(role.closed_at):
            events.append(_Event(_clamp(role.closed_at, opened), RANK["Customer"],
                                 f"opportunity {role.opportunity_id} won"))
    return sorted(events)


@dataclass
class _Replay:
    """The stages of one cycle, and the SLA deadline it ran into, if any."""

    dates: dict[str, datetime]
    inferred: set[str]
    history: list[StageEntry]
    rank: int
    sla_close: tuple[datetime, str] | None = None


def _replay(cycle: Cycle, events: Sequence[_Event], seed: StageState | None, end: datetime,
            end_inclusive: bool, rules: LifecycleRules, excluded: bool) -> _Replay:
    r = _Replay({}, set(), [], -1)
    # dates written earlier in this cycle win over recomputed ones (never moved)
    fixed = {k: v for k, v in (seed.dates.items() if seed else ()) if k in RANK}

    def deadline() -> tuple[datetime, str] | None:
        if r.rank < 0 or STAGES[r.rank] not in SLA_STAGES:
            return None
        name = STAGES[r.rank]
        sla = rules.sla.get(name)
        if sla is None or name not in r.dates:
            return None
        days = f"{sla.total_seconds() / 86_400:g}"
        return r.dates[name] + sla, (f"SLA: {days} days at {name} without reaching "
                                     f"{STAGES[r.rank + 1]}")

    def reach(ev: _Event) -> None:
        latest = max(r.dates.values(), default=ev.at)
        at = ev.at if ev.at >= latest else latest  # never before an earlier stage's date
        target = STAGES[ev.rank]
        for rank in range(r.rank + 1, ev.rank + 1):
            name = STAGES[rank]
            if name in r.dates or (name == "MQL" and excluded):
                continue
            skipped = rank < ev.rank
            r.dates[name] = fixed.get(name, at)
            if skipped:
                r.inferred.add(name)
            reason = f"skipped: reached with {target} ({ev.reason})" if skipped else ev.reason
            if name in fixed and fixed[name] != at:
                reason += " (date kept from an earlier run)"
            r.history.append(StageEntry(cycle.number, name, r.dates[name], skipped, reason))
        r.rank = ev.rank

    for ev in events:
        due = deadline()
        if due is not None and due[0] <= ev.at:
            r.sla_close = due
            return r
        if ev.rank > r.rank:
            reach(ev)
    if fixed:  # stages an earlier run wrote that nothing recomputed reaches now
        top = max(RANK[k] for k in fixed)
        if top > r.rank:
            reach(_Event(fixed[STAGES[top]], top, "written by an earlier run"))
    due = deadline()
    if due is not None and (due[0] < end or (due[0] == end and end_inclusive)):
        r.sla_close = due
    return r


def lifecycle(touches: Sequence[TouchLike], scores: PersonScores, sf: SalesforceView,
              rules: LifecycleRules, as_of: datetime,
              previous: StageState | None = None) -> Lifecycle:
    """Stages, dates and cycles of one person at ``as_of``.

    ``touches`` are the person's ledger touches (any order); ``scores`` their
    ``score_person`` result at the same ``as_of``.
    """
    touches = sorted((t for t in touches if t.occurred_at <= as_of), key=lambda t: t.order_key)
    responses = [t for t in touches if t.is_response]
    changes = [c for c in _status_changes(sf.statuses) if c.at <= as_of]
    closes: list[tuple[datetime, str]] = [e for e in sf.close_events if e[0] <= as_of]
    for i, ch in enumerate(changes):
        entering = i == 0 or changes[i - 1].status not in rules.recycle_statuses
        if ch.status in rules.recycle_statuses and entering:
            closes.append((ch.at, f"Lead Status {ch.status}"))
    if previous is not None and previous.stage == RECYCLED and previous.recycled_at \
            and previous.recycled_at <= as_of:
        closes.append((previous.recycled_at, "recycled (written by an earlier run)"))
    excluded = scores.excluded_reason is not None
    done: list[CycleStages] = []
    sla_reasons: dict[datetime, str] = {}
    while True:
        cycles = build_cycles(responses, sorted(set(closes)))
        restart = False
        for cycle in cycles[len(done):]:
            end, inclusive = (cycle.closed_at, False) if cycle.closed_at else (as_of, True)
            carry = done[-1].closed_at if done else None
            evs = _events(cycle, carry, end, inclusive, touches, scores, sf, changes, rules)
            seed = previous if previous is not None and previous.cycle == cycle.number else None
            rep = _replay(cycle, evs, seed, end, inclusive, rules, excluded)
            if rep.sla_close is not None:
                closes.append(rep.sla_close)
                sla_reasons[rep.sla_close[0]] = rep.sla_close[1]
                restart = True  # the cycle closes earlier: split the responses again
                break
            done.append(_finish(cycle, rep))
        if not restart:
            break
    return _result(done, sorted(set(closes)), scores.excluded_reason, rules, sla_reasons)


def _finish(cycle: Cycle, rep: _Replay) -> CycleStages:
    history = sorted(rep.history, key=lambda e: (e.at, RANK[e.stage]))
    if cycle.closed_at is not None:
        history.append(StageEntry(cycle.number, RECYCLED, cycle.closed_at, False,
                                  cycle.close_reason or "cycle closed"))
    stage = STAGES[rep.rank] if rep.rank >= 0 else "Inquiry"
    return CycleStages(number=cycle.number, opened_at=cycle.opened_at,
                       first_touch_id=cycle.first_response.touch_id,
                       closed_at=cycle.closed_at, close_reason=cycle.close_reason,
                       stage=stage, dates=dict(rep.dates), inferred=frozenset(rep.inferred),
                       history=tuple(history))


def _result(cycles: list[CycleStages], closes: list[tuple[datetime, str]],
            excluded_reason: str | None, rules: LifecycleRules,
            sla_reasons: Mapping[datetime, str]) -> Lifecycle:
    recycled_at = max((c.closed_at for c in cycles if c.closed_at), default=None)
    if not cycles:
        return Lifecycle(stage=EXCLUDED if excluded_reason else None, cycle=None, dates={},
                         recycled_at=None, excluded_reason=excluded_reason, cycles=(),
                         close_events=tuple(closes))
    current = cycles[-1]
    stage = RECYCLED if current.closed_at is not None else current.stage
    if excluded_reason and stage in (RECYCLED, "Inquiry"):
        stage = EXCLUDED
    status = None
    if current.closed_at is not None and current.closed_at in sla_reasons \
            and rules.write_lead_status_on_recycle:
        status = rules.recycled_lead_status
    return Lifecycle(stage=stage, cycle=current.number, dates=dict(current.dates),
                     recycled_at=recycled_at, excluded_reason=excluded_reason,
                     cycles=tuple(cycles), close_events=tuple(closes),
                     lead_status_to_write=status)
