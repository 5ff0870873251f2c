"""REST query/queryAll: pages of 2000, nextRecordsUrl cursors, batchSize, COUNT(), errors."""

from __future__ import annotations

import time

import pytest
from simple_salesforce.exceptions import SalesforceMalformedRequest

from connector.emulator.query import CURSOR_IDLE_SECONDS
from connector.emulator.testing import EmulatorHandle
from tests.emulator.helpers import Api, error_of

TOTAL = 4500


@pytest.fixture(scope="module")
def loaded(emulator: EmulatorHandle) -> EmulatorHandle:
    """4500 leads (and one deleted), loaded once for the module through collections."""
    api = Api(emulator)
    for start in range(0, TOTAL, 200):
        api.collection("POST", [
            {"attributes": {"type": "Lead"}, "LastName": f"P{i:05d}", "Company": "Q",
             "MAP_Id__c": f"q{i}"} for i in range(start, min(start + 200, TOTAL))])
    gone = api.create("Lead", LastName="Gone", Company="Q")
    api.delete(f"sobjects/Lead/{gone}")
    return emulator


def test_query_pages_by_2000_with_next_records_url(loaded: EmulatorHandle) -> None:
    api = Api(loaded)
    first = api.get("query", params={"q": "SELECT Id, LastName FROM Lead WHERE Company = 'Q' "
                                     "ORDER BY LastName"}).json()
    assert (first["totalSize"], first["done"], len(first["records"])) == (TOTAL, False, 2000)
    cursor, offset = first["nextRecordsUrl"].rsplit("/", 1)[1].rsplit("-", 1)
    assert first["nextRecordsUrl"] == f"/services/data/v62.0/query/{cursor}-2000"
    assert cursor.startswith("01g") and len(cursor) == 18 and offset == "2000"
    second = api.get(first["nextRecordsUrl"]).json()
    assert (second["done"], len(second["records"])) == (False, 2000)
    third = api.get(second["nextRecordsUrl"]).json()
    assert (third["done"], len(third["records"]), "nextRecordsUrl" in third) == (True, 500,
                                                                                 False)
    names = [r["LastName"] for page in (first, second, third) for r in page["records"]]
    assert names == [f"P{i:05d}" for i in range(TOTAL)]


def test_simple_salesforce_query_all_and_query_more(loaded: EmulatorHandle) -> None:
    sf = loaded.salesforce()
    everything = sf.query_all("SELECT Id FROM Lead WHERE Company = 'Q'")
    assert everything["totalSize"] == TOTAL and len(everything["records"]) == TOTAL
    first = sf.query("SELECT Id FROM Lead WHERE Company = 'Q'")
    more = sf.query_more(first["nextRecordsUrl"], identifier_is_url=True)
    assert len(more["records"]) == 2000
    locator = first["nextRecordsUrl"].rsplit("/", 1)[1]
    assert sf.query_more(locator)["records"] == more["records"]


@pytest.mark.parametrize("option, page", [
    pytest.param("batchSize=500", 500, id="500"),
    pytest.param("batchSize=50", 200, id="below-minimum"),
    pytest.param("batchSize=9000", 2000, id="above-maximum"),
])
def test_batch_size_header_sets_the_page(loaded: EmulatorHandle, option: str, page: int) -> None:
    api = Api(loaded)
    body = api.get("query", params={"q": "SELECT Id FROM Lead WHERE Company = 'Q'"},
                   headers={"Sforce-Query-Options": option}).json()
    assert len(body["records"]) == page
    assert body["nextRecordsUrl"].endswith(f"-{page}")
    assert len(api.get(body["nextRecordsUrl"]).json()["records"]) == page


def test_query_all_includes_deleted_records(loaded: EmulatorHandle) -> None:
    api = Api(loaded)
    q = "SELECT Id FROM Lead WHERE LastName = 'Gone'"
    assert api.get("query", params={"q": q}).json()["totalSize"] == 0
    assert loaded.salesforce().query_all(q, include_deleted=True)["totalSize"] == 1


def test_count_returns_total_size_without_records(loaded: EmulatorHandle) -> None:
    body = Api(loaded).get("query", params={
        "q": "SELECT COUNT() FROM Lead WHERE Company = 'Q'"}).json()
    assert body == {"totalSize": TOTAL, "done": True, "records": []}


def test_cursor_is_a_snapshot(loaded: EmulatorHandle) -> None:
    api = Api(loaded)
    first = api.get("query", params={"q": "SELECT Id FROM Lead WHERE Company = 'Q'"}).json()
    extra = api.create("Lead", LastName="Late", Company="Q")
    rest = api.get(first["nextRecordsUrl"]).json()
    assert rest["totalSize"] == TOTAL
    api.delete(f"sobjects/Lead/{extra}")


@pytest.mark.parametrize("locator", [
    pytest.param("01g8d0000000zzzAAA-2000", id="unknown-cursor"),
    pytest.param("garbage", id="garbage"),
    pytest.param("{cursor}-99999", id="offset-past-end"),
])
def test_bad_locators_are_invalid_query_locator(loaded: EmulatorHandle, locator: str) -> None:
    api = Api(loaded)
    first = api.get("query", params={"q": "SELECT Id FROM Lead WHERE Company = 'Q'"}).json()
    cursor = first["nextRecordsUrl"].rsplit("/", 1)[1].rsplit("-", 1)[0]
    response = api.get(f"query/{locator.format(cursor=cursor)}")
    assert error_of(response) == (400, "INVALID_QUERY_LOCATOR", "invalid query locator")


def test_idle_cursors_expire(loaded: EmulatorHandle) -> None:
    api = Api(loaded)
    first = api.get("query", params={"q": "SELECT Id FROM Lead WHERE Company = 'Q'"}).json()
    cursor = first["nextRecordsUrl"].rsplit("/", 1)[1].rsplit("-", 1)[0]
    store = loaded.org.store
    with store.transaction():
        store.conn.execute("UPDATE _cursors SET last_used = ? WHERE id = ?",
                           (time.time() - CURSOR_IDLE_SECONDS - 1, cursor))
    assert error_of(api.get(first["nextRecordsUrl"]))[1] == "INVALID_QUERY_LOCATOR"


@pytest.mark.parametrize("soql, code", [
    pytest.param("SELECT Id FROM", "MALFORMED_QUERY", id="malformed"),
    pytest.param("SELECT Nope__c FROM Lead", "INVALID_FIELD", id="unknown-field"),
    pytest.param("SELECT Id FROM Nope__c", "INVALID_TYPE", id="unknown-object"),
])
def test_soql_errors_answer_400_with_the_engine_code(loaded: EmulatorHandle, soql: str,
                                                     code: str) -> None:
    assert error_of(Api(loaded).get("query", params={"q": soql}))[:2] == (400, code)
    with pytest.raises(SalesforceMalformedRequest):
        loaded.salesforce().query(soql)


def test_relationship_fields_come_back_nested(emulator: EmulatorHandle) -> None:
    api = Api(emulator)
    account = api.create("Account", Name="Parent Co")
    api.create("Contact", LastName="Child", AccountId=account)
    records = api.get("query", params={"q": "SELECT Id, Account.Name FROM Contact WHERE "
                                       "LastName = 'Child'"}).json()["records"]
    assert records[0]["Account"]["Name"] == "Parent Co"
    assert records[0]["Account"]["attributes"]["type"] == "Account"
