"""Building the plan from the ledger, the mirror and the engines.

Campaigns first (parents before children), then their member statuses, then
people: match every person in scope, merge the people who share one
Salesforce record, compute their source fields, diff through the write
policies; people nobody matches get one new Lead per email; finally the
Campaign Members. Reads only the local state: the mirror is refreshed before.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, tzinfo
from typing import Any

from connector.engine.account_values import desired_account
from connector.engine.campaigns import (
    SALESFORCE_DEFAULT_STATUSES,
    campaign_fields,
    furthest,
    member_states,
    program_levels,
    status_specs,
)
from connector.engine.context import PersonContext, Target
from connector.engine.identity import (
    Match,
    MemoryIndex,
    Unmatched,
    group_new_leads,
    match_account,
    match_person,
    primary_person,
)
from connector.engine.lifecycle import LifecycleRules
from connector.engine.person import desired_person
from connector.engine.policies import canonical
from connector.mappings import Mappings
from connector.models import Person, Program
from connector.plan.model import Plan, PlannedWrite, diff_record
from connector.run.gather import gather_accounts, gather_targets
from connector.sfid import to18
from connector.state.funnel_facts import AccountFact, stage_facts
from connector.state.store import Finding, StateStore
from connector.values import FindingCategory, Link, MirrorRow, WriteAction

CHUNK = 2_000
ACCOUNT_CHUNK = 500
MQL_STAGES = frozenset({"mql", "marketingqualifiedlead", "marketing qualified lead", "sal",
                        "sql", "salesqualifiedlead", "sales qualified lead", "opportunity",
                        "customer"})
PERSON_KEYS = ("email", "first_name", "last_name", "company", "title", "industry",
               "employees", "annual_revenue", "country")


class Planner:
    def __init__(self, store: StateStore, mappings: Mappings, *, as_of: datetime,
                 tz: tzinfo) -> None:
        self.store = store
        self.mappings = mappings
        self.as_of = as_of
        self.tz = tz
        self.f = mappings.fields
        self.programs: dict[str, Program] = store.programs()
        # the Account a new Lead's person matches by domain (for account scores)
        self.new_lead_accounts: dict[str, str | None] = {}
        self.rules = LifecycleRules.from_mappings(mappings) if mappings.scoring else \
            LifecycleRules(mql_threshold=0, fit_minimum=0)
        # program id -> ("id", campaign id) | ("ref", plan ref)
        self.campaigns: dict[str, tuple[str, str]] = {}

    # ---------------------------------------------------------- campaigns

    def plan_campaigns(self, plan: Plan) -> None:
        decls = self.f.obj("Campaign")
        key_field = decls.field("program_id").api_name
        existing = {r.map_key: r for r in self.store.mirror_all("Campaign") if r.map_key}
        for level_no, level in enumerate(program_levels(self.programs)):
            for pid in level:
                program = self.programs[pid]
                desired = campaign_fields(program, self.mappings, self.as_of)
                if program.channel is None:
                    plan.findings.append(Finding(
                        FindingCategory.UNMAPPED_PROGRAM, "Campaign", None, None, "Channel__c",
                        None,
                        program.channel_raw,
                        f"program {pid} ({program.name}) has channel "
                        f"{program.channel_raw!r}, which is not in the channel taxonomy"))
                current = existing.get(pid.lower())
                parent = self._campaign_value(program.parent_id) if program.parent_id else None
                depends: dict[str, str] = {}
                parent_decl = decls.field("parent")
                if parent and parent[0] == "ref":
                    depends[parent_decl.api_name] = parent[1]
                elif parent:
                    desired["parent"] = parent[1]
                ref = f"Campaign:{pid}"
                if current is None:
                    diff = diff_record(decls, desired, None, {})
                    diff.fields[key_field] = pid
                    step = plan.step(f"campaigns (level {level_no})", "Campaign",
                                     WriteAction.UPSERT, order=10 + level_no,
                                     external_id_field=key_field)
                    step.writes.append(PlannedWrite(ref, "Campaign", None, diff.fields,
                                                    depends=depends))
                    self.campaigns[pid] = ("ref", ref)
                    continue
                self.campaigns[pid] = ("id", current.id)
                written = self.store.written("Campaign", [current.id]).get(current.id, {})
                diff = diff_record(decls, {k: v for k, v in desired.items()
                                           if k != "program_id"}, current.fields, written)
                if diff.fields or depends:
                    plan.step("campaign updates", "Campaign", WriteAction.UPDATE,
                              order=30).writes.append(
                        PlannedWrite(ref, "Campaign", current.id, diff.fields,
                                     before=diff.before, depends=depends,
                                     drift=tuple(diff.drift), reasons=diff.reasons))
                else:
                    plan.unchanged["Campaign"] += 1
        for pid, count in self.store.unknown_program_ids().items():
            plan.findings.append(Finding(
                FindingCategory.UNMAPPED_PROGRAM, "Campaign", None, None, None, None, pid,
                f"{count} touch(es) name program {pid}, which the MAP export does not list; "
                f"they count for sources and scores but have no campaign"))

    def _campaign_value(self, program_id: str | None) -> tuple[str, str] | None:
        if not program_id:
            return None
        return self.campaigns.get(program_id)

    # ----------------------------------------------------------- statuses

    def plan_statuses(self, plan: Plan, campaign_ids: Mapping[str, str],
                      current: Mapping[str, list[MirrorRow]], *,
                      new_campaign_refs: Iterable[str] = ()) -> None:
        """Every connector campaign gets the ladder of touches.yaml.

        ``campaign_ids`` maps program id -> campaign id; ``current`` campaign id ->
        its status rows. A campaign this plan creates will come with Salesforce's
        default statuses: those are planned as updates of records the plan names
        (``Plan.implicit``), the rest of the ladder as creates, so a dry run and a
        real run write exactly the same.
        """
        specs = status_specs(self.mappings)
        for pid, campaign_id in sorted(campaign_ids.items()):
            rows = {r.map_key: r for r in current.get(campaign_id, [])}
            self._plan_campaign_statuses(plan, pid, campaign_id, None, specs, rows)
        for ref in new_campaign_refs:
            pid = ref.split(":", 1)[1]
            defaults: dict[str | None, MirrorRow] = {}
            for label, values in SALESFORCE_DEFAULT_STATUSES.items():
                status_ref = f"CampaignMemberStatus:{pid}:{label}"
                plan.implicit[status_ref] = (ref, label)
                defaults[label] = MirrorRow("CampaignMemberStatus", "", dict(values),
                                            map_key=label)
            self._plan_campaign_statuses(plan, pid, None, ref, specs, defaults)

    def _plan_campaign_statuses(self, plan: Plan, pid: str, campaign_id: str | None,
                                campaign_ref: str | None, specs: list[Any],
                                rows: Mapping[str | None, MirrorRow]) -> None:
        for spec in specs:
            desired = {"HasResponded": spec.responded, "IsDefault": spec.default,
                       "SortOrder": spec.sort_order}
            ref = f"CampaignMemberStatus:{pid}:{spec.label}"
            row = rows.get(spec.label.lower())
            if row is None:
                fields = {"Label": spec.label, **desired}
                depends = {}
                if campaign_id:
                    fields["CampaignId"] = campaign_id
                elif campaign_ref:
                    depends["CampaignId"] = campaign_ref
                plan.step("member statuses", "CampaignMemberStatus", WriteAction.CREATE,
                          order=40, bulk_key=("CampaignId", "Label")).writes.append(
                    PlannedWrite(ref, "CampaignMemberStatus", None, fields, depends=depends,
                                 group=campaign_id))
                continue
            changed = {k: v for k, v in desired.items() if row.fields.get(k) != v}
            # Salesforce keeps one default per campaign by itself; un-setting the
            # old default is never needed, and clearing it first would fail.
            if changed.get("IsDefault") is False:
                changed.pop("IsDefault")
            if changed:
                # a default status of a campaign created in this run: its id is
                # known once the campaign exists
                implicit = f"CampaignMemberStatus:{pid}:{row.map_key}"
                depends = {"Id": implicit} if not row.id else {}
                plan.step("member status updates", "CampaignMemberStatus", WriteAction.UPDATE,
                          order=41) \
                    .writes.append(PlannedWrite(ref, "CampaignMemberStatus", row.id or None,
                                                changed,
                                                before={k: row.fields.get(k) for k in changed},
                                                depends=depends,
                                                group=row.parent_id or campaign_id))
            else:
                plan.unchanged["CampaignMemberStatus"] += 1

    # -------------------------------------------------------------- people

    def plan_campaign_steps(self, plan: Plan) -> None:
        """Campaigns (parents first), then every connector campaign's statuses."""
        self.plan_campaigns(plan)
        existing = {pid: value[1] for pid, value in self.campaigns.items()
                    if value[0] == "id"}
        new_refs = [value[1] for value in self.campaigns.values() if value[0] == "ref"]
        rows: dict[str, list[MirrorRow]] = {}
        for row in self.store.mirror_by("CampaignMemberStatus", "parent_id",
                                        sorted(existing.values())):
            rows.setdefault(str(row.parent_id), []).append(row)
        self.plan_statuses(plan, existing, rows, new_campaign_refs=new_refs)

    def plan_people(self, plan: Plan, scope: set[str]) -> None:
        """Match everyone in scope, then plan every record (one plan for all)."""
        self.plan_targets(plan, self.match_people(plan, scope))

    def match_people(self, plan: Plan, scope: set[str]) -> list[Target]:
        """Pass 1: match everyone in scope, keeping only the matches (links and
        findings go to ``plan``); the Salesforce records to plan, by key."""
        targets: dict[str, Target] = {}
        unmatched: dict[str, Unmatched] = {}
        scope_list = sorted(scope)
        plan.people_in_scope = len(scope_list)
        links_before = self.store.links(scope_list)
        for start in range(0, len(scope_list), CHUNK):
            chunk = scope_list[start:start + CHUNK]
            people = self.store.people(chunk)
            index = self._index_for(people.values(), links_before)
            for map_id in chunk:
                person = people.get(map_id)
                if person is None:
                    continue
                match = match_person(person, index, links_before.get(map_id))
                if match is None:
                    unmatched[map_id] = Unmatched.of(person)
                    self.new_lead_accounts[map_id] = match_account(
                        person, None, index, self.mappings.sync.free_mail_domains)[0]
                    continue
                target = targets.setdefault(
                    match.sf_id, Target(match.sf_id, match.sobject, match.sf_id, []))
                target.map_ids.append(map_id)
                if "converted_from" in match.detail:
                    target.converted_from |= {str(match.detail["converted_from"])}
                self._link(plan, person, match, index)
        # People outside the scope who share a record with someone inside it
        # contribute their touches too.
        in_scope = set(scope_list)
        for sf_id, others in self.store.people_linked_by_record(list(targets)).items():
            targets[sf_id].map_ids.extend(sorted(m for m in others if m not in in_scope))
        self._plan_new_leads(plan, unmatched, targets)
        unmatched.clear()
        return sorted(targets.values(), key=lambda t: t.key)

    def plan_accounts(self, plan: Plan, account_ids: Iterable[str]) -> None:
        """Account scores for these Accounts, changed fields only."""
        if self.mappings.scoring is None:
            return
        decls = self.f.obj("Account")
        ids = sorted(set(account_ids))
        for start in range(0, len(ids), ACCOUNT_CHUNK):
            for ctx in gather_accounts(self.store, ids[start:start + ACCOUNT_CHUNK]):
                want = desired_account(ctx, self.mappings, self.as_of)
                if want is None:
                    continue
                plan.account_rows.append(AccountFact(
                    ctx.record.id, want.scores.target, self.as_of, want.scores.engaged_date))
                values = {k: v for k, v in want.values.items() if k in decls.fields}
                diff = diff_record(decls, values, ctx.record.fields, ctx.written)
                if diff.fields:
                    plan.step("account updates", "Account", WriteAction.UPDATE,
                              order=55).writes.append(
                        PlannedWrite(f"Account:{ctx.record.id}", "Account", ctx.record.id,
                                     diff.fields, before=diff.before,
                                     drift=tuple(diff.drift), reasons=diff.reasons))
                else:
                    plan.unchanged["Account"] += 1

    def plan_targets(self, plan: Plan, targets: list[Target]) -> None:
        """Pass 2: plan one Salesforce record at a time with everyone behind it,
        gathering per chunk so memory stays per chunk."""
        for start in range(0, len(targets), CHUNK):
            for ctx in gather_targets(self.store, targets[start:start + CHUNK]):
                self._plan_target(plan, ctx)

    def _link(self, plan: Plan, person: Person, match: Match, index: _Index) -> None:
        """Record why a person maps to a record, and the duplicates seen on the way."""
        map_id = person.map_id
        record = index.get(match.sobject, match.sf_id)
        account_id, account_rule, account_candidates = match_account(
            person, record, index, self.mappings.sync.free_mail_domains)
        detail = dict(match.detail, candidates=list(match.candidates), account_rule=account_rule)
        plan.links[map_id] = Link(map_id, match.sobject, match.sf_id, match.rule, detail,
                                  account_id)
        if match.duplicate:
            plan.findings.append(Finding(
                FindingCategory.DUPLICATE, match.sobject, match.sf_id, map_id, "Email", None, None,
                f"{len(match.candidates)} {match.sobject}s match {person.email or map_id}"
                f" ({match.rule}): {', '.join(match.candidates)}; kept the oldest"))
        if len(account_candidates) > 1:
            plan.findings.append(Finding(
                FindingCategory.DUPLICATE, "Account", account_id, map_id, "Website", None,
                person.email_domain,
                f"{len(account_candidates)} accounts have domain {person.email_domain}: "
                f"{', '.join(account_candidates)}; kept the oldest"))

    def _index_for(self, people: Iterable[Person], links: Mapping[str, Link]) -> _Index:
        people = list(people)
        rows: list[MirrorRow] = []
        ids: set[str] = set()
        for p in people:
            ids.update(x for x in (p.sfdc_contact_id, p.sfdc_lead_id) if x)
            if p.map_id in links:
                ids.add(links[p.map_id].sf_id)
        norm_ids = []
        for i in ids:
            try:
                norm_ids.append(to18(i))
            except ValueError:
                continue
        map_keys = [p.map_id.lower() for p in people]
        emails = [p.email for p in people if p.email and p.email_valid]
        for sobject in ("Lead", "Contact"):
            rows.extend(self.store.mirror_get(sobject, norm_ids).values())
            rows.extend(self.store.mirror_by(sobject, "map_key", map_keys))
            rows.extend(self.store.mirror_by(sobject, "email", emails))
        converted = [r.parent_id for r in rows if r.sobject == "Lead" and r.parent_id]
        rows.extend(self.store.mirror_get("Contact", converted).values())
        domains = {p.email_domain for p in people if p.email_domain and p.email_valid}
        rows.extend(self.store.mirror_by("Account", "map_key", sorted(domains)))
        return _Index(rows)

    def _plan_new_leads(self, plan: Plan, unmatched: Mapping[str, Unmatched],
                        targets: dict[str, Target]) -> None:
        policy = self.mappings.sync.create_leads
        for person in unmatched.values():
            if not (person.email and person.email_valid):
                why = f"email {person.email!r} is invalid ({person.email_problem})" \
                    if person.email else "no email"
                plan.findings.append(Finding(
                    FindingCategory.MISSING_IN_SALESFORCE, "Lead", None, person.map_id, "Email",
                    None,
                    person.email, f"no Lead or Contact matches and none can be created: {why}"))
                plan.skipped["invalid_email"] += 1
        groups = group_new_leads({k: v for k, v in unmatched.items()
                                  if v.email and v.email_valid})
        for primary, members in groups.items():
            people = [unmatched[m] for m in members]
            if policy == "never":
                plan.skipped[f"create_leads={policy}"] += len(members)
                plan.findings.append(Finding(
                    FindingCategory.MISSING_IN_SALESFORCE, "Lead", None, primary, None, None, None,
                    f"no Lead or Contact matches {people[0].email}; create_leads is {policy}"))
                continue
            key = f"new:{primary}"
            # create_leads: mql is decided with the person's lifecycle (planning);
            # without scoring mappings, by the MAP's own lifecycle stage
            targets[key] = Target(key, "Lead", None, list(members), ref=f"Lead:{primary}",
                                  require_mql=policy == "mql",
                                  map_mql=any((p.map_lifecycle_stage or "").lower()
                                              in MQL_STAGES for p in people))
            if len(members) > 1:
                plan.findings.append(Finding(
                    FindingCategory.DUPLICATE, "Lead", None, primary, "Email", None,
                    people[0].email,
                    f"MAP people {', '.join(members)} share {people[0].email}; one Lead is "
                    f"created for them, carrying {primary}"))

    # ----------------------------------------------------- one target

    def _plan_target(self, plan: Plan, ctx: PersonContext) -> None:
        target = ctx.target
        primary = primary_person(list(ctx.people))
        want = desired_person(ctx, self.programs, self.campaigns, self.mappings,
                              primary.map_id, self.as_of)
        decls = self.f.obj(target.sobject)
        desired, depends = want.values, want.depends
        record = ctx.record
        stages = want.stages
        plan.accounts.update(a for m in target.map_ids
                             if (a := self.new_lead_accounts.get(m)) is not None)
        if stages is not None:
            due = stages.next_change(self.as_of, self.rules)
            for m in target.map_ids:
                plan.due[m] = due
                plan.stage_rows[m] = stage_facts(m, stages.life, want.sources, ctx.touches,
                                                self.mappings) \
                    if m == primary.map_id else []
        if record is None and target.require_mql and not (
                stages.reached_mql if stages is not None else target.map_mql):
            plan.skipped["create_leads=mql"] += len(target.map_ids)
            plan.findings.append(Finding(
                FindingCategory.MISSING_IN_SALESFORCE, "Lead", None, primary.map_id, None, None,
                None,
                f"no Lead or Contact matches {primary.email}; create_leads is mql and "
                f"the person has not reached MQL"))
            return
        if record is None:
            for m in target.map_ids:
                plan.links[m] = Link(m, "Lead", "", "created",
                                     {"created_for": primary.map_id, "group": target.map_ids},
                                     self.new_lead_accounts.get(m))
            diff = diff_record(decls, desired, None, {})
            for name, value in self.mappings.sync.new_lead_defaults.items():
                diff.fields.setdefault(name, value)
            step = plan.step("new leads", "Lead", WriteAction.UPSERT, order=50,
                             external_id_field=decls.field("map_id").api_name)
            step.writes.append(PlannedWrite(target.ref, "Lead", None, diff.fields,
                                            depends=depends, map_ids=tuple(target.map_ids)))
            person_ref: tuple[str, str] = ("ref", target.ref)
        else:
            diff = diff_record(decls, desired, record.fields, ctx.written,
                               new_cycle=want.new_cycle, skip=want.skip)
            # opt-in (scoring.yaml stages.write_lead_status_on_recycle): an SLA
            # recycle also sets the Lead's Status, once
            status = stages.life.lead_status_to_write if stages is not None else None
            status_decl = decls.fields.get("status")
            if status and status_decl is not None and target.sobject == "Lead" \
                    and record.fields.get(status_decl.api_name) != status \
                    and ctx.written.get(status_decl.api_name) != status:
                diff.fields[status_decl.api_name] = status
                diff.before[status_decl.api_name] = record.fields.get(status_decl.api_name)
                diff.reasons[status_decl.api_name] = "recycled by SLA (opt-in)"
            for name, have, wanted in diff.conflicts:
                plan.findings.append(Finding(
                    FindingCategory.ORIGINAL_SOURCE_CONFLICT, target.sobject, record.id,
                    primary.map_id,
                    name, _text(have), _text(wanted),
                    "write-once: Salesforce keeps its value; the MAP's history says otherwise"))
            # depends only name campaigns created in this run: always a change
            if diff.fields or depends:
                plan.step(f"{target.sobject.lower()} updates", target.sobject, WriteAction.UPDATE,
                          order=51 if target.sobject == "Lead" else 52) \
                    .writes.append(PlannedWrite(
                        f"{target.sobject}:{record.id}", target.sobject, record.id,
                        diff.fields, before=diff.before, depends=depends,
                        map_ids=tuple(target.map_ids), group=record.parent_id
                        if target.sobject == "Contact" else None,
                        drift=tuple(diff.drift), reasons=diff.reasons))
            else:
                plan.unchanged[target.sobject] += 1
            person_ref = ("id", record.id)
        self._plan_members(plan, ctx, person_ref, primary.map_id)

    # ------------------------------------------------------------ members

    def _plan_members(self, plan: Plan, ctx: PersonContext,
                      person: tuple[str, str], primary_map_id: str) -> None:
        target = ctx.target
        touches = ctx.touches
        decls = self.f.obj("CampaignMember")
        status_name = decls.field("status").api_name
        first_decl = decls.fields.get("first_responded_on")
        states = member_states(touches, self.mappings, self.tz)
        person_field = "LeadId" if target.sobject == "Lead" else "ContactId"
        map_ids = tuple(target.map_ids)  # shared by this person's memberships
        for pid, state in sorted(states.items()):
            campaign = self._campaign_value(pid)
            if campaign is None:
                continue
            # keyed by person, not record: stable when a failed Lead create is
            # retried, so its members' dead letters resolve when they land
            ref = f"CampaignMember:{pid}:{primary_map_id}"
            existing = None
            if campaign[0] == "id" and person[0] == "id":
                existing = ctx.members.get(campaign[1])
            if existing is None:
                fields: dict[str, Any] = {status_name: state.status}
                depends: dict[str, str] = {}
                for name, value in (("CampaignId", campaign), (person_field, person)):
                    if value[0] == "ref":
                        depends[name] = value[1]
                    else:
                        fields[name] = value[1]
                if first_decl is not None and state.first_response_on:
                    fields[first_decl.api_name] = state.first_response_on.isoformat()
                plan.step("campaign members", "CampaignMember", WriteAction.CREATE, order=60,
                          bulk_key=("CampaignId", "LeadId", "ContactId")).writes.append(
                    PlannedWrite(ref, "CampaignMember", None, fields, depends=depends,
                                 map_ids=map_ids,
                                 group=campaign[1] if campaign[0] == "id" else None))
                continue
            changed: dict[str, Any] = {}
            before: dict[str, Any] = {}
            current_status = existing.fields.get(status_name)
            best = furthest(current_status, state.status, self.mappings)
            if best != current_status:
                changed[status_name], before[status_name] = best, current_status
            if first_decl is not None and state.first_response_on:
                have = canonical(first_decl, existing.fields.get(first_decl.api_name))
                if have is None:
                    changed[first_decl.api_name] = state.first_response_on.isoformat()
                    before[first_decl.api_name] = None
            if changed:
                plan.step("campaign member updates", "CampaignMember", WriteAction.UPDATE,
                          order=61).writes.append(
                    PlannedWrite(ref, "CampaignMember", existing.id, changed, before=before,
                                 map_ids=map_ids, group=existing.parent_id))
            else:
                plan.unchanged["CampaignMember"] += 1


class _Index(MemoryIndex):
    """Candidates for matching one batch of people."""

    def __init__(self, rows: Iterable[MirrorRow]) -> None:
        self.rows = list(rows)
        super().__init__(self.rows)


def _text(value: Any) -> str | None:
    return None if value is None else str(value)
