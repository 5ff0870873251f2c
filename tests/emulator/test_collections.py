"""sObject Collections: per-record results in request order, allOrNone, limits, retrieve."""

from __future__ import annotations

from typing import Any

import pytest

from connector.emulator.records import ROLLED_BACK_MESSAGE
from connector.emulator.testing import EmulatorHandle
from tests.emulator.helpers import Api, error_of


def lead(**fields: Any) -> dict[str, Any]:
    return {"attributes": {"type": "Lead"}, "LastName": "L", "Company": "C", **fields}


def test_create_returns_results_in_request_order_with_partial_success(
        inproc: EmulatorHandle) -> None:
    sf = inproc.salesforce()
    results = sf.restful("composite/sobjects", method="POST", json={"records": [
        lead(MAP_Id__c="a"), {"attributes": {"type": "Lead"}, "LastName": "no company"},
        {"attributes": {"type": "Account"}, "Name": "Acme"}, lead(Email="bad")]})
    assert [r["success"] for r in results] == [True, False, True, False]
    assert results[0]["id"].startswith("00Q") and results[2]["id"].startswith("001")
    assert results[1] == {"id": None, "success": False, "errors": [{
        "statusCode": "REQUIRED_FIELD_MISSING", "message": "Required fields are missing: "
        "[Company]", "fields": ["Company"]}]}
    assert results[3]["errors"][0]["statusCode"] == "INVALID_EMAIL_ADDRESS"


def test_all_or_none_rolls_back_every_record(inproc: EmulatorHandle) -> None:
    api = Api(inproc)
    results = api.collection("POST", [lead(MAP_Id__c="ok-1"), lead(Email="bad"),
                                      lead(MAP_Id__c="ok-2")], all_or_none=True)
    rolled_back = {"statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK",
                   "message": ROLLED_BACK_MESSAGE, "fields": []}
    assert results[0] == {"id": None, "success": False, "errors": [rolled_back]}
    assert results[1]["errors"][0]["statusCode"] == "INVALID_EMAIL_ADDRESS"
    assert results[2]["errors"] == [rolled_back]
    count = api.get("query", params={"q": "SELECT COUNT() FROM Lead"}).json()["totalSize"]
    assert count == 0


def test_update_by_id_and_missing_ids(inproc: EmulatorHandle) -> None:
    api = Api(inproc)
    first = api.create("Lead", LastName="A", Company="C")
    results = api.collection("PATCH", [
        {"attributes": {"type": "Lead"}, "id": first, "Title": "T"},
        {"attributes": {"type": "Lead"}, "Title": "no id"},
        {"attributes": {"type": "Lead"}, "Id": "00Q8d00000000zzAAA", "Title": "gone"},
    ])
    assert results[0] == {"id": first, "success": True, "errors": []}
    assert results[1]["errors"][0] == {"statusCode": "MISSING_ARGUMENT",
                                       "message": "Id not specified in an update call",
                                       "fields": []}
    assert results[2]["errors"][0]["statusCode"] == "INVALID_CROSS_REFERENCE_KEY"
    assert api.record("Lead", first)["Title"] == "T"


def test_upsert_reports_created_and_rejects_duplicate_keys_in_one_call(
        inproc: EmulatorHandle) -> None:
    api = Api(inproc)
    existing = api.create("Lead", LastName="A", Company="C", MAP_Id__c="old")
    results = api.collection("PATCH", [
        lead(MAP_Id__c="OLD", Title="updated"), lead(MAP_Id__c="new"),
        lead(MAP_Id__c="twice"), lead(MAP_Id__c="Twice"), lead(Title="no key"),
    ], "/Lead/MAP_Id__c")
    assert results[0] == {"id": existing, "success": True, "errors": [], "created": False}
    assert results[1]["created"] is True and results[1]["success"] is True
    for result in results[2:4]:
        assert result["success"] is False and result["created"] is False
        assert result["errors"][0]["statusCode"] == "DUPLICATE_VALUE"
        assert result["errors"][0]["message"] == "Duplicate external id specified: twice"
    assert results[4]["errors"][0] == {"statusCode": "MISSING_ARGUMENT",
                                       "message": "MAP_Id__c not specified",
                                       "fields": ["MAP_Id__c"]}


def test_upsert_on_a_field_that_is_not_an_external_id_is_refused(inproc: EmulatorHandle) -> None:
    response = Api(inproc).patch("composite/sobjects/Lead/Company",
                                 json={"records": [lead()]})
    assert error_of(response) == (400, "INVALID_FIELD", "Field name provided, Company does not "
                                  "match an External ID, Salesforce Id, or indexed field for Lead")


