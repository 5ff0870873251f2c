"""Object behaviour the connector relies on: campaigns and members, converted leads,
opportunity stages, names, system fields."""

from __future__ import annotations

from typing import Any

import pytest

from connector.emulator.testing import EmulatorHandle
from tests.emulator.helpers import Api, error_of


def statuses(api: Api, campaign: str) -> list[tuple[str, bool, bool]]:
    rows = api.get("query", params={"q": "SELECT Label, HasResponded, IsDefault FROM "
                                    f"CampaignMemberStatus WHERE CampaignId = '{campaign}' "
                                    "ORDER BY SortOrder"}).json()["records"]
    return [(r["Label"], r["HasResponded"], r["IsDefault"]) for r in rows]


def member(api: Api, member_id: str) -> dict[str, Any]:
    return api.record("CampaignMember", member_id)


@pytest.fixture
def api(inproc: EmulatorHandle) -> Api:
    return Api(inproc)


def test_new_campaign_gets_sent_and_responded_statuses(api: Api) -> None:
    campaign = api.create("Campaign", Name="Webinar")
    assert statuses(api, campaign) == [("Sent", False, True), ("Responded", True, False)]


def test_member_status_labels_are_unique_per_campaign_with_one_default(api: Api) -> None:
    campaign = api.create("Campaign", Name="Event")
    other = api.create("Campaign", Name="Other")
    attended = api.create("CampaignMemberStatus", CampaignId=campaign, Label="Attended",
                          HasResponded=True)
    api.create("CampaignMemberStatus", CampaignId=other, Label="Attended")
    duplicate = api.post("sobjects/CampaignMemberStatus/",
                         json={"CampaignId": campaign, "Label": "attended"})
    assert error_of(duplicate) == (400, "DUPLICATE_VALUE", "duplicate value found: Label "
                                   f"duplicates value on record with id: {attended}")
    assert api.patch(f"sobjects/CampaignMemberStatus/{attended}",
                     json={"IsDefault": True}).status_code == 204
    assert statuses(api, campaign) == [("Sent", False, False), ("Responded", True, False),
                                       ("Attended", True, True)]
    refused = api.patch(f"sobjects/CampaignMemberStatus/{attended}", json={"IsDefault": False})
    assert error_of(refused)[1] == "FIELD_INTEGRITY_EXCEPTION"
    assert error_of(api.delete(f"sobjects/CampaignMemberStatus/{attended}"))[1] == \
        "DELETE_FAILED"


def test_member_gets_default_status_and_duplicate_member_is_refused(api: Api) -> None:
    campaign = api.create("Campaign", Name="C")
    lead = api.create("Lead", LastName="Doe", FirstName="Jo", Company="X")
    member_id = api.create("CampaignMember", CampaignId=campaign, LeadId=lead)
    record = member(api, member_id)
    assert (record["Status"], record["HasResponded"], record["FirstRespondedDate"]) == (
        "Sent", False, None)
    assert record["Name"] == "Jo Doe"
    again = api.post("sobjects/CampaignMember/", json={"CampaignId": campaign, "LeadId": lead,
                                                       "Status": "Responded"})
    assert again.json() == [{"message": "Already a campaign member.",
                             "errorCode": "DUPLICATE_VALUE", "fields": []}]


