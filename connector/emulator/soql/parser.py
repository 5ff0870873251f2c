"""Parsing SOQL text into the AST of ``nodes.py``, with Salesforce-shaped errors.

The lark LALR parser is built once per process; parsed statements are cached
by their text (they hold no schema or clock state). Syntax errors report the
unexpected token at its row and column as Salesforce's current parser does
(``unexpected token: 'FORM'``); valid SOQL outside the emulator's subset
(GROUP BY, functions, child subqueries, TYPEOF, WITH, ...) is reported as not
supported rather than as a syntax error.
"""

from __future__ import annotations

import re
import threading
from functools import lru_cache
from typing import Any

from lark import Lark, Token, Transformer
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken, VisitError

from connector.emulator.soql import literals
from connector.emulator.soql.dates import DATE_LITERALS, N_DATE_LITERALS
from connector.emulator.soql.errors import MALFORMED_QUERY, Pos, SoqlError, end_of, located
from connector.emulator.soql.grammar import GRAMMAR
from connector.emulator.soql.nodes import (
    And,
    Comparison,
    Condition,
    FieldRef,
    InList,
    Like,
    Literal,
    Not,
    Op,
    Or,
    OrderItem,
    Query,
    SemiJoin,
    SubQuery,
)

_LARK = Lark(GRAMMAR, parser="lalr", lexer="contextual", propagate_positions=False,
             maybe_placeholders=False)
_LOCK = threading.Lock()

# Valid SOQL keywords whose clauses the emulator does not implement.
UNSUPPORTED_KEYWORDS = {
    "GROUP": "GROUP BY", "HAVING": "HAVING", "WITH": "WITH", "USING": "USING SCOPE",
    "TYPEOF": "TYPEOF", "FOR": "FOR VIEW / FOR REFERENCE / FOR UPDATE",
    "UPDATE": "UPDATE TRACKING / UPDATE VIEWSTAT", "INCLUDES": "INCLUDES",
    "EXCLUDES": "EXCLUDES", "ROLLUP": "GROUP BY ROLLUP", "CUBE": "GROUP BY CUBE",
}
# Words Salesforce reserves, which cannot serve as an object alias.
RESERVED = frozenset({
    "AND", "ASC", "DESC", "EXCLUDES", "FIRST", "FROM", "GROUP", "HAVING", "IN", "INCLUDES",
    "LAST", "LIKE", "LIMIT", "NOT", "NULL", "NULLS", "OR", "SELECT", "USING", "WHERE", "WITH",
    "FOR", "UPDATE", "TYPEOF", "ORDER", "OFFSET",
})
_OPS = {"=": Op.EQ, "!=": Op.NE, "<>": Op.NE, "<": Op.LT, "<=": Op.LE, ">": Op.GT, ">=": Op.GE}
_WORD_BEFORE = re.compile(r"([A-Za-z_][A-Za-z0-9_.]*)\s*$")


def unsupported(query: str, pos: Pos, feature: str) -> SoqlError:
    return located(MALFORMED_QUERY, query, pos,
                   f"{feature} is valid SOQL but not supported by the emulator's SOQL engine")


def _pos(token: Token) -> Pos:
    return Pos(token.line or 1, token.column or 1)


def _field(token: Token) -> FieldRef:
    return FieldRef(tuple(str(token).split(".")), _pos(token))


def _values(children: tuple[Any, ...]) -> tuple[Literal, ...]:
    return tuple(c for c in children if isinstance(c, Literal))


