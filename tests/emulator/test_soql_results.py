"""Result shape (REST records, Bulk 2.0 CSV), relationships, ordering, paging and COUNT()."""

from __future__ import annotations

from typing import Any

import pytest

from connector.emulator.schema import Schema
from connector.emulator.soql.shape import java_double
from connector.mappings import load_mappings
from tests.emulator.soql_org import SoqlOrg


@pytest.fixture(scope="module")
def schema() -> Schema:
    return Schema.build(load_mappings())


class Org(SoqlOrg):
    def __init__(self, schema: Schema) -> None:
        super().__init__(schema)
        self.refs: dict[str, str] = {}


@pytest.fixture
def org(schema: Schema) -> Org:
    org = Org(schema)
    acme = org.add("Account", Name="Acme", Website="acme.com")
    globex = org.add("Account", Name="Globex")
    ames = org.add("Contact", LastName="Ames", Email="ames@acme.com", AccountId=acme)
    org.add("Contact", LastName="Bell", AccountId=globex)
    cole = org.add("Contact", LastName="Cole")
    webinar = org.add("Campaign", Name="Webinar")
    org.add("Lead", LastName="Lee", Company="X", ConvertedContactId=ames,
            First_Touch_Campaign__c=webinar, IsConverted=True, AnnualRevenue=9e7,
            NumberOfEmployees=10, CreatedDate="2024-01-02T03:04:05.678Z",
            ConvertedDate="2024-01-02")
    org.add("Lead", LastName="Moe", Company="Y", ConvertedContactId=cole, AnnualRevenue=1500)
    ng = org.add("Lead", LastName="Ng", Company="Z")
    org.add("Lead", LastName="Old", Company="Z", IsDeleted=True)
    org.refs = {
        "acme": acme, "ames": ames, "cole": cole, "webinar": webinar, "ng": ng}
    return org


def attributes(object_name: str, record_id: str, version: str = "62.0") -> dict[str, str]:
    return {"type": object_name,
            "url": f"/services/data/v{version}/sobjects/{object_name}/{record_id}"}


def test_parent_paths_nest_in_select_order_with_null_parents(org: Org) -> None:
    rows = org.rows("SELECT LastName, ConvertedContact.Email, ConvertedContact.Account.Website, "
                    "First_Touch_Campaign__r.Name, Company FROM Lead")
    refs = org.refs
    lee, moe, ng = rows
    assert lee["ConvertedContact"] == {
        "attributes": attributes("Contact", refs["ames"]), "Email": "ames@acme.com",
        "Account": {"attributes": attributes("Account", refs["acme"]), "Website": "acme.com"},
    }
    assert lee["First_Touch_Campaign__r"] == {
        "attributes": attributes("Campaign", refs["webinar"]), "Name": "Webinar"}
    assert list(lee) == ["attributes", "LastName", "ConvertedContact",
                         "First_Touch_Campaign__r", "Company"]
    assert moe["ConvertedContact"] == {"attributes": attributes("Contact", refs["cole"]),
                                       "Email": None, "Account": None}
    assert moe["First_Touch_Campaign__r"] is None
    assert ng["ConvertedContact"] is None
    assert ng["attributes"] == attributes("Lead", refs["ng"])


def test_names_are_echoed_in_describe_spelling(org: Org) -> None:
    cq = org.compiled("select lastname, convertedcontact.email, CONVERTEDCONTACT.ACCOUNT.website "
                      "from LEAD where lastname = 'lee'")
    (row,) = org.conn.execute(cq.sql, cq.params).fetchall()
    record = cq.shape(row)
    assert cq.object_name == "Lead"
    assert list(record) == ["attributes", "LastName", "ConvertedContact"]
    assert list(record["ConvertedContact"]) == ["attributes", "Email", "Account"]
    assert list(record["ConvertedContact"]["Account"]) == ["attributes", "Website"]
    assert cq.csv_header == ["LastName", "ConvertedContact.Email",
                             "ConvertedContact.Account.Website"]


