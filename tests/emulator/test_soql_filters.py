"""WHERE semantics against the store: operators, SOQL's null rules, LIKE, IN, escapes, ids."""

from __future__ import annotations

import json
from typing import Any

import pytest

from connector.emulator.schema import Schema
from connector.emulator.soql import SoqlError, compile_soql
from connector.emulator.soql.where import BIND_LIST_LIMIT
from connector.mappings import load_mappings
from tests.emulator.soql_org import NOW, TZ, SoqlOrg


@pytest.fixture(scope="module")
def schema() -> Schema:
    return Schema.build(load_mappings())


class Org(SoqlOrg):
    def __init__(self, schema: Schema) -> None:
        super().__init__(schema)
        self.ids: list[str] = []

    def last_names(self, where: str) -> list[str]:
        return [r["LastName"] for r in self.rows(f"SELECT LastName FROM Lead WHERE {where}")]


@pytest.fixture
def org(schema: Schema) -> Org:
    org = Org(schema)
    org.ids = [
        org.add("Lead", LastName="O'Brien", FirstName="Ada", Company="Acme",
                Email="ada@acme.com", NumberOfEmployees=50, AnnualRevenue=1_000_000,
                IsConverted=False, Country="US", Title="CEO", MAP_Id__c="m-1"),
        org.add("Lead", LastName="Back\\slash", FirstName="bob", Company="ACME Corp",
                Email="BOB@ACME.COM", NumberOfEmployees=5, IsConverted=True, Country="us",
                Title="Line1\nLine2", MAP_Id__c="M-2"),
        org.add("Lead", LastName="100%_sure", Company="Globex", AnnualRevenue=250.5,
                Title="Tab\there"),
        org.add("Lead", LastName="Gone", Company="Acme", Email="gone@acme.com", IsDeleted=True),
        org.add("Lead", LastName='Quote"d', FirstName="Zed", Company="Initech",
                Email="zed@initech.com", NumberOfEmployees=1000, AnnualRevenue=5e7,
                IsConverted=False, Country="DE", Title="it's", MAP_Id__c="m-5"),
    ]
    org.conn.execute('UPDATE "Lead" SET "IsConverted" = NULL WHERE "LastName" = ?',
                     ("100%_sure",))  # a boolean the store left null reads as false
    return org


OBRIEN, BACKSLASH, SURE, QUOTED = "O'Brien", "Back\\slash", "100%_sure", 'Quote"d'

