"""The executor with a fake writer and a fake query client: ids flow from creates to
dependants, failures become dead letters under stable keys, implicit records are
looked up once and nothing is re-planned, DUPLICATE_VALUE becomes an update."""

from __future__ import annotations

from collections import Counter

from connector.mappings import Mappings
from connector.plan.model import Plan, PlannedWrite
from connector.run.execute import DEPENDENCY_FAILED, Executor
from connector.state.store import StateStore
from tests.factories import person, program, touch
from tests.plan.conftest import (
    FakeClient,
    FakeOrg,
    FakeWriter,
    campaign_as_planned,
    fill,
    lead,
    plan_run,
    sf_id,
)

ADA = "ada@acme.com"
WEBINAR = program("P-W", "Webinar")
C1 = sf_id("Campaign", 1)
L1 = sf_id("Lead", 1)
MEMBER_REF = "CampaignMember:P-W:M-1"


def executor(store: StateStore, maps: Mappings, run_id: int, writer: FakeWriter,
             org: FakeOrg) -> tuple[Executor, FakeClient]:
    client = FakeClient(org)
    return Executor(client, writer, store, maps, run_id), client  # type: ignore[arg-type]


def new_world(store: StateStore, run_id: int) -> None:
    """A new program and a person nobody matches: everything is created."""
    fill(store, run_id, programs=[WEBINAR], people=[person("M-1", ADA)],
         touches=[touch("t1", 3, "webinar_registered", program=WEBINAR)])


def planned(plan: Plan) -> list[tuple[str, str]]:
    return [(s.sobject, w.ref) for s in plan.steps for w in s.writes]


def sent(writer: FakeWriter) -> list[tuple[str, str]]:
    return [(sobject, op.ref) for sobject, _, ops in writer.calls for op in ops]


def test_ids_flow_from_creates_to_their_dependants(store: StateStore, run_id: int,
                                                   maps: Mappings) -> None:
    new_world(store, run_id)
    plan, _ = plan_run(store, maps, {"M-1"})
    org = FakeOrg()
    writer = FakeWriter(org)
    ex, client = executor(store, maps, run_id, writer, org)
    outcome = ex.execute(plan)
    assert outcome.failed == 0 and outcome.stopped is None
    # exactly the planned writes, in step order: nothing re-planned
    assert sent(writer) == planned(plan)
    campaign_id = org.records["Campaign"][0]["Id"]
    lead_id = org.records["Lead"][0]["Id"]
    new_lead = org.records["Lead"][0]
    assert new_lead["First_Touch_Campaign__c"] == campaign_id
    cm, = org.records["CampaignMember"]
    assert (cm["CampaignId"], cm["LeadId"], cm["Status"]) == (campaign_id, lead_id,
                                                              "Registered")
    created_statuses = [r for r in org.records["CampaignMemberStatus"]
                        if r["Label"] not in ("Sent", "Responded")]
    assert {r["CampaignId"] for r in created_statuses} == {campaign_id}
    # Salesforce's own "Responded" got the ladder's sort order, by its looked-up id
    responded = next(r for r in org.records["CampaignMemberStatus"]
                     if r["Label"] == "Responded")
    assert responded["SortOrder"] == 8
    assert sum("FROM CampaignMemberStatus" in s for s in client.statements) == 1
    # the state learned the results
    assert store.links(["M-1"])["M-1"].sf_id == lead_id
    assert store.mirror_get("Lead", [lead_id])[lead_id].map_key == "m-1"
    assert store.written("Lead", [lead_id])[lead_id]["MAP_Id__c"] == "M-1"
    assert store.dead_letter_count() == {}
    assert outcome.objects["Campaign"]["created"] == 1
    assert outcome.objects["CampaignMemberStatus"] == {"created": 7, "updated": 1,
                                                       "unchanged": 1, "failed": 0}
    assert outcome.objects["CampaignMember"]["created"] == 1


def test_a_failed_create_blocks_its_dependants(store: StateStore, run_id: int,
                                               maps: Mappings) -> None:
    new_world(store, run_id)
    plan, _ = plan_run(store, maps, {"M-1"})
    org = FakeOrg()
    writer = FakeWriter(org, fail={"Lead:M-1": ("REQUIRED_FIELD_MISSING", "LastName")})
    ex, _ = executor(store, maps, run_id, writer, org)
    outcome = ex.execute(plan)
    assert ("CampaignMember", MEMBER_REF) not in sent(writer)
    dead = {d.ref: d for d in store.dead_letters("failed_write")}
    assert set(dead) == {"Lead:M-1", MEMBER_REF}
    assert dead["Lead:M-1"].error_code == "REQUIRED_FIELD_MISSING"
    assert dead[MEMBER_REF].error_code == DEPENDENCY_FAILED
    assert "Lead:M-1" in dead[MEMBER_REF].message
    assert dead[MEMBER_REF].payload["map_ids"] == ["M-1"]
    assert dead[MEMBER_REF].payload["depends"]["LeadId"] == "Lead:M-1"
    assert outcome.failed == 2
    assert outcome.objects["Lead"]["failed"] == 1
    assert outcome.objects["CampaignMember"]["failed"] == 1
    assert sorted(f.category for f in store.findings(run_id)) == ["failed_write"] * 2
    assert store.links(["M-1"]) == {}  # no record, no link


