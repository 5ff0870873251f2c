"""Property: the engine's WHERE selects exactly what a plain Python reading of SOQL selects.

Random records and random conditions (comparisons, LIKE, IN / NOT IN, null,
AND / OR / NOT) are evaluated twice: compiled to SQL and run on the store, and
by ``matches`` below, which states SOQL's semantics directly: null is a value
(``= null`` finds it, ``!=`` and ``NOT IN`` include it, ordering and LIKE never
match it), a null boolean is false, text compares case-insensitively.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connector import sfid as ids
from connector.emulator.schema import Schema, to_db
from connector.emulator.soql import compile_soql
from connector.mappings import load_mappings

NOW = datetime(2024, 3, 15, 6, 30, tzinfo=UTC)
TZ = ZoneInfo("Europe/Paris")

TEXTS = ["acme", "ACME", "Acme Corp", "b'eta", "a\\b", "x_y", "100%", "Zeta"]
POOLS: dict[str, list[Any]] = {
    "Company": TEXTS,
    "NumberOfEmployees": [-1, 0, 3, 10],
    "Lead_Score__c": [0.5, 2.0, 10.25],  # a double of scale 2: stored exactly
    "IsConverted": [True, False],
    "ConvertedDate": [date(2024, 1, 1), date(2024, 2, 29), date(2024, 12, 31)],
}
LIKE_PATTERNS = ["acme%", "%e%", "_cme", "%\\%", "x\\_y", "%\\\\%", "%", "b'%", "A%p"]
ORDERED = ("<", "<=", ">", ">=")


@dataclass(frozen=True)
class Cond:
    """A condition as SOQL text plus enough structure to evaluate it in Python."""

    soql: str
    kind: str  # cmp, like, in, not_in, and, or, not
    field: str = ""
    op: str = ""
    values: tuple[Any, ...] = ()
    children: tuple[Cond, ...] = ()


def soql_literal(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
    if isinstance(value, date):
        return value.isoformat()
    return repr(value)


@st.composite
def comparisons(draw: st.DrawFn) -> Cond:
    field = draw(st.sampled_from(sorted(POOLS)))
    pool = POOLS[field]
    ops = ["=", "!="] if field == "IsConverted" else ["=", "!=", *ORDERED]
    op = draw(st.sampled_from(ops))
    value = draw(st.sampled_from([*pool, None] if op in ("=", "!=") else pool))
    return Cond(f"{field} {op} {soql_literal(value)}", "cmp", field, op, (value,))


@st.composite
def likes(draw: st.DrawFn) -> Cond:
    pattern = draw(st.sampled_from(LIKE_PATTERNS))
    return Cond(f"Company LIKE '{pattern.replace(chr(39), chr(92) + chr(39))}'", "like",
                "Company", "LIKE", (pattern,))


@st.composite
def memberships(draw: st.DrawFn) -> Cond:
    field = draw(st.sampled_from(sorted(POOLS)))
    values = tuple(draw(st.lists(st.sampled_from([*POOLS[field], None]), min_size=1,
                                 max_size=3)))
    negated = draw(st.booleans())
    listed = ", ".join(soql_literal(v) for v in values)
    return Cond(f"{field} {'NOT IN' if negated else 'IN'} ({listed})",
                "not_in" if negated else "in", field, "", values)


def combine(children: st.SearchStrategy[Cond]) -> st.SearchStrategy[Cond]:
    def join(kind: str) -> st.SearchStrategy[Cond]:
        return st.lists(children, min_size=2, max_size=3).map(
            lambda items: Cond(f" {kind.upper()} ".join(f"({c.soql})" for c in items), kind,
                               children=tuple(items)))

    negated = children.map(lambda c: Cond(f"NOT ({c.soql})", "not", children=(c,)))
    return st.one_of(join("and"), join("or"), negated)


conditions = st.recursive(st.one_of(comparisons(), likes(), memberships()), combine,
                          max_leaves=6)

records = st.lists(
    st.fixed_dictionaries({field: st.sampled_from([*pool, None])
                           for field, pool in POOLS.items()}),
    max_size=8,
)


def fold(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def like_regex(pattern: str) -> re.Pattern[str]:
    out, i = [], 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        out.append(".*" if char == "%" else "." if char == "_" else re.escape(char))
        i += 1
    return re.compile("".join(out), re.IGNORECASE | re.ASCII | re.DOTALL)


def equals(field: str, stored: Any, value: Any) -> bool:
    if field == "IsConverted":
        return bool(stored) == bool(value)  # null is false, on both sides
    if stored is None or value is None:
        return stored is None and value is None
    return bool(fold(stored) == fold(value))


def matches(cond: Cond, record: dict[str, Any]) -> bool:
    if cond.kind == "and":
        return all(matches(c, record) for c in cond.children)
    if cond.kind == "or":
        return any(matches(c, record) for c in cond.children)
    if cond.kind == "not":
        return not matches(cond.children[0], record)
    stored = record[cond.field]
    if cond.kind == "like":
        return stored is not None and bool(like_regex(cond.values[0]).fullmatch(stored))
    if cond.kind in ("in", "not_in"):
        found = any(equals(cond.field, stored, v) for v in cond.values)
        return found if cond.kind == "in" else not found
    value = cond.values[0]
    if cond.op == "=":
        return equals(cond.field, stored, value)
    if cond.op == "!=":
        return not equals(cond.field, stored, value)
    if stored is None:
        return False
    left, right = fold(stored), fold(value)
    return bool({"<": left < right, "<=": left <= right, ">": left > right,
                 ">=": left >= right}[cond.op])


@pytest.fixture(scope="module")
def store() -> Iterator[tuple[Schema, sqlite3.Connection]]:
    schema = Schema.build(load_mappings())
    conn = sqlite3.connect(":memory:")
    for statement in schema.ddl():
        conn.execute(statement)
    yield schema, conn
    conn.close()


def load(schema: Schema, conn: sqlite3.Connection, rows: list[dict[str, Any]]) -> list[str]:
    lead = schema.objects["Lead"]
    conn.execute('DELETE FROM "Lead"')
    record_ids = []
    for n, row in enumerate(rows, start=1):
        record = {"Id": ids.make_id(lead.key_prefix, n), "IsDeleted": False,
                  "LastName": f"L{n}", "Company": row["Company"],
                  "NumberOfEmployees": row["NumberOfEmployees"],
                  "Lead_Score__c": row["Lead_Score__c"], "ConvertedDate": row["ConvertedDate"]}
        values = [to_db(lead.fields[name], value) for name, value in record.items()]
        columns = ", ".join(f'"{name}"' for name in [*record, "IsConverted"])
        # IsConverted goes in raw so that a stored null is exercised too
        stored_flag = None if row["IsConverted"] is None else int(row["IsConverted"])
        marks = ", ".join("?" * (len(values) + 1))
        conn.execute(f'INSERT INTO "Lead" ({columns}) VALUES ({marks})', [*values, stored_flag])
        record_ids.append(str(record["Id"]))
    return record_ids


@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=records, cond=conditions)
def test_where_selects_what_soql_semantics_select(
    store: tuple[Schema, sqlite3.Connection], rows: list[dict[str, Any]], cond: Cond
) -> None:
    schema, conn = store
    record_ids = load(schema, conn, rows)
    expected = [rid for rid, row in zip(record_ids, rows, strict=True) if matches(cond, row)]

    cq = compile_soql(schema, f"SELECT Id FROM Lead WHERE {cond.soql}", now=NOW, tz=TZ)
    assert [row[1] for row in conn.execute(cq.sql, cq.params)] == expected, cond.soql
    count = compile_soql(schema, f"SELECT COUNT() FROM Lead WHERE {cond.soql}", now=NOW, tz=TZ)
    assert conn.execute(count.sql, count.params).fetchone() == (len(expected),)
