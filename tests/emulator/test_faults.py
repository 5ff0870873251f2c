"""Fault injection: real failure shapes at request scope, per-record failures, determinism."""

from __future__ import annotations

import time
from typing import Any

import pytest

from connector.emulator.faults import UNAVAILABLE_HTML
from connector.emulator.testing import EmulatorHandle
from tests.emulator.helpers import Api


def leads(n: int, prefix: str) -> list[dict[str, Any]]:
    return [{"attributes": {"type": "Lead"}, "LastName": f"F{i}", "Company": "C",
             "MAP_Id__c": f"{prefix}{i}"} for i in range(n)]


@pytest.mark.parametrize("rule, status, code, message", [
    pytest.param({"error": "UNABLE_TO_LOCK_ROW"}, 400, "UNABLE_TO_LOCK_ROW",
                 "unable to obtain exclusive access to this record", id="lock"),
    pytest.param({"error": "INVALID_SESSION_ID"}, 401, "INVALID_SESSION_ID",
                 "Session expired or invalid", id="session"),
    pytest.param({"error": "REQUEST_LIMIT_EXCEEDED"}, 403, "REQUEST_LIMIT_EXCEEDED",
                 "TotalRequests Limit exceeded.", id="daily-limit"),
    pytest.param({"error": "REQUEST_LIMIT_EXCEEDED", "limit": "concurrent"}, 403,
                 "REQUEST_LIMIT_EXCEEDED", "ConcurrentPerOrgLongTxn Limit exceeded.",
                 id="concurrent-limit"),
])
def test_request_faults_fail_the_call_before_it_runs(emulator: EmulatorHandle,
                                                     rule: dict[str, Any], status: int,
                                                     code: str, message: str) -> None:
    api = Api(emulator)
    emulator.set_faults([{"match": "composite/sobjects", "scope": "request", **rule}])
    response = api.post("composite/sobjects", json={"records": leads(1, "rq")})
    assert response.status_code == status
    body = response.json()
    assert body[0]["errorCode"] == code and body[0]["message"].startswith(message)
    assert "Sforce-Limit-Info" in response.headers
    emulator.clear_faults()
    count = api.get("query", params={"q": "SELECT COUNT() FROM Lead WHERE MAP_Id__c = 'rq0'"})
    assert count.json()["totalSize"] == 0


def test_server_unavailable_is_an_html_503_with_retry_after(emulator: EmulatorHandle) -> None:
    emulator.set_faults([{"match": "*", "error": "SERVER_UNAVAILABLE", "retry_after": 7}])
    response = Api(emulator).get("limits")
    assert response.status_code == 503
    assert response.headers["Content-Type"].startswith("text/html")
    assert response.headers["Retry-After"] == "7"
    assert response.text == UNAVAILABLE_HTML


def test_slow_delays_then_proceeds(emulator: EmulatorHandle) -> None:
    emulator.set_faults([{"match": "limits", "error": "SLOW", "delay_ms": 300}])
    started = time.monotonic()
    response = Api(emulator).get("limits")
    assert response.status_code == 200 and time.monotonic() - started >= 0.3


def test_count_caps_a_rule_and_method_filters_it(emulator: EmulatorHandle) -> None:
    api = Api(emulator)
    emulator.set_faults([{"match": "limits", "error": "UNABLE_TO_LOCK_ROW", "count": 2,
                          "method": "GET"}])
    statuses = [api.get("limits").status_code for _ in range(4)]
    assert statuses == [400, 400, 200, 200]
    [described] = emulator.control("GET", "faults")["rules"]
    assert (described["fired"], described["evaluated"]) == (2, 4)


def test_faulted_calls_still_count_as_api_calls(emulator: EmulatorHandle) -> None:
    emulator.set_faults([{"match": "limits", "error": "UNABLE_TO_LOCK_ROW"}])
    Api(emulator).get("limits")
    stats = emulator.stats()
    assert stats["api_calls"]["by_endpoint"]["limits"] == 1


def test_token_requests_can_be_faulted_too(emulator: EmulatorHandle) -> None:
    emulator.set_faults([{"match": "oauth2/token", "error": "SERVER_UNAVAILABLE"}])
    with pytest.raises(Exception, match="503"):
        emulator.access_token()


