"""Every SOQL error the engine raises carries Salesforce's code and exact message."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from connector.emulator.schema import Schema
from connector.emulator.soql import SoqlError, compile_soql
from connector.mappings import load_mappings

NOW = datetime(2024, 3, 15, 6, 30, tzinfo=UTC)
TZ = ZoneInfo("America/Los_Angeles")
FIELD_HINT = (
    "If you are attempting to use a custom field, be sure to append the '__c' after the "
    "custom field name. Please reference your WSDL or the describe call for the appropriate "
    "names."
)
RELATIONSHIP_HINT = (
    "If you are attempting to use a custom relationship, be sure to append the '__r' after "
    "the custom relationship name. Please reference your WSDL or the describe call for the "
    "appropriate names."
)
OBJECT_HINT = (
    "If you are attempting to use a custom object, be sure to append the '__c' after the "
    "entity name. Please reference your WSDL or the describe call for the appropriate names."
)
UNSUPPORTED = "is valid SOQL but not supported by the emulator's SOQL engine"


@pytest.fixture(scope="module")
def schema() -> Schema:
    return Schema.build(load_mappings())


def at(query: str, needle: str, reason: str, *, nth: int = 0) -> str:
    """Salesforce's located message pointing at the nth occurrence of ``needle``."""
    offset = -1
    for _ in range(nth + 1):
        offset = query.index(needle, offset + 1)
    line_no = query.count("\n", 0, offset) + 1
    line_start = query.rfind("\n", 0, offset) + 1
    line = query.split("\n")[line_no - 1]
    column = offset - line_start + 1
    return f"\n{line}\n{' ' * (column - 1)}^\nERROR at Row:{line_no}:Column:{column}\n{reason}"


def error_of(schema: Schema, query: str) -> SoqlError:
    with pytest.raises(SoqlError) as caught:
        compile_soql(schema, query, now=NOW, tz=TZ)
    return caught.value


def test_misspelled_keyword_reports_salesforce_block_exactly(schema: Schema) -> None:
    error = error_of(schema, "SELECT Id FORM Account")
    assert error.code == "MALFORMED_QUERY"
    assert error.message == (
        "\nSELECT Id FORM Account\n          ^\nERROR at Row:1:Column:11\n"
        "unexpected token: 'FORM'"
    )


def test_error_on_a_later_line_shows_that_line_and_its_row(schema: Schema) -> None:
    query = "SELECT Id\nFROM Lead\nWHERE Email = 'a' AND\n   Company = 'b' OR LastName = 'c'"
    error = error_of(schema, query)
    assert error.message == (
        "\n   Company = 'b' OR LastName = 'c'\n                 ^\nERROR at Row:4:Column:18\n"
        "unexpected token: 'OR'"
    )


