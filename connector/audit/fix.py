"""``connector audit --fix``: the fixable findings as a plan, executed like a sync.

The audit's plan is the sync planner's own plan over every person, so fixing
means executing it through the sync's executor (the only code that writes):
drift is put back, missing Leads, Campaigns, member statuses and Campaign
Members are created, members behind their furthest response move forward,
and writes kept after failures are retried. Two promises hold on top of the
planner's write policies: a write-once field that holds a value is never in a
fix (the policy already keeps it; the fix drops it again should a policy
change), and duplicates are never merged (the plan has no merge or delete).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from connector.mappings import Mappings
from connector.plan.model import Plan, PlannedWrite
from connector.plan.planner import Planner
from connector.run.execute import Executor
from connector.run.status import RunStatus
from connector.salesforce.client import SalesforceClient
from connector.salesforce.writer import Writer
from connector.state.store import StateStore

FIXED_OBJECTS = ("Lead", "Contact", "Campaign", "CampaignMemberStatus", "CampaignMember")


@dataclass
class FixOutcome:
    dry_run: bool
    run_id: int | None
    planned: dict[str, dict[str, int]]
    objects: dict[str, dict[str, int]] = field(default_factory=dict)
    failed: int = 0
    dropped_write_once: int = 0
    stopped: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"dry_run": self.dry_run, "run_id": self.run_id, "planned": self.planned,
                "objects": self.objects, "failed": self.failed,
                "dropped_write_once": self.dropped_write_once, "stopped": self.stopped}


def write_once_fields(mappings: Mappings) -> dict[str, set[str]]:
    return {obj: {d.api_name for d in decl.fields.values() if d.policy == "write_once"}
            for obj, decl in mappings.fields.objects.items()}


def fix_plan(plan: Plan, mappings: Mappings) -> tuple[Plan, int]:
    """The plan restricted to fixable writes; returns it and how many filled
    write-once values were dropped (none, unless a policy changed)."""
    protected = write_once_fields(mappings)
    dropped = 0
    out = Plan(unchanged=Counter(plan.unchanged), links=plan.links,
               people_in_scope=plan.people_in_scope)
    for step in plan.steps:
        if step.sobject not in FIXED_OBJECTS:
            continue
        target = out.step(step.name, step.sobject, step.action, order=step.order,
                          external_id_field=step.external_id_field, bulk_key=step.bulk_key)
        for write in step.writes:
            keep = write
            if not write.is_create:
                guarded = {k for k in write.fields if k in protected.get(step.sobject, set())
                           and write.before.get(k) is not None}
                if guarded:
                    dropped += len(guarded)
                    keep = PlannedWrite(
                        write.ref, write.sobject, write.record_id,
                        {k: v for k, v in write.fields.items() if k not in guarded},
                        before={k: v for k, v in write.before.items() if k not in guarded},
                        depends=write.depends, map_ids=write.map_ids, group=write.group,
                        drift=tuple(d for d in write.drift if d not in guarded),
                        reasons=write.reasons)
                    if not keep.fields and not keep.depends:
                        continue
            target.writes.append(keep)
    return out, dropped


def execute_fix(client: SalesforceClient, store: StateStore, mappings: Mappings, plan: Plan,
                planner: Planner, *, as_of: Any, dry_run: bool) -> FixOutcome:
    """Run the fix plan through the sync's executor against the real state store
    (links, written values and dead letters recorded as a sync records them)."""
    fixes, dropped = fix_plan(plan, mappings)
    planned = {obj: {"create": c["create"], "update": c["update"]}
               for obj, c in fixes.counts().items() if c["create"] or c["update"]}
    if dry_run:
        return FixOutcome(True, None, planned, dropped_write_once=dropped)
    run_id = store.start_run("audit-fix", as_of)
    outcome = Executor(client, Writer(client), store, mappings, run_id).execute(fixes)
    status = RunStatus.STOPPED if outcome.stopped else (
        RunStatus.PARTIAL if outcome.failed else RunStatus.OK)
    result = FixOutcome(False, run_id, planned, outcome.objects, outcome.failed, dropped,
                        str(outcome.stopped) if outcome.stopped else None)
    store.finish_run(run_id, status, {"fix": result.as_dict(),
                                      "api_calls": client.log.summary().get("total", 0)})
    return result
