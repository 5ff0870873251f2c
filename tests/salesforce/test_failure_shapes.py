"""The client layer against the exact failure shapes Salesforce produces."""

from __future__ import annotations

import json
import random

import pytest
import responses

from connector.config import SalesforceSettings
from connector.errors import (
    ApiLimitExceeded,
    AuthError,
    BudgetExhausted,
    QueryError,
    SalesforceApiError,
)
from connector.salesforce import SalesforceClient, WriteOp, Writer
from connector.salesforce.retry import Backoff
from tests.salesforce.conftest import API, LOGIN, ORG, Sleeps, limit_headers

COLLECTIONS = f"{API}/composite/sobjects"


def make_client(settings: SalesforceSettings, sleeps: Sleeps) -> SalesforceClient:
    return SalesforceClient(settings, sleep=sleeps,
                            backoff=Backoff(initial=0.5, maximum=8, rng=random.Random(1))).connect()


def test_collections_partial_failure_returns_typed_results_in_input_order(
        mocked: responses.RequestsMock, settings: SalesforceSettings, sleeps: Sleeps) -> None:
    mocked.add(responses.POST, COLLECTIONS, headers=limit_headers(12), json=[
        {"id": "00Q8d00000000AAAAA", "success": True, "errors": []},
        {"success": False, "errors": [{"statusCode": "STRING_TOO_LONG",
                                        "message": "Company: data value too large",
                                        "fields": ["Company"]}]},
        {"id": "00Q8d00000000BBAAA", "success": True, "errors": []},
    ])
    client = make_client(settings, sleeps)
    ops = [WriteOp(ref=f"p{i}", fields={"LastName": f"L{i}", "Company": "C"}) for i in range(3)]
    outcome = Writer(client).write("Lead", "create", ops)
    assert [r.ref for r in outcome.results] == ["p0", "p1", "p2"]
    assert [r.success for r in outcome.results] == [True, False, True]
    failed = outcome.results[1]
    assert (failed.error_code, failed.fields) == ("STRING_TOO_LONG", ("Company",))
    body = json.loads(mocked.calls[-1].request.body)
    assert body["allOrNone"] is False
    assert body["records"][0]["attributes"] == {"type": "Lead"}
    assert outcome.stopped is None and sleeps == []  # data errors are never retried


def test_expired_session_is_refreshed_once_and_the_call_retried(
        mocked: responses.RequestsMock, settings: SalesforceSettings, sleeps: Sleeps) -> None:
    client = make_client(settings, sleeps)
    mocked.add(responses.GET, f"{API}/query/", status=401,
               json=[{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}])
    mocked.add(responses.GET, f"{API}/query/", json={"totalSize": 1, "done": True, "records": [
        {"attributes": {"type": "Lead"}, "Id": "00Q8d00000000AAAAA"}]})
    rows = list(client.query("SELECT Id FROM Lead"))
    assert rows == [{"Id": "00Q8d00000000AAAAA"}]
    token_calls = [c for c in mocked.calls if c.request.url.startswith(LOGIN)]
    assert len(token_calls) == 2 and client.refreshes == 1


def test_a_second_401_after_refresh_is_an_auth_error_naming_the_settings(
        mocked: responses.RequestsMock, settings: SalesforceSettings, sleeps: Sleeps) -> None:
    client = make_client(settings, sleeps)
    mocked.add(responses.GET, f"{API}/query/", status=401,
               json=[{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}])
    with pytest.raises(AuthError) as info:
        list(client.query("SELECT Id FROM Lead"))
    assert info.value.exit_code == 3
    assert "SF_CLIENT_ID" in str(info.value)


def test_a_ready_access_token_cannot_refresh(
        mocked: responses.RequestsMock, sleeps: Sleeps) -> None:
    settings = SalesforceSettings(_env_file=None, instance_url=ORG, login_url=LOGIN,
                                  access_token="tok")
    client = make_client(settings, sleeps)
    mocked.add(responses.GET, f"{API}/query/", status=401,
               json=[{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}])
    with pytest.raises(AuthError, match="cannot be refreshed"):
        list(client.query("SELECT Id FROM Lead"))