SYNTAX = [
    pytest.param("SELECT Id FROM Lead WHERE Email = 'a' AND Company = 'b' OR Country = 'c'",
                 "OR", "unexpected token: 'OR'", id="and-then-or-without-parentheses"),
    pytest.param("SELECT Id FROM Lead WHERE Email = 'a' OR Company = 'b' AND Country = 'c'",
                 "AND", "unexpected token: 'AND'", id="or-then-and-without-parentheses"),
    pytest.param("SELECT Id FROM Lead WHERE Email = 'a' AND NOT Company = 'b'",
                 "NOT", "unexpected token: 'NOT'", id="not-inside-and-without-parentheses"),
    pytest.param("SELECT Id FROM Lead WHERE Email IN ()", "Email",
                 "unexpected token: 'Email IN ()'", id="empty-in-list"),
    pytest.param("SELECT Id FROM Lead WHERE Email NOT IN ()", "Email",
                 "unexpected token: 'Email NOT IN ()'", id="empty-not-in-list"),
    pytest.param("SELECT Id FROM Lead WHERE Email = \"a\"", "\"",
                 "line 1:34 unexpected token: '\"'", id="double-quoted-string"),
    pytest.param("SELECT Id FROM Lead WHERE Email = Foo", "Foo",
                 "unexpected token: 'Foo'", id="bare-word-value"),
    pytest.param("SELECT Id FROM Lead WHERE CreatedDate = LAST_N_FORTNIGHTS:2",
                 "LAST_N", "unexpected token: 'LAST_N_FORTNIGHTS:2'", id="unknown-date-literal"),
    pytest.param("SELECT Id FROM Lead WHERE CreatedDate = LAST_N_DAYS", "LAST_N",
                 "unexpected token: 'LAST_N_DAYS'", id="n-date-literal-without-n"),
    pytest.param("SELECT Id FROM Lead WHERE CreatedDate = TODAY:3", "TODAY",
                 "unexpected token: 'TODAY:3'", id="fixed-date-literal-with-n"),
    pytest.param("SELECT Id FROM Lead WHERE LastName = 'a\\zb'", "'a",
                 "Invalid string literal 'a\\zb'. Illegal character sequence '\\z' in string "
                 "literal.", id="unknown-escape"),
    pytest.param("SELECT Id FROM Lead WHERE LastName = '100\\%'", "'100",
                 "Invalid string literal '100\\%'. The escapes \\% and \\_ are only valid in a "
                 "LIKE expression.", id="like-escape-outside-like"),
    pytest.param("SELECT Id FROM Lead WHERE ConvertedDate = 2024-13-01", "2024",
                 "Invalid date: 2024-13-01", id="invalid-date"),
    pytest.param("SELECT Id FROM Lead WHERE CreatedDate > 2020-12-12t12:12:00-25:00", "2020",
                 "Invalid datetime: 2020-12-12t12:12:00-25:00", id="invalid-offset"),
    pytest.param("SELECT Id FROM Lead WHERE CreatedDate > 2024-01-01T00:00:00", "2024",
                 "Invalid datetime: 2024-01-01T00:00:00", id="datetime-without-zone"),
    pytest.param("SELECT Id FROM Lead WHERE LastName LIKE null", "null",
                 "unexpected token: 'null'", id="like-null"),
    pytest.param("SELECT Id FROM Lead l.x", "l.x", "unexpected token: 'l.x'",
                 id="dotted-alias"),
    pytest.param("SELECT Id FROM Lead LIMIT", "LIMIT", "", id="limit-without-number"),
]


@pytest.mark.parametrize(("query", "needle", "reason"), SYNTAX)
def test_syntax_errors_are_malformed_query_at_the_token(
    schema: Schema, query: str, needle: str, reason: str
) -> None:
    error = error_of(schema, query)
    assert error.code == "MALFORMED_QUERY"
    if not reason:  # an <EOF> error points just past the end
        column = len(query) + 1
        assert error.message == (f"\n{query}\n{' ' * (column - 1)}^\n"
                                 f"ERROR at Row:1:Column:{column}\nunexpected token: '<EOF>'")
    else:
        assert error.message == at(query, needle, reason)


UNSUPPORTED_FEATURES = [
    pytest.param("SELECT Id FROM Lead GROUP BY Company", "GROUP", "GROUP BY", id="group-by"),
    pytest.param("SELECT Id FROM Lead WHERE Email != null GROUP BY Company", "GROUP",
                 "GROUP BY", id="group-by-after-where"),
    pytest.param("SELECT Id FROM Lead WITH SECURITY_ENFORCED", "WITH", "WITH", id="with"),
    pytest.param("SELECT Id FROM Lead USING SCOPE mine", "USING", "USING SCOPE", id="using"),
    pytest.param("SELECT Id FROM Lead LIMIT 1 FOR UPDATE", "FOR",
                 "FOR VIEW / FOR REFERENCE / FOR UPDATE", id="for-update"),
    pytest.param("SELECT TYPEOF Owner WHEN User THEN Email END FROM Lead", "TYPEOF",
                 "TYPEOF", id="typeof"),
    pytest.param("SELECT Id, (SELECT Id FROM Contacts) FROM Account", "(SELECT",
                 "A child relationship subquery", id="child-subquery"),
    pytest.param("SELECT COUNT(Id) FROM Lead", "Id)", "The function COUNT(...)",
                 id="count-of-field"),
    pytest.param("SELECT MAX(AnnualRevenue) FROM Lead", "(", "The function MAX()",
                 id="aggregate"),
    pytest.param("SELECT Id, toLabel(Status) FROM Lead", "(", "The function toLabel()",
                 id="select-function"),
    pytest.param("SELECT Id FROM Lead WHERE CALENDAR_YEAR(CreatedDate) = 2024", "(",
                 "The function CALENDAR_YEAR()", id="where-function"),
    pytest.param("SELECT Id FROM Lead WHERE Status INCLUDES ('Open')", "INCLUDES",
                 "INCLUDES", id="includes"),
]