@pytest.mark.parametrize("body, code", [
    pytest.param({"Status": "Bogus"}, "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                 id="status-not-of-campaign"),
    pytest.param({"LeadId": None}, "REQUIRED_FIELD_MISSING", id="no-person"),
    pytest.param({"HasResponded": True}, "INVALID_FIELD_FOR_INSERT_UPDATE",
                 id="has-responded-read-only"),
    pytest.param({"FirstRespondedDate": "2024-01-01"}, "INVALID_FIELD_FOR_INSERT_UPDATE",
                 id="first-responded-read-only"),
    pytest.param({"CampaignId": "7018d00000000zzAAA"}, "INVALID_CROSS_REFERENCE_KEY",
                 id="unknown-campaign"),
])
def test_member_checks(api: Api, body: dict[str, Any], code: str) -> None:
    campaign = api.create("Campaign", Name="C")
    lead = api.create("Lead", LastName="Doe", Company="X")
    response = api.post("sobjects/CampaignMember/",
                        json={"CampaignId": campaign, "LeadId": lead, **body})
    assert error_of(response)[:2] == (400, code)


def test_member_with_lead_and_contact_keeps_the_contact(api: Api) -> None:
    campaign = api.create("Campaign", Name="C")
    lead = api.create("Lead", LastName="Doe", Company="X")
    contact = api.create("Contact", LastName="Doe")
    record = member(api, api.create("CampaignMember", CampaignId=campaign, LeadId=lead,
                                    ContactId=contact))
    assert (record["LeadId"], record["ContactId"]) == (None, contact)


def test_first_responded_date_is_set_once_in_org_time_zone(inproc: EmulatorHandle,
                                                           api: Api) -> None:
    # 2024-03-10 03:30 UTC is still 2024-03-09 in Los Angeles.
    inproc.set_settings(now="2024-03-10T03:30:00Z", timezone="America/Los_Angeles")
    campaign = api.create("Campaign", Name="C")
    lead = api.create("Lead", LastName="Doe", Company="X")
    member_id = api.create("CampaignMember", CampaignId=campaign, LeadId=lead)
    assert member(api, member_id)["FirstRespondedDate"] is None
    api.patch(f"sobjects/CampaignMember/{member_id}", json={"Status": "responded"})
    record = member(api, member_id)
    assert (record["Status"], record["HasResponded"], record["FirstRespondedDate"]) == (
        "Responded", True, "2024-03-09")
    inproc.set_settings(now="2024-06-01T12:00:00Z")
    api.patch(f"sobjects/CampaignMember/{member_id}", json={"Status": "Sent"})
    api.patch(f"sobjects/CampaignMember/{member_id}", json={"Status": "Responded"})
    record = member(api, member_id)
    assert (record["HasResponded"], record["FirstRespondedDate"]) == (True, "2024-03-09")


def test_member_created_with_responded_status_gets_todays_date(inproc: EmulatorHandle,
                                                               api: Api) -> None:
    inproc.set_settings(now="2025-01-31T23:30:00Z", timezone="Europe/Paris")
    campaign = api.create("Campaign", Name="C")
    contact = api.create("Contact", LastName="Doe")
    record = member(api, api.create("CampaignMember", CampaignId=campaign, ContactId=contact,
                                    Status="Responded"))
    assert (record["HasResponded"], record["FirstRespondedDate"]) == (True, "2025-02-01")
    assert record["CreatedDate"] == "2025-01-31T23:30:00.000+0000"


def test_converted_lead_is_read_only_and_cannot_join_campaigns(inproc: EmulatorHandle,
                                                               api: Api) -> None:
    lead = api.create("Lead", LastName="Doe", Company="X")
    inproc.convert_lead(lead)
    update = api.patch(f"sobjects/Lead/{lead}", json={"Title": "x"})
    assert update.json() == [{"message": "cannot reference converted lead",
                              "errorCode": "CANNOT_UPDATE_CONVERTED_LEAD", "fields": []}]
    campaign = api.create("Campaign", Name="C")
    join = api.post("sobjects/CampaignMember/", json={"CampaignId": campaign, "LeadId": lead})
    assert error_of(join) == (400, "CANNOT_UPDATE_CONVERTED_LEAD",
                              "cannot reference converted lead")


@pytest.mark.parametrize("stage, closed, won", [
    pytest.param("Prospecting", False, False, id="open"),
    pytest.param("Closed Won", True, True, id="won"),
    pytest.param("Closed Lost", True, False, id="lost"),
])
def test_opportunity_is_closed_and_is_won_follow_the_stage(api: Api, stage: str, closed: bool,
                                                           won: bool) -> None:
    opp = api.create("Opportunity", Name="D", StageName="Qualification", CloseDate="2026-06-30")
    api.patch(f"sobjects/Opportunity/{opp}", json={"StageName": stage})
    record = api.record("Opportunity", opp)
    assert (record["IsClosed"], record["IsWon"]) == (closed, won)


def test_custom_object_name_is_an_auto_number(api: Api) -> None:
    first = api.create("Attribution__c", Key__c="k1", Model__c="linear")
    second = api.create("Attribution__c", Key__c="k2", Model__c="linear")
    assert [api.record("Attribution__c", i)["Name"] for i in (first, second)] == [
        "ATT-0000001", "ATT-0000002"]


def test_deleting_a_campaign_deletes_members_and_clears_lookups(api: Api) -> None:
    campaign = api.create("Campaign", Name="C")
    lead = api.create("Lead", LastName="Doe", Company="X", First_Touch_Campaign__c=campaign)
    member_id = api.create("CampaignMember", CampaignId=campaign, LeadId=lead)
    assert api.delete(f"sobjects/Campaign/{campaign}").status_code == 204
    assert api.record("Lead", lead)["First_Touch_Campaign__c"] is None
    deleted = api.get("queryAll", params={
        "q": f"SELECT Id, IsDeleted FROM CampaignMember WHERE Id = '{member_id}'"}).json()
    assert deleted["records"][0]["IsDeleted"] is True


def test_system_fields_are_maintained_and_read_only(api: Api, inproc: EmulatorHandle) -> None:
    inproc.set_settings(now="2026-02-03T04:05:06.789Z")
    account = api.create("Account", Name="A")
    record = api.record("Account", account)
    user = inproc.org.credentials.user_id
    assert (record["CreatedById"], record["LastModifiedById"], record["OwnerId"]) == (
        user, user, user)
    assert record["CreatedDate"] == record["SystemModstamp"] == "2026-02-03T04:05:06.789+0000"
    inproc.set_settings(now="2026-02-04T00:00:00Z")
    api.patch(f"sobjects/Account/{account}", json={"Name": "B"})
    record = api.record("Account", account)
    assert record["LastModifiedDate"] == record["SystemModstamp"] == \
        "2026-02-04T00:00:00.000+0000"
    assert record["CreatedDate"] == "2026-02-03T04:05:06.789+0000"
    for field in ("LastModifiedDate", "SystemModstamp", "IsDeleted", "CreatedById"):
        response = api.patch(f"sobjects/Account/{account}", json={field: None})
        assert error_of(response)[1] == "INVALID_FIELD_FOR_INSERT_UPDATE", field