HTML_503 = "<html><head><title>Service Unavailable</title></head><body>Maintenance</body></html>"


def test_503_with_html_body_is_retried_with_backoff(
        mocked: responses.RequestsMock, settings: SalesforceSettings, sleeps: Sleeps) -> None:
    client = make_client(settings, sleeps)
    mocked.add(responses.GET, f"{API}/query/", status=503, body=HTML_503,
               content_type="text/html")
    mocked.add(responses.GET, f"{API}/query/", json={"totalSize": 0, "done": True,
                                                     "records": []})
    assert list(client.query("SELECT Id FROM Lead")) == []
    assert len(sleeps) == 1 and 0.25 <= sleeps[0] <= 0.5


def test_persistent_503_stops_the_writer_and_reports_what_remains(
        mocked: responses.RequestsMock, settings: SalesforceSettings, sleeps: Sleeps) -> None:
    client = make_client(settings, sleeps)
    mocked.add(responses.PATCH, f"{COLLECTIONS}/Lead/MAP_Id__c", status=503, body=HTML_503)
    ops = [WriteOp(ref=f"m{i}", fields={"MAP_Id__c": f"m{i}", "LastName": "X"})
           for i in range(450)]
    outcome = Writer(client).write("Lead", "upsert", ops, external_id_field="MAP_Id__c")
    assert outcome.stopped is not None and outcome.stopped.retriable
    assert len(outcome.results) == 450
    assert {r.error_code for r in outcome.results} == {"NOT_ATTEMPTED"}
    # bounded: max_attempts calls for the first batch, none for the rest
    patch_calls = [c for c in mocked.calls if c.request.method == "PATCH"]
    assert len(patch_calls) == settings.max_attempts
    assert "Maintenance" in outcome.stopped.message


def test_malformed_json_is_retried(
        mocked: responses.RequestsMock, settings: SalesforceSettings, sleeps: Sleeps) -> None:
    client = make_client(settings, sleeps)
    mocked.add(responses.GET, f"{API}/query/", body='{"totalSize": 1, "reco',
               content_type="application/json")
    mocked.add(responses.GET, f"{API}/query/", json={"totalSize": 0, "done": True,
                                                     "records": []})
    assert list(client.query("SELECT Id FROM Lead")) == []
    assert client.retries == 1