def _record_run(handle: EmulatorHandle, seed: int, prefix: str) -> list[bool]:
    handle.set_faults([{"match": "composite/sobjects", "error": "UNABLE_TO_LOCK_ROW",
                        "scope": "record", "rate": 0.3, "seed": seed}])
    results = Api(handle).collection("PATCH", leads(100, prefix), "/Lead/MAP_Id__c")
    return [r["success"] for r in results]


def test_record_faults_fail_chosen_records_deterministically_by_seed(
        emulator: EmulatorHandle) -> None:
    first = _record_run(emulator, seed=7, prefix="det-a")
    again = _record_run(emulator, seed=7, prefix="det-b")
    other = _record_run(emulator, seed=8, prefix="det-c")
    assert first == again and first != other
    assert 10 < first.count(False) < 50


def test_record_fault_results_carry_the_error_code(emulator: EmulatorHandle) -> None:
    api = Api(emulator)
    existing = api.create("Lead", LastName="Locked", Company="C")
    emulator.set_faults([{"match": "*", "error": "UNABLE_TO_LOCK_ROW", "scope": "record",
                          "count": 1}])
    results = api.collection("PATCH", [
        {"attributes": {"type": "Lead"}, "id": existing, "Title": "x"},
        {"attributes": {"type": "Lead"}, "id": existing, "Title": "y"}])
    assert results[0] == {"id": None, "success": False, "errors": [{
        "statusCode": "UNABLE_TO_LOCK_ROW", "message": "unable to obtain exclusive access to "
        f"this record or 1 records: {existing}", "fields": []}]}
    assert results[1]["success"] is True


def test_record_faults_can_target_one_object(emulator: EmulatorHandle) -> None:
    emulator.set_faults([{"match": "*", "error": "UNABLE_TO_LOCK_ROW", "scope": "record",
                          "object": "Account"}])
    results = Api(emulator).collection("POST", [
        {"attributes": {"type": "Account"}, "Name": "A"}, *leads(1, "obj")])
    assert [r["success"] for r in results] == [False, True]


def test_record_faults_apply_to_single_record_dml(emulator: EmulatorHandle) -> None:
    emulator.set_faults([{"match": "sobjects/Lead", "error": "UNABLE_TO_LOCK_ROW",
                          "scope": "record"}])
    response = Api(emulator).post("sobjects/Lead/", json={"LastName": "x", "Company": "y"})
    assert response.status_code == 400
    assert response.json()[0]["errorCode"] == "UNABLE_TO_LOCK_ROW"


def test_record_faults_land_in_bulk_failed_results(emulator: EmulatorHandle) -> None:
    emulator.set_faults([{"match": "jobs/ingest", "error": "UNABLE_TO_LOCK_ROW",
                          "scope": "record", "rate": 0.5, "seed": 3}])
    sf = emulator.salesforce()
    records = [{"LastName": f"B{i}", "Company": "C", "MAP_Id__c": f"bulk-fault-{i}"}
               for i in range(40)]
    [job] = sf.bulk2.Lead.upsert(records=records, external_id_field="MAP_Id__c", wait=0)
    failed = sf.bulk2.Lead.get_all_ingest_records(job["job_id"])["failedRecords"]
    assert job["numberRecordsFailed"] == len(failed) > 0
    assert all(r["sf__Error"].startswith("UNABLE_TO_LOCK_ROW:") for r in failed)


@pytest.mark.parametrize("rules, problem", [
    pytest.param([{"match": "*", "error": "BOOM"}], "rules[0]: error", id="unknown-error"),
    pytest.param([{"match": "*", "error": "SLOW", "scope": "record"}], "SLOW",
                 id="slow-record"),
    pytest.param([{"match": "*", "error": "SLOW", "rate": 2}], "rules[0]: rate",
                 id="rate-above-one"),
    pytest.param([{"error": "SLOW"}], "rules[0]: match", id="no-match"),
    pytest.param("not a list", "must be a list", id="not-a-list"),
])
def test_bad_fault_rules_are_refused_with_the_reason(emulator: EmulatorHandle, rules: Any,
                                                     problem: str) -> None:
    response = emulator.session().put(f"{emulator.instance_url}/__emulator__/faults",
                                      json={"rules": rules})
    assert response.status_code == 400 and problem in response.json()["error"]
