"""Building SOQL safely: every value escaped, large IN lists split.

Values never get pasted into a statement: ``literal`` renders them with
Salesforce's escapes, and identifiers are checked against a strict pattern.
``select_in`` splits a long ``IN`` list so each statement stays well under the
REST URI limit (the query travels in the URL of a GET); ``select_in_many`` does
the same for several ``IN`` lists at once (a statement per combination of
chunks), so no caller ever has to paste an unbounded list into ``extra_where``.
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
    if budget <= 0:
        raise ValueError(f"extra_where of {len(extra_where or '')} characters leaves no room "
                         f"for an IN list; pass long lists to select_in_many instead")
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


def _literals(values: Iterable[Any]) -> list[str]:
    seen: set[Any] = set()
    out: list[str] = []
    for value in values:
        if value in seen:
            continue
        seen.add(value)
        out.append(literal(value))
    return out


def _chunk_literals(lits: Sequence[str], budget: int) -> list[list[str]]:
    chunks: list[list[str]] = []
    chunk: list[str] = []
    size = 0
    for lit in lits:
        if chunk and size + len(lit) + 2 > budget:
            chunks.append(chunk)
            chunk, size = [], 0
        chunk.append(lit)
        size += len(lit) + 2
    if chunk:
        chunks.append(chunk)
    return chunks


def select_in_many(
    sobject: str,
    fields: Sequence[str],
    in_lists: Sequence[tuple[str, Iterable[Any]]],
    *,
    extra_where: str | None = None,
    max_statement: int = DEFAULT_MAX_STATEMENT,
) -> Iterator[str]:
    """SELECT ... WHERE a IN (...) AND b IN (...) [AND extra], every list split.

    The room left in a statement is shared out by water-filling: short lists
    (a handful of campaigns) travel whole and the long one (thousands of people)
    gets the rest, so the number of statements (the product of each list's
    chunk count) stays close to the minimum. An empty list selects nothing.
    """
    names = [ident(name) for name, _ in in_lists]
    lists = [_literals(values) for _, values in in_lists]
    if not lists or any(not lits for lits in lists):
        return
    head = select(sobject, fields) + " WHERE "
    frame = " AND ".join(f"{name} IN ()" for name in names)
    tail = f" AND ({extra_where})" if extra_where else ""
    budget = max_statement - len(head) - len(frame) - len(tail)
    need = [sum(len(lit) + 2 for lit in lits) for lits in lists]
    widest = [max(len(lit) for lit in lits) + 2 for lits in lists]
    if sum(widest) > budget:
        raise ValueError(f"{sobject}: one value from each IN list ({sum(widest)} characters) "
                         f"cannot fit a SOQL statement of {max_statement} characters")
    shares = [0] * len(lists)
    left = budget
    order = sorted(range(len(lists)), key=lambda i: need[i])
    for position, i in enumerate(order):
        later = order[position + 1:]
        # keep room for one value of every list still to come
        available = left - sum(widest[j] for j in later)
        fair = max(widest[i], available // (len(later) + 1))
        shares[i] = max(widest[i], min(need[i], fair, available))
        left -= shares[i]
    chunked = [_chunk_literals(lits, share) for lits, share in zip(lists, shares, strict=True)]

    def combos(index: int) -> Iterator[list[list[str]]]:
        if index == len(chunked):
            yield []
            return
        for chunk in chunked[index]:
            for rest in combos(index + 1):
                yield [chunk, *rest]

    for combo in combos(0):
        where = " AND ".join(f"{name} IN ({', '.join(chunk)})"
                             for name, chunk in zip(names, combo, strict=True))
        yield head + where + tail
