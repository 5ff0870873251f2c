"""The client layer against the emulator: faults, refresh, budget, Bulk 2.0."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from connector.config import SalesforceSettings
from connector.emulator.testing import EmulatorHandle, inprocess_emulator, running_emulator
from connector.errors import BudgetExhausted
from connector.salesforce import SalesforceClient, WriteOp, Writer
from connector.salesforce.writer import bulk_calls, collections_calls

pytestmark = pytest.mark.e2e


@pytest.fixture
def org(tmp_path: Path) -> Iterator[EmulatorHandle]:
    with inprocess_emulator(tmp_path / "org") as handle:
        yield handle


def client_for(org: EmulatorHandle, **overrides: Any) -> SalesforceClient:
    env = org.env()
    settings = SalesforceSettings(_env_file=None, instance_url=env["SF_INSTANCE_URL"],
                                  login_url=env["SF_LOGIN_URL"], client_id=env["SF_CLIENT_ID"],
                                  client_secret=env["SF_CLIENT_SECRET"], **overrides)
    return SalesforceClient(settings, http=org.session(), sleep=lambda s: None).connect()


def leads(n: int, prefix: str = "m") -> list[WriteOp]:
    return [WriteOp(ref=f"{prefix}{i}", fields={"MAP_Id__c": f"{prefix}{i}",
                                                 "LastName": f"L{i}", "Company": "Acme"})
            for i in range(n)]


def map_ids(org: EmulatorHandle) -> list[str]:
    return [r["MAP_Id__c"] for r in org.salesforce().query_all(
        "SELECT MAP_Id__c FROM Lead")["records"]]


@pytest.mark.parametrize("bulk", [pytest.param(False, id="collections"),
                                  pytest.param(True, id="bulk2")])
def test_record_level_lock_faults_lose_and_duplicate_nothing(org: EmulatorHandle,
                                                             bulk: bool) -> None:
    org.set_faults([{"match": "*", "error": "UNABLE_TO_LOCK_ROW", "scope": "record",
                     "rate": 0.4, "seed": 5}])
    client = client_for(org)
    writer = Writer(client, bulk_threshold=300 if bulk else 100_000, lock_rounds=8)
    outcome = writer.write("Lead", "upsert", leads(700), external_id_field="MAP_Id__c")
    assert outcome.transport == ("bulk2" if bulk else "collections")
    assert outcome.stopped is None
    failed = [r for r in outcome.results if not r.success]
    assert all(r.error_code == "UNABLE_TO_LOCK_ROW" for r in failed)
    written = map_ids(org)
    assert len(written) == len(set(written)) == 700 - len(failed)
    assert max(r.attempts for r in outcome.results) <= 9
    assert sum(r.attempts > 1 for r in outcome.results) > 100  # faults really happened


def test_request_level_503_is_retried_and_bounded(org: EmulatorHandle) -> None:
    org.set_faults([{"match": "composite/sobjects", "error": "SERVER_UNAVAILABLE",
                     "scope": "request", "count": 2, "seed": 1}])
    client = client_for(org)
    outcome = Writer(client).write("Lead", "upsert", leads(250), external_id_field="MAP_Id__c")
    assert all(r.success for r in outcome.results)
    assert client.retries == 2
    assert len(map_ids(org)) == 250


def test_data_errors_come_back_with_salesforce_codes_and_are_not_retried(
        org: EmulatorHandle) -> None:
    client = client_for(org)
    ops = [WriteOp("ok", {"LastName": "Fine", "Company": "Acme", "MAP_Id__c": "a"}),
           WriteOp("long", {"LastName": "x" * 81, "Company": "Acme", "MAP_Id__c": "b"}),
           WriteOp("email", {"LastName": "E", "Company": "Acme", "Email": "not an email",
                             "MAP_Id__c": "c"}),
           WriteOp("missing", {"LastName": "NoCompany", "MAP_Id__c": "d"})]
    outcome = Writer(client).write("Lead", "upsert", ops, external_id_field="MAP_Id__c")
    codes = {r.ref: r.error_code for r in outcome.results}
    assert codes == {"ok": None, "long": "STRING_TOO_LONG", "email": "INVALID_EMAIL_ADDRESS",
                     "missing": "REQUIRED_FIELD_MISSING"}
    assert all(r.attempts == 1 for r in outcome.results) and client.retries == 0
    dup = Writer(client).write("Lead", "create", [
        WriteOp("dup", {"LastName": "D", "Company": "Acme", "MAP_Id__c": "A"})])
    assert dup.results[0].error_code == "DUPLICATE_VALUE"


@pytest.mark.parametrize("where", [pytest.param("query", id="rest-query"),
                                   pytest.param("composite", id="rest-write"),
                                   pytest.param("jobs/ingest", id="bulk2")])
def test_an_expired_session_is_refreshed_once_on_every_path(org: EmulatorHandle,
                                                            where: str) -> None:
    client = client_for(org)
    org.expire_sessions()  # the token the client holds is now dead, as after 2 hours
    if where == "query":
        assert list(client.query("SELECT Id FROM Lead")) == []
    else:
        writer = Writer(client, bulk_threshold=50 if where == "jobs/ingest" else 100_000)
        outcome = writer.write("Lead", "upsert", leads(60), external_id_field="MAP_Id__c")
        assert all(r.success for r in outcome.results)
        assert outcome.transport == ("bulk2" if where == "jobs/ingest" else "collections")
        assert len(map_ids(org)) == 60
    assert client.refreshes == 1


def test_bulk_job_survives_a_session_expiring_mid_job(org: EmulatorHandle) -> None:
    client = client_for(org)
    # the 3rd ingest call (closing the job) meets an expired session
    org.set_faults([{"match": "jobs/ingest", "error": "INVALID_SESSION_ID", "scope": "request",
                     "count": 1, "rate": 1, "seed": 1, "method": "PATCH"}])
    outcome = Writer(client, bulk_threshold=10).write("Lead", "upsert", leads(40),
                                                       external_id_field="MAP_Id__c")
    assert all(r.success for r in outcome.results) and client.refreshes == 1
    assert len(map_ids(org)) == 40


def test_budget_stops_before_the_call_that_would_exceed_the_share(org: EmulatorHandle) -> None:
    org.set_daily_max(1000, daily_used=940)  # 60 left today; a run may spend half
    client = client_for(org, budget_share=0.5)
    assert client.budget.allowance == 29  # (1000 - 941 after the limits call) * 0.5
    # Collections forced: 40 calls would be needed, 29 are allowed
    outcome = Writer(client, bulk_threshold=10**9).write("Lead", "upsert", leads(200 * 40),
                                                        external_id_field="MAP_Id__c")
    assert isinstance(outcome.stopped, BudgetExhausted)
    assert outcome.calls == 28  # + the limits read = 29: the whole run stays within it
    assert sum(r.success for r in outcome.results) == 28 * 200
    assert len(map_ids(org)) == 28 * 200
    assert org.stats()["daily_used"] < 1000  # the org was never exhausted


def test_cost_based_choice_writes_a_large_batch_within_a_small_budget(
        org: EmulatorHandle) -> None:
    org.set_daily_max(1000, daily_used=940)
    client = client_for(org, budget_share=0.5)
    outcome = Writer(client).write("Lead", "upsert", leads(200 * 40),
                                   external_id_field="MAP_Id__c")
    # one Bulk 2.0 job: create, upload, close, poll, successful results
    assert outcome.stopped is None and outcome.transport == "bulk2"
    assert outcome.calls == 5
    assert all(r.success for r in outcome.results)
    assert len(map_ids(org)) == 200 * 40


@pytest.mark.parametrize(("n", "action", "bulk"), [
    pytest.param(200, "upsert", False, id="one-collections-call"),
    pytest.param(1_200, "upsert", False, id="six-calls-tie-keeps-collections"),
    pytest.param(1_400, "upsert", True, id="seven-calls-bulk-wins"),
    pytest.param(1_000, "update", False, id="update-five-calls-tie"),
    pytest.param(1_001, "update", True, id="update-six-calls-bulk-wins"),
])
def test_writer_chooses_the_transport_with_fewer_calls(
        org: EmulatorHandle, n: int, action: str, bulk: bool) -> None:
    writer = Writer(client_for(org))
    assert writer.use_bulk(n, action) is bulk  # type: ignore[arg-type]
    assert writer.estimate_calls(n, action) == min(  # type: ignore[arg-type]
        bulk_calls(n, action), collections_calls(n))  # type: ignore[arg-type]


def test_bulk_query_streams_a_large_extract(org: EmulatorHandle) -> None:
    client = client_for(org)
    Writer(client, bulk_threshold=1000).write("Lead", "upsert", leads(2500),
                                              external_id_field="MAP_Id__c")
    rows = list(client.bulk_query("SELECT Id, MAP_Id__c FROM Lead", page_size=1000))
    assert len(rows) == 2500 and len({r["Id"] for r in rows}) == 2500


@pytest.mark.parametrize("flow", ["client_credentials", "jwt_bearer", "password",
                                  "access_token"])
def test_every_auth_flow_logs_in_over_https(tmp_path: Path, flow: str) -> None:
    with running_emulator(tmp_path / "org") as https:
        env = https.env()
        common: dict[str, Any] = {"instance_url": env["SF_INSTANCE_URL"],
                                  "login_url": env["SF_LOGIN_URL"],
                                  "ca_bundle": env["SF_CA_BUNDLE"]}
        creds: dict[str, Any] = {
            "client_credentials": {"client_id": https.client_id,
                                   "client_secret": https.client_secret},
            "jwt_bearer": {"client_id": https.client_id, "username": https.username,
                           "private_key_file": https.private_key_path},
            "password": {"client_id": https.client_id, "client_secret": https.client_secret,
                         "username": https.username, "password": https.password,
                         "security_token": https.security_token},
            "access_token": {"access_token": https.access_token()},
        }[flow]
        settings = SalesforceSettings(_env_file=None, **common, **creds)
        assert settings.auth_flow() == flow
        client = SalesforceClient(settings).connect()
        assert client.count("SELECT COUNT() FROM Lead") == 0
        assert client.log.counts["read"] >= 2
