"""Building SOQL safely: every value escaped, large IN lists split.

Values never get pasted into a statement: ``literal`` renders them with
Salesforce's escapes, and identifiers are checked against a strict pattern.
``select_in`` splits a long ``IN`` list so each statement stays well under the
REST URI limit (the query travels in the URL of a GET).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

# The REST URI limit is about 16 KB; the statement is URL-encoded, which can
# triple its size for non-ASCII text, so statements are kept far below.
DEFAULT_MAX_STATEMENT = 4000

_IDENT = re.compile(r"[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)*")
_ESCAPES = {
    "\\": "\\\\", "'": "\\'", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t",
    "\b": "\\b", "\f": "\\f",
}


def ident(name: str) -> str:
    """A field or object name, refused unless it is a plain API name (or path)."""
    if not _IDENT.fullmatch(name):
        raise ValueError(f"{name!r} is not a Salesforce API name")
    return name


def literal(value: Any) -> str:
    """A Python value as a SOQL literal."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, Decimal)):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime in a SOQL filter; give it a time zone")
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, date):
        return value.isoformat()
    text = str(value)
    return "'" + "".join(_ESCAPES.get(ch, ch) for ch in text) + "'"


def in_list(values: Iterable[Any]) -> str:
    return "(" + ", ".join(literal(v) for v in values) + ")"


def select(sobject: str, fields: Sequence[str], where: str | None = None,
           order_by: str | None = None, limit: int | None = None) -> str:
    parts = [f"SELECT {', '.join(ident(f) for f in fields)} FROM {ident(sobject)}"]
    if where:
        parts.append(f"WHERE {where}")
    if order_by:
        parts.append(f"ORDER BY {order_by}")
    if limit is not None:
        parts.append(f"LIMIT {int(limit)}")
    return " ".join(parts)


def select_in(
    sobject: str,
    fields: Sequence[str],
    field: str,
    values: Iterable[Any],
    *,
    extra_where: str | None = None,
    max_statement: int = DEFAULT_MAX_STATEMENT,
) -> Iterator[str]:
    """SELECT ... WHERE field IN (...) [AND extra], split so each stays short."""
    head = select(sobject, fields) + f" WHERE {ident(field)} IN ("
    tail = ")" + (f" AND ({extra_where})" if extra_where else "")
    budget = max_statement - len(head) - len(tail)
    chunk: list[str] = []
    size = 0
    seen: set[Any] = set()
    for value in values:
        if value in seen:
            continue
        seen.add(value)
        lit = literal(value)
        if len(lit) + 2 > budget:
            raise ValueError(f"a value of {len(lit)} characters cannot fit a SOQL statement")
        if chunk and size + len(lit) + 2 > budget:
            yield head + ", ".join(chunk) + tail
            chunk, size = [], 0
        chunk.append(lit)
        size += len(lit) + 2
    if chunk:
        yield head + ", ".join(chunk) + tail
