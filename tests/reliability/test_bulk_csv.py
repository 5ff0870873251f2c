"""Defect 2: any value round-trips through Bulk 2.0; a failed job is read, not retried."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import responses
from hypothesis import given
from hypothesis import strategies as st

from connector.config import SalesforceSettings
from connector.emulator.bulk import _line_endings_ok
from connector.emulator.testing import EmulatorHandle, inprocess_emulator
from connector.salesforce import SalesforceClient, WriteOp, Writer
from connector.salesforce.writer import BULK_JOB_FAILED, csv_cell, failed_job_code

HOSTILE = [
    "Comma, Inc.\r\nSecond line",
    "bare\rcarriage",
    "bare\nline feed",
    'say "hi", then leave',
    "#N/A",
    "  padded  ",
    "Bücher GmbH — ünïcödé ✓",
    "=HYPERLINK(\"http://x\")",
    "plain",
]


@pytest.fixture
def org(tmp_path: Path) -> Iterator[EmulatorHandle]:
    with inprocess_emulator(tmp_path / "org") as handle:
        yield handle


def _client(org: EmulatorHandle) -> SalesforceClient:
    env = org.env()
    settings = SalesforceSettings(_env_file=None, instance_url=env["SF_INSTANCE_URL"],
                                  login_url=env["SF_LOGIN_URL"], client_id=env["SF_CLIENT_ID"],
                                  client_secret=env["SF_CLIENT_SECRET"])
    return SalesforceClient(settings, http=org.session(), sleep=lambda s: None).connect()


@pytest.mark.parametrize(("text", "ending", "ok"), [
    pytest.param("a,b\n1,2\n", "\n", True, id="lf-rows"),
    pytest.param("a,b\r\n1,2\r\n", "\r\n", True, id="crlf-rows"),
    pytest.param('a,b\n"x\r\ny",2\n', "\n", True, id="quoted-crlf-in-lf-job"),
    pytest.param('a,b\n"x\ry",2\n', "\n", True, id="quoted-cr"),
    pytest.param('a,b\n"say ""x""\n",2\n', "\n", True, id="doubled-quotes-then-lf"),
    pytest.param("a,b\r\n1,2\r\n", "\n", False, id="crlf-rows-in-lf-job"),
    pytest.param("a,b\nx\ry,2\n", "\n", False, id="bare-cr-unquoted"),
    pytest.param("a,b\r\n1\n2,3\r\n", "\r\n", False, id="bare-lf-in-crlf-job"),
])
def test_emulator_line_ending_rule_is_salesforces(text: str, ending: str, ok: bool) -> None:
    assert _line_endings_ok(text, ending) is ok


@pytest.mark.parametrize(("value", "cell"), [
    pytest.param("plain", "plain", id="plain"),
    pytest.param("a\rb", '"a\rb"', id="cr-quoted"),
    pytest.param("a\nb", '"a\nb"', id="lf-quoted"),
    pytest.param('x"y', '"x""y"', id="quote-doubled"),
    pytest.param("a,b", '"a,b"', id="comma"),
    pytest.param(" a", '" a"', id="leading-blank"),
    pytest.param("", "", id="empty-stays-empty"),
    pytest.param("a\u00a0", '"a\u00a0"', id="trailing-no-break-space"),
    pytest.param("a\tb", "a\tb", id="inner-tab-bare"),
    pytest.param("a\n", '"a\n"', id="trailing-newline"),
])
def test_csv_cells_are_quoted_whenever_needed(value: str, cell: str) -> None:
    assert csv_cell(value) == cell


@given(st.text(max_size=12))
def test_a_cell_is_quoted_exactly_when_it_must_be(value: str) -> None:
    must = any(ch in ',"\r\n' for ch in value) or value != value.strip()
    cell = csv_cell(value)
    assert cell == ('"' + value.replace('"', '""') + '"' if must else value)
    assert next(csv.reader([cell])) == ([value] if value else [])


@pytest.mark.parametrize("bulk", [pytest.param(True, id="bulk2"),
                                  pytest.param(False, id="collections")])
def test_hostile_values_round_trip_through_either_transport(org: EmulatorHandle,
                                                             bulk: bool) -> None:
    client = _client(org)
    ops = [WriteOp(ref=f"r{i}", fields={"MAP_Id__c": f"r{i}", "LastName": f"L{i}",
                                        "Company": value})
           for i, value in enumerate(HOSTILE * 3)]
    writer = Writer(client, bulk_threshold=5 if bulk else 100_000)
    outcome = writer.write("Lead", "upsert", ops, external_id_field="MAP_Id__c")
    assert outcome.transport == ("bulk2" if bulk else "collections")
    assert all(r.success for r in outcome.results), [r for r in outcome.results
                                                     if not r.success][:3]
    stored = {r["MAP_Id__c"]: r["Company"] for r in org.salesforce().query_all(
        "SELECT MAP_Id__c, Company FROM Lead")["records"]}
    assert stored == {op.fields["MAP_Id__c"]: op.fields["Company"] for op in ops}


def test_a_job_salesforce_fails_for_its_content_is_not_retried(
        org: EmulatorHandle, monkeypatch: pytest.MonkeyPatch) -> None:
    client = _client(org)
    writer = Writer(client, bulk_threshold=2)
    # an upload with CRLF rows in an LF job: Salesforce fails the job as a whole
    monkeypatch.setattr(writer, "_bulk_csv",
                        lambda action, ops: "MAP_Id__c,LastName\r\n" + "".join(
                            f"{op.fields['MAP_Id__c']},x\r\n" for op in ops))
    outcome = writer.write("Lead", "upsert", [WriteOp(f"m{i}", {"MAP_Id__c": f"m{i}",
                                                                "LastName": "x"})
                                              for i in range(4)],
                           external_id_field="MAP_Id__c")
    assert {r.error_code for r in outcome.results} == {BULK_JOB_FAILED}
    assert all(r.attempts == 1 for r in outcome.results)  # read why, did not resend
    assert all("LineEnding is invalid" in (r.message or "") for r in outcome.results)


@pytest.mark.parametrize(("info", "code"), [
    pytest.param({"state": "Failed", "errorMessage": "ClientInputError : LineEnding"},
                 BULK_JOB_FAILED, id="content"),
    pytest.param({"state": "Aborted"}, "SERVER_UNAVAILABLE", id="no-reason"),
])
def test_failed_job_classification(info: dict[str, Any], code: str) -> None:
    assert failed_job_code(info)[0] == code


def test_result_csv_is_decoded_as_utf8_whatever_the_content_type() -> None:
    org = "https://org.example.my.salesforce.com"
    settings = SalesforceSettings(_env_file=None, instance_url=org,
                                  login_url="https://login.example.com", client_id="c",
                                  client_secret="s")
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.add(responses.POST, "https://login.example.com/services/oauth2/token",
                 json={"access_token": "T", "instance_url": org, "token_type": "Bearer"})
        body = 'sf__Id,sf__Created,Company\n"00Q1","true","Bücher\r\nGmbH"\n'.encode()
        rsps.add(responses.GET, f"{org}/services/data/v62.0/jobs/ingest/750X/successfulResults",
                 body=body, content_type="text/csv")  # no charset: requests guesses latin-1
        client = SalesforceClient(settings, sleep=lambda s: None)
        rows = client.bulk_results("Lead", "750X", "successfulResults")
    assert rows == [{"sf__Id": "00Q1", "sf__Created": "true", "Company": "Bücher\r\nGmbH"}]
