"""Programs -> Campaigns, their member statuses, and Campaign Members.

Salesforce keeps one Campaign Member per campaign and person, so repeat
responses live in the connector's ledger; the member carries the furthest
status reached (never moved back down the ladder in ``touches.yaml``) and the
date of the first response, as a date in the org's time zone. Pure functions.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from typing import Any

from connector.mappings import Mappings
from connector.models import Program
from connector.values import TouchLike


def campaign_fields(program: Program, mappings: Mappings, as_of: datetime) -> dict[str, Any]:
    """Desired Campaign values by field key (fields.yaml `Campaign`), parent excluded."""
    channel = program.channel
    name = program.name or program.program_id
    active = program.end_date is None or program.end_date >= as_of.date()
    if program.start_date and program.start_date > as_of.date():
        active = False
    return {
        "program_id": program.program_id,
        "name": name,
        "type": mappings.channels.campaign_type(channel) if channel else "Other",
        "channel": channel,
        "start_date": program.start_date,
        "end_date": program.end_date,
        "is_active": active,
        "actual_cost": program.cost,
    }


def program_levels(programs: Mapping[str, Program]) -> list[list[str]]:
    """Program ids by depth (parents before children); cycles are broken, not followed."""
    depth: dict[str, int] = {}

    def level(pid: str, trail: frozenset[str]) -> int:
        if pid in depth:
            return depth[pid]
        parent = programs[pid].parent_id
        if not parent or parent not in programs or parent in trail:
            depth[pid] = 0
        else:
            depth[pid] = level(parent, trail | {pid}) + 1
        return depth[pid]

    for pid in programs:
        level(pid, frozenset())
    levels: list[list[str]] = []
    for pid in sorted(programs):
        d = depth[pid]
        while len(levels) <= d:
            levels.append([])
        levels[d].append(pid)
    return levels


@dataclass(frozen=True)
class StatusSpec:
    label: str
    responded: bool
    default: bool
    sort_order: int


# Salesforce gives every campaign created through the API these member statuses
# (label, HasResponded, IsDefault, SortOrder); a plan for a new campaign updates
# them rather than creating them, and learns their ids after the campaign exists.
SALESFORCE_DEFAULT_STATUSES: dict[str, dict[str, object]] = {
    "sent": {"HasResponded": False, "IsDefault": True, "SortOrder": 1},
    "responded": {"HasResponded": True, "IsDefault": False, "SortOrder": 2},
}


def status_specs(mappings: Mappings) -> list[StatusSpec]:
    return [StatusSpec(s.label, s.responded, s.default, i + 1)
            for i, s in enumerate(mappings.touches.member_statuses)]


@dataclass(frozen=True)
class MemberState:
    program_id: str
    status: str
    first_response_on: date | None
    touches: int


def local_date(moment: datetime, tz: tzinfo) -> date:
    return moment.astimezone(tz).date()


def member_states(touches: Iterable[TouchLike], mappings: Mappings,
                  tz: tzinfo) -> dict[str, MemberState]:
    """Per program touched: the furthest status and the first response's local date."""
    rank = mappings.touches.status_rank
    types = mappings.touches.touch_types
    best: dict[str, str] = {}
    first: dict[str, datetime] = {}
    count: dict[str, int] = {}
    for touch in touches:
        if not touch.program_id or touch.touch_type not in types:
            continue
        pid = touch.program_id
        status = types[touch.touch_type].member_status
        count[pid] = count.get(pid, 0) + 1
        if pid not in best or rank[status] > rank[best[pid]]:
            best[pid] = status
        if touch.is_response and (pid not in first or touch.occurred_at < first[pid]):
            first[pid] = touch.occurred_at
    return {
        pid: MemberState(pid, status, local_date(first[pid], tz) if pid in first else None,
                         count[pid])
        for pid, status in best.items()
    }


def furthest(current: str | None, desired: str, mappings: Mappings) -> str:
    """Never downgrade: the further of the member's status now and the ledger's."""
    rank = mappings.touches.status_rank
    if current is None:
        return desired
    if current not in rank:
        # a status an admin added by hand: its place on the ladder is unknown,
        # so it is never overwritten (it might be further along)
        return current
    return current if rank[current] >= rank[desired] else desired
