"""The planner against a real state store filled through its own methods:
campaigns, member statuses, matching, new Leads, person records and members."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from connector.mappings import Mappings
from connector.plan.model import Plan
from connector.state.store import StateStore
from connector.values import Link, MirrorRow
from tests.factories import T0, person, program, touch
from tests.plan.conftest import (
    account,
    campaign_as_planned,
    contact,
    fill,
    lead,
    member,
    plan_all,
    planner,
    sf_id,
    status_row,
    with_sync,
    writes,
)

WEBINAR = program("P-W", "Webinar")
C1 = sf_id("Campaign", 1)


# ----------------------------------------------------------- campaigns


def test_new_campaigns_are_planned_by_level_with_parents_as_dependencies(
        store: StateStore, run_id: int, maps: Mappings) -> None:
    fill(store, run_id, programs=[program("kid", parent_id="top"), program("top"),
                                  program("grandkid", parent_id="kid")])
    plan = Plan()
    p = planner(store, maps)
    p.plan_campaigns(plan)
    assert [(s.name, s.order, s.action, s.external_id_field) for s in plan.steps] == [
        ("campaigns (level 0)", 10, "upsert", "MAP_Program_Id__c"),
        ("campaigns (level 1)", 11, "upsert", "MAP_Program_Id__c"),
        ("campaigns (level 2)", 12, "upsert", "MAP_Program_Id__c")]
    top, = writes(plan, "campaigns (level 0)")
    kid, = writes(plan, "campaigns (level 1)")
    grandkid, = writes(plan, "campaigns (level 2)")
    assert top.depends == {} and top.fields["MAP_Program_Id__c"] == "top"
    assert kid.depends == {"ParentId": "Campaign:top"}
    assert grandkid.depends == {"ParentId": "Campaign:kid"}
    assert top.is_create and kid.is_create
    assert p.campaigns == {"top": ("ref", "Campaign:top"), "kid": ("ref", "Campaign:kid"),
                           "grandkid": ("ref", "Campaign:grandkid")}


def test_a_new_child_of_an_existing_campaign_names_the_parent_id(
        store: StateStore, run_id: int, maps: Mappings) -> None:
    top = program("top")
    fill(store, run_id, programs=[top, program("kid", parent_id="top")],
         rows=[campaign_as_planned(top, maps, 1)])
    plan = Plan()
    planner(store, maps).plan_campaigns(plan)
    kid, = writes(plan, "campaigns (level 1)")
    assert kid.depends == {} and kid.fields["ParentId"] == C1
    assert plan.unchanged["Campaign"] == 1
    assert writes(plan, "campaign updates") == []


def test_an_existing_campaign_is_updated_with_changed_fields_only_and_drift_named(
        store: StateStore, run_id: int, maps: Mappings) -> None:
    fill(store, run_id, programs=[WEBINAR],
         rows=[campaign_as_planned(WEBINAR, maps, 1, Name="Renamed by hand",
                                   Channel__c="Event")])
    store.set_written(run_id, "Campaign", [(C1, "Name", "Program P-W")])
    plan = Plan()
    p = planner(store, maps)
    p.plan_campaigns(plan)
    update, = writes(plan, "campaign updates")
    assert update.record_id == C1 and not update.is_create
    assert update.fields == {"Name": "Program P-W", "Channel__c": "Webinar"}
    assert update.before == {"Name": "Renamed by hand", "Channel__c": "Event"}
    assert update.drift == ("Name",)  # the connector wrote Name; Channel__c it never did
    assert p.campaigns == {"P-W": ("id", C1)}


def test_unmapped_programs_become_findings(store: StateStore, run_id: int,
                                           maps: Mappings) -> None:
    odd = program("P-X", "Carrier pigeon")
    fill(store, run_id, programs=[odd], people=[person()],
         touches=[touch("t1", 1, program_id="P-GONE"), touch("t2", 2, program_id="P-GONE")])
    plan = Plan()
    planner(store, maps).plan_campaigns(plan)
    found = sorted((f.category, f.field or "", f.expected_value) for f in plan.findings)
    assert found == [("unmapped_program", "", "P-GONE"),
                     ("unmapped_program", "Channel__c", "Carrier pigeon")]
    gone = next(f for f in plan.findings if f.expected_value == "P-GONE")
    assert gone.detail is not None and gone.detail.startswith("2 touch(es)")
    # an unmapped channel still gets its campaign
    assert len(writes(plan, "campaigns (level 0)")) == 1


# ------------------------------------------------------------ statuses


def _statuses(store: StateStore, maps: Mappings, existing: dict[str, str],
              rows: dict[str, list[MirrorRow]], new: Sequence[str] = ()) -> Plan:
    plan = Plan()
    planner(store, maps).plan_statuses(plan, existing, rows, new_campaign_refs=new)
    return plan


def test_an_existing_campaign_without_statuses_gets_the_whole_ladder(
        store: StateStore, maps: Mappings) -> None:
    plan = _statuses(store, maps, {"P-W": C1}, {})
    creates = writes(plan, "member statuses")
    labels = [s.label for s in maps.touches.member_statuses]
    assert [w.fields["Label"] for w in creates] == labels
    assert all(w.fields["CampaignId"] == C1 and w.group == C1 and w.is_create
               and not w.depends for w in creates)
    sent = creates[0]
    assert sent.fields == {"Label": "Sent", "HasResponded": False, "IsDefault": True,
                           "SortOrder": 1, "CampaignId": C1}
    assert plan.steps[0].bulk_key == ("CampaignId", "Label")


def test_existing_statuses_are_updated_only_where_they_differ(
        store: StateStore, maps: Mappings) -> None:
    rows = [status_row(1, C1, "Sent", responded=False, default=True, sort_order=1),
            status_row(2, C1, "Responded", responded=True, default=False, sort_order=2),
            # default elsewhere: Salesforce moves the default by itself, never unset
            status_row(3, C1, "Opened", responded=False, default=True, sort_order=2)]
    plan = _statuses(store, maps, {"P-W": C1}, {C1: rows})
    update, = writes(plan, "member status updates")
    assert update.record_id == sf_id("CampaignMemberStatus", 2)
    assert update.fields == {"SortOrder": 8} and update.before == {"SortOrder": 2}
    assert update.group == C1 and update.depends == {}
    assert plan.unchanged["CampaignMemberStatus"] == 2
    created = {w.fields["Label"] for w in writes(plan, "member statuses")}
    assert created == {s.label for s in maps.touches.member_statuses} - {
        "Sent", "Responded", "Opened"}


def test_a_new_campaign_updates_salesforce_defaults_and_creates_the_rest(
        store: StateStore, maps: Mappings) -> None:
    plan = _statuses(store, maps, {}, {}, new=["Campaign:P-W"])
    assert plan.implicit == {"CampaignMemberStatus:P-W:sent": ("Campaign:P-W", "sent"),
                             "CampaignMemberStatus:P-W:responded": ("Campaign:P-W", "responded")}
    update, = writes(plan, "member status updates")
    assert update.record_id is None and not update.is_create
    assert update.depends == {"Id": "CampaignMemberStatus:P-W:responded"}
    assert update.fields == {"SortOrder": 8}
    creates = writes(plan, "member statuses")
    assert {w.fields["Label"] for w in creates} == {
        s.label for s in maps.touches.member_statuses} - {"Sent", "Responded"}
    assert all(w.depends == {"CampaignId": "Campaign:P-W"} and "CampaignId" not in w.fields
               for w in creates)
    assert plan.unchanged["CampaignMemberStatus"] == 1  # Sent is already right
    assert plan.counts()["CampaignMemberStatus"] == {"create": 7, "update": 1,
                                                     "unchanged": 1}


# ------------------------------------------------------------ matching

ADA = "ada@acme.com"
L1, L2, L3, L5 = (sf_id("Lead", n) for n in (1, 2, 3, 5))
K1, K2, K3 = (sf_id("Contact", n) for n in (1, 2, 3))


@pytest.mark.parametrize(("who", "rows", "links", "sobject", "record", "rule", "converted"), [
    pytest.param({"sfdc_contact_id": K1}, [contact(1, "other@x.com")], [], "Contact", K1,
                 "sfdc_contact_id", set(), id="the-maps-contact-id"),
    pytest.param({"sfdc_lead_id": L1}, [contact(2), lead(1, converted_to=K2)], [], "Contact",
                 K2, "sfdc_lead_id_converted", {L1}, id="the-maps-lead-id-converted"),
    pytest.param({}, [lead(1, ADA), contact(1, map_id="M-1")], [], "Contact", K1,
                 "map_id_contact", set(), id="map-id-on-a-contact-beats-email"),
    pytest.param({}, [lead(1, map_id="M-1"), contact(1, "b@acme.com")], [], "Lead", L1,
                 "map_id_lead", set(), id="map-id-on-a-lead"),
    pytest.param({}, [lead(1, ADA), contact(1, ADA)], [], "Contact", K1, "email_contact",
                 set(), id="email-contacts-before-leads"),
    pytest.param({}, [lead(2, ADA, created="2025-03-01T00:00:00.000+0000"),
                      lead(3, ADA, created="2025-02-01T00:00:00.000+0000")], [], "Lead", L3,
                 "email_lead", set(), id="email-oldest-of-duplicate-leads"),
    pytest.param({}, [contact(3), lead(1, ADA, converted_to=K3)], [], "Contact", K3,
                 "email_lead_converted", {L1}, id="email-of-a-converted-lead"),
    pytest.param({}, [lead(5, "old@acme.com"), contact(1, ADA)],
                 [Link("M-1", "Lead", L5, "email_lead", {})], "Lead", L5, "email_lead", set(),
                 id="an-earlier-link-stays-while-its-record-lives"),
])
def test_matching_rules(store: StateStore, run_id: int, maps: Mappings, who: dict[str, Any],
                        rows: list[MirrorRow], links: list[Link], sobject: str, record: str,
                        rule: str, converted: set[str]) -> None:
    fill(store, run_id, people=[person("M-1", ADA, **who)], rows=rows, links=links)
    plan = Plan()
    target, = planner(store, maps).match_people(plan, {"M-1"})
    assert (target.sobject, target.sf_id, target.key, target.map_ids) == \
        (sobject, record, record, ["M-1"])
    assert target.converted_from == converted
    assert (plan.links["M-1"].sobject, plan.links["M-1"].sf_id, plan.links["M-1"].rule) == \
        (sobject, record, rule)
    assert plan.people_in_scope == 1


def test_duplicates_and_accounts_are_reported_with_the_oldest_kept(
        store: StateStore, run_id: int, maps: Mappings) -> None:
    fill(store, run_id, people=[person("M-1", ADA)],
         rows=[lead(2, ADA, created="2025-03-01T00:00:00.000+0000"),
               lead(3, ADA, created="2025-02-01T00:00:00.000+0000"),
               account(1, "https://www.acme.com", created="2025-05-01T00:00:00.000+0000"),
               account(2, "acme.com", created="2025-04-01T00:00:00.000+0000")])
    plan = Plan()
    planner(store, maps).match_people(plan, {"M-1"})
    assert plan.links["M-1"].account_id == sf_id("Account", 2)
    dups = {(f.object, f.record_id) for f in plan.findings if f.category == "duplicate"}
    assert dups == {("Lead", L3), ("Account", sf_id("Account", 2))}


def test_people_outside_the_scope_sharing_a_record_come_along(
        store: StateStore, run_id: int, maps: Mappings) -> None:
    fill(store, run_id, people=[person("M-1", ADA), person("M-2", "ada.old@acme.com")],
         rows=[lead(1, ADA)], links=[Link("M-2", "Lead", L1, "email_lead", {})])
    target, = planner(store, maps).match_people(Plan(), {"M-1"})
    assert target.map_ids == ["M-1", "M-2"]


# ------------------------------------------------------------ new leads


def test_unmatched_people_sharing_an_email_become_one_new_lead(
        store: StateStore, run_id: int, maps: Mappings) -> None:
    fill(store, run_id, people=[
        person("M-1", ADA, created_at=T0), person("M-2", "ADA@acme.com", created_at=T0),
        person("M-3", "not an email"), person("M-4", None)])
    plan = Plan()
    targets = planner(store, maps).match_people(plan, {"M-1", "M-2", "M-3", "M-4"})
    assert [(t.key, t.sobject, t.sf_id, t.map_ids, t.ref) for t in targets] == [
        ("new:M-1", "Lead", None, ["M-1", "M-2"], "Lead:M-1")]
    assert plan.skipped == {"invalid_email": 2}
    categories = sorted((f.category, f.map_id) for f in plan.findings)
    assert categories == [("duplicate", "M-1"), ("missing_in_salesforce", "M-3"),
                          ("missing_in_salesforce", "M-4")]


@pytest.mark.parametrize(("policy", "created", "skipped", "missing"), [
    pytest.param("always", ["Lead:M-1", "Lead:M-3"], {}, 0, id="always"),
    pytest.param("never", [], {"create_leads=never": 3}, 2, id="never"),
    # the connector's own MQL decides, not the MAP's stage: nobody here has the
    # responses to reach it
    pytest.param("mql", [], {"create_leads=mql": 3}, 2, id="mql-by-the-connectors-lifecycle"),
])
def test_create_leads_policy(store: StateStore, run_id: int, maps: Mappings, policy: str,
                             created: list[str], skipped: dict[str, int], missing: int) -> None:
    fill(store, run_id, people=[
        person("M-1", ADA, map_lifecycle_stage="Lead"),
        # the MAP says M-2 is an MQL; the older M-1 carries the group
        person("M-2", ADA, map_lifecycle_stage="MQL", created_at=T0),
        person("M-3", "bob@acme.com", map_lifecycle_stage="Subscriber")])
    plan = Plan()
    plnr = planner(store, with_sync(maps, create_leads=policy))
    targets = plnr.match_people(plan, {"M-1", "M-2", "M-3"})
    plnr.plan_targets(plan, targets)
    assert [w.ref for s in plan.steps if s.name == "new leads" for w in s.writes] == created
    assert dict(plan.skipped) == skipped
    assert sum(f.category == "missing_in_salesforce" for f in plan.findings) == missing


# -------------------------------------------------------- person records


def test_a_new_lead_and_its_member_depend_on_the_lead_create(
        store: StateStore, run_id: int, maps: Mappings) -> None:
    fill(store, run_id, programs=[WEBINAR], rows=[campaign_as_planned(WEBINAR, maps, 1)],
         people=[person("M-1", ADA, company="Acme")],
         touches=[touch("t1", 3, "webinar_registered", program=WEBINAR)])
    plan, _ = plan_all(store, maps, {"M-1"})
    new, = writes(plan, "new leads")
    assert new.ref == "Lead:M-1" and new.is_create and new.map_ids == ("M-1",)
    assert new.fields["MAP_Id__c"] == "M-1" and new.fields["Email"] == ADA
    assert new.fields["Company"] == "Acme"  # the MAP's value wins over the default
    assert new.fields["LastName"] == "[not provided]"
    assert new.fields["Status"] == "Open - Not Contacted"
    assert new.fields["First_Touch_Campaign__c"] == C1 and new.depends == {}
    assert plan.steps[[s.name for s in plan.steps].index("new leads")].external_id_field == \
        "MAP_Id__c"
    link = plan.links["M-1"]
    assert (link.sf_id, link.rule) == ("", "created")
    cm, = writes(plan, "campaign members")
    assert cm.ref == "CampaignMember:P-W:M-1" and cm.map_ids == ("M-1",)
    assert cm.fields == {"Status": "Registered", "CampaignId": C1,
                         "First_Response_Date__c": "2026-01-08"}
    assert cm.depends == {"LeadId": "Lead:M-1"} and cm.group == C1


def test_records_of_a_new_campaign_depend_on_its_create(
        store: StateStore, run_id: int, maps: Mappings) -> None:
    fill(store, run_id, programs=[WEBINAR], people=[person("M-1", ADA)],
         rows=[lead(1, ADA)], touches=[touch("t1", 3, "webinar_registered", program=WEBINAR)])
    plan, _ = plan_all(store, maps, {"M-1"})
    update, = writes(plan, "lead updates")
    assert update.depends == {"First_Touch_Campaign__c": "Campaign:P-W",
                              "Last_Touch_Campaign__c": "Campaign:P-W"}
    cm, = writes(plan, "campaign members")
    assert cm.depends == {"CampaignId": "Campaign:P-W"}
    assert cm.fields["LeadId"] == L1 and cm.group is None


def test_replanning_after_the_writes_landed_plans_nothing(
        store: StateStore, run_id: int, maps: Mappings) -> None:
    fill(store, run_id, programs=[WEBINAR], rows=[campaign_as_planned(WEBINAR, maps, 1),
                                                  contact(1, ADA, account=sf_id("Account", 9))],
         people=[person("M-1", ADA, title="VP")],
         touches=[touch("t1", 3, "webinar_registered", program=WEBINAR)])
    plan, _ = plan_all(store, maps, {"M-1"})
    update, = writes(plan, "contact updates")
    assert plan.steps[[s.name for s in plan.steps].index("contact updates")].order == 52
    assert update.record_id == K1 and update.group == sf_id("Account", 9)
    assert update.fields["Title"] == "VP" and update.before["Title"] is None
    cm, = writes(plan, "campaign members")
    # what a run would write, applied to the mirror and the written values
    store.mirror_patch("Contact", [(K1, update.fields)])
    store.set_written(run_id, "Contact", [(K1, k, v) for k, v in update.fields.items()])
    store.mirror_upsert([member(1, C1, contact_id=K1, **{
        k: v for k, v in cm.fields.items() if k not in ("CampaignId", "ContactId")})])
    again, _ = plan_all(store, maps, {"M-1"})
    assert again.total_writes == 0
    assert again.unchanged == {"Campaign": 1, "Contact": 1, "CampaignMember": 1}


def test_write_once_disagreement_is_a_finding(store: StateStore, run_id: int,
                                              maps: Mappings) -> None:
    fill(store, run_id, programs=[WEBINAR], rows=[campaign_as_planned(WEBINAR, maps, 1),
                                                  lead(1, ADA, Original_Source__c="Event")],
         people=[person("M-1", ADA)],
         touches=[touch("t1", 3, "webinar_registered", program=WEBINAR)])
    plan, _ = plan_all(store, maps, {"M-1"})
    conflict, = [f for f in plan.findings if f.category == "original_source_conflict"]
    assert (conflict.record_id, conflict.field, conflict.salesforce_value,
            conflict.expected_value) == (L1, "Original_Source__c", "Event", "Webinar")
    update, = writes(plan, "lead updates")
    assert "Original_Source__c" not in update.fields
    # the trio is one fact: detail and date stay with Salesforce's channel
    assert "Original_Source_Detail__c" not in update.fields
    assert "Original_Source_Date__c" not in update.fields


# ------------------------------------------------------------- members


@pytest.mark.parametrize(("have", "first", "want", "changed"), [
    pytest.param("Attended", "2026-01-08", "webinar_registered", None,
                 id="never-downgraded"),
    pytest.param("Sent", "2026-01-08", "webinar_registered", {"Status": "Registered"},
                 id="moved-up-the-ladder"),
    pytest.param("Registered", None, "webinar_registered",
                 {"First_Response_Date__c": "2026-01-08"}, id="first-response-filled-if-blank"),
    pytest.param("Registered", "2025-12-01", "webinar_registered", None,
                 id="first-response-kept-once-set"),
    pytest.param("VIP (by hand)", "2026-01-08", "webinar_attended", None,
                 id="a-status-off-the-ladder-is-kept"),
])
def test_member_update_or_unchanged(store: StateStore, run_id: int, maps: Mappings, have: str,
                                    first: str | None, want: str,
                                    changed: dict[str, Any] | None) -> None:
    fill(store, run_id, programs=[WEBINAR],
         rows=[campaign_as_planned(WEBINAR, maps, 1), lead(1, ADA),
               member(1, C1, lead_id=L1, status=have, First_Response_Date__c=first)],
         people=[person("M-1", ADA)], touches=[touch("t1", 3, want, program=WEBINAR)])
    plan, _ = plan_all(store, maps, {"M-1"})
    assert writes(plan, "campaign members") == []
    updates = writes(plan, "campaign member updates")
    if changed is None:
        assert updates == [] and plan.unchanged["CampaignMember"] == 1
        return
    update, = updates
    assert update.record_id == sf_id("CampaignMember", 1) and update.fields == changed
    assert update.group == C1 and update.ref == "CampaignMember:P-W:M-1"
    assert update.before == {k: {"Status": have, "First_Response_Date__c": first}[k]
                             for k in changed}


@pytest.mark.parametrize(("converted_member", "creates", "unchanged"), [
    pytest.param(True, 0, 1, id="the-converted-leads-member-is-the-contacts"),
    pytest.param(False, 1, 0, id="no-member-anywhere-is-a-create"),
])
def test_conversions_carry_the_leads_members(store: StateStore, run_id: int, maps: Mappings,
                                             converted_member: bool, creates: int,
                                             unchanged: int) -> None:
    rows = [campaign_as_planned(WEBINAR, maps, 1), contact(1, ADA),
            lead(1, "ada.lead@acme.com", converted_to=K1)]
    if converted_member:
        rows.append(member(1, C1, lead_id=L1, status="Attended",
                           First_Response_Date__c="2026-01-08"))
    fill(store, run_id, programs=[WEBINAR], rows=rows, people=[person("M-1", ADA)],
         touches=[touch("t1", 3, "webinar_registered", program=WEBINAR)])
    plan, targets = plan_all(store, maps, {"M-1"})
    target, = targets
    # matched by email to the Contact; the Lead converted into it is gathered
    assert plan.links["M-1"].rule == "email_contact"
    assert target.converted_from == {L1}
    assert len(writes(plan, "campaign members")) == creates
    assert writes(plan, "campaign member updates") == []
    assert plan.unchanged["CampaignMember"] == unchanged
    if creates:
        assert writes(plan, "campaign members")[0].fields["ContactId"] == K1


def test_members_of_unknown_programs_are_not_planned(store: StateStore, run_id: int,
                                                     maps: Mappings) -> None:
    fill(store, run_id, people=[person("M-1", ADA)], rows=[lead(1, ADA)],
         touches=[touch("t1", 3, "webinar_registered", program_id="P-GONE")])
    plan, _ = plan_all(store, maps, {"M-1"})
    assert writes(plan, "campaign members") == []


def test_people_missing_from_the_ledger_are_skipped(store: StateStore, run_id: int,
                                                    maps: Mappings) -> None:
    fill(store, run_id, people=[person("M-1", ADA)], rows=[lead(1, ADA)])
    plan, targets = plan_all(store, maps, {"M-1", "M-404"})
    assert [t.map_ids for t in targets] == [["M-1"]]
    assert plan.people_in_scope == 2