class _ToAst(Transformer[Token, Query]):
    """Builds ``nodes`` from the lark tree; literal tokens are decoded here."""

    def __init__(self, query: str) -> None:
        super().__init__()
        self.text = query

    # ----------------------------------------------------------- literals
    def STRING(self, token: Token) -> Literal:
        return literals.decode_string(str(token), _pos(token), self.text)

    def NUMBER(self, token: Token) -> Literal:
        return literals.decode_number(str(token), _pos(token), self.text)

    def DATE(self, token: Token) -> Literal:
        return literals.decode_date(str(token), _pos(token), self.text)

    def DATETIME(self, token: Token) -> Literal:
        return literals.decode_datetime(str(token), _pos(token), self.text)

    def WORD(self, token: Token) -> Literal:
        return literals.decode_word(str(token), _pos(token), self.text, DATE_LITERALS,
                                    N_DATE_LITERALS)

    # ----------------------------------------------------------- conditions
    def cmp(self, children: list[Any]) -> Comparison:
        path, op, value = children
        return Comparison(_field(path), _OPS[str(op)], value)

    def like(self, children: list[Any]) -> Like:
        return Like(_field(children[0]), children[2])

    def in_list(self, children: list[Any]) -> InList:
        return InList(_field(children[0]), False, _values(tuple(children)))

    def not_in_list(self, children: list[Any]) -> InList:
        return InList(_field(children[0]), True, _values(tuple(children)))

    def in_empty(self, children: list[Any]) -> InList:
        # Salesforce's own wording for an empty list (Summer '24 release notes).
        raise located(MALFORMED_QUERY, self.text, _pos(children[0]),
                      f"unexpected token: '{children[0]} IN ()'")

    def not_in_empty(self, children: list[Any]) -> InList:
        raise located(MALFORMED_QUERY, self.text, _pos(children[0]),
                      f"unexpected token: '{children[0]} NOT IN ()'")

    def semi_join(self, children: list[Any]) -> SemiJoin:
        return SemiJoin(_field(children[0]), False, children[-1])

    def anti_join(self, children: list[Any]) -> SemiJoin:
        return SemiJoin(_field(children[0]), True, children[-1])

    def subquery(self, children: list[Any]) -> SubQuery:
        select, path, _from, obj = children[:4]
        where = children[4] if len(children) > 4 else None
        return SubQuery(_field(path), str(obj), _pos(obj), where, _pos(select))

    def and_chain(self, children: list[Any]) -> And:
        return And(tuple(c for c in children if not isinstance(c, Token)))

    def or_chain(self, children: list[Any]) -> Or:
        return Or(tuple(c for c in children if not isinstance(c, Token)))

    def not_cond(self, children: list[Any]) -> Not:
        return Not(children[1], _pos(children[0]))

    def where_clause(self, children: list[Any]) -> Condition:
        condition: Condition = children[1]
        return condition

    # ----------------------------------------------------------- clauses
    def count_all(self, children: list[Any]) -> tuple[str, tuple[FieldRef, ...]]:
        return ("count", ())

    def field_list(self, children: list[Any]) -> tuple[str, tuple[FieldRef, ...]]:
        return ("fields", tuple(_field(t) for t in children))

    def object_ref(self, children: list[Any]) -> tuple[Token, Token | None]:
        name = children[0]
        alias = children[1] if len(children) > 1 else None
        for token in (name, alias):
            if token is not None and "." in token:
                raise located(MALFORMED_QUERY, self.text, _pos(token),
                              f"unexpected token: '{token}'")
        if alias is not None:
            upper = str(alias).upper()
            if upper in UNSUPPORTED_KEYWORDS:
                raise unsupported(self.text, _pos(alias), UNSUPPORTED_KEYWORDS[upper])
            if upper in RESERVED:
                raise located(MALFORMED_QUERY, self.text, _pos(alias),
                              f"unexpected token: '{alias}'")
        return (name, alias)

    def order_item(self, children: list[Any]) -> OrderItem:
        words = [str(t).upper() for t in children[1:]]
        nulls_first = None if "NULLS" not in words else words[-1] == "FIRST"
        return OrderItem(_field(children[0]), "DESC" in words, nulls_first)

    def order_clause(self, children: list[Any]) -> tuple[str, tuple[OrderItem, ...]]:
        return ("order", tuple(c for c in children if isinstance(c, OrderItem)))

    def limit_clause(self, children: list[Any]) -> tuple[str, int, Pos]:
        return ("limit", int(children[1]), _pos(children[1]))

    def offset_clause(self, children: list[Any]) -> tuple[str, int, Pos]:
        return ("offset", int(children[1]), _pos(children[1]))

    def query(self, children: list[Any]) -> Query:
        kind, fields = children[1]
        name, alias = children[3]
        clauses: dict[str, Any] = {}
        where: Condition | None = None
        for clause in children[4:]:
            if isinstance(clause, tuple):
                clauses[clause[0]] = clause
            else:
                where = clause
        limit = clauses.get("limit")
        offset = clauses.get("offset")
        return Query(
            is_count=kind == "count", fields=fields, object_name=str(name),
            object_pos=_pos(name), alias=str(alias) if alias is not None else None,
            where=where, order_by=clauses.get("order", ("order", ()))[1],
            limit=limit[1] if limit else None, limit_pos=limit[2] if limit else None,
            offset=offset[1] if offset else None,
        )

    def start(self, children: list[Any]) -> Query:
        result: Query = children[0]
        return result