def test_values_are_typed_in_json_and_printed_as_salesforce_in_csv(org: Org) -> None:
    query = ("SELECT IsConverted, AnnualRevenue, NumberOfEmployees, CreatedDate, ConvertedDate, "
             "ConvertedContact.Account.Name FROM Lead ORDER BY LastName")
    lee = org.rows(query)[0]
    assert (lee["IsConverted"], lee["AnnualRevenue"], lee["NumberOfEmployees"]) == (True, 9e7, 10)
    assert (lee["CreatedDate"], lee["ConvertedDate"]) == ("2024-01-02T03:04:05.678+0000",
                                                          "2024-01-02")
    assert org.csv(query) == [
        ["IsConverted", "AnnualRevenue", "NumberOfEmployees", "CreatedDate", "ConvertedDate",
         "ConvertedContact.Account.Name"],
        ["true", "9.0E7", "10", "2024-01-02T03:04:05.678Z", "2024-01-02", "Acme"],
        ["false", "1500.0", "", "2024-01-01T00:00:00.000Z", "", ""],
        ["false", "", "", "2024-01-01T00:00:00.000Z", "", ""],
    ]


@pytest.mark.parametrize(("value", "printed"), [
    pytest.param(0.0, "0.0", id="zero"),
    pytest.param(1500.0, "1500.0", id="integral"),
    pytest.param(12.5, "12.5", id="fraction"),
    pytest.param(0.001, "0.001", id="smallest-plain"),
    pytest.param(1234567.0, "1234567.0", id="largest-plain"),
    pytest.param(9e7, "9.0E7", id="scientific"),
    pytest.param(12345678.9, "1.23456789E7", id="scientific-with-digits"),
    pytest.param(16147805824397.0, "1.6147805824397E13", id="large-integral"),
    pytest.param(0.0001, "1.0E-4", id="small"),
    pytest.param(-2.5e-5, "-2.5E-5", id="negative-small"),
])
def test_doubles_print_like_java(value: float, printed: str) -> None:
    assert java_double(value) == printed


def test_alias_and_object_name_qualify_fields(org: Org) -> None:
    rows = org.rows("SELECT c.LastName, Contact.Email, c.Account.Name FROM Contact c "
                    "WHERE c.Account.Name != null ORDER BY c.LastName")
    assert [(r["LastName"], r["Email"], r["Account"]["Name"]) for r in rows] == [
        ("Ames", "ames@acme.com", "Acme"), ("Bell", None, "Globex")]


@pytest.mark.parametrize(("where", "expected"), [
    pytest.param("Account.Website != null", ["Ames"], id="parent-field-not-null"),
    pytest.param("Account.Website = null", ["Bell", "Cole"], id="missing-parent-reads-null"),
    pytest.param("Account.Name LIKE 'glo%'", ["Bell"], id="parent-like"),
    pytest.param("NOT (Account.Name = 'Acme')", ["Bell", "Cole"], id="not-parent"),
])
def test_parent_fields_filter_like_salesforce(org: Org, where: str, expected: list[str]) -> None:
    rows = org.rows(f"SELECT LastName FROM Contact WHERE {where}")
    assert [r["LastName"] for r in rows] == expected


def test_two_level_parent_filter(org: Org) -> None:
    rows = org.rows("SELECT LastName FROM Lead WHERE ConvertedContact.Account.Name = 'acme'")
    assert [r["LastName"] for r in rows] == ["Lee"]


def test_api_version_sets_the_record_urls(org: Org) -> None:
    (row,) = org.rows("SELECT Id FROM Account WHERE Name = 'Acme'", api_version="58.0")
    assert row["attributes"] == attributes("Account", row["Id"], "58.0")


def test_query_all_includes_deleted_records(org: Org) -> None:
    live = org.rows("SELECT LastName FROM Lead")
    everything = org.rows("SELECT LastName, IsDeleted FROM Lead", include_deleted=True)
    assert [r["LastName"] for r in live] == ["Lee", "Moe", "Ng"]
    assert [(r["LastName"], r["IsDeleted"]) for r in everything] == [
        ("Lee", False), ("Moe", False), ("Ng", False), ("Old", True)]


