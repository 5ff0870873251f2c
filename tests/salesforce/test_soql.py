"""SOQL building: every value escaped, long IN lists split."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connector.salesforce import soql


@pytest.mark.parametrize(("value", "expected"), [
    pytest.param("O'Brien", r"'O\'Brien'", id="quote"),
    pytest.param("a\\b", r"'a\\b'", id="backslash"),
    pytest.param("line1\nline2", r"'line1\nline2'", id="newline"),
    pytest.param('say "hi"', r"""'say \"hi\"'""", id="double-quote"),
    pytest.param("x' OR Id != null OR Name = 'y", r"'x\' OR Id != null OR Name = \'y'",
                 id="injection-stays-literal"),
    pytest.param(None, "null", id="null"),
    pytest.param(True, "true", id="bool"),
    pytest.param(42, "42", id="int"),
    pytest.param(date(2026, 1, 31), "2026-01-31", id="date"),
    pytest.param(datetime(2026, 1, 31, 10, 0, tzinfo=timezone(timedelta(hours=2))),
                 "2026-01-31T08:00:00Z", id="datetime-to-utc"),
])
def test_literal_escapes_every_value(value: object, expected: str) -> None:
    assert soql.literal(value) == expected


def test_naive_datetime_is_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        soql.literal(datetime(2026, 1, 1))


def test_identifiers_are_refused_unless_plain_api_names() -> None:
    with pytest.raises(ValueError):
        soql.select("Lead", ["Id, (SELECT Id FROM Contacts)"])
    assert soql.select("Lead", ["Id", "ConvertedContact.Email"]) == \
        "SELECT Id, ConvertedContact.Email FROM Lead"


def test_select_in_splits_long_lists_under_the_limit_and_dedupes() -> None:
    values = [f"person-{i:05d}@example.com" for i in range(2000)] + ["person-00001@example.com"]
    statements = list(soql.select_in("Lead", ["Id", "Email"], "Email", values,
                                     extra_where="IsConverted = false", max_statement=4000))
    assert len(statements) > 1
    assert all(len(s) <= 4000 for s in statements)
    seen = [v for s in statements for v in s.split("IN (")[1].split(")")[0].split(", ")]
    assert len(seen) == 2000 == len(set(seen))
    assert all(s.endswith("AND (IsConverted = false)") for s in statements)


@given(st.text())
def test_escaped_literal_round_trips_through_soql_unescaping(text: str) -> None:
    lit = soql.literal(text)
    assert lit[0] == lit[-1] == "'"
    body = lit[1:-1]
    # no unescaped quote can end the literal early
    i = 0
    out = []
    reverse = {"\\": "\\", "'": "'", '"': '"', "n": "\n", "r": "\r", "t": "\t", "b": "\b",
               "f": "\f"}
    while i < len(body):
        ch = body[i]
        assert ch != "'", "unescaped quote"
        if ch == "\\":
            out.append(reverse[body[i + 1]])
            i += 2
        else:
            out.append(ch)
            i += 1
    assert "".join(out) == text
    assert UTC  # keep the import used for datetime tests above