FILTERS = [
    pytest.param("Company = 'acme'", [OBRIEN], id="equals-ignores-case-and-deleted"),
    pytest.param("Company != 'Acme'", [BACKSLASH, SURE, QUOTED], id="not-equals"),
    pytest.param("Company <> 'Acme'", [BACKSLASH, SURE, QUOTED], id="angle-not-equals"),
    pytest.param("Country != 'US'", [SURE, QUOTED], id="not-equals-matches-null"),
    pytest.param("FirstName = null", [SURE], id="equals-null"),
    pytest.param("FirstName != NULL", [OBRIEN, BACKSLASH, QUOTED], id="not-equals-null"),
    pytest.param("FirstName = ''", [SURE], id="empty-string-is-null"),
    pytest.param("NumberOfEmployees > 5", [OBRIEN, QUOTED], id="greater"),
    pytest.param("NumberOfEmployees >= 5", [OBRIEN, BACKSLASH, QUOTED], id="greater-or-equal"),
    pytest.param("NumberOfEmployees < 50", [BACKSLASH], id="less-excludes-null"),
    pytest.param("NumberOfEmployees <= 50", [OBRIEN, BACKSLASH], id="less-or-equal"),
    pytest.param("AnnualRevenue > 300.25", [OBRIEN, QUOTED], id="decimal-literal"),
    pytest.param("AnnualRevenue < 1000", [SURE], id="currency-less"),
    pytest.param("AnnualRevenue = -5", [], id="negative-number"),
    pytest.param("AnnualRevenue = 50000000", [QUOTED], id="integer-literal-on-currency"),
    pytest.param("IsConverted = true", [BACKSLASH], id="boolean-true"),
    pytest.param("IsConverted = FALSE", [OBRIEN, SURE, QUOTED], id="boolean-false-counts-null"),
    pytest.param("IsConverted = null", [OBRIEN, SURE, QUOTED], id="boolean-null-is-false"),
    pytest.param("IsConverted != null", [BACKSLASH], id="boolean-not-null-is-true"),
    pytest.param("IsConverted != false", [BACKSLASH], id="boolean-not-false"),
    pytest.param("LastName < 'B'", [SURE], id="text-order-ignores-case"),
    pytest.param("LastName = 'O\\'Brien'", [OBRIEN], id="escaped-quote"),
    pytest.param("LastName = 'Back\\\\slash'", [BACKSLASH], id="escaped-backslash"),
    pytest.param("Title = 'Line1\\nLine2'", [BACKSLASH], id="escaped-newline"),
    pytest.param("Title = 'Tab\\There'", [SURE], id="escaped-tab-either-case"),
    pytest.param("LastName = 'Quote\\\"d'", [QUOTED], id="escaped-double-quote"),
    pytest.param("Company = 'Glob\\u0065x'", [SURE], id="unicode-escape"),
    pytest.param("Company LIKE 'acme%'", [OBRIEN, BACKSLASH], id="like-prefix"),
    pytest.param("Company LIKE '%CORP'", [BACKSLASH], id="like-suffix-ignores-case"),
    pytest.param("Company LIKE 'A_me'", [OBRIEN], id="like-single-char"),
    pytest.param("LastName LIKE '100\\%\\_%'", [SURE], id="like-escaped-wildcards"),
    pytest.param("LastName LIKE '100\\%x%'", [], id="like-escaped-percent-is-literal"),
    pytest.param("LastName LIKE '%\\\\%'", [BACKSLASH], id="like-literal-backslash"),
    pytest.param("FirstName LIKE '%'", [OBRIEN, BACKSLASH, QUOTED], id="like-never-null"),
    pytest.param("Email LIKE '%@ACME.com'", [OBRIEN, BACKSLASH], id="like-email"),
    pytest.param("Company IN ('acme', 'GLOBEX')", [OBRIEN, SURE], id="in-ignores-case"),
    pytest.param("Company NOT IN ('Acme')", [BACKSLASH, SURE, QUOTED], id="not-in"),
    pytest.param("Country NOT IN ('US')", [SURE, QUOTED], id="not-in-matches-null"),
    pytest.param("Country IN ('DE', null)", [SURE, QUOTED], id="in-with-null"),
    pytest.param("Country NOT IN ('DE', null)", [OBRIEN, BACKSLASH], id="not-in-with-null"),
    pytest.param("NumberOfEmployees IN (5, 1000)", [BACKSLASH, QUOTED], id="in-numbers"),
    pytest.param("IsConverted IN (false)", [OBRIEN, SURE, QUOTED], id="in-boolean"),
    pytest.param("MAP_Id__c IN ('m-1', 'm-2')", [OBRIEN, BACKSLASH], id="in-external-ids"),
    pytest.param("(Company = 'Acme' OR Company = 'Globex') AND NumberOfEmployees = null",
                 [SURE], id="or-inside-and"),
    pytest.param("Company = 'Acme' OR (Country = 'DE' AND NumberOfEmployees > 10)",
                 [OBRIEN, QUOTED], id="and-inside-or"),
    pytest.param("Company = 'Initech' AND Email != null AND Country = 'de'", [QUOTED],
                 id="and-chain"),
    pytest.param("Company = 'Globex' OR Company = 'Initech' OR Country = 'US'",
                 [OBRIEN, BACKSLASH, SURE, QUOTED], id="or-chain"),
    pytest.param("NOT (Country = 'US')", [SURE, QUOTED], id="not-keeps-null-rows"),
    pytest.param("NOT (FirstName LIKE 'a%')", [BACKSLASH, SURE, QUOTED], id="not-like"),
    pytest.param("NOT (NumberOfEmployees > 10)", [BACKSLASH, SURE], id="not-greater"),
    pytest.param("NOT (NOT (Company = 'globex'))", [SURE], id="double-not"),
    pytest.param("NOT (Company = 'Acme' OR Company = 'Globex')", [BACKSLASH, QUOTED],
                 id="not-or"),
    pytest.param("Company = 'acme' AND (NOT (Email = null))", [OBRIEN], id="parenthesized-not"),
    pytest.param("LastName = 'x\\' OR Company != null OR LastName = \\'y'", [],
                 id="injection-stays-one-string"),
    pytest.param("LastName = 'a\\'); DROP TABLE \"Lead\"; --'", [], id="sql-stays-literal"),
]


@pytest.mark.parametrize(("where", "expected"), FILTERS)
def test_filter_returns_exactly_the_matching_live_records(
    org: Org, where: str, expected: list[str]
) -> None:
    assert org.last_names(where) == expected


def test_injection_attempt_leaves_the_table_intact(org: Org) -> None:
    org.last_names("LastName = 'a\\'); DROP TABLE \"Lead\"; --'")
    assert org.conn.execute('SELECT COUNT(*) FROM "Lead"').fetchone() == (5,)


def test_keywords_fields_and_objects_are_case_insensitive(org: Org) -> None:
    rows = org.rows("select lastname, COMPANY from lead where company = 'ACME' "
                    "order by LASTNAME limit 5")
    assert rows == [{"attributes": rows[0]["attributes"], "LastName": OBRIEN,
                     "Company": "Acme"}]
    assert rows[0]["attributes"]["type"] == "Lead"


ID_FILTERS = [
    pytest.param(lambda i: f"Id = '{i[0][:15]}'", [OBRIEN], id="15-char-id"),
    pytest.param(lambda i: f"Id = '{i[0]}'", [OBRIEN], id="18-char-id"),
    pytest.param(lambda i: f"Id != '{i[0]}'", [BACKSLASH, SURE, QUOTED], id="id-not-equals"),
    pytest.param(lambda i: f"Id IN ('{i[1][:15]}', '{i[4]}')", [BACKSLASH, QUOTED],
                 id="id-in-mixed-lengths"),
    pytest.param(lambda i: f"Id > '{i[1]}'", [SURE, QUOTED], id="id-range-for-chunking"),
]