def test_daily_limit_exceeded_stops_without_retrying(
        mocked: responses.RequestsMock, settings: SalesforceSettings, sleeps: Sleeps) -> None:
    client = make_client(settings, sleeps)
    mocked.add(responses.GET, f"{API}/query/", status=403, json=[
        {"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}])
    with pytest.raises(ApiLimitExceeded) as info:
        list(client.query("SELECT Id FROM Lead"))
    assert info.value.exit_code == 4 and sleeps == []


def test_concurrent_limit_is_retried_honouring_retry_after(
        mocked: responses.RequestsMock, settings: SalesforceSettings, sleeps: Sleeps) -> None:
    client = make_client(settings, sleeps)
    mocked.add(responses.GET, f"{API}/query/", status=403, headers={"Retry-After": "7"}, json=[
        {"message": "ConcurrentPerOrgLongTxn Limit exceeded.",
         "errorCode": "REQUEST_LIMIT_EXCEEDED"}])
    mocked.add(responses.GET, f"{API}/query/", json={"totalSize": 0, "done": True,
                                                     "records": []})
    list(client.query("SELECT Id FROM Lead"))
    assert sleeps == [7.0]


def test_malformed_query_is_a_query_error_not_retried(
        mocked: responses.RequestsMock, settings: SalesforceSettings, sleeps: Sleeps) -> None:
    client = make_client(settings, sleeps)
    mocked.add(responses.GET, f"{API}/query/", status=400, json=[
        {"message": "\nSELECT Id FORM Lead\n          ^\nERROR at Row:1:Column:11\n"
                    "unexpected token: FORM", "errorCode": "MALFORMED_QUERY"}])
    with pytest.raises(QueryError) as info:
        list(client.query("SELECT Id FORM Lead"))
    assert info.value.error_code == "MALFORMED_QUERY" and sleeps == []


def test_lock_errors_are_resent_then_succeed(
        mocked: responses.RequestsMock, settings: SalesforceSettings, sleeps: Sleeps) -> None:
    client = make_client(settings, sleeps)
    lock = {"success": False, "errors": [{"statusCode": "UNABLE_TO_LOCK_ROW",
                                          "message": "unable to obtain exclusive access",
                                          "fields": []}]}
    mocked.add(responses.PATCH, COLLECTIONS, json=[
        {"id": "00Q8d00000000AAAAA", "success": True, "errors": []}, lock])
    mocked.add(responses.PATCH, COLLECTIONS, json=[
        {"id": "00Q8d00000000BBAAA", "success": True, "errors": []}])
    ops = [WriteOp(ref="a", id="00Q8d00000000AAAAA", fields={"Title": "x"}),
           WriteOp(ref="b", id="00Q8d00000000BBAAA", fields={"Title": "y"})]
    outcome = Writer(client).write("Lead", "update", ops)
    assert all(r.success for r in outcome.results)
    assert outcome.results[1].attempts == 2 and len(sleeps) == 1
    resent = json.loads(mocked.calls[-1].request.body)["records"]
    assert [r["id"] for r in resent] == ["00Q8d00000000BBAAA"]


def test_budget_stops_before_the_call_that_would_exceed_it(
        mocked: responses.RequestsMock, sleeps: Sleeps) -> None:
    # a cap counts every call of the run: the limits read and two writes
    settings = SalesforceSettings(_env_file=None, instance_url=ORG, login_url=LOGIN,
                                  client_id="c", client_secret="s", budget_calls=3)
    client = make_client(settings, sleeps)
    mocked.add(responses.POST, COLLECTIONS, json=[
        {"id": f"00Q8d0000000{i:04d}AAA", "success": True, "errors": []} for i in range(200)])
    ops = [WriteOp(ref=str(i), fields={"LastName": "L", "Company": "C"}) for i in range(500)]
    outcome = Writer(client).write("Lead", "create", ops)
    assert isinstance(outcome.stopped, BudgetExhausted)
    assert outcome.stopped.exit_code == 4
    assert sum(r.success for r in outcome.results) == 400
    assert sum(r.error_code == "NOT_ATTEMPTED" for r in outcome.results) == 100
    assert outcome.calls == 2


def test_invalid_client_is_an_auth_error(sleeps: Sleeps, settings: SalesforceSettings) -> None:
    with responses.RequestsMock() as rsps:
        rsps.add(responses.POST, f"{LOGIN}/services/oauth2/token", status=400,
                 json={"error": "invalid_client",
                       "error_description": "invalid client credentials"})
        with pytest.raises(AuthError) as info:
            SalesforceClient(settings, sleep=sleeps).connect()
    assert "invalid_client" in str(info.value)
    assert "s3cret" not in str(info.value)


def test_not_found_is_a_plain_api_error(
        mocked: responses.RequestsMock, settings: SalesforceSettings, sleeps: Sleeps) -> None:
    client = make_client(settings, sleeps)
    mocked.add(responses.GET, f"{API}/sobjects/Foo__c/describe/", status=404, json=[
        {"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}])
    with pytest.raises(SalesforceApiError) as info:
        client.describe("Foo__c")
    assert info.value.status == 404 and not info.value.retriable


def _ingest_job(mocked: responses.RequestsMock, job_id: str, *, processed: int,
                failed: int) -> str:
    """A Bulk 2.0 ingest job that opens, takes its upload, closes and completes
    with these counters; returns the jobs URL (results are mocked per test)."""
    jobs = f"{API}/jobs/ingest"
    mocked.add(responses.POST, jobs, json={"id": job_id, "state": "Open"})
    mocked.add(responses.PUT, f"{jobs}/{job_id}/batches", status=201)
    mocked.add(responses.PATCH, f"{jobs}/{job_id}", json={"id": job_id,
                                                          "state": "UploadComplete"})
    mocked.add(responses.GET, f"{jobs}/{job_id}", json={
        "id": job_id, "state": "JobComplete", "numberRecordsProcessed": processed,
        "numberRecordsFailed": failed})
    return jobs


def test_bulk_results_are_correlated_by_key_not_by_order(
        mocked: responses.RequestsMock, settings: SalesforceSettings, sleeps: Sleeps) -> None:
    client = make_client(settings, sleeps)
    jobs = _ingest_job(mocked, "750J1", processed=3, failed=1)
    mocked.add(responses.GET, f"{jobs}/750J1/successfulResults",
               body="sf__Id,sf__Created,MAP_Id__c,LastName\n00Q8d00000000CCAAA,true,m2,C\n"
                    "00Q8d00000000AAAAA,false,m0,A\n")
    mocked.add(responses.GET, f"{jobs}/750J1/failedResults",
               body='sf__Id,sf__Error,MAP_Id__c,LastName\n,"STRING_TOO_LONG:Last Name: data '
                    'value too large:LastName",m1,B\n')
    ops = [WriteOp(ref=f"r{i}", fields={"MAP_Id__c": f"m{i}", "LastName": "ABC"[i]})
           for i in range(3)]
    outcome = Writer(client, bulk_threshold=3).write("Lead", "upsert", ops,
                                                     external_id_field="MAP_Id__c")
    assert outcome.transport == "bulk2"
    r0, r1, r2 = outcome.results
    assert (r0.id, r0.created) == ("00Q8d00000000AAAAA", False)
    assert (r1.success, r1.error_code, r1.fields) == (False, "STRING_TOO_LONG", ("LastName",))
    assert (r2.id, r2.created) == ("00Q8d00000000CCAAA", True)
    upload = next(c for c in mocked.calls if c.request.method == "PUT")
    assert upload.request.body.decode().splitlines()[0] == "MAP_Id__c,LastName"


@pytest.mark.parametrize("header", [
    pytest.param("sf__Id,sf__Created,MAP_Id__c,LastName", id="as-sent"),
    pytest.param("sf__Id,sf__Created,map_id__c,LASTNAME", id="echoed-in-another-case"),
    pytest.param("sf__Id,sf__Created,LastName,MAP_Id__c", id="columns-reordered"),
])
def test_bulk_results_match_their_ops_whatever_the_echoed_header(
        mocked: responses.RequestsMock, settings: SalesforceSettings, sleeps: Sleeps,
        header: str) -> None:
    client = make_client(settings, sleeps)
    jobs = _ingest_job(mocked, "750J2", processed=2, failed=0)
    swapped = header.endswith("MAP_Id__c")
    rows = [("00Q8d00000000BBAAA", "true", "m1", "B"), ("00Q8d00000000AAAAA", "false", "m0", "A")]
    body = "\n".join([header, *(",".join((i, c, n, m) if swapped else (i, c, m, n))
                                for i, c, m, n in rows)]) + "\n"
    mocked.add(responses.GET, f"{jobs}/750J2/successfulResults", body=body)
    ops = [WriteOp(ref=f"r{i}", fields={"MAP_Id__c": f"m{i}", "LastName": "AB"[i]})
           for i in range(2)]
    outcome = Writer(client, bulk_threshold=2).write("Lead", "upsert", ops,
                                                     external_id_field="MAP_Id__c")
    assert [(r.ref, r.id, r.created) for r in outcome.results] == [
        ("r0", "00Q8d00000000AAAAA", False), ("r1", "00Q8d00000000BBAAA", True)]