def test_an_implicit_status_that_is_missing_fails_without_replanning(
        store: StateStore, run_id: int, maps: Mappings) -> None:
    new_world(store, run_id)
    plan, _ = plan_run(store, maps, {"M-1"})
    org = FakeOrg(default_statuses=False)  # an org that makes no default statuses
    writer = FakeWriter(org)
    ex, client = executor(store, maps, run_id, writer, org)
    ex.execute(plan)
    assert sent(writer) == [w for w in planned(plan)
                            if w[1] != "CampaignMemberStatus:P-W:Responded"]
    assert sum("FROM CampaignMemberStatus" in s for s in client.statements) == 1
    dead, = store.dead_letters("failed_write")
    assert (dead.ref, dead.error_code) == ("CampaignMemberStatus:P-W:Responded",
                                           DEPENDENCY_FAILED)


def _existing_world(store: StateStore, run_id: int, maps: Mappings) -> None:
    """An existing campaign and Lead; the member is unknown to the mirror."""
    fill(store, run_id, programs=[WEBINAR],
         rows=[campaign_as_planned(WEBINAR, maps, 1), lead(1, ADA)],
         people=[person("M-1", ADA)],
         touches=[touch("t1", 3, "webinar_registered", program=WEBINAR)])


def _member_plan(store: StateStore, maps: Mappings) -> Plan:
    plan, _ = plan_run(store, maps, {"M-1"})
    members = next(s for s in plan.steps if s.name == "campaign members")
    out = Plan()
    out.steps.append(members)
    assert [w.ref for w in members.writes] == [MEMBER_REF]
    return out


def test_duplicate_member_is_updated_instead(store: StateStore, run_id: int,
                                            maps: Mappings) -> None:
    _existing_world(store, run_id, maps)
    plan = _member_plan(store, maps)
    org = FakeOrg()
    existing = sf_id("CampaignMember", 7)
    org.add("CampaignMember", {"Id": existing, "CampaignId": C1, "LeadId": L1,
                               "ContactId": None, "Status": "Sent"})
    writer = FakeWriter(org, fail={MEMBER_REF: ("DUPLICATE_VALUE", "already a member")},
                        fail_actions=frozenset({"create"}))
    ex, _ = executor(store, maps, run_id, writer, org)
    outcome = ex.execute(plan)
    assert [(action, [(op.ref, op.id, dict(op.fields)) for op in ops])
            for _, action, ops in writer.calls] == [
        ("create", [(MEMBER_REF, None, {"Status": "Registered", "CampaignId": C1,
                                        "LeadId": L1,
                                        "First_Response_Date__c": "2026-01-08"})]),
        ("update", [(MEMBER_REF, existing, {"Status": "Registered",
                                            "First_Response_Date__c": "2026-01-08"})])]
    assert store.dead_letter_count() == {} and outcome.failed == 0
    assert outcome.objects["CampaignMember"]["updated"] == 1
    assert store.mirror_get("CampaignMember", [existing])[existing].fields["Status"] == \
        "Registered"


def test_duplicate_member_further_along_is_left_alone(store: StateStore, run_id: int,
                                                      maps: Mappings) -> None:
    _existing_world(store, run_id, maps)
    org = FakeOrg()
    org.add("CampaignMember", {"Id": sf_id("CampaignMember", 7), "CampaignId": C1,
                               "LeadId": L1, "ContactId": None, "Status": "Attended",
                               "First_Response_Date__c": "2026-01-02"})
    writer = FakeWriter(org, fail={MEMBER_REF: ("DUPLICATE_VALUE", "already a member")})
    ex, _ = executor(store, maps, run_id, writer, org)
    outcome = ex.execute(_member_plan(store, maps))
    assert [action for _, action, _ in writer.calls] == ["create"]  # nothing to update
    assert outcome.objects["CampaignMember"]["unchanged"] == 1
    assert store.dead_letter_count() == {}


