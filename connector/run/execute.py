"""Executing a plan: steps in order, ids flowing from creates to dependants.

After each step the results are committed to the state store in one
transaction: the mirror learns what was written, the written-values table
feeds drift detection, new Leads get their links, failures become dead letters
with Salesforce's error code, and fixed dead letters are resolved. A resent
create that meets DUPLICATE_VALUE on a Campaign Member or member status means
the record exists (a killed run wrote it, or someone else did): it is looked up
and updated instead, so nothing is ever written twice.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from connector.dead_letter_keys import dead_letter_key, resolved_keys
from connector.engine.campaigns import furthest
from connector.errors import ConnectorError
from connector.mappings import Mappings
from connector.plan.model import Plan, PlannedWrite, PlanStep
from connector.run.mirror import MirrorSpec, mirror_specs
from connector.salesforce import soql
from connector.salesforce.client import SalesforceClient
from connector.salesforce.writer import NOT_ATTEMPTED, RecordResult, WriteOp, Writer
from connector.state import funnel_facts
from connector.state.dead_letters import DeadLetterKind
from connector.state.store import Finding, StateStore
from connector.values import FindingCategory, WriteAction

log = logging.getLogger(__name__)

DEPENDENCY_FAILED = "DEPENDENCY_FAILED"
OWNED_OBJECTS = frozenset({"Lead", "Contact", "Campaign", "Account"})


@dataclass
class ExecutionOutcome:
    objects: dict[str, dict[str, int]]
    failed: int = 0
    stopped: ConnectorError | None = None
    remaining: Counter[str] = field(default_factory=Counter)


class Executor:
    def __init__(self, client: SalesforceClient, writer: Writer, store: StateStore,
                 mappings: Mappings, run_id: int, *, reporter: Any = None) -> None:
        self.client = client
        self.writer = writer
        self.store = store
        self.mappings = mappings
        self.plan = Plan()
        self.run_id = run_id
        self.reporter = reporter
        self.ids: dict[str, str] = {}
        self.specs: dict[str, MirrorSpec] = {s.sobject: s for s in mirror_specs(mappings)}
        self.objects: dict[str, dict[str, int]] = defaultdict(
            lambda: {"created": 0, "updated": 0, "unchanged": 0, "failed": 0})
        self.failed = 0

    # ------------------------------------------------------------- driver

    def keep_ids(self, refs: set[str]) -> None:
        """Forget the ids of a finished batch except ``refs`` (campaigns, which
        later batches depend on), so memory stays per batch."""
        self.ids = {ref: value for ref, value in self.ids.items() if ref in refs}

    def execute(self, plan: Plan) -> ExecutionOutcome:
        """Write ``plan`` step by step. Called once per batch of people; ids of
        earlier calls' creates (campaigns) stay known."""
        self.plan = plan
        for sobject, n in self.plan.unchanged.items():
            self.objects[sobject]["unchanged"] += n
        with self.store.transaction():
            self.store.set_links(self.run_id, [lk for lk in self.plan.links.values()
                                               if lk.sf_id])
            self.store.add_findings(self.run_id, self.plan.findings)
            self.store.set_due(self.plan.due)
            funnel_facts.set_person_stages(self.store, self.plan.stage_rows)
            funnel_facts.set_accounts(self.store, self.plan.account_rows)
        done: set[str] = set()
        stopped: ConnectorError | None = None
        remaining: Counter[str] = Counter()
        while True:
            step = next((s for s in self.plan.steps if s.name not in done), None)
            if step is None:
                break
            done.add(step.name)
            if stopped is not None:
                remaining[step.sobject] += len(step.writes)
                continue
            if not step.writes:
                continue
            if self.reporter:
                self.reporter.phase(f"writing {step.name}", total=len(step.writes))
            stopped = self._run_step(step, remaining)
        return ExecutionOutcome(dict(self.objects), self.failed, stopped, remaining)

    def _run_step(self, step: PlanStep, remaining: Counter[str]) -> ConnectorError | None:
        by_ref = {w.ref: w for w in step.writes}
        self._resolve_implicit(step)
        ops: list[WriteOp] = []
        blocked: list[RecordResult] = []
        for write in step.writes:
            fields = dict(write.fields)
            missing = []
            record_id = write.record_id
            for name, ref in write.depends.items():
                if ref not in self.ids:
                    missing.append(ref)
                elif name == "Id":
                    record_id = self.ids[ref]
                else:
                    fields[name] = self.ids[ref]
            if missing:
                blocked.append(RecordResult(
                    write.ref, write.record_id, False, error_code=DEPENDENCY_FAILED,
                    message=f"not written because {', '.join(missing)} could not be written"))
                continue
            write.fields = fields
            write.record_id = record_id
            group = write.group or (fields.get("CampaignId") if step.sobject in (
                "CampaignMember", "CampaignMemberStatus") else None)
            ops.append(WriteOp(write.ref, fields, record_id, group))
        outcome = self.writer.write(step.sobject, step.action, ops,
                                    external_id_field=step.external_id_field,
                                    bulk_key=step.bulk_key)
        duplicates = [r for r in outcome.results
                      if r.error_code == "DUPLICATE_VALUE" and step.action == "create"
                      and step.sobject in ("CampaignMember", "CampaignMemberStatus")]
        dup_refs = {r.ref for r in duplicates}
        with self.store.transaction():
            self._record(step, by_ref, [r for r in outcome.results if r.ref not in dup_refs]
                         + blocked)
        if duplicates and outcome.stopped is None:
            # a stop while updating the duplicates stops the run like any other
            return self._resolve_duplicates(step, [by_ref[r.ref] for r in duplicates],
                                            remaining)
        if outcome.stopped is not None:
            remaining[step.sobject] += sum(r.error_code == NOT_ATTEMPTED
                                           for r in outcome.results)
            return outcome.stopped
        return None

    # ------------------------------------------------------------ results

    def _record(self, step: PlanStep, by_ref: Mapping[str, PlannedWrite],
                results: Sequence[RecordResult]) -> None:
        store = self.store
        counts = self.objects[step.sobject]
        written: list[tuple[str, str, Any]] = []
        mirror_new = []
        patches: list[tuple[str, dict[str, Any]]] = []
        links = []
        resolved = []
        for result in results:
            write = by_ref[result.ref]
            if result.error_code == NOT_ATTEMPTED:
                continue
            if not result.success or not result.id:
                counts["failed"] += 1
                self.failed += 1
                store.add_failed_write(
                    self.run_id, step.sobject,
                    dead_letter_key(step.sobject, write.ref, write.map_ids),
                    write.map_ids[0] if write.map_ids else None, result.error_code,
                    result.message or "", {"fields": write.fields, "record_id": write.record_id,
                                           "map_ids": list(write.map_ids),
                                           "depends": write.depends,
                                           "error_fields": list(result.fields)})
                store.add_findings(self.run_id, [Finding(
                    FindingCategory.FAILED_WRITE, step.sobject, write.record_id,
                    write.map_ids[0] if write.map_ids else None,
                    ", ".join(result.fields) or None, None, None,
                    f"{result.error_code}: {result.message}")])
                continue
            record_id = result.id
            self.ids[write.ref] = record_id
            resolved.extend(resolved_keys(step.sobject, write.ref, write.map_ids))
            if step.sobject in ("Lead", "Contact"):
                # a failed Lead create is settled by any write to the person's record
                # (someone made the Lead by hand; the person now matches it)
                resolved.extend(f"Lead:{map_id}" for map_id in write.map_ids)
            if write.is_create:
                counts["created" if result.created or step.action == "create"
                       else "updated"] += 1
                spec = self.specs.get(step.sobject)
                if spec is not None:
                    mirror_new.append(spec.to_row({"Id": record_id, **write.fields}))
                if step.sobject in ("Lead", "Contact"):
                    for map_id in write.map_ids:
                        link = self.plan.links.get(map_id)
                        if link is not None and not link.sf_id:
                            link = replace(link, sobject=step.sobject, sf_id=record_id)
                            self.plan.links[map_id] = link
                            links.append(link)
            else:
                counts["updated"] += 1
                patches.append((record_id, write.fields))
            if step.sobject in OWNED_OBJECTS:
                written.extend((record_id, name, value) for name, value in write.fields.items())
        if mirror_new:
            store.mirror_upsert(mirror_new)
        if patches:
            store.mirror_patch(step.sobject, patches)
        if written:
            store.set_written(self.run_id, step.sobject, written)
        if links:
            store.set_links(self.run_id, links)
        if resolved:
            store.resolve_dead_letters(self.run_id, DeadLetterKind.FAILED_WRITE, resolved)

    # -------------------------------------------------- special cases

    def _resolve_implicit(self, step: PlanStep) -> None:
        """Learn the ids of records Salesforce made with this run's creates (the
        default member statuses of a new campaign): one query per ~200 campaigns.
        Nothing is re-planned; a status that is not there fails its write."""
        wanted: dict[str, tuple[str, str]] = {}
        for write in step.writes:
            for ref in write.depends.values():
                origin = self.plan.implicit.get(ref)
                if origin is not None and ref not in self.ids and origin[0] in self.ids:
                    wanted[ref] = origin
        if not wanted:
            return
        campaigns = {self.ids[creator]: creator for creator, _ in wanted.values()}
        fields = ["Id", "CampaignId", "Label", "HasResponded", "IsDefault", "SortOrder",
                  "SystemModstamp"]
        spec = self.specs["CampaignMemberStatus"]
        found: dict[tuple[str, str], str] = {}
        rows = []
        for statement in soql.select_in("CampaignMemberStatus", fields, "CampaignId",
                                        sorted(campaigns)):
            for record in self.client.query(statement):
                row = spec.to_row(record)
                rows.append(row)
                found[(campaigns[str(row.parent_id)], str(row.map_key))] = row.id
        with self.store.transaction():
            self.store.mirror_upsert(rows)
        for ref, key in wanted.items():
            if key in found:
                self.ids[ref] = found[key]

    def _resolve_duplicates(self, step: PlanStep, writes: list[PlannedWrite],
                            remaining: Counter[str]) -> ConnectorError | None:
        """A create refused as DUPLICATE_VALUE: find the record and update it instead."""
        if step.sobject == "CampaignMember":
            found = self._existing_members(writes)
        else:
            found = self._existing_statuses(writes)
        updates: list[PlannedWrite] = []
        missing: list[RecordResult] = []
        for write in writes:
            row = found.get(write.ref)
            if row is None:
                missing.append(RecordResult(write.ref, None, False, error_code="DUPLICATE_VALUE",
                                            message="Salesforce reports a duplicate that could "
                                                    "not be found"))
                continue
            changed = self._merge_existing(step.sobject, write, row.fields)
            self.ids[write.ref] = row.id
            updates.append(PlannedWrite(write.ref, step.sobject, row.id, changed,
                                        map_ids=write.map_ids, group=row.parent_id))
        with self.store.transaction():
            self.store.mirror_upsert(list(found.values()))
            if missing:
                self._record(step, {w.ref: w for w in writes}, missing)
        todo = [u for u in updates if u.fields]
        self.objects[step.sobject]["unchanged"] += len(updates) - len(todo)
        if not todo:
            return None
        update_step = PlanStep(f"{step.name} (existing)", step.sobject, WriteAction.UPDATE,
                               step.order, writes=todo)
        return self._run_step(update_step, remaining)

    def _merge_existing(self, sobject: str, write: PlannedWrite,
                        current: Mapping[str, Any]) -> dict[str, Any]:
        if sobject == "CampaignMember":
            decls = self.mappings.fields.obj("CampaignMember")
            status = decls.field("status").api_name
            out: dict[str, Any] = {}
            best = furthest(current.get(status), write.fields[status], self.mappings)
            if best != current.get(status):
                out[status] = best
            first = decls.fields.get("first_responded_on")
            if first is not None and write.fields.get(first.api_name) \
                    and not current.get(first.api_name):
                out[first.api_name] = write.fields[first.api_name]
            return out
        return {k: v for k, v in write.fields.items()
                if k in ("HasResponded", "SortOrder") and current.get(k) != v}

    def _existing_members(self, writes: list[PlannedWrite]) -> dict[str, Any]:
        decls = self.mappings.fields.obj("CampaignMember")
        fields = list(dict.fromkeys(
            ["Id", "CampaignId", "LeadId", "ContactId", "Status", "SystemModstamp",
             *(d.api_name for d in decls.fields.values())]))
        campaigns = sorted({str(w.fields["CampaignId"]) for w in writes})
        spec = self.specs["CampaignMember"]
        found: dict[tuple[str, str], Any] = {}
        statements = [statement for who in ("LeadId", "ContactId")
                      for statement in soql.select_in_many(
                          "CampaignMember", fields,
                          [("CampaignId", campaigns),
                           (who, sorted({str(w.fields[who]) for w in writes
                                         if w.fields.get(who)}))])]
        for statement in statements:
            for record in self.client.query(statement):
                row = spec.to_row(record)
                for person in (row.lead_id, row.contact_id):
                    if person:
                        found[(str(row.parent_id), person)] = row
        out = {}
        for write in writes:
            who = str(write.fields.get("LeadId") or write.fields.get("ContactId"))
            hit = found.get((str(write.fields["CampaignId"]), who))
            if hit is not None:
                out[write.ref] = hit
        return out

    def _existing_statuses(self, writes: list[PlannedWrite]) -> dict[str, Any]:
        campaigns = sorted({str(w.fields["CampaignId"]) for w in writes})
        spec = self.specs["CampaignMemberStatus"]
        found: dict[tuple[str, str], Any] = {}
        for statement in soql.select_in(
                "CampaignMemberStatus",
                ["Id", "CampaignId", "Label", "HasResponded", "IsDefault", "SortOrder",
                 "SystemModstamp"], "CampaignId", campaigns):
            for record in self.client.query(statement):
                row = spec.to_row(record)
                found[(str(row.parent_id), str(row.map_key))] = row
        return {w.ref: found[key] for w in writes
                if (key := (str(w.fields["CampaignId"]), str(w.fields["Label"]).lower()))
                in found}