@pytest.mark.parametrize(("query", "needle", "feature"), UNSUPPORTED_FEATURES)
def test_valid_soql_outside_the_subset_is_refused_by_name(
    schema: Schema, query: str, needle: str, feature: str
) -> None:
    error = error_of(schema, query)
    assert error.code == "MALFORMED_QUERY"
    assert error.message == at(query, needle, f"{feature} {UNSUPPORTED}")


SCHEMA_ERRORS = [
    pytest.param("SELECT Id FROM Foo", "INVALID_TYPE", "Foo",
                 f"sObject type 'Foo' is not supported. {OBJECT_HINT}", id="unknown-object"),
    pytest.param("SELECT Id, Idx FROM Account", "INVALID_FIELD", "Idx",
                 f"No such column 'Idx' on entity 'Account'. {FIELD_HINT}", id="unknown-field"),
    pytest.param("SELECT Id FROM Contact WHERE Account.Webiste != null", "INVALID_FIELD",
                 "Account.", f"No such column 'Webiste' on entity 'Account'. {FIELD_HINT}",
                 id="unknown-parent-field-in-where"),
    pytest.param("SELECT Id FROM Lead ORDER BY Nmae", "INVALID_FIELD", "Nmae",
                 f"No such column 'Nmae' on entity 'Lead'. {FIELD_HINT}",
                 id="unknown-order-field"),
    pytest.param("SELECT Foo.Name FROM Contact", "INVALID_FIELD", "Foo",
                 f"Didn't understand relationship 'Foo' in field path. {RELATIONSHIP_HINT}",
                 id="unknown-relationship"),
    pytest.param("SELECT First_Touch_Campaign__c.Name FROM Lead", "INVALID_FIELD", "First",
                 "Didn't understand relationship 'First_Touch_Campaign__c' in field path. "
                 f"{RELATIONSHIP_HINT}", id="custom-lookup-without-r"),
    pytest.param("SELECT Id FROM Lead WHERE IsConverted = 'true'", "INVALID_FIELD",
                 "IsConverted", "value of filter criterion for field 'IsConverted' must be of "
                 "type boolean and should not be enclosed in quotes", id="boolean-vs-string"),
    pytest.param("SELECT Id FROM Lead WHERE ConvertedDate = '2024-01-01'", "INVALID_FIELD",
                 "ConvertedDate", "value of filter criterion for field 'ConvertedDate' must be "
                 "of type date and should not be enclosed in quotes", id="date-vs-string"),
    pytest.param("SELECT Id FROM Lead WHERE CreatedDate > 2024-01-01", "INVALID_FIELD",
                 "CreatedDate", "value of filter criterion for field 'CreatedDate' must be of "
                 "type dateTime and should not be enclosed in quotes", id="datetime-vs-date"),
    pytest.param("SELECT Id FROM Lead WHERE ConvertedDate > 2024-01-01T00:00:00Z",
                 "INVALID_FIELD", "ConvertedDate", "value of filter criterion for field "
                 "'ConvertedDate' must be of type date and should not be enclosed in quotes",
                 id="date-vs-datetime"),
    pytest.param("SELECT Id FROM Lead WHERE NumberOfEmployees = '5'", "INVALID_FIELD",
                 "Number", "value of filter criterion for field 'NumberOfEmployees' must be of "
                 "type int and should not be enclosed in quotes", id="int-vs-string"),
    pytest.param("SELECT Id FROM Lead WHERE AnnualRevenue > TRUE", "INVALID_FIELD",
                 "Annual", "value of filter criterion for field 'AnnualRevenue' must be of "
                 "type double and should not be enclosed in quotes", id="currency-vs-boolean"),
    pytest.param("SELECT Id FROM Lead WHERE LastName = 5", "INVALID_FIELD", "LastName",
                 "value of filter criterion for field 'LastName' must be of type string and "
                 "should be enclosed in quotes", id="string-vs-number"),
    pytest.param("SELECT Id FROM Contact WHERE Account.Name = TODAY", "INVALID_FIELD",
                 "Account.Name", "value of filter criterion for field 'Account.Name' must be "
                 "of type string and should be enclosed in quotes", id="string-vs-date-literal"),
    pytest.param("SELECT Id FROM Contact WHERE AccountId = 5", "INVALID_FIELD", "AccountId",
                 "value of filter criterion for field 'AccountId' must be of type id and "
                 "should be enclosed in quotes", id="id-vs-number"),
    pytest.param("SELECT Id FROM Contact WHERE AccountId = '001abc'",
                 "INVALID_QUERY_FILTER_OPERATOR", "AccountId", "invalid ID field: 001abc",
                 id="malformed-reference-id"),
    pytest.param("SELECT Id FROM Lead WHERE Id IN ('00Q8d0000000001AAA', 'nope')",
                 "INVALID_QUERY_FILTER_OPERATOR", "Id IN", "invalid ID field: nope",
                 id="malformed-id-in-list"),
    pytest.param("SELECT Id FROM Lead WHERE AnnualRevenue LIKE '1%'",
                 "INVALID_QUERY_FILTER_OPERATOR", "Annual", "invalid operator on field "
                 "'AnnualRevenue': LIKE applies to text fields only", id="like-on-number"),
    pytest.param("SELECT Id FROM Lead WHERE AnnualRevenue > null",
                 "INVALID_QUERY_FILTER_OPERATOR", "null",
                 "invalid operator on null: only = and != compare with null",
                 id="ordering-against-null"),
    pytest.param("SELECT Id FROM Lead WHERE IsConverted > false",
                 "INVALID_QUERY_FILTER_OPERATOR", "IsConverted",
                 "invalid operator on boolean field", id="ordering-a-boolean"),
    pytest.param("SELECT Id FROM Account ORDER BY Description", "INVALID_FIELD", "Desc",
                 "field 'Description' can not be sorted in a query call",
                 id="sort-long-text"),
    pytest.param("SELECT Id FROM Lead LIMIT 2147483648", "MALFORMED_QUERY", "2147483648",
                 "numeric value out of range: 2147483648", id="limit-beyond-32-bits"),
]


