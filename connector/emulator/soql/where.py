"""WHERE clauses: Salesforce's type checks, then SQL over the store's columns.

SOQL has two-valued logic: null is an ordinary value. ``= null`` finds nulls,
``!=`` and ``NOT IN`` match rows whose field is null, ``<``/``>``/LIKE never
match null, and NOT simply negates; a boolean field reads null as false (SOQL
reference, "Use null in WHERE"). SQL's NULL is only ever produced by the plain
``=``/``<``/LIKE/IN forms (kept plain so SQLite uses its indexes) and counts as
false; ``NOT`` wraps its operand in ``IFNULL(.., 0)`` to stay two-valued.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from decimal import Decimal
from typing import Any

from connector import sfid as ids
from connector.emulator.schema import NUMERIC_TYPES, format_datetime
from connector.emulator.soql.dates import DateRange, date_range
from connector.emulator.soql.errors import (
    INVALID_FIELD,
    INVALID_QUERY_FILTER_OPERATOR,
    MALFORMED_QUERY,
    Pos,
    SoqlError,
    located,
    unknown_object,
)
from connector.emulator.soql.nodes import (
    And,
    Comparison,
    Condition,
    InList,
    Like,
    Literal,
    LiteralKind,
    Not,
    Op,
    Or,
    SemiJoin,
)
from connector.emulator.soql.resolve import Resolved, Scope, quote

# Longer IN lists travel as one JSON parameter (json_each) instead of one
# parameter per value, far below SQLite's 32,766-parameter limit either way.
BIND_LIST_LIMIT = 500
MAX_SEMI_JOINS = 2  # "You can't use more than two IN or NOT IN statements per WHERE clause."

_SQL_OPS = {Op.EQ: "=", Op.NE: "<>", Op.LT: "<", Op.LE: "<=", Op.GT: ">", Op.GE: ">="}


@dataclass(frozen=True)
class Sql:
    """An SQL boolean expression; ``nullable`` when it can be NULL (read as false)."""

    text: str
    params: tuple[Any, ...]
    nullable: bool


def _soap_type(kind: str) -> str:
    return {"text": "string", "id": "id", "boolean": "boolean", "int": "int",
            "double": "double", "date": "date", "datetime": "dateTime"}[kind]


def kind_of(resolved: Resolved) -> str:
    """The comparison family of a field: text, id, boolean, int, double, date, datetime."""
    f = resolved.field
    if f.is_text:
        return "text"
    if f.type in ("id", "reference"):
        return "id"
    if f.type in NUMERIC_TYPES:
        return "int" if f.type == "int" else "double"
    if f.type in ("boolean", "date", "datetime"):
        return f.type
    raise SoqlError(INVALID_FIELD, f"field '{f.name}' of type {f.type} can not be filtered")


def _number(value: Decimal) -> int | float:
    if value == value.to_integral_value() and "." not in str(value) and "E" not in str(value):
        return int(value)
    return float(value)


class WhereCompiler:
    """Compiles one WHERE condition tree against a ``Scope``."""

    def __init__(self, scope: Scope, query: str, now: datetime, tz: tzinfo,
                 *, allow_semi_join: bool = True) -> None:
        self.scope = scope
        self.query = query
        self.now = now
        self.tz = tz
        self.allow_semi_join = allow_semi_join
        self.semi_joins = 0

    # ------------------------------------------------------------ structure
    def compile(self, condition: Condition, *, context: str = "top") -> Sql:
        """``context`` is "top", "or" or "not": where semi-joins may (not) appear."""
        if isinstance(condition, And):
            parts = [self.compile(item, context=context) for item in condition.items]
            return Sql(" AND ".join(f"({p.text})" for p in parts),
                       tuple(v for p in parts for v in p.params), any(p.nullable for p in parts))
        if isinstance(condition, Or):
            inner = "not" if context == "not" else "or"
            parts = [self.compile(item, context=inner) for item in condition.items]
            return Sql(" OR ".join(f"({p.text})" for p in parts),
                       tuple(v for p in parts for v in p.params), any(p.nullable for p in parts))
        if isinstance(condition, Not):
            negated = self.compile(condition.item, context="not")
            text = (f"NOT IFNULL(({negated.text}), 0)" if negated.nullable
                    else f"NOT ({negated.text})")
            return Sql(text, negated.params, False)
        if isinstance(condition, SemiJoin):
            return self._semi_join(condition, context)
        resolved = self.scope.resolve(condition.field)
        if isinstance(condition, Comparison):
            return self._comparison(resolved, condition.op, condition.value)
        if isinstance(condition, Like):
            return self._like(resolved, condition.pattern)
        return self._in_list(resolved, condition)

    # ------------------------------------------------------------ values
    def _mismatch(self, resolved: Resolved, kind: str) -> SoqlError:
        quoted = "should be enclosed" if kind in ("text", "id") else "should not be enclosed"
        return located(
            INVALID_FIELD, self.query, resolved.ref.pos,
            f"value of filter criterion for field '{resolved.ref.text}' must be of type "
            f"{_soap_type(kind)} and {quoted} in quotes",
        )

    def _range(self, literal: Literal) -> DateRange:
        assert isinstance(literal.value, str)
        try:
            return date_range(literal.value, literal.n, self.now, self.tz)
        except (OverflowError, ValueError):
            raise located(MALFORMED_QUERY, self.query, literal.pos,
                          f"Invalid date literal: {literal.text}") from None

    def _value(self, resolved: Resolved, literal: Literal) -> Any:
        """The stored form of ``literal`` for this field, ``None``, or a ``DateRange``."""
        kind = kind_of(resolved)
        if literal.kind is LiteralKind.NULL:
            return None
        if kind in ("text", "id") and literal.kind is LiteralKind.STRING:
            assert isinstance(literal.value, str)
            if literal.like_only:
                raise located(MALFORMED_QUERY, self.query, literal.pos,
                              f"Invalid string literal {literal.text}. The escapes \\% and \\_ "
                              "are only valid in a LIKE expression.")
            if literal.value == "":
                return None  # Salesforce stores no empty strings: '' filters as null
            if kind == "text":
                return literal.value
            try:
                return ids.to18(literal.value)
            except ValueError:
                raise located(INVALID_QUERY_FILTER_OPERATOR, self.query, resolved.ref.pos,
                              f"invalid ID field: {literal.value}") from None
        if kind == "boolean" and literal.kind is LiteralKind.BOOLEAN:
            return int(bool(literal.value))
        if kind in ("int", "double") and literal.kind is LiteralKind.NUMBER:
            assert isinstance(literal.value, Decimal)
            return _number(literal.value)
        if kind in ("date", "datetime") and literal.kind is LiteralKind.DATE_LITERAL:
            return self._range(literal)
        if kind == "date" and literal.kind is LiteralKind.DATE:
            assert isinstance(literal.value, date)
            return literal.value.isoformat()
        if kind == "datetime" and literal.kind is LiteralKind.DATETIME:
            assert isinstance(literal.value, datetime)
            return format_datetime(literal.value)
        raise self._mismatch(resolved, kind)

    def _bounds(self, resolved: Resolved, span: DateRange) -> tuple[str, str]:
        if resolved.field.type == "date":
            return span.first_day.isoformat(), span.end_day.isoformat()
        return format_datetime(span.start), format_datetime(span.end)

    # ------------------------------------------------------------ operators
    def _comparison(self, resolved: Resolved, op: Op, literal: Literal) -> Sql:
        col = resolved.column
        value = self._value(resolved, literal)
        kind = kind_of(resolved)
        if value is None:
            if op not in (Op.EQ, Op.NE):
                raise located(INVALID_QUERY_FILTER_OPERATOR, self.query, literal.pos,
                              "invalid operator on null: only = and != compare with null")
            if kind == "boolean":  # "null matches FALSE values"
                return Sql(f"IFNULL({col}, 0) = {0 if op is Op.EQ else 1}", (), False)
            return Sql(f"{col} IS {'' if op is Op.EQ else 'NOT '}NULL", (), False)
        if kind == "boolean":
            if op not in (Op.EQ, Op.NE):
                raise located(INVALID_QUERY_FILTER_OPERATOR, self.query, resolved.ref.pos,
                              "invalid operator on boolean field")
            return Sql(f"IFNULL({col}, 0) {_SQL_OPS[op]} ?", (value,), False)
        if isinstance(value, DateRange):
            start, end = self._bounds(resolved, value)
            return {
                Op.EQ: Sql(f"{col} >= ? AND {col} < ?", (start, end), True),
                Op.NE: Sql(f"{col} IS NULL OR {col} < ? OR {col} >= ?", (start, end), False),
                Op.LT: Sql(f"{col} < ?", (start,), True),
                Op.LE: Sql(f"{col} < ?", (end,), True),
                Op.GT: Sql(f"{col} >= ?", (end,), True),
                Op.GE: Sql(f"{col} >= ?", (start,), True),
            }[op]
        if op is Op.NE:
            return Sql(f"{col} IS NULL OR {col} <> ?", (value,), False)
        return Sql(f"{col} {_SQL_OPS[op]} ?", (value,), True)

    def _like(self, resolved: Resolved, literal: Literal) -> Sql:
        if kind_of(resolved) != "text":
            raise located(INVALID_QUERY_FILTER_OPERATOR, self.query, resolved.ref.pos,
                          f"invalid operator on field '{resolved.ref.text}': LIKE applies "
                          "to text fields only")
        if literal.kind is not LiteralKind.STRING:
            raise located(MALFORMED_QUERY, self.query, literal.pos,
                          f"unexpected token: '{literal.text}'")
        return Sql(f"{resolved.column} LIKE ? ESCAPE '\\'", (literal.like_pattern,), True)

    def _in_list(self, resolved: Resolved, condition: InList) -> Sql:
        kind = kind_of(resolved)
        col = f"IFNULL({resolved.column}, 0)" if kind == "boolean" else resolved.column
        scalars: list[Any] = []
        parts: list[Sql] = []
        has_null = False
        for literal in condition.values:
            value = self._value(resolved, literal)
            if value is None and kind == "boolean":
                value = 0
            if value is None:
                has_null = True
            elif isinstance(value, DateRange):
                start, end = self._bounds(resolved, value)
                parts.append(Sql(f"{col} >= ? AND {col} < ?", (start, end), True))
            elif value not in scalars:
                scalars.append(value)
        if len(scalars) > BIND_LIST_LIMIT:
            parts.insert(0, Sql(f"{col} IN (SELECT value FROM json_each(?))",
                                (json.dumps(scalars),), True))
        elif scalars:
            marks = ", ".join("?" * len(scalars))
            parts.insert(0, Sql(f"{col} IN ({marks})", tuple(scalars), True))
        if has_null:
            parts.append(Sql(f"{col} IS NULL", (), False))
        joined = Sql(" OR ".join(f"({p.text})" for p in parts),
                     tuple(v for p in parts for v in p.params), any(p.nullable for p in parts))
        if not condition.negated:
            return joined
        return Sql(f"NOT IFNULL(({joined.text}), 0)", joined.params, False)

    # ------------------------------------------------------------ semi-joins
    def _semi_join_error(self, pos: Pos, reason: str) -> SoqlError:
        return located(MALFORMED_QUERY, self.query, pos, reason)

    def _semi_join(self, join: SemiJoin, context: str) -> Sql:
        """``Id IN (SELECT LeadId FROM CampaignMember WHERE ...)`` and its NOT IN form.

        Restrictions from the SOQL reference ("Semi-Joins with IN and Anti-Joins
        with NOT IN"): the left operand is an id or reference field without a
        relationship path; the subquery selects one id or reference field of
        another object, pointing at the same object type; no semi-join nests in
        another, none sits under OR or NOT, at most two per WHERE clause.
        """
        sub = join.subquery
        if not self.allow_semi_join:
            raise self._semi_join_error(sub.pos, "Nesting of semi join sub-selects is not "
                                        "supported")
        if context == "or":
            raise self._semi_join_error(sub.pos, "Semi join sub-selects are not allowed with "
                                        "the 'OR' operator")
        if context == "not":
            raise self._semi_join_error(sub.pos, "Semi join sub-selects are only allowed at "
                                        "the top level WHERE expressions.")
        self.semi_joins += 1
        if self.semi_joins > MAX_SEMI_JOINS:
            raise self._semi_join_error(sub.pos, "Maximum 2 semi join sub-selects are allowed")
        left = self.scope.resolve(join.field)
        if left.hops or left.field.type not in ("id", "reference"):
            raise self._semi_join_error(join.field.pos, "The left operand of a semi join must "
                                        "be an id or reference field of the queried object")
        inner_object = self.scope.schema.get(sub.object_name)
        if inner_object is None:
            raise unknown_object(self.query, sub.object_name, sub.object_pos)
        if inner_object.name == self.scope.root.name:
            raise self._semi_join_error(sub.object_pos, "The inner and outer selects should "
                                        "not be on the same object type")
        inner_scope = Scope(self.scope.schema, inner_object,
                            f"{self.scope.prefix}s{self.semi_joins}_", self.query)
        selected = inner_scope.resolve(sub.field)
        if selected.hops or selected.field.type not in ("id", "reference"):
            raise self._semi_join_error(sub.field.pos, "The selected field in a sub-select "
                                        "must be an id or reference field")
        if _target(left) != _target(selected):
            raise self._semi_join_error(sub.field.pos, "The selected field in a sub-select "
                                        "must reference the same object type as the left "
                                        "operand")
        inner_where: Sql | None = None
        if sub.where is not None:
            inner = WhereCompiler(inner_scope, self.query, self.now, self.tz,
                                  allow_semi_join=False)
            inner_where = inner.compile(sub.where)
        filters = [f"{inner_scope.root_alias}.{quote('IsDeleted')} = 0",
                   f"{selected.column} IS NOT NULL"]
        params: Sequence[Any] = ()
        if inner_where is not None:
            filters.append(f"({inner_where.text})")
            params = inner_where.params
        select = (f"SELECT {selected.column} FROM {quote(inner_object.name)} AS "
                  f"{inner_scope.root_alias}{inner_scope.joins_sql()} "
                  f"WHERE {' AND '.join(filters)}")
        if join.negated:
            return Sql(f"{left.column} IS NULL OR {left.column} NOT IN ({select})",
                       tuple(params), False)
        return Sql(f"{left.column} IN ({select})", tuple(params), True)


def _target(resolved: Resolved) -> str:
    """The object an id or reference field identifies."""
    if resolved.field.type == "id":
        return resolved.owner.name
    return resolved.field.reference_to[0] if resolved.field.reference_to else ""
