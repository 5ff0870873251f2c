"""The audit against the emulator: each planted discrepancy is found, and nothing else."""

from __future__ import annotations

from typing import Any

import pytest

from connector.audit.run import AuditResult, run_audit
from tests.e2e.harness import AS_OF, Rig

pytestmark = pytest.mark.e2e


def _audit(rig: Rig, **kw: Any) -> AuditResult:
    store = rig.store()
    try:
        return run_audit(rig.settings(), rig.mappings, store, as_of=kw.pop("as_of", AS_OF),
                         http=rig.org.session(), sleep=lambda s: None, **kw)
    finally:
        store.close()


def _export(rig: Rig) -> Any:
    export = (rig.export()
              .program("W1", "Webinar", name="Spring webinar")
              .program("U1", "Telepathy", name="Mind reading")
              .touch("t1", "P1", "webinar_registered", 1, "W1")
              .touch("t2", "P2", "webinar_attended", 3, "W1")
              .touch("t3", "P3", "form_fill", 4, "W1")
              .touch("t4", "P4", "webinar_registered", 5, "W1")
              .touch("t5", "P5", "webinar_registered", 6, "W1")
              .touch("t7", "P7", "webinar_attended", 7, "W1"))
    for n, email in enumerate(("ada@acme.com", "bob@beta.com", "cy@gamma.com", "dee@delta.com",
                               "eve@eps.com", "fay@phi.com", "gus@gimel.com"), start=1):
        export.person(f"P{n}", email)
    export.touches.append({"touch_id": "bad1", "map_id": "P1", "touch_type": "form_fill",
                           "occurred_at": "last tuesday", "program_id": "W1"})
    return export


def _ids(rig: Rig, soql: str) -> dict[str, str]:
    return {r["MAP_Id__c"]: r["Id"] for r in rig.query(soql)}


def test_a_clean_org_after_a_sync_has_no_findings(rig: Rig) -> None:
    (rig.export().person("P1", "ada@acme.com").program("W1", "Webinar")
     .touch("t1", "P1", "webinar_registered", 1, "W1").write())
    assert rig.sync().status == "ok"
    result = _audit(rig)
    assert result.findings == [], [f.as_dict() for f in result.findings]
    assert result.actual == result.expected == {"Lead": 1, "Contact": 0, "Campaign": 1,
                                                "CampaignMember": 1}


def test_each_planted_discrepancy_is_found_and_nothing_else(rig: Rig) -> None:
    export = _export(rig)
    export.write()
    assert rig.sync().status == "ok"
    org, sf = rig.org, rig.org.salesforce()
    leads = _ids(rig, "SELECT Id, MAP_Id__c FROM Lead")
    # P7 becomes a customer contact with an opportunity (no attribution written yet)
    converted = org.convert_lead(leads["P7"], create_opportunity=True)
    assert rig.sync().status == "ok"
    contact_id = str(converted["contact_id"])
    # a second opportunity whose only credits sum to 60%
    opp = sf.Opportunity.create({"Name": "Expansion", "StageName": "Prospecting",
                                 "CloseDate": "2026-12-31"})["id"]
    sf.OpportunityContactRole.create({"OpportunityId": opp, "ContactId": contact_id})
    sf.Attribution__c.create({"Key__c": f"{opp}:t7:linear", "Opportunity__c": opp,
                              "Model__c": "linear", "Credit__c": 60})
    # a failed write: P5 responds again while every record write is locked
    export.touch("t5b", "P5", "form_fill", 20)
    export.write()
    org.set_faults([{"match": "composite/sobjects", "error": "UNABLE_TO_LOCK_ROW",
                     "scope": "record", "rate": 1.0, "seed": 1}])
    assert rig.sync().status == "partial"
    org.clear_faults()
    # hand edits through the API
    sf.Lead.update(leads["P1"], {"First_Touch_Channel__c": "Carrier Pigeon"})
    sf.Lead.update(leads["P4"], {"Original_Source__c": "Trade Show"})
    [member] = rig.query(f"SELECT Id FROM CampaignMember WHERE LeadId = '{leads['P2']}'")
    sf.CampaignMember.delete(member["Id"])
    dup1 = sf.Lead.create({"LastName": "Cy", "Company": "Gamma", "Email": "CY@gamma.com"})["id"]
    dup2 = sf.Lead.create({"LastName": "Cy", "Company": "Gamma", "Email": "cy@gamma.com"})["id"]
    ghost = sf.Lead.create({"LastName": "Ghost", "Company": "Nowhere",
                            "MAP_Id__c": "GHOST-1"})["id"]
    sf.Lead.delete(leads["P6"])

    result = _audit(rig)
    got = sorted((f.category, f.object, f.record_id, f.map_id, f.field)
                 for f in result.findings)
    expected = sorted([
        ("attribution_gap", "Opportunity", str(converted["opportunity_id"]), None,
         "Attribution__c"),
        ("attribution_gap", "Opportunity", opp, None, "Credit__c"),
        ("campaign_member_gap", "CampaignMember", None, "P2", "Status"),
        ("count_mismatch", "CampaignMember", None, None, None),
        ("duplicate", "Lead", leads["P3"], "P3", "Email"),
        ("failed_write", "Lead", leads["P5"], "P5", None),
        ("field_drift", "Lead", leads["P1"], "P1", "First_Touch_Channel__c"),
        ("missing_in_map", "Lead", ghost, "GHOST-1", "MAP_Id__c"),
        ("missing_in_salesforce", "Lead", leads["P6"], "P6", None),
        ("original_source_conflict", "Lead", leads["P4"], "P4", "Original_Source__c"),
        ("rejected_input", "touch", None, "bad1", "occurred_at"),
        ("unmapped_program", "Campaign", None, None, "Channel__c"),
    ])
    assert got == expected, [f.as_dict() for f in result.findings]
    by = {f.category: f for f in result.findings}
    drift = by["field_drift"]
    assert (drift.salesforce_value, drift.expected_value) == ("Carrier Pigeon", "Webinar")
    assert drift.extra["hand_edit"] is True
    assert set(by["duplicate"].extra["records"]) == {leads["P3"], dup1, dup2}
    assert by["failed_write"].extra["error_code"] == "UNABLE_TO_LOCK_ROW"
    assert by["count_mismatch"].salesforce_value == "5" and \
        by["count_mismatch"].expected_value == "6"
    assert "last tuesday" in (by["rejected_input"].expected_value or "")
    assert all(f.action for f in result.findings)
    data = result.as_json()
    assert data["summary"]["attribution_gap"] == 2 and sum(data["summary"].values()) == 12
    assert data["failed_writes_by_code"] == {"UNABLE_TO_LOCK_ROW": 1}
    assert data["api_calls"] > 0

    # findings are a current state: the next audit opens nothing new, and once the
    # causes are fixed they close with the audit's date
    again = _audit(rig)
    assert (again.opened, again.closed) == (0, 0)
    assert {f.key for f in again.findings} == {f.key for f in result.findings}
    sf.Lead.delete(ghost)
    later = AS_OF.replace(day=2)
    fixed = _audit(rig, as_of=later)
    assert fixed.closed == 1
    [closed] = fixed.closed_findings
    assert closed["category"] == "missing_in_map"
    assert closed["closed_at"].startswith("2026-11-02")


