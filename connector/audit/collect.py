"""Gathering what the audit rules compare: the ledger, the connector's intent,
and what Salesforce holds, read in bulk.

Salesforce is read the way the sync reads it (``refresh_mirror``: one count and
2,000-row pages, or a Bulk 2.0 query job past 20,000 records), in full, into a
private *copy* of the state database: the audit must not move the sync's
watermarks or absorb changes the next sync has to react to. The connector's
intended values come from the sync's own planner run over every person of
that copy, so the audit can never disagree with what a sync would do.
Contact roles (with their opportunity's dates) and ``Attribution__c`` are read
in pages or Bulk too. Nothing is read record by record.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any

from connector.errors import SalesforceApiError
from connector.mappings import Mappings
from connector.normalize import parse_date, parse_timestamp
from connector.plan.model import Plan
from connector.plan.planner import Planner
from connector.run.mirror import BULK_READ_THRESHOLD, refresh_mirror
from connector.salesforce import soql
from connector.salesforce.client import SalesforceClient
from connector.salesforce.describe import DescribeCache, require_valid_mappings
from connector.state.dead_letters import DeadLetterKind
from connector.state.store import StateStore

from . import rules

AUDITED_OBJECTS = ("Lead", "Contact", "Account", "Campaign", "CampaignMember")


@contextmanager
def store_copy(store: StateStore) -> Iterator[StateStore]:
    """A private, throw-away copy of the state database (SQLite's online backup:
    consistent even while a sync writes), deleted afterwards."""
    from connector.run.dry_run import scratch_copy

    with scratch_copy(store) as copy:
        yield copy


@dataclass
class Gathered:
    """Everything the rules need, as plain values."""

    plan: Plan
    planner: Planner
    people: list[rules.PersonRecord]
    campaigns: list[tuple[str, str, str | None]]
    known_map_ids: list[str]
    known_program_ids: list[str]
    programs: list[tuple[str, str | None, str | None, str | None]]
    unknown_programs: dict[str, int]
    previously_linked: dict[str, str]
    failures: list[rules.WriteFailure]
    rejections: list[rules.RejectedRow]
    expected: dict[str, int]
    actual: dict[str, int]
    opportunities: list[rules.Opportunity] = field(default_factory=list)
    opportunity_touches: dict[str, list[datetime]] = field(default_factory=dict)
    credits: list[rules.Credit] = field(default_factory=list)
    attribution_checked: bool = False
    notes: list[str] = field(default_factory=list)


def read_all(client: SalesforceClient, sobject: str, fields: list[str],
             where: str | None = None) -> Iterator[dict[str, Any]]:
    """Every record of a query in 2,000-row pages; when the first page says there
    are many, one Bulk 2.0 query job instead (as the mirror reads, without its
    separate count: small objects cost one call). Bulk rows come as text."""
    statement = soql.select(sobject, ["Id", *fields], where=where)
    total, records = client.query_with_total(statement)
    if total > BULK_READ_THRESHOLD:
        records.close()
        for row in client.bulk_query(statement):
            yield {k: (v if v != "" else None) for k, v in row.items()}
        return
    for record in records:
        yield _flatten(record)


def _flatten(record: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """REST nests parent fields ({"Opportunity": {"CloseDate": ...}}); Bulk CSV names
    them "Opportunity.CloseDate": one shape for both."""
    out: dict[str, Any] = {}
    for key, value in record.items():
        if key == "attributes":
            continue
        if isinstance(value, Mapping):
            out.update(_flatten(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def plan_everyone(copy: StateStore, mappings: Mappings, as_of: datetime,
                  tz: Any) -> tuple[Plan, Planner]:
    """The sync's planner over every MAP person: the connector's full intent.
    (The same planning steps as a sync, with every person in scope.)"""
    planner = Planner(copy, mappings, as_of=as_of, tz=tz)
    plan = Plan()
    planner.plan_campaign_steps(plan)
    planner.plan_people(plan, set(copy.all_map_ids()))
    return plan, planner


def _people_records(copy: StateStore, mappings: Mappings, actual: dict[str, int],
                    rejected: set[str]) -> list[rules.PersonRecord]:
    """Every Lead and Contact; counts those the connector manages (a MAP id, not
    converted), leaving out MAP people whose rows were rejected (their
    ``rejected_input`` finding explains them)."""
    out = []
    for sobject in ("Lead", "Contact"):
        key_field = mappings.fields.obj(sobject).field("map_id").api_name
        managed = 0
        for row in copy.mirror_all(sobject):
            converted = bool(row.fields.get("IsConverted"))
            map_id = row.fields.get(key_field) or None
            managed += bool(map_id) and not converted and str(map_id).lower() not in rejected
            out.append(rules.PersonRecord(sobject, row.id, row.email, map_id,
                                          row.created_date, converted))
        actual[sobject] = managed
    return out


def gather(client: SalesforceClient, store: StateStore, copy: StateStore, mappings: Mappings,
           *, as_of: datetime, tz: Any,
           on_phase: Callable[[str], None] = lambda name: None) -> Gathered:
    """Read the org into ``copy``, plan everyone, and collect the rule inputs.
    ``store`` (the real state database) is only read."""
    describe = DescribeCache(client)
    on_phase("checking the org's fields")
    require_valid_mappings(describe, mappings, AUDITED_OBJECTS)
    run_id = copy.start_run("audit-read", as_of)
    on_phase("reading Salesforce (full)")
    refresh_mirror(client, describe, copy, mappings, run_id, full=True)
    on_phase("computing what the connector intends")
    plan, planner = plan_everyone(copy, mappings, as_of, tz)
    rejections = [rules.RejectedRow(
        str(d.payload.get("kind") or "row"), d.file, d.row, d.field,
        d.payload.get("value"), d.message, d.payload.get("record_id"))
        for d in store.dead_letters(DeadLetterKind.REJECTED_INPUT)]
    rejected_people = {r.record_id.lower() for r in rejections
                       if r.kind == "person" and r.record_id}
    actual: dict[str, int] = {}
    people = _people_records(copy, mappings, actual, rejected_people)
    program_key = mappings.fields.obj("Campaign").field("program_id").api_name
    campaigns = [(row.id, str(row.fields.get(program_key)), row.fields.get("Name"))
                 for row in copy.mirror_all("Campaign") if row.fields.get(program_key)]
    actual["Campaign"] = len(campaigns)
    actual["CampaignMember"] = copy.mirror_count("CampaignMember")
    counts = plan.counts()
    expected = {obj: sum(counts.get(obj, {}).values())
                for obj in ("Lead", "Contact", "Campaign", "CampaignMember")}
    links = store.links()
    programs = copy.programs()
    gathered = Gathered(
        plan=plan, planner=planner, people=people, campaigns=campaigns,
        known_map_ids=[*copy.all_map_ids(), *rejected_people],
        known_program_ids=sorted(programs),
        programs=[(p.program_id, p.name, p.channel, p.channel_raw)
                  for _, p in sorted(programs.items())],
        unknown_programs=copy.unknown_program_ids(),
        previously_linked={m: lk.sf_id for m, lk in links.items() if lk.sf_id},
        failures=[rules.WriteFailure(
            d.sobject, d.ref, d.map_id, d.payload.get("record_id"), d.error_code, d.message,
            tuple(d.payload.get("error_fields") or ()), d.attempts, d.created_at)
            for d in store.dead_letters(DeadLetterKind.FAILED_WRITE)],
        rejections=rejections,
        expected=expected, actual=actual)
    on_phase("reading opportunities and attribution")
    _gather_attribution(client, copy, mappings, plan, gathered)
    return gathered


def _gather_attribution(client: SalesforceClient, copy: StateStore, mappings: Mappings,
                        plan: Plan, out: Gathered) -> None:
    """Contact roles with their opportunity's dates (one query), and every
    Attribution__c credit (one more). The responses of the people linked to a
    role's contact are what attribution can credit."""
    decl = mappings.fields.objects.get("Attribution__c")
    if decl is None:
        out.notes.append("the mappings declare no Attribution__c: attribution not checked")
        return
    opp_field = decl.field("opportunity").api_name
    model_field = decl.field("model").api_name
    credit_field = decl.field("credit").api_name
    try:
        credits = list(read_all(client, "Attribution__c", [opp_field, model_field,
                                                            credit_field]))
    except SalesforceApiError as exc:
        if exc.error_code != "INVALID_TYPE":
            raise
        out.notes.append("Attribution__c is not in the org (deploy `connector schema "
                         "export`): attribution was not checked")
        return
    for r in credits:
        try:
            credit = Decimal(str(r.get(credit_field) or 0))
        except InvalidOperation:
            credit = Decimal(0)
        out.credits.append(rules.Credit(str(r.get(opp_field)), str(r.get(model_field)),
                                        credit))
    roles: dict[str, set[str]] = {}
    opportunities: dict[str, rules.Opportunity] = {}
    for r in read_all(client, "OpportunityContactRole",
                      ["OpportunityId", "ContactId", "Opportunity.CreatedDate",
                       "Opportunity.CloseDate", "Opportunity.IsClosed"]):
        opp_id = str(r["OpportunityId"])
        roles.setdefault(str(r["ContactId"]), set()).add(opp_id)
        created = parse_timestamp(str(r.get("Opportunity.CreatedDate") or "")) \
            if r.get("Opportunity.CreatedDate") else None
        if created is None or opp_id in opportunities:
            continue
        close = parse_date(str(r["Opportunity.CloseDate"])) \
            if r.get("Opportunity.CloseDate") else None
        opportunities[opp_id] = rules.Opportunity(
            opp_id, created, datetime.combine(close, time(), tzinfo=UTC) if close else None,
            str(r.get("Opportunity.IsClosed")).lower() == "true")
    credited = {c.opportunity_id for c in out.credits} - set(opportunities)
    for opp_id in sorted(credited):  # credits on an opportunity without contact roles:
        # no touch can be eligible, only their sum is checked (dates unused)
        opportunities[opp_id] = rules.Opportunity(opp_id, datetime.min.replace(tzinfo=UTC),
                                                  None, False)
    out.opportunities = [opportunities[k] for k in sorted(opportunities)]
    people_of: dict[str, list[str]] = {}
    for map_id, link in plan.links.items():
        if link.sobject == "Contact" and link.sf_id in roles:
            people_of.setdefault(link.sf_id, []).append(map_id)
    touches = copy.touches_of([m for ms in people_of.values() for m in ms])
    for contact, map_ids in people_of.items():
        times = [t.occurred_at for m in map_ids for t in touches.get(m, []) if t.is_response]
        for opp in roles[contact]:
            out.opportunity_touches.setdefault(opp, []).extend(times)
    out.attribution_checked = True
