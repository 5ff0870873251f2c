"""Bulk API 2.0 through simple-salesforce's ``bulk2``, unmodified, plus exact wire shapes."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest
from simple_salesforce.exceptions import SalesforceOperationError

from connector.emulator.testing import EmulatorHandle
from tests.emulator.helpers import Api, error_of


def rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def create_job(api: Api, **body: Any) -> dict[str, Any]:
    response = api.post("jobs/ingest", json={"object": "Lead", "contentType": "CSV", **body})
    assert response.status_code == 200, response.text
    job: dict[str, Any] = response.json()
    return job


def run_job(api: Api, data: str, **body: Any) -> dict[str, Any]:
    job = create_job(api, **body)
    upload = api.call("PUT", f"jobs/ingest/{job['id']}/batches", data=data.encode(),
                      headers={"Content-Type": "text/csv"})
    assert upload.status_code == 201, upload.text
    closed = api.patch(f"jobs/ingest/{job['id']}", json={"state": "UploadComplete"})
    assert closed.json()["state"] == "UploadComplete"
    info: dict[str, Any] = api.get(f"jobs/ingest/{job['id']}").json()
    return info


def test_insert_then_upsert_through_simple_salesforce(inproc: EmulatorHandle) -> None:
    sf = inproc.salesforce()
    records = [{"LastName": f"L{i}", "Company": "B", "MAP_Id__c": f"b{i}"} for i in range(25)]
    records.append({"LastName": "bad", "Company": "B", "Email": "nope"})
    [inserted] = sf.bulk2.Lead.insert(records=records, wait=0)
    assert (inserted["numberRecordsProcessed"], inserted["numberRecordsFailed"],
            inserted["numberRecordsTotal"]) == (26, 1, 26)
    results = sf.bulk2.Lead.get_all_ingest_records(inserted["job_id"])
    assert len(results["successfulRecords"]) == 25 and results["unprocessedRecords"] == []
    success = results["successfulRecords"][0]
    assert success["sf__Id"].startswith("00Q") and success["sf__Created"] == "true"
    failed = results["failedRecords"][0]
    assert failed["sf__Id"] == "" and failed["Email"] == "nope"
    assert failed["sf__Error"] == "INVALID_EMAIL_ADDRESS:Email: invalid email address: nope:" \
                                  "Email --"
    changed = [{"MAP_Id__c": f"B{i}", "Title": "T"} for i in range(5)] + \
              [{"MAP_Id__c": "b-new", "LastName": "N", "Company": "B"}]
    [upserted] = sf.bulk2.Lead.upsert(records=changed, external_id_field="MAP_Id__c", wait=0)
    assert upserted["numberRecordsFailed"] == 0
    created = {r["MAP_Id__c"]: r["sf__Created"] for r in rows(
        sf.bulk2.Lead.get_successful_records(upserted["job_id"]))}
    assert created == {**{f"B{i}": "false" for i in range(5)}, "b-new": "true"}
    titled = sf.query("SELECT COUNT() FROM Lead WHERE Title = 'T'")["totalSize"]
    assert titled == 5


def test_upsert_with_csv_file_update_delete_and_hard_delete(inproc: EmulatorHandle,
                                                            tmp_path: Path) -> None:
    sf = inproc.salesforce()
    path = tmp_path / "leads.csv"
    path.write_text("LastName,Company,MAP_Id__c\nA,C,f1\nB,C,f2\nC,C,f3\n", encoding="utf-8")
    [job] = sf.bulk2.Lead.upsert(csv_file=str(path), external_id_field="MAP_Id__c", wait=0)
    ids = [r["sf__Id"] for r in rows(sf.bulk2.Lead.get_successful_records(job["job_id"]))]
    assert len(ids) == 3
    [updated] = sf.bulk2.Lead.update(records=[{"Id": ids[0], "Title": "Boss"}], wait=0)
    assert updated["numberRecordsFailed"] == 0
    assert sf.Lead.get(ids[0])["Title"] == "Boss"
    [deleted] = sf.bulk2.Lead.delete(records=[{"Id": ids[1]}], wait=0)
    assert deleted["numberRecordsFailed"] == 0
    assert sf.query_all("SELECT Id FROM Lead WHERE IsDeleted = true",
                        include_deleted=True)["totalSize"] == 1
    [hard] = sf.bulk2.Lead.hard_delete(records=[{"Id": ids[2]}], wait=0)
    assert hard["numberRecordsFailed"] == 0
    assert sf.query_all(f"SELECT Id FROM Lead WHERE Id = '{ids[2]}'",
                        include_deleted=True)["totalSize"] == 0


def test_job_info_shapes_and_state_machine(inproc: EmulatorHandle) -> None:
    api = Api(inproc)
    job = create_job(api, operation="upsert", externalIdFieldName="map_id__c")
    assert {k: job[k] for k in ("operation", "object", "state", "externalIdFieldName",
                                "contentType", "jobType", "lineEnding", "columnDelimiter",
                                "concurrencyMode", "apiVersion")} == {
        "operation": "upsert", "object": "Lead", "state": "Open",
        "externalIdFieldName": "MAP_Id__c", "contentType": "CSV", "jobType": "V2Ingest",
        "lineEnding": "LF", "columnDelimiter": "COMMA", "concurrencyMode": "Parallel",
        "apiVersion": 62.0}
    assert job["id"].startswith("750")
    assert job["contentUrl"] == f"services/data/v62.0/jobs/ingest/{job['id']}/batches"
    not_csv = api.call("PUT", f"jobs/ingest/{job['id']}/batches", data=b"{}",
                       headers={"Content-Type": "application/json"})
    assert not_csv.status_code == 400
    aborted = api.patch(f"jobs/ingest/{job['id']}", json={"state": "Aborted"}).json()
    assert aborted["state"] == "Aborted"
    again = api.patch(f"jobs/ingest/{job['id']}", json={"state": "UploadComplete"})
    assert error_of(again)[:2] == (400, "INVALIDJOBSTATE")
    listed = api.get("jobs/ingest").json()
    assert listed["done"] is True and [j["id"] for j in listed["records"]] == [job["id"]]
    assert api.delete(f"jobs/ingest/{job['id']}").status_code == 204
    assert api.get(f"jobs/ingest/{job['id']}").status_code == 404


@pytest.mark.parametrize("body, message", [
    pytest.param({"object": "Nope", "operation": "insert"}, "Unable to find object",
                 id="unknown-object"),
    pytest.param({"operation": "merge"}, "Invalid operation", id="bad-operation"),
    pytest.param({"operation": "upsert", "externalIdFieldName": "Company"},
                 "does not match an External ID", id="not-external-id"),
    pytest.param({"operation": "insert", "lineEnding": "CR"}, "lineEnding", id="line-ending"),
])
def test_invalid_job_definitions_are_refused(inproc: EmulatorHandle, body: dict[str, str],
                                             message: str) -> None:
    response = Api(inproc).post("jobs/ingest", json={"object": "Lead", **body})
    status, code, text = error_of(response)
    assert (status, code) == (400, "INVALIDJOB") and message in text


@pytest.mark.parametrize("data, line_ending, error", [
    pytest.param("LastName,Nope__c\nA,b\n", "LF", "InvalidBatch : Field name not found : "
                 "Nope__c", id="unknown-column"),
    pytest.param("LastName,Company\r\nA,B\r\n", "LF", "ClientInputError : LineEnding is invalid "
                 "on user data. Current LineEnding setting is LF", id="crlf-in-lf-job"),
    pytest.param("LastName,Company\nA,B\n", "CRLF", "ClientInputError : LineEnding is invalid "
                 "on user data. Current LineEnding setting is CRLF", id="lf-in-crlf-job"),
])
def test_bad_uploads_fail_the_job_and_leave_rows_unprocessed(inproc: EmulatorHandle, data: str,
                                                             line_ending: str,
                                                             error: str) -> None:
    api = Api(inproc)
    info = run_job(api, data, operation="insert", lineEnding=line_ending)
    assert (info["state"], info["errorMessage"]) == ("Failed", error)
    unprocessed = api.get(f"jobs/ingest/{info['id']}/unprocessedrecords").text
    assert len(unprocessed.strip().splitlines()) == 2  # header and the one row
    with pytest.raises(SalesforceOperationError):
        inproc.salesforce().bulk2.Lead.insert(records=[{"LastName": "x", "Nope__c": "y"}],
                                              wait=0)


def test_crlf_pipe_delimited_upload_and_relationship_columns(inproc: EmulatorHandle) -> None:
    api = Api(inproc)
    account = api.create("Account", Name="Parent")
    campaign = api.create("Campaign", Name="Cmp", MAP_Program_Id__c="prog-1")
    data = ("LastName|Company|First_Touch_Campaign__r.MAP_Program_Id__c\r\n"
            "A|X|prog-1\r\nB|X|prog-missing\r\n")
    info = run_job(api, data, operation="insert", lineEnding="CRLF", columnDelimiter="PIPE")
    assert (info["state"], info["numberRecordsProcessed"], info["numberRecordsFailed"]) == (
        "JobComplete", 2, 1)
    success = rows(api.get(f"jobs/ingest/{info['id']}/successfulResults").text)[0]
    assert api.record("Lead", success["sf__Id"])["First_Touch_Campaign__c"] == campaign
    failed = rows(api.get(f"jobs/ingest/{info['id']}/failedResults").text)[0]
    assert failed["sf__Error"].startswith("INVALID_FIELD:Foreign key external ID: prog-missing "
                                          "not found")
    contact = run_job(api, f"LastName,AccountId\nK,{account}\n", operation="insert",
                      object="Contact")
    assert contact["numberRecordsFailed"] == 0


def test_empty_cells_leave_fields_alone_and_na_clears_them(inproc: EmulatorHandle) -> None:
    api = Api(inproc)
    lead = api.create("Lead", LastName="A", Company="C", Title="Keep", Phone="123",
                      MAP_Id__c="na-1")
    info = run_job(api, "MAP_Id__c,Title,Phone\nna-1,,#N/A\n", operation="upsert",
                   externalIdFieldName="MAP_Id__c")
    assert info["numberRecordsFailed"] == 0
    record = api.record("Lead", lead)
    assert (record["Title"], record["Phone"]) == ("Keep", None)


def test_type_errors_in_csv_fail_only_their_row(inproc: EmulatorHandle) -> None:
    api = Api(inproc)
    info = run_job(api, "LastName,Company,NumberOfEmployees\nA,C,many\nB,C,12\n",
                   operation="insert")
    assert (info["numberRecordsProcessed"], info["numberRecordsFailed"]) == (2, 1)
    failed = rows(api.get(f"jobs/ingest/{info['id']}/failedResults").text)[0]
    assert failed["sf__Error"].startswith("INVALID_TYPE_ON_FIELD_IN_RECORD:")


def test_duplicate_external_ids_in_one_upload_both_fail(inproc: EmulatorHandle) -> None:
    api = Api(inproc)
    info = run_job(api, "MAP_Id__c,LastName,Company\nd1,A,C\nD1,B,C\nd2,C,C\n",
                   operation="upsert", externalIdFieldName="MAP_Id__c")
    assert (info["numberRecordsProcessed"], info["numberRecordsFailed"]) == (3, 2)
    errors = {r["sf__Error"] for r in rows(api.get(f"jobs/ingest/{info['id']}/failedResults")
                                           .text)}
    assert errors == {"DUPLICATE_VALUE:Duplicate external id specified: d1:MAP_Id__c --"}


def test_query_job_pages_with_locator_and_record_count(inproc: EmulatorHandle) -> None:
    sf = inproc.salesforce()
    sf.bulk2.Lead.insert(records=[{"LastName": f"Q{i:03d}", "Company": "Bulk, Inc."}
                                  for i in range(250)], wait=0)
    pages = list(sf.bulk2.Lead.query("SELECT Id, LastName, Company FROM Lead ORDER BY LastName",
                                     max_records=100, wait=0))
    assert len(pages) == 3
    parsed = [r for page in pages for r in rows(page)]
    assert [r["LastName"] for r in parsed] == [f"Q{i:03d}" for i in range(250)]
    assert parsed[0]["Company"] == "Bulk, Inc."
    assert pages[0].splitlines()[0] == '"Id","LastName","Company"'


def test_query_job_wire_shapes(inproc: EmulatorHandle) -> None:
    api = Api(inproc)
    for i in range(3):
        api.create("Lead", LastName=f"W{i}", Company="C")
    job = api.post("jobs/query", json={"operation": "query",
                                       "query": "SELECT Id FROM Lead"}).json()
    assert (job["state"], job["jobType"], job["object"]) == ("UploadComplete", "V2Query", "Lead")
    info = api.get(f"jobs/query/{job['id']}").json()
    assert (info["state"], info["numberRecordsProcessed"]) == ("JobComplete", 3)
    first = api.get(f"jobs/query/{job['id']}/results", params={"maxRecords": 2})
    assert first.headers["Sforce-NumberOfRecords"] == "2"
    locator = first.headers["Sforce-Locator"]
    assert locator != "null"
    last = api.get(f"jobs/query/{job['id']}/results",
                   params={"maxRecords": 2, "locator": locator})
    assert (last.headers["Sforce-NumberOfRecords"], last.headers["Sforce-Locator"]) == ("1",
                                                                                       "null")
    assert last.headers["Content-Type"].startswith("text/csv")
    bad = api.post("jobs/query", json={"operation": "query", "query": "SELECT Nope FROM Lead"})
    assert error_of(bad)[:2] == (400, "INVALID_FIELD")
    assert api.delete(f"jobs/query/{job['id']}").status_code == 204


def test_query_all_job_includes_deleted(inproc: EmulatorHandle) -> None:
    sf = inproc.salesforce()
    lead = sf.Lead.create({"LastName": "Del", "Company": "C"})["id"]
    sf.Lead.delete(lead)
    query = f"SELECT Id FROM Lead WHERE Id = '{lead}'"
    assert rows("".join(sf.bulk2.Lead.query(query, wait=0))) == []
    assert [r["Id"] for r in rows("".join(sf.bulk2.Lead.query_all(query, wait=0)))] == [lead]