@pytest.mark.parametrize(("query", "code", "needle", "reason"), SCHEMA_ERRORS)
def test_schema_errors_match_salesforce_code_message_and_position(
    schema: Schema, query: str, code: str, needle: str, reason: str
) -> None:
    error = error_of(schema, query)
    assert (error.code, error.message) == (code, at(query, needle, reason))


UNLOCATED = [
    pytest.param("SELECT Id, Email, id FROM Lead", "INVALID_FIELD",
                 "duplicate field selected: id", id="duplicate-field"),
    pytest.param("SELECT Account.Name, account.name FROM Contact", "INVALID_FIELD",
                 "duplicate field selected: account.name", id="duplicate-parent-field"),
    pytest.param("SELECT Id FROM Lead LIMIT 10 OFFSET 2001", "NUMBER_OUTSIDE_VALID_RANGE",
                 "Maximum SOQL offset allowed is 2000", id="offset-over-2000"),
]


@pytest.mark.parametrize(("query", "code", "message"), UNLOCATED)
def test_errors_salesforce_reports_without_position(
    schema: Schema, query: str, code: str, message: str
) -> None:
    error = error_of(schema, query)
    assert (error.code, error.message) == (code, message)


SEMI_JOIN_ERRORS = [
    pytest.param("SELECT Id FROM Lead WHERE Email = 'a' OR Id IN (SELECT LeadId FROM "
                 "CampaignMember)", "SELECT LeadId",
                 "Semi join sub-selects are not allowed with the 'OR' operator", id="under-or"),
    pytest.param("SELECT Id FROM Lead WHERE NOT (Id IN (SELECT LeadId FROM CampaignMember))",
                 "SELECT LeadId",
                 "Semi join sub-selects are only allowed at the top level WHERE expressions.",
                 id="under-not"),
    pytest.param("SELECT Id FROM Lead WHERE Id IN (SELECT LeadId FROM CampaignMember WHERE "
                 "CampaignId IN (SELECT Id FROM Campaign))", "SELECT Id FROM Campaign",
                 "Nesting of semi join sub-selects is not supported", id="nested"),
    pytest.param("SELECT Id FROM Lead WHERE Id IN (SELECT LeadId FROM CampaignMember) AND "
                 "Id IN (SELECT LeadId FROM CampaignMember) AND Id NOT IN (SELECT LeadId FROM "
                 "CampaignMember)", "SELECT LeadId",
                 "Maximum 2 semi join sub-selects are allowed", id="three-semi-joins"),
    pytest.param("SELECT Id FROM Campaign WHERE Id IN (SELECT ParentId FROM Campaign)",
                 "Campaign)", "The inner and outer selects should not be on the same object "
                 "type", id="same-object"),
    pytest.param("SELECT Id FROM Lead WHERE Id IN (SELECT Status FROM CampaignMember)",
                 "Status", "The selected field in a sub-select must be an id or reference field",
                 id="non-id-selected"),
    pytest.param("SELECT Id FROM Lead WHERE Id IN (SELECT ContactId FROM CampaignMember)",
                 "ContactId", "The selected field in a sub-select must reference the same "
                 "object type as the left operand", id="wrong-object-type"),
    pytest.param("SELECT Id FROM Contact WHERE Account.Id IN (SELECT AccountId FROM "
                 "Opportunity)", "Account.Id", "The left operand of a semi join must be an id "
                 "or reference field of the queried object", id="relationship-left-operand"),
]


