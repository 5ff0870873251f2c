"""Identity end to end: every match branch, converted leads, duplicates, new leads."""

from __future__ import annotations

import pytest

from connector.mappings import SyncMapping
from connector.run.mirror import mirror_specs
from tests.e2e.harness import Rig


def _seed(rig: Rig) -> dict[str, str]:
    sf = rig.org.salesforce()
    ids = {}
    ids["contact_by_id"] = sf.Contact.create({"LastName": "ById", "Email": "byid@acme.com"})["id"]
    ids["lead_by_id"] = sf.Lead.create({"LastName": "L", "Company": "Acme",
                                         "Email": "leadbyid@acme.com"})["id"]
    ids["contact_by_map"] = sf.Contact.create({"LastName": "M", "MAP_Id__c": "M-MAP"})["id"]
    ids["lead_by_map"] = sf.Lead.create({"LastName": "M", "Company": "Acme",
                                          "MAP_Id__c": "M-LMAP"})["id"]
    ids["contact_email"] = sf.Contact.create({"LastName": "E", "Email": "both@acme.com"})["id"]
    sf.Lead.create({"LastName": "E", "Company": "Acme", "Email": "both@acme.com"})
    ids["lead_email"] = sf.Lead.create({"LastName": "E", "Company": "Acme",
                                         "Email": "lead@acme.com"})["id"]
    ids["dup_old"] = sf.Contact.create({"LastName": "Old", "Email": "dup@acme.com",
                                         "CreatedDate": "2020-01-01T00:00:00Z"})["id"]
    sf.Contact.create({"LastName": "New", "Email": "dup@acme.com",
                       "CreatedDate": "2024-01-01T00:00:00Z"})
    ids["to_convert"] = sf.Lead.create({"LastName": "C", "Company": "Acme",
                                         "Email": "convert@acme.com"})["id"]
    ids["account"] = sf.Account.create({"Name": "Acme", "Website": "https://www.acme.com/"})["id"]
    return ids


def test_every_match_branch_links_the_right_record(rig: Rig) -> None:
    ids = _seed(rig)
    converted = rig.org.convert_lead(ids["to_convert"])
    (rig.export()
     .person("P-ID", "other@acme.com", sfdc_contact_id=ids["contact_by_id"][:15])
     .person("P-LID", "x@acme.com", sfdc_lead_id=ids["lead_by_id"])
     .person("M-MAP", "m@acme.com")
     .person("M-LMAP", "lm@acme.com")
     .person("P-BOTH", "Both@Acme.com")
     .person("P-LEAD", "lead@acme.com")
     .person("P-DUP", "dup@acme.com")
     .person("P-CONV", "convert@acme.com")
     .person("P-NEW", "new@acme.com")
     .person("P-FREE", "someone@gmail.com")
     .person("P-BAD", "not-an-email")
     .program("W1", "Webinar")
     .touch("t1", "P-NEW", "webinar_registered", 1, "W1")
     .write())
    result = rig.sync()
    assert result.status == "ok", result.as_json()
    links = rig.store().links()
    rules = {m: (links[m].sf_id, links[m].rule) for m in links}
    assert rules["P-ID"] == (ids["contact_by_id"], "sfdc_contact_id")
    assert rules["P-LID"] == (ids["lead_by_id"], "sfdc_lead_id")
    assert rules["M-MAP"] == (ids["contact_by_map"], "map_id_contact")
    assert rules["M-LMAP"] == (ids["lead_by_map"], "map_id_lead")
    assert rules["P-BOTH"] == (ids["contact_email"], "email_contact")
    assert rules["P-LEAD"] == (ids["lead_email"], "email_lead")
    assert rules["P-DUP"] == (ids["dup_old"], "email_contact")
    assert rules["P-CONV"] == (converted["contact_id"], "email_contact")
    assert links["P-NEW"].rule == "created" and links["P-NEW"].sobject == "Lead"
    assert links["P-FREE"].account_id is None
    assert links["P-BOTH"].account_id == ids["account"]
    assert "P-BAD" not in links
    categories = result.findings
    assert categories["duplicate"] >= 1 and categories["missing_in_salesforce"] == 1
    [new_lead] = rig.query("SELECT Id, MAP_Id__c, Email, Company, LastName FROM Lead "
                           "WHERE Email = 'new@acme.com'")
    assert new_lead["MAP_Id__c"] == "P-NEW" and new_lead["Company"] == "[not provided]"


def test_map_duplicates_share_one_new_lead_and_never_create_two(rig: Rig) -> None:
    (rig.export().person("A", "same@acme.com", created_at="2025-01-01T00:00:00+00:00")
     .person("B", " SAME@acme.com", created_at="2025-06-01T00:00:00+00:00").write())
    rig.sync()
    rig.sync()
    leads = rig.query("SELECT Id, MAP_Id__c FROM Lead WHERE Email = 'same@acme.com'")
    assert [r["MAP_Id__c"] for r in leads] == ["A"]
    links = rig.store().links()
    assert links["A"].sf_id == links["B"].sf_id == leads[0]["Id"]


