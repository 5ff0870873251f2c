"""compile_soql: a SOQL statement checked against the schema and compiled to SQLite.

The SQL reads the store's tables directly (see the storage contract in
``connector.emulator.schema``): the queried object is ``t0``, each parent
relationship a LEFT JOIN, filters bind their values as parameters, and
results come in creation order (rowid) unless ORDER BY says otherwise, which
keeps paging deterministic.
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any

from connector.emulator.schema import Schema
from connector.emulator.soql.errors import (
    INVALID_FIELD,
    MALFORMED_QUERY,
    NUMBER_OUTSIDE_VALID_RANGE,
    SoqlError,
    located,
    unknown_object,
)
from connector.emulator.soql.nodes import FieldRef, Query
from connector.emulator.soql.parser import parse
from connector.emulator.soql.resolve import Resolved, Scope, quote
from connector.emulator.soql.shape import Column, CompiledQuery, RecordNode
from connector.emulator.soql.where import WhereCompiler

MAX_OFFSET = 2000  # "The maximum offset is 2,000 rows." (SOQL reference, OFFSET)
MAX_INT = 2**31 - 1  # LIMIT is a 32-bit integer


class _SelectPlan:
    """The SQL select list plus the record tree that ``shape`` walks."""

    def __init__(self, object_name: str, root_alias: str) -> None:
        self.expressions: list[str] = [f"{root_alias}.{quote('Id')}"]
        self.root = RecordNode(object_name, 0)
        self.columns: list[Column] = []
        self._ids: dict[str, int] = {}

    def _expression(self, sql: str) -> int:
        self.expressions.append(sql)
        return len(self.expressions) - 1

    def add(self, resolved: Resolved) -> None:
        node = self.root
        for hop in resolved.hops:
            child = node.child_record(hop.relationship)
            if child is None:
                if hop.alias not in self._ids:
                    self._ids[hop.alias] = self._expression(f"{hop.alias}.{quote('Id')}")
                child = RecordNode(hop.target.name, self._ids[hop.alias])
                node.children.append((hop.relationship, child))
            node = child
        column = Column(resolved.field, self._expression(resolved.column), resolved.canonical)
        node.children.append((resolved.field.name, column))
        self.columns.append(column)


def _select(scope: Scope, fields: tuple[FieldRef, ...]) -> _SelectPlan:
    plan = _SelectPlan(scope.root.name, scope.root_alias)
    seen: set[str] = set()
    for ref in fields:
        resolved = scope.resolve(ref)
        key = resolved.canonical.lower()
        if key in seen:
            # SOQL reference (FIELDS()): 400 INVALID_FIELD "duplicate field selected: Id".
            raise SoqlError(INVALID_FIELD, f"duplicate field selected: {ref.text}")
        seen.add(key)
        plan.add(resolved)
    return plan


def _order_by(scope: Scope, query: Query, text: str) -> list[str]:
    """ORDER BY terms, ending with creation order (rowid) unless the Id already decides."""
    terms = []
    unique = False
    for item in query.order_by:
        resolved = scope.resolve(item.field)
        unique = unique or (not resolved.hops and resolved.field.type == "id")
        if resolved.field.type == "textarea":
            raise located(INVALID_FIELD, text, item.field.pos,
                          f"field '{item.field.text}' can not be sorted in a query call")
        # Salesforce's defaults: ASC sorts nulls first, DESC nulls last.
        nulls_first = (not item.descending) if item.nulls_first is None else item.nulls_first
        term = f"{resolved.column} {'DESC' if item.descending else 'ASC'}"
        if nulls_first == item.descending:  # SQLite's default already matches otherwise
            term += f" NULLS {'FIRST' if nulls_first else 'LAST'}"
        terms.append(term)
    if not unique:
        terms.append(f"{scope.root_alias}.rowid")
    return terms


def compile_soql(schema: Schema, soql: str, *, now: datetime, tz: tzinfo,
                 include_deleted: bool = False, api_version: str = "62.0") -> CompiledQuery:
    """Check ``soql`` as Salesforce does and compile it for the emulator's store.

    ``now`` (aware) and ``tz`` (the org's time zone) fix the date literals;
    ``include_deleted`` is queryAll. Raises ``SoqlError`` with Salesforce's
    error code and message for anything Salesforce would reject, and
    MALFORMED_QUERY naming the feature for valid SOQL the emulator lacks.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    query = parse(soql)
    root = schema.get(query.object_name)
    if root is None:
        raise unknown_object(soql, query.object_name, query.object_pos)
    scope = Scope(schema, root, "t", soql, query.alias)
    plan = None if query.is_count else _select(scope, query.fields)

    filters = [] if include_deleted else [f"{scope.root_alias}.{quote('IsDeleted')} = 0"]
    params: tuple[Any, ...] = ()
    if query.where is not None:
        where = WhereCompiler(scope, soql, now, tz).compile(query.where)
        filters.append(f"({where.text})")
        params = where.params
    order = _order_by(scope, query, soql)
    if query.offset is not None and query.offset > MAX_OFFSET:
        raise SoqlError(NUMBER_OUTSIDE_VALID_RANGE,
                        f"Maximum SOQL offset allowed is {MAX_OFFSET}")
    if query.limit is not None and query.limit > MAX_INT:
        raise located(MALFORMED_QUERY, soql, query.limit_pos or query.object_pos,
                      f"numeric value out of range: {query.limit}")

    source = f"FROM {quote(root.name)} AS {scope.root_alias}{scope.joins_sql()}"
    if filters:
        source += f" WHERE {' AND '.join(filters)}"
    paging = ""
    if query.limit is not None or query.offset is not None:
        paging = f" LIMIT {query.limit if query.limit is not None else -1}"
        paging += f" OFFSET {query.offset}" if query.offset else ""
    if plan is None:
        sql = (f"SELECT COUNT(*) FROM (SELECT 1 {source}{paging})" if paging
               else f"SELECT COUNT(*) {source}")
        return CompiledQuery(object_name=root.name, is_count=True, sql=sql, params=params,
                             api_version=api_version, root=None, columns=())
    sql = (f"SELECT {', '.join(plan.expressions)} {source} ORDER BY {', '.join(order)}"
           f"{paging}")
    return CompiledQuery(object_name=root.name, is_count=False, sql=sql, params=params,
                         api_version=api_version, root=plan.root, columns=tuple(plan.columns))
