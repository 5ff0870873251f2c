"""Scores and lifecycle of one Salesforce person record, from its gathered
context: the plain-value bridge between ``run.gather`` and the scoring and
lifecycle engines (pure)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from connector.engine.context import PersonContext
from connector.engine.cycles import LEGACY_CLOSE, STATUS_OBSERVED
from connector.engine.lifecycle import (
    Lifecycle,
    LifecycleRules,
    OpportunityRole,
    SalesforceView,
    StageState,
    StatusChange,
    lifecycle,
)
from connector.engine.scoring import PersonScores, Profile, score_person
from connector.mappings import Mappings, ObjectDecl
from connector.normalize import parse_timestamp

# field keys of fields.yaml <- lifecycle dates
STAGE_DATE_FIELDS = {"mql_date": "MQL", "sal_date": "SAL", "sql_date": "SQL"}
# Decaying behavior points are re-scored this often (the written integer scores
# are at most this old); an SLA deadline is met exactly.
RESCORE_EVERY = timedelta(days=1)


@dataclass(frozen=True)
class PersonStages:
    scores: PersonScores
    life: Lifecycle

    def values(self) -> dict[str, Any]:
        """Desired values by field key of ``fields.yaml``."""
        life = self.life
        out: dict[str, Any] = {
            "behavior_score": self.scores.behavior.total,
            "fit_score": self.scores.fit.total,
            "lead_score": self.scores.lead,
            "lifecycle_stage": life.stage,
            "funnel_cycle": life.cycle,
            "recycled_date": life.recycled_at,
            "excluded_reason": self.scores.excluded_reason,
        }
        for key, stage in STAGE_DATE_FIELDS.items():
            out[key] = life.date(stage)
        return out

    def next_change(self, as_of: datetime, rules: LifecycleRules) -> datetime | None:
        """The next moment these values change with time alone: the current
        stage's SLA deadline, or a day on while behavior points decay."""
        due: list[datetime] = []
        current = self.life.cycles[-1] if self.life.cycles else None
        if current is not None and current.closed_at is None and current.stage in rules.sla:
            at = current.dates.get(current.stage)
            if at is not None:
                due.append(at + rules.sla[current.stage])
        decaying = self.scores.half_life_days is not None and any(
            t.base_points and not t.capped for t in self.scores.scored)
        if decaying:
            due.append(as_of + RESCORE_EVERY)
        later = [d for d in due if d > as_of]
        return min(later) if later else None

    @property
    def reached_mql(self) -> bool:
        """In any cycle: skipped stages share the date, so a SAL is an MQL too."""
        return any("MQL" in c.dates for c in self.life.cycles)


def field_moment(value: Any) -> datetime | None:
    """A Salesforce date or datetime field value as a UTC moment (dates at midnight)."""
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    if isinstance(value, date):
        return datetime.combine(value, time(0), tzinfo=UTC)
    text = str(value)
    if len(text) == 10:
        return datetime.combine(date.fromisoformat(text), time(0), tzinfo=UTC)
    try:
        return parse_timestamp(text)
    except ValueError:
        return None


def _end_of_day(value: Any) -> datetime | None:
    start = field_moment(value)
    return start + timedelta(days=1) - timedelta(microseconds=1) if start else None


def salesforce_view(ctx: PersonContext) -> SalesforceView:
    """What the mirror says about the record: Lead Status history, conversion, and
    the opportunities the person is a contact role on."""
    statuses: list[StatusChange] = []
    for history in ctx.record_history.values():
        for at, text in history:
            if text.startswith(STATUS_OBSERVED):
                statuses.append(StatusChange(at, text[len(STATUS_OBSERVED):]))
            elif text.startswith(LEGACY_CLOSE):
                statuses.append(StatusChange(at, text[len(LEGACY_CLOSE):]))
    converted_at: datetime | None = None
    converted_opportunity: str | None = None
    for lead in ctx.converted_leads:
        when = field_moment(lead.fields.get("ConvertedDate"))
        if when is not None and (converted_at is None or when < converted_at):
            converted_at = when
            converted_opportunity = lead.fields.get("ConvertedOpportunityId") or None
    roles = []
    for role, opp in ctx.roles:
        since: datetime | None = field_moment(role.fields.get("CreatedDate")) or \
            field_moment(opp.fields.get("CreatedDate"))
        if since is None:
            continue
        closed = bool(opp.fields.get("IsClosed"))
        roles.append(OpportunityRole(
            opp.id, since, is_closed=closed, is_won=bool(opp.fields.get("IsWon")),
            closed_at=_end_of_day(opp.fields.get("CloseDate")) if closed else None))
    return SalesforceView(statuses=tuple(sorted(statuses, key=lambda s: s.at)),
                          converted_at=converted_at,
                          converted_opportunity_id=converted_opportunity,
                          opportunities=tuple(roles), close_events=ctx.person_events)


def previous_state(decls: ObjectDecl, current: Mapping[str, Any] | None) -> StageState | None:
    """The cycle and stage dates Salesforce holds (what earlier runs wrote)."""
    if current is None or "funnel_cycle" not in decls.fields:
        return None
    cycle = current.get(decls.fields["funnel_cycle"].api_name)
    if cycle in (None, ""):
        return None
    dates = {}
    for key, stage in STAGE_DATE_FIELDS.items():
        decl = decls.fields.get(key)
        at = field_moment(current.get(decl.api_name)) if decl else None
        if at is not None:
            dates[stage] = at
    stage_decl = decls.fields.get("lifecycle_stage")
    recycled_decl = decls.fields.get("recycled_date")
    return StageState(
        cycle=int(float(cycle)),
        stage=current.get(stage_decl.api_name) if stage_decl else None,
        dates=dates,
        recycled_at=field_moment(current.get(recycled_decl.api_name)) if recycled_decl else None)


def person_stages(ctx: PersonContext, mappings: Mappings, primary_map_id: str,
                  as_of: datetime) -> PersonStages | None:
    """Scores and lifecycle at ``as_of``; None when the mappings have no scoring."""
    if mappings.scoring is None:
        return None
    people = sorted(ctx.people, key=lambda p: p.map_id != primary_map_id)
    scores = score_person(Profile.of_group(people), ctx.touches, mappings.scoring,
                          frozenset(mappings.sync.free_mail_domains), as_of)
    decls = mappings.fields.obj(ctx.target.sobject)
    previous = previous_state(decls, ctx.record.fields if ctx.record else None)
    life = lifecycle(ctx.touches, scores, salesforce_view(ctx),
                     LifecycleRules.from_mappings(mappings), as_of, previous=previous)
    return PersonStages(scores, life)
