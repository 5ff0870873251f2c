"""The parsed form of a SOQL statement: immutable, position-carrying, schema-free.

Parsing does not look at the schema or the clock, so a parsed statement can be
cached by its text and bound again for every call (date literals depend on
``now``; field names on the org's schema).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum

from connector.emulator.soql.errors import Pos


class LiteralKind(Enum):
    STRING = "string"
    NUMBER = "number"
    DATE = "date"
    DATETIME = "datetime"
    BOOLEAN = "boolean"
    NULL = "null"
    DATE_LITERAL = "date_literal"


@dataclass(frozen=True)
class Literal:
    """A value in a filter, kept with its source text for error messages.

    ``value`` holds: ``str`` (decoded string), ``Decimal`` (number), ``date``,
    ``datetime`` (aware), ``bool``, ``None``, or for a date literal its
    upper-cased name. ``like_pattern`` is the string translated to an SQLite
    LIKE pattern (escape character backslash); ``like_only`` marks a string
    using the ``\\%``/``\\_`` escapes that Salesforce accepts only in LIKE.
    """

    kind: LiteralKind
    value: str | Decimal | date | datetime | bool | None
    text: str
    pos: Pos
    n: int | None = None
    like_pattern: str | None = None
    like_only: bool = False


@dataclass(frozen=True)
class FieldRef:
    """A (possibly dotted) field path as written, e.g. ``ConvertedContact.Email``."""

    path: tuple[str, ...]
    pos: Pos

    @property
    def text(self) -> str:
        return ".".join(self.path)


class Op(Enum):
    EQ = "="
    NE = "!="
    LT = "<"
    LE = "<="
    GT = ">"
    GE = ">="


@dataclass(frozen=True)
class Comparison:
    field: FieldRef
    op: Op
    value: Literal


@dataclass(frozen=True)
class Like:
    field: FieldRef
    pattern: Literal


@dataclass(frozen=True)
class InList:
    field: FieldRef
    negated: bool
    values: tuple[Literal, ...]


@dataclass(frozen=True)
class SubQuery:
    """The inner SELECT of a semi-join or anti-join: one id field, one object."""

    field: FieldRef
    object_name: str
    object_pos: Pos
    where: Condition | None
    pos: Pos


@dataclass(frozen=True)
class SemiJoin:
    field: FieldRef
    negated: bool
    subquery: SubQuery


@dataclass(frozen=True)
class And:
    items: tuple[Condition, ...]


@dataclass(frozen=True)
class Or:
    items: tuple[Condition, ...]


@dataclass(frozen=True)
class Not:
    item: Condition
    pos: Pos


Condition = Comparison | Like | InList | SemiJoin | And | Or | Not


@dataclass(frozen=True)
class OrderItem:
    field: FieldRef
    descending: bool
    nulls_first: bool | None  # None: Salesforce's default for the direction


@dataclass(frozen=True)
class Query:
    """A whole statement; ``fields`` is empty for ``SELECT COUNT()``."""

    is_count: bool
    fields: tuple[FieldRef, ...]
    object_name: str
    object_pos: Pos
    alias: str | None
    where: Condition | None
    order_by: tuple[OrderItem, ...]
    limit: int | None
    limit_pos: Pos | None
    offset: int | None
