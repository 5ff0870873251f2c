"""Single-record REST: simple-salesforce CRUD and upsert, describe, and every field error."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from simple_salesforce.exceptions import (
    SalesforceMalformedRequest,
    SalesforceMoreThanOneRecord,
    SalesforceResourceNotFound,
)

from connector import sfid as ids
from connector.emulator.org import OrgOptions
from connector.emulator.testing import EmulatorHandle
from tests.emulator.helpers import Api, custom_mappings, error_of

LEAD = {"LastName": "Lovelace", "FirstName": "Ada", "Company": "Analytical Engines"}


def test_simple_salesforce_create_get_update_delete_round_trip(emulator: EmulatorHandle) -> None:
    sf = emulator.salesforce()
    created = sf.Lead.create({**LEAD, "Email": "ada@engines.example"})
    assert created["success"] is True and created["errors"] == []
    lead_id = created["id"]
    assert len(lead_id) == 18 and lead_id.startswith("00Q") and ids.is_valid_id(lead_id)
    record = sf.Lead.get(lead_id)
    assert record["attributes"] == {"type": "Lead",
                                    "url": f"/services/data/v62.0/sobjects/Lead/{lead_id}"}
    assert record["Name"] == "Ada Lovelace"
    assert record["Status"] == "Open - Not Contacted"  # picklist default
    assert record["IsConverted"] is False
    assert record["OwnerId"] == emulator.org.credentials.user_id
    assert record["CreatedDate"].endswith("+0000") and len(record["CreatedDate"]) == 28
    assert sf.Lead.update(lead_id, {"Title": "Countess", "FirstName": "Augusta"}) == 204
    updated = sf.Lead.get(lead_id)
    assert (updated["Title"], updated["Name"]) == ("Countess", "Augusta Lovelace")
    assert updated["LastModifiedDate"] >= record["LastModifiedDate"]
    assert sf.Lead.delete(lead_id) == 204
    with pytest.raises(SalesforceResourceNotFound):
        sf.Lead.get(lead_id)


def test_get_accepts_15_character_ids_and_a_fields_list(emulator: EmulatorHandle) -> None:
    api = Api(emulator)
    lead_id = api.create("Lead", **LEAD)
    response = api.get(f"sobjects/Lead/{lead_id[:15]}", params={"fields": "Id,Company"})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"attributes", "Id", "Company"} and body["Id"] == lead_id


def test_upsert_by_external_id_creates_then_updates(emulator: EmulatorHandle) -> None:
    sf = emulator.salesforce()
    assert sf.Lead.upsert("MAP_Id__c/up-1", {**LEAD, "Title": "A"}) == 201
    assert sf.Lead.upsert("MAP_Id__c/UP-1", {"Title": "B"}) == 200  # case-insensitive match
    found = sf.query("SELECT Id, Title FROM Lead WHERE MAP_Id__c = 'up-1'")["records"]
    assert [r["Title"] for r in found] == ["B"]


def test_upsert_response_bodies_carry_created(emulator: EmulatorHandle) -> None:
    api = Api(emulator)
    first = api.patch("sobjects/Lead/MAP_Id__c/up-body", json=LEAD)
    assert first.status_code == 201
    assert first.json() == {"id": first.json()["id"], "success": True, "errors": [],
                            "created": True}
    second = api.patch("sobjects/Lead/MAP_Id__c/up-body", json={"Title": "x"})
    assert second.status_code == 200
    assert second.json() == {"id": first.json()["id"], "success": True, "errors": [],
                             "created": False}


def test_external_id_get_and_delete(emulator: EmulatorHandle) -> None:
    api = Api(emulator)
    lead_id = api.create("Lead", **LEAD, MAP_Id__c="by-ext")
    assert api.get("sobjects/Lead/MAP_Id__c/by-ext").json()["Id"] == lead_id
    assert api.delete("sobjects/Lead/MAP_Id__c/by-ext").status_code == 204
    assert api.get("sobjects/Lead/MAP_Id__c/by-ext").status_code == 404


@pytest.mark.parametrize("path, status, code", [
    pytest.param("sobjects/Nope__c/describe", 404, "NOT_FOUND", id="unknown-object"),
    pytest.param("sobjects/Lead/Company/acme", 404, "NOT_FOUND", id="not-an-external-id"),
    pytest.param("sobjects/Lead/Bogus__c/x", 404, "NOT_FOUND", id="unknown-external-field"),
    pytest.param("sobjects/Lead/00Q000000000000", 404, "NOT_FOUND", id="missing-record"),
    pytest.param("sobjects/Lead/not-an-id", 404, "NOT_FOUND", id="not-an-id"),
    pytest.param("sobjects/Lead/0018d0000000001AAA", 404, "NOT_FOUND", id="other-object-id"),
])
def test_unknown_resources_answer_404_not_found(emulator: EmulatorHandle, path: str,
                                                status: int, code: str) -> None:
    response = Api(emulator).get(path)
    assert error_of(response)[:2] == (status, code)


def test_unknown_external_id_field_message_matches_salesforce(emulator: EmulatorHandle) -> None:
    response = Api(emulator).patch("sobjects/Lead/Bogus__c/x", json=LEAD)
    assert error_of(response) == (404, "NOT_FOUND", "Provided external ID field does not exist "
                                  "or is not accessible: Bogus__c")


def test_upsert_with_several_matches_answers_300_with_record_urls(tmp_path: Path,
                                                                  _emulator_keys: Path) -> None:
    from tests.conftest import new_org_dir

    mappings = custom_mappings(tmp_path, {"alt_id": {
        "api_name": "Alt_Id__c", "type": "string", "length": 40, "external_id": True,
        "policy": "never"}})
    handle = EmulatorHandle(new_org_dir(tmp_path, _emulator_keys),
                            OrgOptions(mappings_dir=mappings), real=False)
    try:
        api = Api(handle)
        first = api.create("Lead", **LEAD, Alt_Id__c="shared")
        second = api.create("Lead", **LEAD, Alt_Id__c="SHARED")
        response = api.patch("sobjects/Lead/Alt_Id__c/shared", json={"Title": "x"})
        assert response.status_code == 300
        assert sorted(response.json()) == sorted(
            f"/services/data/v62.0/sobjects/Lead/{i}" for i in (first, second))
        with pytest.raises(SalesforceMoreThanOneRecord):
            handle.salesforce().Lead.upsert("Alt_Id__c/shared", {"Title": "y"})
        results = api.collection("PATCH", [{"attributes": {"type": "Lead"},
                                            "Alt_Id__c": "shared"}], "/Lead/Alt_Id__c")
        assert results[0]["errors"][0]["statusCode"] == "DUPLICATE_EXTERNAL_ID"
    finally:
        handle.close()


def _lead(**extra: Any) -> dict[str, Any]:
    return {**LEAD, **extra}


@pytest.mark.parametrize("body, code, message, fields", [
    pytest.param(_lead(Company="x" * 256), "STRING_TOO_LONG",
                 f"Company: data value too large: {'x' * 256} (max length=255)", ["Company"],
                 id="string-too-long"),
    pytest.param(_lead(Email="not-an-email"), "INVALID_EMAIL_ADDRESS",
                 "Email: invalid email address: not-an-email", ["Email"], id="bad-email"),
    pytest.param(_lead(Email="a@b"), "INVALID_EMAIL_ADDRESS",
                 "Email: invalid email address: a@b", ["Email"], id="email-without-tld"),
    pytest.param({"FirstName": "x"}, "REQUIRED_FIELD_MISSING",
                 "Required fields are missing: [LastName, Company]", ["LastName", "Company"],
                 id="required-missing"),
    pytest.param(_lead(IsConverted=True), "INVALID_FIELD_FOR_INSERT_UPDATE",
                 "Unable to create/update fields: IsConverted. Please check the security "
                 "settings of this field and verify that it is read/write for your profile or "
                 "permission set.", ["IsConverted"], id="not-createable"),
    pytest.param(_lead(Name="Ada Lovelace"), "INVALID_FIELD_FOR_INSERT_UPDATE",
                 "Unable to create/update fields: Name. Please check the security settings of "
                 "this field and verify that it is read/write for your profile or permission "
                 "set.", ["Name"], id="name-formula"),
    pytest.param(_lead(First_Touch_Campaign__c="not-an-id"), "MALFORMED_ID",
                 "First_Touch_Campaign__c: id value of incorrect type: not-an-id",
                 ["First_Touch_Campaign__c"], id="malformed-id"),
    pytest.param(_lead(First_Touch_Campaign__c="7018d0000000zzzAAA"),
                 "INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id",
                 ["First_Touch_Campaign__c"], id="missing-reference"),
    pytest.param(_lead(First_Touch_Campaign__c="00Q8d0000000001EAA"),
                 "INVALID_CROSS_REFERENCE_KEY",
                 "First Touch Campaign: id value of incorrect type: 00Q8d0000000001EAA",
                 ["First_Touch_Campaign__c"], id="reference-to-wrong-object"),
    pytest.param(_lead(Id="00Q8d0000000001EAA"), "INVALID_FIELD_FOR_INSERT_UPDATE",
                 "cannot specify Id in an insert call", ["Id"], id="id-on-insert"),
])
def test_create_rejects_bad_records_with_salesforce_errors(
        inproc: EmulatorHandle, body: dict[str, Any], code: str, message: str,
        fields: list[str]) -> None:
    response = Api(inproc).post("sobjects/Lead/", json=body)
    assert response.status_code == 400
    assert response.json() == [{"message": message, "errorCode": code, "fields": fields}]


def test_restricted_picklist_rejects_unknown_values(inproc: EmulatorHandle) -> None:
    api = Api(inproc)
    response = api.post("sobjects/Opportunity/", json={
        "Name": "Deal", "StageName": "Dreaming", "CloseDate": "2026-12-31"})
    assert error_of(response) == (400, "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                                  "StageName: bad value for restricted picklist field: Dreaming")


@pytest.mark.parametrize("body, message", [
    pytest.param(_lead(Foo__c=1), "No such column 'Foo__c' on sobject of type Lead",
                 id="unknown-field"),
    pytest.param(_lead(NumberOfEmployees="many"),
                 "Cannot deserialize instance of int from VALUE_STRING value many or request "
                 "may be missing a required field", id="text-for-number"),
    pytest.param(_lead(CreatedDate="yesterday"),
                 "Cannot deserialize instance of datetime from VALUE_STRING value yesterday or "
                 "request may be missing a required field", id="bad-datetime"),
])
def test_undeserializable_payloads_fail_the_whole_call(inproc: EmulatorHandle,
                                                       body: dict[str, Any],
                                                       message: str) -> None:
    status, code, text = error_of(Api(inproc).post("sobjects/Lead/", json=body))
    assert status == 400 and text == message
    assert code in ("INVALID_FIELD", "JSON_PARSER_ERROR")


def test_unique_external_id_is_enforced_case_insensitively(inproc: EmulatorHandle) -> None:
    api = Api(inproc)
    first = api.create("Lead", **LEAD, MAP_Id__c="Dup-1")
    response = api.post("sobjects/Lead/", json=_lead(MAP_Id__c="dup-1"))
    assert response.json() == [{
        "message": f"duplicate value found: MAP_Id__c duplicates value on record with id: "
                   f"{first}", "errorCode": "DUPLICATE_VALUE", "fields": ["MAP_Id__c"]}]
    update = api.patch(f"sobjects/Lead/{api.create('Lead', **LEAD)}",
                       json={"MAP_Id__c": "DUP-1"})
    assert error_of(update)[1] == "DUPLICATE_VALUE"


def test_deleted_records_free_their_unique_values_and_refuse_updates(
        inproc: EmulatorHandle) -> None:
    api = Api(inproc)
    first = api.create("Lead", **LEAD, MAP_Id__c="reuse")
    assert api.delete(f"sobjects/Lead/{first}").status_code == 204
    api.create("Lead", **LEAD, MAP_Id__c="reuse")
    assert error_of(api.patch(f"sobjects/Lead/{first}", json={"Title": "x"})) == (
        404, "ENTITY_IS_DELETED", "entity is deleted")
    assert error_of(api.delete(f"sobjects/Lead/{first}"))[:2] == (404, "ENTITY_IS_DELETED")


def test_reference_to_a_deleted_record_is_entity_is_deleted(inproc: EmulatorHandle) -> None:
    api = Api(inproc)
    account = api.create("Account", Name="Gone")
    api.delete(f"sobjects/Account/{account}")
    response = api.post("sobjects/Contact/", json={"LastName": "x", "AccountId": account})
    assert error_of(response)[1] == "ENTITY_IS_DELETED"


def test_created_date_is_settable_on_insert_only(inproc: EmulatorHandle) -> None:
    api = Api(inproc)
    lead_id = api.create("Lead", **LEAD, CreatedDate="2021-03-04T05:06:07Z")
    assert api.record("Lead", lead_id)["CreatedDate"] == "2021-03-04T05:06:07.000+0000"
    response = api.patch(f"sobjects/Lead/{lead_id}", json={"CreatedDate": "2022-01-01T00:00:00Z"})
    assert error_of(response)[1] == "INVALID_FIELD_FOR_INSERT_UPDATE"


def test_simple_salesforce_raises_on_field_errors(inproc: EmulatorHandle) -> None:
    with pytest.raises(SalesforceMalformedRequest) as info:
        inproc.salesforce().Lead.create({"LastName": "x"})
    assert info.value.content[0]["errorCode"] == "REQUIRED_FIELD_MISSING"


def test_describe_serves_schema_with_custom_fields(emulator: EmulatorHandle) -> None:
    sf = emulator.salesforce()
    describe = sf.Lead.describe()
    fields = {f["name"]: f for f in describe["fields"]}
    assert describe["keyPrefix"] == "00Q"
    assert fields["MAP_Id__c"]["externalId"] and fields["MAP_Id__c"]["unique"]
    assert fields["Name"]["createable"] is False
    names = {o["name"] for o in sf.describe()["sobjects"]}
    assert {"Lead", "Contact", "CampaignMember", "Attribution__c"} <= names
    assert Api(emulator).get("sobjects/Lead/").json()["objectDescribe"]["name"] == "Lead"


def test_api_versions_are_listed_and_others_refused(emulator: EmulatorHandle) -> None:
    api = Api(emulator)
    versions = api.get("/services/data/").json()
    assert versions[0] == {"label": "Winter '21", "url": "/services/data/v50.0",
                           "version": "50.0"}
    assert versions[-1]["version"] == "66.0" and len(versions) == 17
    assert api.get("/services/data/v66.0/limits").status_code == 200
    assert error_of(api.get("/services/data/v49.0/limits"))[:2] == (404, "NOT_FOUND")


def test_method_not_allowed_names_the_allowed_methods(emulator: EmulatorHandle) -> None:
    response = Api(emulator).call("PUT", "sobjects/Lead/00Q8d0000000001EAA", json={})
    assert error_of(response)[:2] == (405, "METHOD_NOT_ALLOWED")
    assert "DELETE,GET,PATCH" in response.json()[0]["message"]


@pytest.mark.parametrize("fixture", ["inproc", "emulator"])
def test_unicode_and_url_special_characters_round_trip(request: pytest.FixtureRequest,
                                                        fixture: str) -> None:
    handle: EmulatorHandle = request.getfixturevalue(fixture)
    api = Api(handle)
    name = "Müller–Ωμέγα O'Brien & Søn 100%"
    lead_id = api.create("Lead", LastName=name, Company="Zürich AG", MAP_Id__c=f"u/{fixture}")
    assert api.record("Lead", lead_id)["LastName"] == name
    escaped = name.replace("'", "\\'")
    found = api.get("query", params={"q": f"SELECT Id FROM Lead WHERE LastName = '{escaped}' "
                                     f"AND MAP_Id__c = 'u/{fixture}'"}).json()
    assert [r["Id"] for r in found["records"]] == [lead_id]
