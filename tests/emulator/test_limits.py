"""API accounting: the limit header, the daily allocation running out, per-category stats."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from connector.emulator.testing import EmulatorHandle
from tests.emulator.helpers import Api, error_of


def test_every_api_response_carries_sforce_limit_info(inproc: EmulatorHandle) -> None:
    api = Api(inproc)
    first = api.get("limits")
    second = api.post("sobjects/Lead/", json={"LastName": "x"})  # a failing call counts too
    assert first.headers["Sforce-Limit-Info"] == "api-usage=1/100000"
    assert second.status_code == 400
    assert second.headers["Sforce-Limit-Info"] == "api-usage=2/100000"


def test_daily_allocation_runs_out_with_403(inproc: EmulatorHandle) -> None:
    api = Api(inproc)
    inproc.set_daily_max(3)
    assert [api.get("limits").status_code for _ in range(3)] == [200, 200, 200]
    refused = api.get("limits")
    assert error_of(refused) == (403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
    assert refused.headers["Sforce-Limit-Info"] == "api-usage=3/3"
    assert inproc.stats()["daily_used"] == 3  # refused calls are not counted
    inproc.access_token()  # token requests are not API calls: still served
    inproc.set_daily_max(10)
    assert api.get("limits").status_code == 200


def test_limits_resource_reports_the_allocation(inproc: EmulatorHandle) -> None:
    api = Api(inproc)
    inproc.set_daily_max(500, daily_used=120)
    limits = api.get("limits").json()
    assert limits["DailyApiRequests"] == {"Max": 500, "Remaining": 379}
    for name in ("DailyBulkApiBatches", "DailyBulkV2QueryJobs", "DataStorageMB"):
        assert set(limits[name]) == {"Max", "Remaining"}
    inproc.salesforce().bulk2.Lead.query("SELECT Id FROM Lead", wait=0).__next__()
    after = api.get("limits").json()
    assert after["DailyBulkV2QueryJobs"]["Remaining"] == \
        limits["DailyBulkV2QueryJobs"]["Remaining"] - 1


def test_simple_salesforce_sees_api_usage(inproc: EmulatorHandle) -> None:
    sf = inproc.salesforce()
    sf.query("SELECT Id FROM Lead")
    assert sf.api_usage["api-usage"].total == 100000
    assert sf.api_usage["api-usage"].used >= 1


@pytest.mark.parametrize("call, category, endpoint", [
    pytest.param(lambda a: a.get("limits"), "read", "limits", id="limits"),
    pytest.param(lambda a: a.get("/services/data/"), "read", "versions", id="versions"),
    pytest.param(lambda a: a.get("sobjects/Lead/describe"), "read", "sobject.describe",
                 id="describe"),
    pytest.param(lambda a: a.get("query", params={"q": "SELECT Id FROM Lead"}), "read",
                 "query", id="query"),
    pytest.param(lambda a: a.post("sobjects/Account/", json={"Name": "A"}), "write",
                 "sobject.create", id="create"),
    pytest.param(lambda a: a.post("composite/sobjects", json={"records": []}), "write",
                 "collections.create", id="collections"),
    pytest.param(lambda a: a.post("jobs/ingest", json={"object": "Lead", "operation": "insert"}),
                 "write", "bulk2.ingest.create", id="bulk-ingest"),
    pytest.param(lambda a: a.get("jobs/ingest"), "write", "bulk2.ingest.list",
                 id="bulk-ingest-list"),
    pytest.param(lambda a: a.post("jobs/query", json={"query": "SELECT Id FROM Lead"}), "read",
                 "bulk2.query.create", id="bulk-query"),
])
def test_calls_are_counted_by_category_and_endpoint(inproc: EmulatorHandle,
                                                    call: Callable[[Api], Any],
                                                    category: str, endpoint: str) -> None:
    api = Api(inproc)
    inproc.reset_stats()
    call(api)
    stats = inproc.stats()["api_calls"]
    assert stats[category] == 1 and stats["total"] == 1
    assert stats["by_endpoint"] == {endpoint: 1}


def test_token_requests_count_as_auth_only(inproc: EmulatorHandle) -> None:
    before = inproc.stats()
    inproc.access_token()
    after = inproc.stats()
    assert after["api_calls"]["auth"] == before["api_calls"]["auth"] + 1
    assert after["api_calls"]["total"] == before["api_calls"]["total"]
    assert after["daily_used"] == before["daily_used"]


def test_every_bulk_ingest_call_is_a_write(inproc: EmulatorHandle) -> None:
    sf = inproc.salesforce()
    inproc.reset_stats()
    [job] = sf.bulk2.Lead.insert(records=[{"LastName": "x", "Company": "y"}], wait=0)
    sf.bulk2.Lead.get_failed_records(job["job_id"])
    stats = inproc.stats()["api_calls"]
    assert stats["read"] == 0 and stats["write"] >= 6
    assert {"bulk2.ingest.create", "bulk2.ingest.upload", "bulk2.ingest.state",
            "bulk2.ingest.status", "bulk2.ingest.results"} <= set(stats["by_endpoint"])


def test_stats_reset_keeps_daily_usage(inproc: EmulatorHandle) -> None:
    Api(inproc).get("limits")
    inproc.reset_stats()
    stats = inproc.stats()
    assert stats["api_calls"]["total"] == 0 and stats["daily_used"] >= 1
    assert stats["daily_max"] == 100000


def test_control_endpoints_are_not_api_calls(inproc: EmulatorHandle) -> None:
    inproc.reset_stats()
    for _ in range(3):
        inproc.stats()
    assert inproc.stats()["api_calls"]["total"] == 0
    missing = inproc.session().get(f"{inproc.instance_url}/__emulator__/nothing")
    assert missing.status_code == 404