def test_a_lead_converted_between_runs_moves_to_its_contact_and_is_never_written_again(
        rig: Rig) -> None:
    export = (rig.export().person("P1", "ada@acme.com").program("W1", "Webinar")
              .touch("t1", "P1", "webinar_registered", 1, "W1"))
    export.write()
    rig.sync()
    [lead] = rig.query("SELECT Id FROM Lead WHERE MAP_Id__c = 'P1'")
    converted = rig.org.convert_lead(lead["Id"])
    export.program("E1", "Event").touch("t2", "P1", "event_attended", 30, "E1").write()
    rig.org.reset_stats()
    result = rig.sync()
    assert result.status == "ok", result.as_json()
    link = rig.store().links()["P1"]
    assert (link.sobject, link.sf_id) == ("Contact", converted["contact_id"])
    assert link.detail.get("converted_from") == lead["Id"]
    by_endpoint = rig.org.stats()["api_calls"]["by_endpoint"]
    assert not any("sobject.update" in k for k in by_endpoint)
    [contact] = rig.query("SELECT Original_Source__c, Last_Touch_Date__c FROM Contact "
                          f"WHERE Id = '{converted['contact_id']}'")
    assert contact["Original_Source__c"] == "Webinar"
    assert contact["Last_Touch_Date__c"].startswith("2026-02-04")
    members = rig.query("SELECT ContactId, LeadId, Campaign.MAP_Program_Id__c FROM "
                        "CampaignMember")
    assert {m["Campaign"]["MAP_Program_Id__c"] for m in members} == {"W1", "E1"}


@pytest.mark.parametrize(("policy", "stage", "expected"), [
    pytest.param("always", None, 1, id="always"),
    pytest.param("never", None, 0, id="never"),
    pytest.param("mql", "subscriber", 0, id="mql-not-yet"),
])
def test_new_lead_policy(rig: Rig, policy: str, stage: str | None, expected: int) -> None:
    rig.export().person("P1", "ada@acme.com").write()
    mappings = rig.mappings.model_copy(update={
        "sync": SyncMapping(**{**rig.mappings.sync.model_dump(), "create_leads": policy})})
    result = rig.sync(mappings=mappings)
    assert len(rig.query("SELECT Id FROM Lead")) == expected
    if expected == 0:
        assert result.findings["missing_in_salesforce"] == 1


def test_a_linked_lead_deleted_in_a_merge_relinks_to_the_survivor(rig: Rig) -> None:
    sf = rig.org.salesforce()
    first = sf.Lead.create({"LastName": "A", "Company": "Acme", "Email": "ada@acme.com",
                            "CreatedDate": "2024-01-01T00:00:00Z"})["id"]
    rig.export().person("P1", "ada@acme.com").program("W1", "Webinar") \
        .touch("t1", "P1", "webinar_registered", 1, "W1").write()
    rig.sync()
    assert rig.store().links()["P1"].sf_id == first
    survivor = sf.Lead.create({"LastName": "A2", "Company": "Acme", "Email": "ada@acme.com"})
    sf.Lead.delete(first)  # merged away by an admin
    result = rig.sync()
    assert result.status == "ok", result.as_json()
    link = rig.store().links()["P1"]
    assert (link.sf_id, link.rule) == (survivor["id"], "email_lead")
    leads = rig.query("SELECT Id, Original_Source__c FROM Lead")
    assert [(r["Id"], r["Original_Source__c"]) for r in leads] == [(survivor["id"], "Webinar")]
    members = rig.query("SELECT LeadId FROM CampaignMember")
    assert [m["LeadId"] for m in members] == [survivor["id"]]


def test_a_full_read_finds_records_deleted_since_and_keeps_the_rest(rig: Rig) -> None:
    """A full read sees no deletions through queryAll: what it did not return is gone."""
    sf = rig.org.salesforce()
    kept = sf.Lead.create({"LastName": "K", "Company": "Acme", "Email": "kim@acme.com"})["id"]
    gone = sf.Lead.create({"LastName": "G", "Company": "Acme", "Email": "gil@acme.com"})["id"]
    rig.export().person("P1", "kim@acme.com").program("W1", "Webinar") \
        .touch("t1", "P1", "webinar_registered", 1, "W1").write()
    rig.sync()
    sf.Lead.delete(gone)
    result = rig.sync(full=True)
    assert result.status == "ok", result.as_json()
    db = rig.store().db
    state = dict(db.execute("SELECT id, is_deleted FROM sf_records WHERE sobject = 'Lead'"))
    assert state == {kept: 0, gone: 1}


def test_an_incremental_read_finds_deletions_in_its_own_pages(rig: Rig) -> None:
    """Deleted records come back in the change read itself (a queryAll with
    IsDeleted): one read per object, no deletion query of its own."""
    rig.export().person("P1", "kim@acme.com").program("W1", "Webinar") \
        .touch("t1", "P1", "webinar_registered", 1, "W1").write()
    rig.sync()
    [member] = rig.query("SELECT Id FROM CampaignMember")
    rig.org.salesforce().CampaignMember.delete(member["Id"])
    rig.org.reset_stats()
    result = rig.sync()
    assert result.status == "ok", result.as_json()
    db = rig.store().db
    assert db.execute("SELECT is_deleted FROM sf_records WHERE id = ?",
                      (member["Id"],)).fetchone() == (1,)
    calls = rig.org.stats()["api_calls"]["by_endpoint"]
    assert calls.get("queryAll", 0) == len(mirror_specs(rig.mappings))
    assert calls.get("query", 0) == 0, calls