def test_a_duplicate_that_cannot_be_found_is_a_dead_letter(store: StateStore, run_id: int,
                                                           maps: Mappings) -> None:
    _existing_world(store, run_id, maps)
    org = FakeOrg()
    writer = FakeWriter(org, fail={MEMBER_REF: ("DUPLICATE_VALUE", "already a member")})
    ex, _ = executor(store, maps, run_id, writer, org)
    outcome = ex.execute(_member_plan(store, maps))
    dead, = store.dead_letters("failed_write")
    assert (dead.ref, dead.error_code) == (MEMBER_REF, "DUPLICATE_VALUE")
    assert outcome.failed == 1


def test_dead_letters_keep_stable_keys_across_runs_and_resolve_on_success(
        store: StateStore, run_id: int, maps: Mappings) -> None:
    _existing_world(store, run_id, maps)
    # a dead letter an older version kept under the ``new:`` form of the ref
    store.add_failed_write(run_id, "CampaignMember", "CampaignMember:P-W:new:M-1", "M-1",
                           "UNABLE_TO_LOCK_ROW", "locked", {})
    org = FakeOrg()
    failing = FakeWriter(org, fail={MEMBER_REF: ("FIELD_CUSTOM_VALIDATION_EXCEPTION", "no")})
    for attempt in (1, 2):
        run = store.start_run("sync", touch("x", 0).occurred_at)
        ex, _ = executor(store, maps, run, failing, org)
        ex.execute(_member_plan(store, maps))
        mine = [d for d in store.dead_letters("failed_write") if d.ref == MEMBER_REF]
        assert [d.attempts for d in mine] == [attempt]
    run = store.start_run("sync", touch("x", 0).occurred_at)
    ex, _ = executor(store, maps, run, FakeWriter(org), org)
    ex.execute(_member_plan(store, maps))
    assert store.dead_letters("failed_write") == []


def test_a_stop_leaves_the_rest_counted_and_unwritten(store: StateStore, run_id: int,
                                                      maps: Mappings) -> None:
    new_world(store, run_id)
    plan, _ = plan_run(store, maps, {"M-1"})
    org = FakeOrg()
    writer = FakeWriter(org, stop_after=1)  # the campaign is written, then the budget ends
    ex, _ = executor(store, maps, run_id, writer, org)
    outcome = ex.execute(plan)
    assert outcome.stopped is not None
    assert len(writer.calls) == 2  # the stopped call; no step after it is attempted
    assert outcome.remaining == Counter({"CampaignMemberStatus": 8, "Lead": 1,
                                         "CampaignMember": 1})
    assert store.dead_letter_count() == {}  # what was not attempted is not a failure


def test_keep_ids_drops_a_finished_batchs_ids(store: StateStore, run_id: int,
                                              maps: Mappings) -> None:
    org = FakeOrg(default_statuses=False)
    writer = FakeWriter(org)
    ex, _ = executor(store, maps, run_id, writer, org)
    first = Plan()
    first.step("campaigns (level 0)", "Campaign", "upsert", order=10,
               external_id_field="MAP_Program_Id__c").writes.append(
        PlannedWrite("Campaign:P-W", "Campaign", None, {"MAP_Program_Id__c": "P-W"}))
    first.step("new leads", "Lead", "upsert", order=50,
               external_id_field="MAP_Id__c").writes.append(
        PlannedWrite("Lead:M-1", "Lead", None, {"MAP_Id__c": "M-1"}, map_ids=("M-1",)))
    ex.execute(first)
    assert set(ex.ids) == {"Campaign:P-W", "Lead:M-1"}
    ex.keep_ids({"Campaign:P-W"})
    assert set(ex.ids) == {"Campaign:P-W"}
    later = Plan()
    later.step("campaign members", "CampaignMember", "create", order=60).writes += [
        PlannedWrite("CampaignMember:P-W:M-2", "CampaignMember", None, {"Status": "Sent",
                                                                         "LeadId": L1},
                     depends={"CampaignId": "Campaign:P-W"}, map_ids=("M-2",)),
        PlannedWrite("CampaignMember:P-W:M-1", "CampaignMember", None, {"Status": "Sent"},
                     depends={"CampaignId": "Campaign:P-W", "LeadId": "Lead:M-1"},
                     map_ids=("M-1",))]
    ex.execute(later)
    assert [op.ref for op in writer.calls[-1][2]] == ["CampaignMember:P-W:M-2"]
    assert writer.calls[-1][2][0].fields["CampaignId"] == ex.ids["Campaign:P-W"]
    dead, = store.dead_letters("failed_write")
    assert (dead.ref, dead.error_code) == ("CampaignMember:P-W:M-1", DEPENDENCY_FAILED)


def test_execute_records_the_plans_links_and_findings(store: StateStore, run_id: int,
                                                      maps: Mappings) -> None:
    fill(store, run_id, people=[person("M-1", ADA)], rows=[lead(1, ADA), lead(2, ADA)])
    plan, _ = plan_run(store, maps, {"M-1"})
    org = FakeOrg()
    ex, _ = executor(store, maps, run_id, FakeWriter(org), org)
    ex.execute(plan)
    assert store.links(["M-1"])["M-1"].sf_id == L1
    assert [f.category for f in store.findings(run_id)] == ["duplicate"]