@pytest.mark.parametrize(("query", "needle", "reason"), SEMI_JOIN_ERRORS)
def test_semi_join_restrictions_are_enforced_as_salesforce_does(
    schema: Schema, query: str, needle: str, reason: str
) -> None:
    error = error_of(schema, query)
    # the third sub-select is the one over the limit
    nth = query.count(needle) - 1 if reason.startswith("Maximum") else 0
    assert (error.code, error.message) == ("MALFORMED_QUERY", at(query, needle, reason, nth=nth))


def test_unknown_object_in_a_semi_join_is_invalid_type(schema: Schema) -> None:
    query = "SELECT Id FROM Lead WHERE Id IN (SELECT LeadId FROM Nope__c)"
    error = error_of(schema, query)
    assert (error.code, error.message) == (
        "INVALID_TYPE", at(query, "Nope__c", f"sObject type 'Nope__c' is not supported. "
                           f"{OBJECT_HINT}"))


def test_statement_over_100000_characters_is_malformed(schema: Schema) -> None:
    query = "SELECT Id FROM Lead WHERE LastName IN (" + ",".join(["'x'"] * 25_000) + ")"
    error = error_of(schema, query)
    assert error.code == "MALFORMED_QUERY"
    assert "100,000" in error.message


def test_naive_now_is_a_programming_error(schema: Schema) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        compile_soql(schema, "SELECT Id FROM Lead", now=datetime(2024, 1, 1), tz=TZ)