def test_fix_writes_the_fixable_findings_and_leaves_the_rest(rig: Rig) -> None:
    export = _export(rig)
    export.write()
    assert rig.sync().status == "ok"
    sf = rig.org.salesforce()
    leads = _ids(rig, "SELECT Id, MAP_Id__c FROM Lead")
    sf.Lead.update(leads["P1"], {"First_Touch_Channel__c": "Carrier Pigeon"})
    sf.Lead.update(leads["P4"], {"Original_Source__c": "Trade Show"})
    [member] = rig.query(f"SELECT Id FROM CampaignMember WHERE LeadId = '{leads['P2']}'")
    sf.CampaignMember.delete(member["Id"])
    sf.Lead.create({"LastName": "Cy", "Company": "Gamma", "Email": "cy@gamma.com"})
    sf.Lead.delete(leads["P6"])

    rig.org.reset_stats()
    dry = _audit(rig, fix=True, dry_run=True)
    assert dry.fix is not None and dry.fix.dry_run
    assert dry.fix.planned == {"Lead": {"create": 1, "update": 1},
                               "CampaignMember": {"create": 1, "update": 0}}
    assert rig.org.stats()["api_calls"]["write"] == 0
    fixable = {"field_drift", "campaign_member_gap", "missing_in_salesforce", "count_mismatch"}
    assert fixable <= {f.category for f in dry.findings}

    fixed = _audit(rig, fix=True)
    assert fixed.fix is not None and fixed.fix.failed == 0
    [lead] = rig.query(f"SELECT First_Touch_Channel__c, Original_Source__c FROM Lead "
                       f"WHERE Id = '{leads['P1']}'")
    assert lead["First_Touch_Channel__c"] == "Webinar"
    [p4] = rig.query(f"SELECT Original_Source__c FROM Lead WHERE Id = '{leads['P4']}'")
    assert p4["Original_Source__c"] == "Trade Show"  # write-once: never overwritten
    cys = rig.query("SELECT Id FROM Lead WHERE Email = 'cy@gamma.com'")
    assert len(cys) == 2  # duplicates are never merged
    after = _audit(rig)
    left = {f.category for f in after.findings}
    assert not left & fixable, [f.as_dict() for f in after.findings]
    assert {"duplicate", "original_source_conflict", "rejected_input",
            "unmapped_program"} <= left
    assert after.closed >= 4


def test_a_record_of_a_person_whose_row_was_rejected_is_not_missing_in_map(rig: Rig) -> None:
    (rig.export().person("P1", "ada@acme.com")
     .person("P2", "bob@beta.com", annual_revenue="ten million").write())
    rig.sync()
    rig.org.salesforce().Lead.create({"LastName": "Bob", "Company": "Beta", "MAP_Id__c": "P2"})
    result = _audit(rig)
    assert [(f.category, f.map_id, f.field) for f in result.findings] == [
        ("rejected_input", "P2", "annual_revenue")]
    assert result.expected == result.actual


def test_a_person_s_rejected_rows_and_failed_writes_are_named(rig: Rig) -> None:
    from connector.audit.problems import person_problems

    (rig.export().person("P1", "ada@acme.com")
     .person("P2", "bob@beta.com", annual_revenue="ten million").write())
    rig.org.set_faults([{"match": "composite/sobjects", "error": "UNABLE_TO_LOCK_ROW",
                         "scope": "record", "rate": 1.0, "seed": 1}])
    assert rig.sync().status == "partial"
    store = rig.store()
    [rejected] = person_problems(store, "BOB@beta.com")
    assert (rejected["category"], rejected["file"], rejected["row"], rejected["field"]) == \
        ("rejected_input", "people.csv", 3, "annual_revenue")
    [failed] = person_problems(store, "P1")
    assert failed["category"] == "failed_write" and failed["error_code"] == "UNABLE_TO_LOCK_ROW"
    assert person_problems(store, "nobody@x.com") == []