def test_a_stop_while_updating_a_duplicate_stops_the_run(store: StateStore, run_id: int,
                                                         maps: Mappings) -> None:
    _existing_world(store, run_id, maps)
    org = FakeOrg()
    org.add("CampaignMember", {"Id": sf_id("CampaignMember", 7), "CampaignId": C1,
                               "LeadId": L1, "ContactId": None, "Status": "Sent"})
    # the create meets DUPLICATE_VALUE; the budget ends before the update is sent
    writer = FakeWriter(org, fail={MEMBER_REF: ("DUPLICATE_VALUE", "already a member")},
                        fail_actions=frozenset({"create"}), stop_after=1)
    ex, _ = executor(store, maps, run_id, writer, org)
    outcome = ex.execute(_member_plan(store, maps))
    assert [action for _, action, _ in writer.calls] == ["create", "update"]
    assert outcome.stopped is not None  # the run must not end "ok" without the update
    assert outcome.remaining == Counter({"CampaignMember": 1})


def test_a_failed_lead_create_is_resolved_when_the_person_lands_on_an_existing_lead(
        store: StateStore, run_id: int, maps: Mappings) -> None:
    fill(store, run_id, people=[person("M-1", ADA)])
    org = FakeOrg()
    plan, _ = plan_run(store, maps, {"M-1"})
    rejected = FakeWriter(org, fail={"Lead:M-1": ("DUPLICATES_DETECTED", "a duplicate rule")})
    executor(store, maps, run_id, rejected, org)[0].execute(plan)
    assert [d.ref for d in store.dead_letters("failed_write")] == ["Lead:M-1"]
    # someone makes the Lead by hand; the next run matches it and writes to it
    store.mirror_upsert([lead(1, ADA)])
    run = store.start_run("sync", touch("x", 0).occurred_at)
    plan, _ = plan_run(store, maps, {"M-1"})
    writer = FakeWriter(org)
    executor(store, maps, run, writer, org)[0].execute(plan)
    assert sent(writer) == [("Lead", f"Lead:{L1}")]
    assert store.dead_letters("failed_write") == []  # else M-1 is re-planned forever


def test_implicit_statuses_of_many_new_campaigns_take_one_query(
        store: StateStore, run_id: int, maps: Mappings) -> None:
    programs = [program(f"P-{i}", "Webinar") for i in range(5)]
    fill(store, run_id, programs=programs)
    plan, _ = plan_run(store, maps, set())
    org = FakeOrg()
    writer = FakeWriter(org)
    ex, client = executor(store, maps, run_id, writer, org)
    outcome = ex.execute(plan)
    status_queries = [s for s in client.statements if "FROM CampaignMemberStatus" in s]
    assert len(status_queries) == 1
    assert all(r["Id"] in status_queries[0] for r in org.records["Campaign"])
    assert outcome.objects["CampaignMemberStatus"]["updated"] == 5
    assert store.dead_letter_count() == {}
    # the defaults were learned by the mirror too
    assert len(store.mirror_by("CampaignMemberStatus", "parent_id",
                               [r["Id"] for r in org.records["Campaign"]])) == 5 * 9


def test_duplicate_status_is_updated_instead(store: StateStore, run_id: int,
                                            maps: Mappings) -> None:
    fill(store, run_id, programs=[WEBINAR], rows=[campaign_as_planned(WEBINAR, maps, 1)])
    plan, _ = plan_run(store, maps, set())
    org = FakeOrg()
    opened = sf_id("CampaignMemberStatus", 9)
    org.add("CampaignMemberStatus", {"Id": opened, "CampaignId": C1, "Label": "Opened",
                                     "HasResponded": False, "IsDefault": False,
                                     "SortOrder": 5})
    ref = "CampaignMemberStatus:P-W:Opened"
    writer = FakeWriter(org, fail={ref: ("DUPLICATE_VALUE", "label in use")},
                        fail_actions=frozenset({"create"}))
    ex, _ = executor(store, maps, run_id, writer, org)
    outcome = ex.execute(plan)
    sobject, action, ops = writer.calls[-1]
    assert (sobject, action) == ("CampaignMemberStatus", "update")
    assert [(op.ref, op.id, dict(op.fields)) for op in ops] == [(ref, opened, {"SortOrder": 2})]
    assert outcome.objects["CampaignMemberStatus"] == {"created": 8, "updated": 1,
                                                       "unchanged": 0, "failed": 0}
    assert store.dead_letter_count() == {}
