"""What the Salesforce CLI needs from the emulator: userinfo, column metadata,
the Organization row, record counts and composite/tree; shapes pinned here."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from connector.emulator.testing import EmulatorHandle
from tests.emulator.helpers import Api


def _endpoint_calls(handle: EmulatorHandle) -> dict[str, Any]:
    stats: dict[str, Any] = handle.stats()["api_calls"]
    return stats


def test_userinfo_answers_for_a_valid_session_and_403_otherwise(inproc: EmulatorHandle) -> None:
    api = Api(inproc)
    response = api.get("/services/oauth2/userinfo")
    assert response.status_code == 200
    body = response.json()
    creds = inproc.org.credentials
    assert body["user_id"] == creds.user_id and body["organization_id"] == creds.org_id
    assert body["preferred_username"] == creds.username
    assert body["sub"].endswith(f"/id/{creds.org_id}/{creds.user_id}")
    assert {"name", "email", "given_name", "family_name", "zoneinfo", "urls", "active"} <= set(body)
    before = inproc.stats()
    assert Api(inproc, token="not-a-session").get("/services/oauth2/userinfo").status_code == 403
    after = inproc.stats()
    assert after["daily_used"] == before["daily_used"]  # an auth call, not an API call


def test_the_identity_url_of_a_token_response_is_served(inproc: EmulatorHandle) -> None:
    with inproc.session() as session:
        grant = session.post(f"{inproc.login_url}/services/oauth2/token", data={
            "grant_type": "client_credentials", "client_id": inproc.client_id,
            "client_secret": inproc.client_secret}, timeout=30).json()
        api = Api(inproc, token=grant["access_token"])
        path = grant["id"].removeprefix(inproc.login_url)
        body = api.get(path).json()
        assert body["user_id"] == inproc.org.credentials.user_id
        assert body["username"] == inproc.org.credentials.username
        assert api.get("/id/00D000000000000AAA/005000000000000AAA").status_code == 404


def test_column_metadata_opens_no_cursor_and_counts_no_call(inproc: EmulatorHandle) -> None:
    api = Api(inproc)
    api.create("Account", Name="Acme")
    inproc.reset_stats()
    before = inproc.stats()["daily_used"]
    response = api.get("query", params={
        "q": "SELECT Id, Name, Owner.Name, NumberOfEmployees FROM Account", "columns": "true"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"columnMetadata", "entityName", "groupBy", "idSelected", "keyPrefix"}
    assert body["entityName"] == "Account" and body["keyPrefix"] == "001"
    assert body["idSelected"] is True
    columns = {c["columnName"]: c for c in body["columnMetadata"]}
    assert list(columns) == ["Id", "Name", "Owner", "NumberOfEmployees"]
    assert columns["Name"]["textType"] is True and columns["Name"]["apexType"] == "String"
    assert columns["NumberOfEmployees"]["numberType"] is True
    assert [j["columnName"] for j in columns["Owner"]["joinColumns"]] == ["Name"]
    assert "records" not in body
    assert inproc.stats()["daily_used"] == before
    assert _endpoint_calls(inproc)["by_endpoint"].get("query", 0) == 0
    with inproc.org.store.lock:
        assert inproc.org.store.conn.execute("SELECT COUNT(*) FROM _cursors").fetchone()[0] == 0


def test_column_metadata_reports_soql_errors(inproc: EmulatorHandle) -> None:
    response = Api(inproc).get("query", params={"q": "SELECT Nope FROM Account",
                                                "columns": "true"})
    assert response.status_code == 400
    assert response.json()[0]["errorCode"] == "INVALID_FIELD"


def test_organization_has_one_row_that_cannot_be_written(inproc: EmulatorHandle) -> None:
    api = Api(inproc)
    response = api.get("query", params={
        "q": "SELECT Name, InstanceName, IsSandbox, TrialExpirationDate, NamespacePrefix "
             "FROM Organization"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["totalSize"] == 1
    row = body["records"][0]
    assert row["attributes"]["type"] == "Organization"
    assert row["IsSandbox"] is False and row["NamespacePrefix"] is None
    assert row["attributes"]["url"].endswith(inproc.org.credentials.org_id)
    created = api.post("sobjects/Organization/", json={"Name": "Another"})
    assert created.status_code == 400
    assert created.json()[0]["errorCode"] == "INVALID_TYPE_FOR_OPERATION"
    describe = api.get("sobjects/Organization/describe").json()
    assert describe["createable"] is False and describe["queryable"] is True
    # the org still counts as empty for seeding
    assert inproc.org.store.record_count() == 0


def test_record_count_counts_live_records(inproc: EmulatorHandle) -> None:
    api = Api(inproc)
    for name in ("A", "B"):
        api.create("Account", Name=name)
    gone = api.create("Account", Name="C")
    assert api.delete(f"sobjects/Account/{gone}").status_code == 204
    body = api.get("limits/recordCount", params={"sObjects": "Account,Lead"}).json()
    assert body == {"sObjects": [{"count": 2, "name": "Account"}, {"count": 0, "name": "Lead"}]}
    assert api.get("limits/recordCount", params={"sObjects": "Nope"}).status_code == 404


def test_composite_tree_creates_all_or_none(inproc: EmulatorHandle) -> None:
    api = Api(inproc)
    ok = api.post("composite/tree/Account", json={"records": [
        {"attributes": {"type": "Account", "referenceId": "ref1"}, "Name": "Comma, Inc."},
        {"attributes": {"type": "Account", "referenceId": "ref2"}, "Name": "Ünïcode\nLtd"}]})
    assert ok.status_code == 201, ok.text
    body = ok.json()
    assert body["hasErrors"] is False
    assert [r["referenceId"] for r in body["results"]] == ["ref1", "ref2"]
    assert api.record("Account", body["results"][1]["id"])["Name"] == "Ünïcode\nLtd"
    bad = api.post("composite/tree/Lead", json={"records": [
        {"attributes": {"type": "Lead", "referenceId": "good"}, "LastName": "A", "Company": "X"},
        {"attributes": {"type": "Lead", "referenceId": "bad"}, "LastName": "B"}]})
    assert bad.status_code == 400
    result = bad.json()
    assert result["hasErrors"] is True
    assert result["results"][0]["referenceId"] == "bad"
    assert result["results"][0]["errors"][0]["statusCode"] == "REQUIRED_FIELD_MISSING"
    leads = api.get("query", params={"q": "SELECT COUNT() FROM Lead"}).json()
    assert leads["totalSize"] == 0  # the good one was rolled back


@pytest.mark.parametrize("name", ["sobjects", "query", "queryAll", "limits", "composite"])
def test_every_advertised_resource_is_served(inproc: EmulatorHandle, name: str) -> None:
    api = Api(inproc)
    resources = api.get("").json()
    assert name in resources
    path = resources[name]
    response = api.get(path, params={"q": "SELECT Id FROM Account"} if "query" in name
                       else None)
    assert response.status_code == 200, (path, response.text)


def test_only_served_resources_are_advertised(inproc: EmulatorHandle) -> None:
    assert set(Api(inproc).get("").json()) == {"sobjects", "query", "queryAll", "limits",
                                               "composite"}


def test_composite_tree_creates_nested_children_linked_to_their_parent(
        inproc: EmulatorHandle) -> None:
    api = Api(inproc)
    response = api.post("composite/tree/Account", json={"records": [
        {"attributes": {"type": "Account", "referenceId": "acme"}, "Name": "Acme",
         "Contacts": {"records": [
             {"attributes": {"type": "Contact", "referenceId": "ada"}, "LastName": "Ada"},
             {"attributes": {"type": "Contact", "referenceId": "bob"}, "LastName": "Bob"}]}}]})
    assert response.status_code == 201, response.text
    ids = {r["referenceId"]: r["id"] for r in response.json()["results"]}
    assert set(ids) == {"acme", "ada", "bob"}
    assert api.record("Contact", ids["ada"])["AccountId"] == ids["acme"]
    unknown = api.post("composite/tree/Account", json={"records": [
        {"attributes": {"type": "Account", "referenceId": "x"}, "Name": "X",
         "Nope": {"records": [{"attributes": {"type": "Contact", "referenceId": "y"},
                               "LastName": "Y"}]}}]})
    assert unknown.status_code == 400
    assert "Nope" in unknown.json()["results"][0]["errors"][0]["message"]
    too_many = api.post("composite/tree/Account", json={"records": [
        {"attributes": {"type": "Account", "referenceId": f"a{i}"}, "Name": f"A{i}"}
        for i in range(201)]})
    assert too_many.status_code == 400


def test_describe_lists_child_relationships_as_the_export_deploys_them(
        inproc: EmulatorHandle, tmp_path: Path) -> None:
    import xml.etree.ElementTree as ET

    from connector.mappings import load_mappings
    from connector.schema_export import export_schema

    api = Api(inproc)
    campaign = api.get("sobjects/Campaign/describe").json()
    children = {c["relationshipName"]: (c["childSObject"], c["field"])
                for c in campaign["childRelationships"]}
    assert children["CampaignMembers"] == ("CampaignMember", "CampaignId")
    assert children["ChildCampaigns"] == ("Campaign", "ParentId")
    export_schema(load_mappings(), tmp_path)
    ns = "{http://soap.sforce.com/2006/04/metadata}"
    for path in (tmp_path / "force-app").rglob("*.field-meta.xml"):
        root = ET.parse(path).getroot()  # noqa: S314 - our own output
        if root.findtext(f"{ns}referenceTo") == "Campaign":
            name = root.findtext(f"{ns}relationshipName")
            field = root.findtext(f"{ns}fullName")
            assert children[f"{name}__r"] == (path.parent.parent.name, field)
    account = api.get("sobjects/Account/describe").json()
    assert {c["relationshipName"] for c in account["childRelationships"]} >= {
        "Contacts", "Opportunities"}
