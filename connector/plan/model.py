"""The plan: a value saying exactly what a run will write, and why.

A run computes the desired Salesforce state, compares it with the current
state field by field through the write policies, and produces ordered steps of
creates and updates carrying only the changed fields. ``--dry-run`` prints the
plan; a real run hands its steps to the writer. A planned write can depend on a
record the plan itself creates (a new Campaign's id for a member, a new Lead's
id for its membership): ``depends`` names the field and the ref that fills it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from connector.engine.policies import FieldDecision, canonical, decide
from connector.mappings import FieldDecl, ObjectDecl
from connector.state.funnel_facts import AccountFact, StageFact
from connector.state.store import Finding
from connector.values import Link, WriteAction

Action = WriteAction  # a step's kind: create, update or upsert


@dataclass(slots=True)
class PlannedWrite:
    ref: str
    sobject: str
    record_id: str | None
    fields: dict[str, Any]
    before: dict[str, Any] = field(default_factory=dict)
    depends: dict[str, str] = field(default_factory=dict)
    map_ids: tuple[str, ...] = ()
    group: str | None = None
    drift: tuple[str, ...] = ()
    reasons: dict[str, str] = field(default_factory=dict)

    @property
    def is_create(self) -> bool:
        # an update of a record Salesforce makes with one of this plan's creates
        # names its id through ``depends["Id"]``
        return self.record_id is None and "Id" not in self.depends


@dataclass
class PlanStep:
    name: str
    sobject: str
    action: Action
    order: int = 0
    writes: list[PlannedWrite] = field(default_factory=list)
    external_id_field: str | None = None
    bulk_key: tuple[str, ...] | None = None
    # writes of this step counted but not kept (a large run keeps samples only)
    dropped: Counter[str] = field(default_factory=Counter)

    @property
    def total(self) -> int:
        return len(self.writes) + sum(self.dropped.values())


@dataclass
class Plan:
    steps: list[PlanStep] = field(default_factory=list)
    unchanged: Counter[str] = field(default_factory=Counter)
    findings: list[Finding] = field(default_factory=list)
    links: dict[str, Link] = field(default_factory=dict)
    skipped: Counter[str] = field(default_factory=Counter)
    people_in_scope: int = 0
    # Records Salesforce creates by itself with a record the plan creates (the
    # default member statuses of a new campaign): ref -> (creating ref, label).
    # Their ids are looked up once the creating write has succeeded; what is
    # written to them is planned like any other update.
    implicit: dict[str, tuple[str, str]] = field(default_factory=dict)
    dropped_drift: Counter[str] = field(default_factory=Counter)
    # map id -> when its computed values next change with time alone
    due: dict[str, datetime | None] = field(default_factory=dict)
    # Accounts of the people planned (their account scores are planned after them)
    accounts: set[str] = field(default_factory=set)
    # the funnel facts of the people and accounts planned (connector.state.funnel_facts)
    stage_rows: dict[str, list[StageFact]] = field(default_factory=dict)
    account_rows: list[AccountFact] = field(default_factory=list)

    def step(self, name: str, sobject: str, action: Action, *, order: int,
             external_id_field: str | None = None,
             bulk_key: tuple[str, ...] | None = None) -> PlanStep:
        """The step called ``name``, created on first use; steps run by ``order``
        so that every record a write depends on is written first."""
        for existing in self.steps:
            if existing.name == name:
                return existing
        created = PlanStep(name, sobject, action, order, external_id_field=external_id_field,
                           bulk_key=bulk_key)
        self.steps.append(created)
        self.steps.sort(key=lambda s: (s.order, s.name))
        return created

    def absorb(self, other: Plan, *, keep: int | None = None) -> None:
        """Add the plan of one batch of people to this one. With ``keep``, only
        the first ``keep`` writes of each step are kept as samples and the rest
        are counted, so a run's summary stays small however large the org."""
        self.unchanged.update(other.unchanged)
        self.skipped.update(other.skipped)
        self.findings.extend(other.findings)
        self.people_in_scope += other.people_in_scope
        self.implicit.update(other.implicit)
        self.dropped_drift.update(other.dropped_drift)
        if keep is None:
            self.due.update(other.due)
            self.stage_rows.update(other.stage_rows)
            self.account_rows.extend(other.account_rows)
        self.accounts |= other.accounts
        for step in other.steps:
            mine = self.step(step.name, step.sobject, step.action, order=step.order,
                             external_id_field=step.external_id_field,
                             bulk_key=step.bulk_key)
            room = len(step.writes) if keep is None else max(0, keep - len(mine.writes))
            mine.writes.extend(step.writes[:room])
            for write in step.writes[room:]:
                mine.dropped["create" if write.is_create else "update"] += 1
                for name in write.drift:
                    self.dropped_drift[f"{step.sobject}.{name}"] += 1
            mine.dropped.update(step.dropped)

    def counts(self) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {}
        for step in self.steps:
            row = out.setdefault(step.sobject, {"create": 0, "update": 0, "unchanged": 0})
            for kind, n in step.dropped.items():
                row[kind] += n
            for write in step.writes:
                row["create" if write.is_create else "update"] += 1
        for sobject, n in self.unchanged.items():
            out.setdefault(sobject, {"create": 0, "update": 0, "unchanged": 0})["unchanged"] += n
        return out

    @property
    def drift(self) -> Counter[str]:
        counter: Counter[str] = Counter(self.dropped_drift)
        for step in self.steps:
            for write in step.writes:
                for name in write.drift:
                    counter[f"{step.sobject}.{name}"] += 1
        return counter

    @property
    def total_writes(self) -> int:
        return sum(s.total for s in self.steps)


@dataclass
class FieldDiff:
    fields: dict[str, Any] = field(default_factory=dict)
    before: dict[str, Any] = field(default_factory=dict)
    drift: list[str] = field(default_factory=list)
    conflicts: list[tuple[str, Any, Any]] = field(default_factory=list)
    reasons: dict[str, str] = field(default_factory=dict)


def diff_record(
    decls: ObjectDecl,
    desired: Mapping[str, Any],
    current: Mapping[str, Any] | None,
    written: Mapping[str, Any],
    *,
    new_cycle: bool = False,
    skip: frozenset[str] = frozenset(),
    decisions: dict[str, tuple[Any, Any, FieldDecision | None]] | None = None,
) -> FieldDiff:
    """Per-field decisions for one record: ``desired`` is keyed by field key.

    ``current`` holds Salesforce's values by API name (None for a new record,
    where every non-blank desired value is written). ``written`` holds what the
    connector last wrote, by API name. ``decisions``, when given, receives every
    field's (Salesforce value, desired value, decision) for ``explain``.
    """
    out = FieldDiff()
    for key, value in desired.items():
        decl: FieldDecl = decls.fields[key]
        name = decl.api_name
        want = canonical(decl, value)
        if current is None:
            if want is not None:
                out.fields[name] = want
            if decisions is not None:
                decisions[key] = (None, want, None)
            continue
        have = canonical(decl, current.get(name))
        if key in skip:
            if decisions is not None:
                decisions[key] = (have, want, None)
            continue
        decision = decide(decl, current=have, desired=want, last_written=written.get(name),
                          has_written=name in written, new_cycle=new_cycle)
        if decisions is not None:
            decisions[key] = (have, want, decision)
        if decision.conflict:
            out.conflicts.append((name, have, want))
        if decision.write:
            out.fields[name] = decision.value
            out.before[name] = have
            out.reasons[name] = decision.reason
            if decision.drift:
                out.drift.append(name)
    return out
