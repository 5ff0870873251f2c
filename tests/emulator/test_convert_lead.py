"""``POST /__emulator__/convert-lead``: conversion as a user does it in the UI."""

from __future__ import annotations

import pytest

from connector.emulator.testing import EmulatorHandle
from tests.emulator.helpers import Api


@pytest.fixture
def api(inproc: EmulatorHandle) -> Api:
    inproc.set_settings(now="2026-05-20T10:00:00Z")
    return Api(inproc)


def new_lead(api: Api, **extra: object) -> str:
    return api.create("Lead", FirstName="Grace", LastName="Hopper", Company="Navy Labs",
                      Email="grace@navy.example", Title="Rear Admiral", Country="US",
                      Website="https://navy.example", MAP_Id__c="m-1",
                      Original_Source__c="Webinar", Lead_Score__c=42, **extra)


def test_conversion_creates_account_contact_opportunity_and_contact_role(
        inproc: EmulatorHandle, api: Api) -> None:
    lead = new_lead(api)
    campaign = api.create("Campaign", Name="Webinar")
    api.create("CampaignMember", CampaignId=campaign, LeadId=lead, Status="Responded")
    result = inproc.convert_lead(lead, create_opportunity=True)
    assert result["lead_id"] == lead
    account_id, contact_id, opp_id = (result["account_id"], result["contact_id"],
                                      result["opportunity_id"])
    assert account_id and contact_id and opp_id
    account = api.record("Account", account_id)
    assert (account["Name"], account["Website"], account["BillingCountry"]) == (
        "Navy Labs", "https://navy.example", "US")
    contact = api.record("Contact", contact_id)
    assert (contact["Name"], contact["Email"], contact["Title"], contact["MailingCountry"],
            contact["AccountId"]) == ("Grace Hopper", "grace@navy.example", "Rear Admiral", "US",
                                      account_id)
    # custom fields with the same API name travel, as the admin's lead mapping makes them
    assert (contact["MAP_Id__c"], contact["Original_Source__c"], contact["Lead_Score__c"]) == (
        "m-1", "Webinar", 42.0)
    opportunity = api.record("Opportunity", opp_id)
    assert (opportunity["AccountId"], opportunity["StageName"], opportunity["CloseDate"],
            opportunity["CampaignId"]) == (account_id, "Prospecting", "2026-06-30", campaign)
    roles = api.get("query", params={"q": "SELECT ContactId, IsPrimary FROM "
                                     f"OpportunityContactRole WHERE OpportunityId = '{opp_id}'"})
    assert [(r["ContactId"], r["IsPrimary"]) for r in roles.json()["records"]] == [
        (contact_id, True)]
    converted = api.record("Lead", lead)
    assert (converted["IsConverted"], converted["ConvertedDate"], converted["Status"],
            converted["ConvertedAccountId"], converted["ConvertedContactId"],
            converted["ConvertedOpportunityId"]) == (True, "2026-05-20", "Closed - Converted",
                                                     account_id, contact_id, opp_id)


def test_lead_campaign_memberships_move_to_the_contact(inproc: EmulatorHandle, api: Api) -> None:
    lead = new_lead(api)
    campaign = api.create("Campaign", Name="Webinar")
    member = api.create("CampaignMember", CampaignId=campaign, LeadId=lead, Status="Responded")
    contact_id = inproc.convert_lead(lead)["contact_id"]
    record = api.record("CampaignMember", member)
    assert (record["ContactId"], record["LeadId"], record["Status"], record["HasResponded"]) == (
        contact_id, lead, "Responded", True)
    by_contact = api.get("query", params={
        "q": f"SELECT Id FROM CampaignMember WHERE ContactId = '{contact_id}'"}).json()
    assert [r["Id"] for r in by_contact["records"]] == [member]


def test_conversion_into_existing_account_and_contact_fills_only_blanks(
        inproc: EmulatorHandle, api: Api) -> None:
    account = api.create("Account", Name="Existing")
    contact = api.create("Contact", LastName="Hopper", Title="Keeps Title", AccountId=account)
    lead = new_lead(api)
    result = inproc.convert_lead(lead, contact_id=contact)
    assert (result["account_id"], result["contact_id"], result["opportunity_id"]) == (
        account, contact, None)
    record = api.record("Contact", contact)
    assert (record["Title"], record["Email"], record["MAP_Id__c"]) == (
        "Keeps Title", "grace@navy.example", "m-1")


@pytest.mark.parametrize("body, code", [
    pytest.param({}, "REQUIRED_FIELD_MISSING", id="no-lead"),
    pytest.param({"lead_id": "garbage"}, "MALFORMED_ID", id="malformed"),
    pytest.param({"lead_id": "00Q8d00000000zzAAA"}, "INVALID_CROSS_REFERENCE_KEY",
                 id="unknown-lead"),
    pytest.param({"account_id": "0018d00000000zzAAA"}, "INVALID_CROSS_REFERENCE_KEY",
                 id="unknown-account"),
])
def test_conversion_errors_change_nothing(inproc: EmulatorHandle, api: Api, body: dict[str, str],
                                          code: str) -> None:
    lead = new_lead(api)
    if body and "lead_id" not in body:
        body = {"lead_id": lead, **body}
    response = inproc.session().post(f"{inproc.instance_url}/__emulator__/convert-lead",
                                     json=body)
    assert response.status_code == 400 and response.json()[0]["errorCode"] == code
    assert api.record("Lead", lead)["IsConverted"] is False
    accounts = api.get("query", params={"q": "SELECT COUNT() FROM Account"}).json()
    assert accounts["totalSize"] == 0


def test_a_lead_converts_only_once(inproc: EmulatorHandle, api: Api) -> None:
    lead = new_lead(api)
    inproc.convert_lead(lead)
    with pytest.raises(RuntimeError, match="CANNOT_UPDATE_CONVERTED_LEAD"):
        inproc.convert_lead(lead)


def test_duplicate_external_id_on_the_new_contact_fails_the_conversion(
        inproc: EmulatorHandle, api: Api) -> None:
    api.create("Contact", LastName="Other", MAP_Id__c="m-1")
    lead = new_lead(api)
    with pytest.raises(RuntimeError, match="DUPLICATE_VALUE"):
        inproc.convert_lead(lead)
    assert api.record("Lead", lead)["IsConverted"] is False