def _offset_pos(query: str, offset: int) -> Pos:
    line = query.count("\n", 0, offset) + 1
    return Pos(line, offset - (query.rfind("\n", 0, offset) + 1) + 1)


def _syntax_error(query: str, error: UnexpectedInput) -> SoqlError:
    """Salesforce's message for a parse failure, or 'not supported' for valid SOQL."""
    if isinstance(error, UnexpectedCharacters):
        pos = Pos(error.line, error.column)
        offset = error.pos_in_stream or 0
        char = query[offset] if offset < len(query) else ""
        return located(MALFORMED_QUERY, query, pos,
                       f"line {pos.line}:{pos.column - 1} unexpected token: '{char}'")
    token = error.token if isinstance(error, UnexpectedToken) else None
    if token is None or token.type == "$END":
        return located(MALFORMED_QUERY, query, end_of(query), "unexpected token: '<EOF>'")
    pos = _pos(token)
    offset = token.start_pos or 0
    before = query[:offset].rstrip()
    previous = _WORD_BEFORE.search(before)
    if previous and previous[1].upper() == "NOT":
        # "a AND NOT b": NOT must open a parenthesized unit; Salesforce flags the NOT.
        return located(MALFORMED_QUERY, query, _offset_pos(query, previous.start(1)),
                       "unexpected token: 'NOT'")
    # A clause keyword lexed as an alias or field name ("FROM Lead GROUP BY ...").
    if previous and previous[1].upper() in UNSUPPORTED_KEYWORDS:
        return unsupported(query, _offset_pos(query, previous.start(1)),
                           UNSUPPORTED_KEYWORDS[previous[1].upper()])
    word = str(token).upper()
    if word in UNSUPPORTED_KEYWORDS:
        return unsupported(query, pos, UNSUPPORTED_KEYWORDS[word])
    if str(token) == "(" and previous:
        return unsupported(query, pos, f"The function {previous[1]}()")
    if str(token) == "(" and (before.endswith(",") or before.upper().endswith("SELECT")):
        return unsupported(query, pos, "A child relationship subquery")
    if before.endswith("("):
        function = _WORD_BEFORE.search(before[:-1].rstrip())
        if function:
            return unsupported(query, pos, f"The function {function[1]}(...)")
    return located(MALFORMED_QUERY, query, pos, f"unexpected token: '{token}'")


@lru_cache(maxsize=2048)
def parse(query: str) -> Query:
    """The AST of ``query``; raises ``SoqlError`` (MALFORMED_QUERY) on bad syntax."""
    literals.check_length(query)
    try:
        with _LOCK:
            tree = _LARK.parse(query)
    except UnexpectedInput as error:
        raise _syntax_error(query, error) from None
    try:
        return _ToAst(query).transform(tree)
    except VisitError as error:
        if isinstance(error.orig_exc, SoqlError):
            raise error.orig_exc from None
        raise
