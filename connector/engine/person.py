"""What a Salesforce person record should hold: pure, from a gathered context.

The planner diffs this against the record through the write policies;
``connector explain person`` shows the very same values and decisions.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from connector.engine.context import PersonContext
from connector.engine.cycles import status_closes
from connector.engine.person_stages import PersonStages, person_stages
from connector.engine.policies import canonical
from connector.mappings import Mappings, ObjectDecl
from connector.models import Program
from connector.source_fields import SourceFields, compute_source_fields, source_values

# A campaign in this run: ("id", Salesforce id) or ("ref", the plan ref creating it).
CampaignValue = tuple[str, str]


@dataclass(frozen=True)
class PersonDesired:
    """Desired field values by field key; ``depends`` maps API names to the refs of
    campaigns this run creates (their ids are known only after the create)."""

    sources: SourceFields
    close_events: tuple[tuple[datetime, str], ...]
    values: dict[str, Any]
    depends: dict[str, str]
    new_cycle: bool
    skip: frozenset[str]
    stages: PersonStages | None = None


def close_events(ctx: PersonContext, recycle_statuses: frozenset[str],
                 as_of: datetime) -> list[tuple[datetime, str]]:
    """Funnel-cycle closes: per person (e.g. the SLA) and per Salesforce record (a
    Lead status entering a recycle status, also on a Lead the Contact came from);
    none after ``as_of``, so a run reproduces exactly."""
    events = set(ctx.person_events)
    for history in ctx.record_history.values():
        events.update(status_closes(history, recycle_statuses))
    return sorted(e for e in events if e[0] <= as_of)


def desired_person(ctx: PersonContext, programs: Mapping[str, Program],
                   campaigns: Mapping[str, CampaignValue], mappings: Mappings,
                   primary_map_id: str, as_of: datetime) -> PersonDesired:
    people = {p.map_id: p for p in ctx.people}
    primary = people[primary_map_id]
    stages = person_stages(ctx, mappings, primary_map_id, as_of)
    # the lifecycle adds SLA recycles to the recycle statuses' closes
    closes = list(stages.life.close_events) if stages is not None else \
        close_events(ctx, frozenset(mappings.sync.recycle_statuses), as_of)
    sources = compute_source_fields(list(ctx.people), list(ctx.touches), programs,
                                    closes, mappings.channels)
    decls = mappings.fields.obj(ctx.target.sobject)
    values: dict[str, Any] = {
        "map_id": primary.map_id,
        "email": primary.email if primary.email_valid else None,
        "first_name": primary.first_name,
        "last_name": primary.last_name,
        "company": primary.company,
        "title": primary.title,
        "industry": primary.industry,
        "employees": primary.employees,
        "annual_revenue": primary.annual_revenue,
        "country": primary.country,
        **source_values(sources),
        **(stages.values() if stages is not None else {}),
    }
    depends: dict[str, str] = {}
    for key, touch in (("first_touch_campaign", sources.first_touch),
                       ("last_touch_campaign", sources.last_touch)):
        campaign = campaigns.get(touch.program_id) if touch and touch.program_id else None
        if campaign and campaign[0] == "ref" and key in decls.fields:
            depends[decls.fields[key].api_name] = campaign[1]
        else:
            values[key] = campaign[1] if campaign else None
    values = {k: v for k, v in values.items() if k in decls.fields}
    record = ctx.record
    new_cycle = False
    skip: frozenset[str] = frozenset()
    if record is not None:
        new_cycle = _new_cycle(decls, record.fields, sources)
        skip = _original_source_skip(decls, values, record.fields)
    return PersonDesired(sources, tuple(closes), values, depends, new_cycle, skip, stages)


def _new_cycle(decls: ObjectDecl, current: Mapping[str, Any], sources: SourceFields) -> bool:
    """Salesforce shows an earlier cycle than the ledger: stage dates restart."""
    cycle_decl = decls.fields.get("funnel_cycle")
    if cycle_decl is None or sources.cycle is None:
        return False
    have = canonical(cycle_decl, current.get(cycle_decl.api_name))
    return have is not None and have != canonical(cycle_decl, sources.cycle)


def _original_source_skip(decls: ObjectDecl, desired: Mapping[str, Any],
                          current: Mapping[str, Any]) -> frozenset[str]:
    """The original-source trio is one fact: keep detail and date with the channel."""
    channel = decls.fields.get("original_source")
    if channel is None:
        return frozenset()
    have = canonical(channel, current.get(channel.api_name))
    want = canonical(channel, desired.get("original_source"))
    if have is not None and have != want:
        return frozenset({"original_source_detail", "original_source_date"})
    return frozenset()