@pytest.fixture
def ranked(schema: Schema) -> Org:
    org = Org(schema)
    for name, company, employees in [("a", "beta", 3), ("b", None, 1), ("c", "Alpha", None),
                                     ("d", "alpha", 2)]:
        org.add("Lead", LastName=name, Company=company, NumberOfEmployees=employees)
    return org


ORDERS = [
    pytest.param("ORDER BY Company", "bcda", id="asc-nulls-first-ties-in-creation-order"),
    pytest.param("ORDER BY Company ASC", "bcda", id="explicit-asc"),
    pytest.param("ORDER BY Company DESC", "acdb", id="desc-nulls-last"),
    pytest.param("ORDER BY Company NULLS LAST", "cdab", id="asc-nulls-last"),
    pytest.param("ORDER BY Company DESC NULLS FIRST", "bacd", id="desc-nulls-first"),
    pytest.param("ORDER BY Company, NumberOfEmployees DESC", "bdca", id="two-keys"),
    pytest.param("ORDER BY NumberOfEmployees", "cbda", id="number-nulls-first"),
    pytest.param("ORDER BY NumberOfEmployees LIMIT 2", "cb", id="limit"),
    pytest.param("ORDER BY NumberOfEmployees LIMIT 2 OFFSET 1", "bd", id="limit-offset"),
    pytest.param("ORDER BY NumberOfEmployees OFFSET 3", "a", id="offset-alone"),
    pytest.param("ORDER BY NumberOfEmployees OFFSET 2000", "", id="offset-at-maximum"),
    pytest.param("LIMIT 0", "", id="limit-zero"),
    pytest.param("", "abcd", id="no-order-is-creation-order"),
    pytest.param("ORDER BY Id DESC", "dcba", id="by-id-descending"),
]


@pytest.mark.parametrize(("tail", "expected"), ORDERS)
def test_order_by_follows_salesforce_null_defaults(ranked: Org, tail: str, expected: str) -> None:
    rows = ranked.rows(f"SELECT LastName FROM Lead {tail}")
    assert "".join(r["LastName"] for r in rows) == expected


@pytest.mark.parametrize(("tail", "expected"), [
    pytest.param("ORDER BY Account.Name", ["Cole", "Ames", "Bell"], id="parent-asc"),
    pytest.param("ORDER BY Account.Name DESC", ["Bell", "Ames", "Cole"], id="parent-desc"),
])
def test_order_by_parent_field(org: Org, tail: str, expected: list[str]) -> None:
    assert [r["LastName"] for r in org.rows(f"SELECT LastName FROM Contact {tail}")] == expected


COUNTS = [
    pytest.param("SELECT COUNT() FROM Lead", {}, 3, id="live-records"),
    pytest.param("SELECT count() FROM Lead", {"include_deleted": True}, 4, id="query-all"),
    pytest.param("SELECT COUNT() FROM Lead WHERE ConvertedContact.Account.Name = 'Acme'", {}, 1,
                 id="with-parent-filter"),
    pytest.param("SELECT COUNT() FROM Lead LIMIT 2", {}, 2, id="limit-caps-count"),
    pytest.param("SELECT COUNT() FROM Lead OFFSET 2", {}, 1, id="offset-skips"),
    pytest.param("SELECT COUNT() FROM Contact WHERE Email = 'nobody@x.com'", {}, 0, id="zero"),
]


@pytest.mark.parametrize(("query", "options", "expected"), COUNTS)
def test_count_returns_one_integer(org: Org, query: str, options: dict[str, Any],
                                   expected: int) -> None:
    assert org.count(query, **options) == expected


def test_count_query_has_no_records_to_shape(org: Org) -> None:
    cq = org.compiled("SELECT COUNT() FROM Lead")
    with pytest.raises(TypeError):
        cq.shape((1,))
    with pytest.raises(TypeError):
        _ = cq.csv_header