@pytest.mark.parametrize("method, path", [
    pytest.param("POST", "composite/sobjects", id="create"),
    pytest.param("PATCH", "composite/sobjects", id="update"),
    pytest.param("PATCH", "composite/sobjects/Lead/MAP_Id__c", id="upsert"),
])
def test_more_than_200_records_is_exceeded_id_limit(inproc: EmulatorHandle, method: str,
                                                     path: str) -> None:
    response = Api(inproc).call(method, path, json={"records": [lead()] * 201})
    assert error_of(response) == (400, "EXCEEDED_ID_LIMIT", "record limit reached. cannot "
                                  "submit more than 200 records into this call")


def test_exactly_200_records_are_accepted(inproc: EmulatorHandle) -> None:
    records = [lead(MAP_Id__c=f"k{i}") for i in range(200)]
    results = Api(inproc).collection("PATCH", records, "/Lead/MAP_Id__c")
    assert len(results) == 200 and all(r["created"] for r in results)


def test_unknown_type_fails_the_whole_call(inproc: EmulatorHandle) -> None:
    response = Api(inproc).post("composite/sobjects", json={"records": [
        lead(), {"attributes": {"type": "Nope"}, "Name": "x"}]})
    assert error_of(response)[:2] == (400, "INVALID_TYPE")


def test_delete_by_ids_with_per_id_results(inproc: EmulatorHandle) -> None:
    api = Api(inproc)
    first = api.create("Lead", LastName="A", Company="C")
    second = api.create("Lead", LastName="B", Company="C")
    api.delete(f"sobjects/Lead/{second}")
    response = api.delete("composite/sobjects", params={
        "ids": f"{first},{second},bogus", "allOrNone": "false"})
    results = response.json()
    assert results[0] == {"id": first, "success": True, "errors": []}
    assert results[1]["id"] == second
    assert results[1]["errors"][0]["statusCode"] == "ENTITY_IS_DELETED"
    assert results[2]["errors"][0]["statusCode"] == "MALFORMED_ID"


def test_delete_all_or_none_keeps_everything(inproc: EmulatorHandle) -> None:
    api = Api(inproc)
    first = api.create("Lead", LastName="A", Company="C")
    response = api.delete("composite/sobjects",
                          params={"ids": f"{first},00Q8d00000000zzAAA", "allOrNone": "true"})
    assert response.json()[0]["errors"][0]["statusCode"] == "ALL_OR_NONE_OPERATION_ROLLED_BACK"
    assert api.record("Lead", first)["IsDeleted"] is False


def test_retrieve_returns_null_for_missing_ids_in_request_order(inproc: EmulatorHandle) -> None:
    api = Api(inproc)
    first = api.create("Lead", LastName="A", Company="C1")
    gone = api.create("Lead", LastName="B", Company="C2")
    api.delete(f"sobjects/Lead/{gone}")
    get = api.get("composite/sobjects/Lead",
                  params={"ids": f"{first},{gone},00Q8d00000000zzAAA,bad", "fields": "Company"})
    assert get.status_code == 200
    records = get.json()
    assert records[0]["Company"] == "C1" and set(records[0]) == {"attributes", "Company"}
    assert records[1:] == [None, None, None]
    post = api.post("composite/sobjects/Lead", json={"ids": [first], "fields": ["Id", "Name"]})
    assert post.json()[0]["Name"] == "A"
    too_many = api.post("composite/sobjects/Lead", json={"ids": [first] * 2001,
                                                         "fields": ["Id"]})
    assert error_of(too_many)[:2] == (400, "EXCEEDED_ID_LIMIT")


def test_results_follow_request_order_for_mixed_types(emulator: EmulatorHandle) -> None:
    records = []
    for i in range(30):
        kind = ("Account", "Contact", "Lead")[i % 3]
        body: dict[str, Any] = {"attributes": {"type": kind}}
        body.update({"Name": f"A{i}"} if kind == "Account" else
                    {"LastName": f"C{i}"} if kind == "Contact" else
                    {"LastName": f"L{i}", "Company": "x"})
        records.append(body)
    results = Api(emulator).collection("POST", records)
    assert [r["id"][:3] for r in results] == [("001", "003", "00Q")[i % 3] for i in range(30)]


def test_the_same_record_twice_in_one_update_call_applies_both_in_order(
        inproc: EmulatorHandle) -> None:
    api = Api(inproc)
    campaign = api.create("Campaign", Name="C")
    member = api.create("CampaignMember", CampaignId=campaign,
                        LeadId=api.create("Lead", LastName="A", Company="C"))
    results = api.collection("PATCH", [
        {"attributes": {"type": "CampaignMember"}, "id": member, "Status": "Responded"},
        {"attributes": {"type": "CampaignMember"}, "id": member, "Status": "Sent"}])
    assert [r["success"] for r in results] == [True, True]
    record = api.record("CampaignMember", member)
    assert (record["Status"], record["HasResponded"]) == ("Sent", False)
    assert record["FirstRespondedDate"] is not None  # set by the first, kept by the second
