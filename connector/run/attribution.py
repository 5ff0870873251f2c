"""``connector attribution run``: credits from the ledger, written to Salesforce.

Gather (per batch of opportunities, from the state database: the mirrored
Opportunity, its contact roles, the people linked to those contacts and to the
Leads converted into them, their ledger touches, the Attribution__c rows
Salesforce holds) -> decide (the pure engine in ``engine.attribution*``) ->
write the difference: new credits upserted on ``Key__c``, changed fields only,
stale credits (a touch that left the window, a removed contact role, a model
switched off) deleted, and each opportunity's first- and last-touch campaign.
A re-run with nothing changed writes nothing.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from connector.engine.attribution import Attribution, OpportunityValue, Settings, TouchValue
from connector.engine.attribution_config import ModelName
from connector.engine.attribution_diff import diff_attribution, diff_influence
from connector.engine.attribution_scope import (
    AccountScope,
    ContactRoleScope,
    Scope,
    attribute_in_scope,
    influence_rows,
    input_fingerprint,
    opportunity_summary,
)
from connector.engine.person_stages import field_moment
from connector.errors import BudgetExhausted, ConfigError, ConnectorError
from connector.mappings import Mappings
from connector.plan.model import diff_record
from connector.run.mirror import attribution_spec, mirror_specs, refresh_mirror
from connector.run.status import RunStatus
from connector.salesforce import DescribeCache, SalesforceClient, Writer, soql
from connector.salesforce.writer import NOT_ATTEMPTED, WriteOp, WriteOutcome
from connector.state.store import StateStore
from connector.values import MirrorRow, WriteAction

log = logging.getLogger(__name__)

BATCH = 2_000


@dataclass
class AttributionResult:
    run_id: int
    status: RunStatus
    as_of: datetime
    models: list[str]
    opportunities: int = 0
    attributed: int = 0
    unattributed: int = 0
    api_calls: int = 0
    objects: dict[str, dict[str, int]] = field(default_factory=dict)
    failures: list[dict[str, Any]] = field(default_factory=list)
    stopped: ConnectorError | None = None
    seconds: float = 0.0

    @property
    def exit_code(self) -> int:
        if self.stopped is not None:
            return self.stopped.exit_code
        return 1 if self.status == RunStatus.PARTIAL else 0

    def as_json(self) -> dict[str, Any]:
        """The documented shape (docs/interfaces.md), plus details under extra keys."""
        return {"run_id": self.run_id, "status": self.status, "as_of": self.as_of.isoformat(),
                "models": self.models, "opportunities": self.opportunities,
                "attributed": self.attributed, "unattributed": self.unattributed,
                "api_calls": self.api_calls, "objects": self.objects,
                "failures": self.failures[:20],
                "stopped": str(self.stopped) if self.stopped else None,
                "seconds": round(self.seconds, 2)}


# ------------------------------------------------------------------- gather

def _decimal(value: Any) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def opportunity_value(row: MirrorRow) -> OpportunityValue | None:
    f = row.fields
    created = field_moment(f.get("CreatedDate"))
    close = field_moment(f.get("CloseDate"))
    if created is None or close is None:
        return None
    return OpportunityValue(id=row.id, account_id=f.get("AccountId") or None,
                            amount=_decimal(f.get("Amount")), created_at=created,
                            close_date=close.date(), is_closed=bool(f.get("IsClosed")),
                            is_won=bool(f.get("IsWon")))


@dataclass(frozen=True)
class OpportunityContext:
    opportunity: OpportunityValue
    row: MirrorRow
    candidates: tuple[TouchValue, ...]
    scope: Scope
    existing: tuple[Mapping[str, Any], ...]   # Attribution__c rows held, by API name


def gather_opportunities(store: StateStore, mappings: Mappings,
                         rows: Sequence[MirrorRow]) -> Iterator[OpportunityContext]:
    """Plain values for a batch of opportunities: a fixed number of queries."""
    ids = [r.id for r in rows]
    account_mode = mappings.attribution.mode == "account"
    roles: dict[str, set[str]] = {}
    for role in store.mirror_by("OpportunityContactRole", "parent_id", ids):
        if role.contact_id and role.parent_id:
            roles.setdefault(role.parent_id, set()).add(role.contact_id)
    contacts = sorted({c for cs in roles.values() for c in cs})
    # people behind each contact: linked to it, or to a Lead converted into it
    converted = {lead.id: str(lead.parent_id)
                 for lead in store.mirror_by("Lead", "parent_id", contacts)}
    person_contact: dict[str, str] = {}
    linked = store.people_linked_by_record(contacts + sorted(converted))
    for record_id, map_ids in sorted(linked.items()):
        for map_id in map_ids:
            person_contact[map_id] = converted.get(record_id, record_id)
    by_account: dict[str, list[str]] = {}
    if account_mode:
        by_account = store.people_by_account(
            sorted({str(r.fields.get("AccountId")) for r in rows if r.fields.get("AccountId")}))
    people = set(person_contact) | {m for ms in by_account.values() for m in ms}
    touches = store.touches_of(sorted(people))
    campaigns = {row.map_key: row.id for row in store.mirror_all("Campaign") if row.map_key}
    conversion = mappings.attribution.conversion_types(
        {k: v.conversion for k, v in mappings.touches.touch_types.items()})
    existing: dict[str, list[Mapping[str, Any]]] = {}
    for held in store.mirror_by("Attribution__c", "parent_id", ids):
        existing.setdefault(str(held.parent_id), []).append({"Id": held.id, **held.fields})
    for row in rows:
        opp = opportunity_value(row)
        if opp is None:
            continue
        scope: Scope
        if account_mode:
            members = by_account.get(opp.account_id or "", [])
            scope = AccountScope(frozenset(members))
            who = members
        else:
            role_contacts = roles.get(row.id, set())
            mine = {m: c for m, c in person_contact.items() if c in role_contacts}
            scope = ContactRoleScope(frozenset(role_contacts), mine)
            who = sorted(mine)
        candidates = tuple(
            TouchValue(touch_id=t.touch_id, person_id=t.map_id,
                       contact_id=person_contact.get(t.map_id),
                       campaign_id=campaigns.get((t.program_id or "").lower()),
                       program_id=t.program_id, channel=t.channel, touch_type=t.touch_type,
                       occurred_at=t.occurred_at, is_response=t.is_response,
                       is_conversion=t.touch_type in conversion)
            for m in who for t in touches.get(m, []))
        yield OpportunityContext(opp, row, candidates, scope,
                                 tuple(existing.get(row.id, [])))


# ------------------------------------------------------------------- the run

@dataclass
class _Writes:
    creates: list[dict[str, Any]] = field(default_factory=list)
    updates: list[WriteOp] = field(default_factory=list)
    deletes: list[str] = field(default_factory=list)
    summaries: list[WriteOp] = field(default_factory=list)
    unchanged: int = 0
    # standard CampaignInfluence (optional): deletes first, then creates, updates
    influence_creates: list[WriteOp] = field(default_factory=list)
    influence_updates: list[WriteOp] = field(default_factory=list)
    influence_deletes: list[str] = field(default_factory=list)
    # opportunity id -> the digest of the inputs its credits were computed from
    fingerprints: dict[str, str] = field(default_factory=dict)


class AttributionRun:
    def __init__(self, client: SalesforceClient | None, store: StateStore, mappings: Mappings,
                 *,
                 as_of: datetime, models: Iterable[ModelName] | None = None,
                 dry_run: bool = False) -> None:
        self.client = client
        self.store = store
        self.mappings = mappings
        self.as_of = as_of
        self.settings = Settings.from_mapping(mappings.attribution, models)
        self.dry_run = dry_run
        self.decl = mappings.fields.obj("Attribution__c")
        self.opp_decl = mappings.fields.objects.get("Opportunity")

    def explain(self, opportunity_id: str) -> tuple[Attribution, OpportunityContext] | None:
        rows = list(self.store.mirror_get("Opportunity", [opportunity_id]).values())
        for ctx in gather_opportunities(self.store, self.mappings, rows):
            return attribute_in_scope(ctx.opportunity, ctx.candidates, ctx.scope,
                                      self.settings, as_of=self.as_of), ctx
        return None

    def run(self, run_id: int, *, refresh: bool = True, only_credits: bool = False,
            changed_opportunities: Iterable[str] = ()) -> AttributionResult:
        """``only_credits``: the sync just refreshed the other objects' mirror."""
        if self.client is None:
            raise ValueError("an attribution run needs a Salesforce client")
        self.writer_client = self.client
        started = time.monotonic()
        calls_before = self.client.log.api_calls
        result = AttributionResult(run_id, RunStatus.OK, self.as_of, list(self.settings.models))
        counts: Counter[str] = Counter()
        try:
            recheck: set[str] | None = set()
            if refresh:
                describe = DescribeCache(self.client)
                specs = [] if only_credits else [
                    s for s in mirror_specs(self.mappings)
                    if s.sobject in ("Opportunity", "OpportunityContactRole", "Lead",
                                     "Contact", "Campaign")]
                seen = refresh_mirror(self.client, describe, self.store, self.mappings, run_id,
                                      specs=[*specs, attribution_spec(self.mappings)])
                # credits someone edited or deleted in Salesforce: recompute those
                # opportunities whatever their inputs (all of them after a deletion)
                changed = seen.changed.get("Attribution__c", set())
                recheck = {str(r.parent_id) for r in self.store.mirror_get(
                    "Attribution__c", changed).values()}
                recheck |= seen.changed.get("Opportunity", set())  # hand edits too
                recheck |= set(changed_opportunities)  # what the sync's refresh saw
                if seen.deleted.get("Attribution__c"):
                    recheck = None
            self.recheck = recheck
            rows = list(self.store.mirror_all("Opportunity"))
            writes = _Writes()
            influence_model = self._influence_model()
            for start in range(0, len(rows), BATCH):
                self._decide(rows[start:start + BATCH], writes, result, influence_model)
            counts["unchanged"] = writes.unchanged
            if not self.dry_run:
                self._write(writes, counts, result)
            else:
                counts.update(created=len(writes.creates), updated=len(writes.updates),
                              deleted=len(writes.deletes))
        except (BudgetExhausted, ConnectorError) as exc:
            if not isinstance(exc, BudgetExhausted) and exc.exit_code not in (4,):
                raise
            result.stopped = exc
        result.objects = {"Attribution__c": {k: counts.get(k, 0) for k in
                                             ("created", "updated", "unchanged", "deleted",
                                              "failed")}}
        if self.mappings.attribution.campaign_influence.enabled:
            result.objects["CampaignInfluence"] = {
                "created": counts.get("influence_create", 0),
                "updated": counts.get("influence_update", 0),
                "deleted": counts.get("influence_delete", 0)}
        if self.opp_decl is not None:
            result.objects["Opportunity"] = {"updated": counts.get("opportunity_updated", 0),
                                             "failed": counts.get("opportunity_failed", 0)}
        if result.stopped is not None:
            result.status = RunStatus.STOPPED
        elif self.dry_run:
            result.status = RunStatus.DRY_RUN
        elif counts.get("failed") or counts.get("opportunity_failed") or \
                counts.get("campaigninfluence_failed"):
            result.status = RunStatus.PARTIAL
        result.api_calls = self.writer_client.log.api_calls - calls_before
        result.seconds = time.monotonic() - started
        return result

    def _influence_model(self) -> str | None:
        """The id of the connector's CampaignInfluenceModel, when that output is on."""
        ci = self.mappings.attribution.campaign_influence
        if not ci.enabled or self.client is None:
            return None
        found = list(self.client.query(soql.select(
            "CampaignInfluenceModel", ["Id"],
            where=f"DeveloperName = {soql.literal(ci.influence_model)}")))
        if not found:
            raise ConfigError(
                f"the org has no CampaignInfluenceModel {ci.influence_model!r}",
                hint="deploy `connector schema export` to an org with Customizable Campaign "
                     "Influence, or set campaign_influence.enabled: false")
        return str(found[0]["Id"])

    def _held_influence(self, ids: Sequence[str]) -> dict[str, list[Mapping[str, Any]]]:
        assert self.client is not None
        out: dict[str, list[Mapping[str, Any]]] = {}
        for statement in soql.select_in("CampaignInfluence",
                                        ["Id", "OpportunityId", "CampaignId", "ContactId",
                                         "ModelId", "Influence"], "OpportunityId", ids):
            for row in self.client.query(statement):
                out.setdefault(str(row["OpportunityId"]), []).append(row)
        return out

    recheck: set[str] | None = None

    def _decide(self, rows: Sequence[MirrorRow], writes: _Writes,
                result: AttributionResult, influence_model: str | None = None) -> None:
        held = self._held_influence([r.id for r in rows]) if influence_model else {}
        stored = self.store.attribution_fingerprints([r.id for r in rows])
        written_opps = self.store.written("Opportunity", [r.id for r in rows]) \
            if self.opp_decl is not None else {}
        for ctx in gather_opportunities(self.store, self.mappings, rows):
            fingerprint = input_fingerprint(ctx.opportunity, ctx.candidates, ctx.scope,
                                            self.settings, as_of=self.as_of)
            if stored.get(ctx.row.id) == fingerprint and self.recheck is not None \
                    and ctx.row.id not in self.recheck and influence_model is None:
                # the same inputs give the same credits, already written
                result.opportunities += 1
                result.attributed += bool(ctx.existing)
                result.unattributed += not ctx.existing
                writes.unchanged += len(ctx.existing)
                continue
            writes.fingerprints[ctx.row.id] = fingerprint
            attribution = attribute_in_scope(ctx.opportunity, ctx.candidates, ctx.scope,
                                             self.settings, as_of=self.as_of)
            result.opportunities += 1
            if attribution.attributed:
                result.attributed += 1
            else:
                result.unattributed += 1
            diff = diff_attribution(attribution.records, ctx.existing, self.decl)
            writes.creates.extend(diff.creates)
            writes.updates.extend(WriteOp(f"Attribution__c:{u.key}", u.fields, u.record_id)
                                  for u in diff.updates)
            writes.deletes.extend(diff.deletes)
            writes.unchanged += diff.unchanged
            if influence_model is not None:
                ci = self.mappings.attribution.campaign_influence
                influence = diff_influence(influence_rows(attribution, ci.model),
                                           held.get(ctx.row.id, []), influence_model)
                writes.influence_creates.extend(
                    WriteOp(f"CampaignInfluence:{c['OpportunityId']}:{c['CampaignId']}:"
                            f"{c.get('ContactId') or ''}", c) for c in influence.creates)
                writes.influence_updates.extend(
                    WriteOp(f"CampaignInfluence:{u.record_id}", {"Influence": u.influence},
                            u.record_id) for u in influence.updates)
                writes.influence_deletes.extend(influence.deletes)
            if self.opp_decl is not None:
                summary = opportunity_summary(attribution)
                desired: dict[str, Any] = {
                    k: getattr(summary, k) for k in
                    ("first_touch_campaign", "last_touch_campaign")
                    if k in self.opp_decl.fields}
                written = written_opps.get(ctx.row.id, {})
                change = diff_record(self.opp_decl, desired, ctx.row.fields, written)
                if change.fields:
                    writes.summaries.append(WriteOp(f"Opportunity:{ctx.row.id}",
                                                    change.fields, ctx.row.id))

    def _write(self, writes: _Writes, counts: Counter[str], result: AttributionResult) -> None:
        writer = Writer(self.writer_client)
        key = self.decl.field("key").api_name
        spec = attribution_spec(self.mappings)
        steps: list[tuple[str, WriteAction, list[WriteOp], str | None]] = [
            ("Attribution__c", WriteAction.UPSERT,
             [WriteOp(f"Attribution__c:{c[key]}", c) for c in writes.creates], key),
            ("Attribution__c", WriteAction.UPDATE, writes.updates, None),
            ("Attribution__c", WriteAction.DELETE,
             [WriteOp(f"delete:{i}", {}, i) for i in writes.deletes], None),
            ("Opportunity", WriteAction.UPDATE, writes.summaries, None),
            ("CampaignInfluence", WriteAction.DELETE,
             [WriteOp(f"delete:{i}", {}, i) for i in writes.influence_deletes], None),
            ("CampaignInfluence", WriteAction.CREATE, writes.influence_creates, None),
            ("CampaignInfluence", WriteAction.UPDATE, writes.influence_updates, None),
        ]
        for sobject, action, ops, ext in steps:
            if not ops:
                continue
            outcome = writer.write(sobject, action, ops, external_id_field=ext)
            self._record(sobject, action, ops, outcome, counts, result, spec)
            if outcome.stopped is not None:
                result.stopped = outcome.stopped
                return
        # remember the inputs of the opportunities whose every write landed
        failed = {str(f["ref"]).split(":")[1] for f in result.failures
                  if str(f["ref"]).count(":") >= 1}
        if any(str(f["ref"]).startswith("delete:") for f in result.failures):
            return  # a stale credit is still there: recompute everyone next time
        with self.store.transaction():
            self.store.set_attribution_fingerprints(
                {k: v for k, v in writes.fingerprints.items() if k not in failed})

    def _record(self, sobject: str, action: WriteAction, ops: Sequence[WriteOp],
                outcome: WriteOutcome, counts: Counter[str], result: AttributionResult,
                spec: Any) -> None:
        by_ref = {op.ref: op for op in ops}
        rows: list[MirrorRow] = []
        patches: list[tuple[str, dict[str, Any]]] = []
        deleted: list[str] = []
        written: list[tuple[str, str, Any]] = []
        with self.store.transaction():
            for r in outcome.results:
                op = by_ref[r.ref]
                if r.error_code == NOT_ATTEMPTED:
                    continue
                if not r.success or not r.id:
                    counts["failed" if sobject == "Attribution__c" else
                           f"{sobject.lower()}_failed"] += 1
                    result.failures.append({"object": sobject, "ref": r.ref,
                                            "error_code": r.error_code, "message": r.message})
                    self.store.add_failed_write(result.run_id, sobject, r.ref, None,
                                                r.error_code, r.message or "",
                                                {"fields": dict(op.fields), "record_id": op.id})
                    continue
                if sobject == "CampaignInfluence":
                    counts[f"influence_{action}"] += 1
                    continue
                if sobject == "Opportunity":
                    counts["opportunity_updated"] += 1
                    patches.append((r.id, dict(op.fields)))
                    written.extend((r.id, k, v) for k, v in op.fields.items())
                elif action == WriteAction.DELETE:
                    counts["deleted"] += 1
                    deleted.append(r.id)
                elif action == WriteAction.UPSERT:
                    counts["created" if r.created else "updated"] += 1
                    rows.append(spec.to_row({"Id": r.id, **op.fields}))
                else:
                    counts["updated"] += 1
                    patches.append((r.id, dict(op.fields)))
            if rows:
                self.store.mirror_upsert(rows)
            if patches:
                self.store.mirror_patch(sobject, patches)
            if deleted:
                self.store.mirror_mark_deleted(sobject, deleted)
            if written:
                self.store.set_written(result.run_id, "Opportunity", written)


def now() -> datetime:
    return datetime.now(UTC)