@pytest.mark.parametrize(("where", "expected"), ID_FILTERS)
def test_ids_match_in_15_or_18_character_form(org: Org, where: Any, expected: list[str]) -> None:
    assert org.last_names(where(org.ids)) == expected


def test_deleted_records_only_with_include_deleted(org: Org) -> None:
    query = "SELECT LastName FROM Lead WHERE Company = 'Acme'"
    cq = compile_soql(org.schema, query, now=NOW, tz=TZ, include_deleted=True)
    assert [r[1] for r in org.conn.execute(cq.sql, cq.params)] == [OBRIEN, "Gone"]


@pytest.fixture
def members(org: Org) -> Org:
    campaign = org.add("Campaign", Name="Webinar")
    other = org.add("Campaign", Name="Ads")
    lead_ids = org.ids
    org.add("CampaignMember", CampaignId=campaign, LeadId=lead_ids[0], Status="Responded")
    org.add("CampaignMember", CampaignId=other, LeadId=lead_ids[2], Status="Sent")
    org.add("CampaignMember", CampaignId=other, LeadId=lead_ids[4], Status="Responded",
            IsDeleted=True)
    contact = org.add("Contact", LastName="Member")
    org.add("CampaignMember", CampaignId=campaign, ContactId=contact, Status="Sent")
    return org


SEMI_JOINS = [
    pytest.param("Id IN (SELECT LeadId FROM CampaignMember WHERE Status = 'responded')",
                 [OBRIEN], id="semi-join"),
    pytest.param("Id NOT IN (SELECT LeadId FROM CampaignMember)", [BACKSLASH, QUOTED],
                 id="anti-join-ignores-null-lead-ids"),
    pytest.param("Id IN (SELECT LeadId FROM CampaignMember WHERE Campaign.Name = 'Ads')",
                 [SURE], id="semi-join-with-relationship-filter"),
    pytest.param("Company != null AND Id IN (SELECT LeadId FROM CampaignMember) AND "
                 "Id NOT IN (SELECT LeadId FROM CampaignMember WHERE Status = 'Sent')",
                 [OBRIEN], id="two-semi-joins"),
]


@pytest.mark.parametrize(("where", "expected"), SEMI_JOINS)
def test_semi_and_anti_joins_filter_by_related_records(
    members: Org, where: str, expected: list[str]
) -> None:
    assert members.last_names(where) == expected


def test_reference_field_semi_join_from_child_to_parent(members: Org) -> None:
    rows = members.rows("SELECT Status FROM CampaignMember WHERE CampaignId IN "
                        "(SELECT Id FROM Campaign WHERE Name = 'Webinar') ORDER BY Status")
    assert [r["Status"] for r in rows] == ["Responded", "Sent"]


def plan(org: Org, where: str) -> str:
    cq = compile_soql(org.schema, f"SELECT Id FROM Lead WHERE {where}", now=NOW, tz=TZ)
    return " | ".join(row[3] for row in org.conn.execute("EXPLAIN QUERY PLAN " + cq.sql,
                                                         cq.params))


@pytest.mark.parametrize("count", [1, 200, BIND_LIST_LIMIT + 1, 3000])
def test_in_lists_of_any_size_use_the_external_id_index(org: Org, count: int) -> None:
    values = ["M-1"] + [f"x-{n}" for n in range(count - 1)]  # stored as m-1: case folds
    where = "MAP_Id__c IN (" + ", ".join(f"'{v}'" for v in values) + ")"
    assert org.last_names(where) == [OBRIEN]
    assert "USING INDEX ix_Lead_MAP_Id__c" in plan(org, where)


def test_long_in_list_travels_as_one_json_parameter(schema: Schema) -> None:
    values = [f"'v{n}'" for n in range(BIND_LIST_LIMIT + 1)]
    cq = compile_soql(schema, f"SELECT Id FROM Lead WHERE Email IN ({', '.join(values)})",
                      now=NOW, tz=TZ)
    assert len(cq.params) == 1 and len(json.loads(cq.params[0])) == BIND_LIST_LIMIT + 1


@pytest.mark.parametrize("where", [
    pytest.param("Email = 'ADA@acme.com'", id="email-equality"),
    pytest.param("ConvertedContactId = '0038d0000000001AAA'", id="reference-equality"),
    pytest.param("Id IN ('00Q8d0000000001AAA', '00Q8d0000000002AAA')", id="id-in"),
])
def test_equality_filters_use_indexes(org: Org, where: str) -> None:
    assert "USING INDEX" in plan(org, where)


def test_a_query_that_does_not_compile_never_touches_the_store(org: Org) -> None:
    with pytest.raises(SoqlError):
        org.rows("SELECT Id FROM Lead WHERE Email = 1")
