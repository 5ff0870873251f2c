"""Decoding SOQL literal tokens: strings with Salesforce's escapes, numbers, dates.

Salesforce's escapes (SOQL and SOSL Reference, "Quoted String Escape
Sequences"): ``\\n \\r \\t \\b \\f \\" \\' \\\\`` (letters in either case),
``\\uXXXX``, and, in a LIKE pattern only, ``\\%`` and ``\\_``. Any other use of
a backslash is an error.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation

from connector.emulator.soql.errors import MALFORMED_QUERY, Pos, SoqlError, located
from connector.emulator.soql.nodes import Literal, LiteralKind

_SIMPLE_ESCAPES = {
    "n": "\n", "r": "\r", "t": "\t",
    "b": "\b",  # the docs say "bell"; Salesforce runs on Java, where \b is backspace
    "f": "\f", '"': '"', "'": "'", "\\": "\\",
}
_HEX4 = re.compile(r"[0-9a-fA-F]{4}")
_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_DATETIME = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[tT](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?"
    r"(?:([zZ])|([+-])(\d{2}):?(\d{2}))"
)


def _like_escape(char: str) -> str:
    """A literal character inside an SQLite LIKE pattern whose escape is backslash."""
    return "\\" + char if char in "%_\\" else char


def decode_string(token: str, pos: Pos, query: str) -> Literal:
    """A quoted SOQL string token -> its value and its SQLite LIKE pattern."""
    body = token[1:-1]
    value: list[str] = []
    pattern: list[str] = []
    like_only = False
    i = 0
    while i < len(body):
        char = body[i]
        if char != "\\":
            value.append(char)
            pattern.append(char)  # % and _ are wildcards when unescaped
            i += 1
            continue
        nxt = body[i + 1] if i + 1 < len(body) else ""
        lowered = nxt.lower()
        if lowered in _SIMPLE_ESCAPES:
            decoded = _SIMPLE_ESCAPES[lowered]
            value.append(decoded)
            pattern.append(_like_escape(decoded))
            i += 2
        elif nxt in ("%", "_"):
            like_only = True
            value.append(nxt)
            pattern.append("\\" + nxt)
            i += 2
        elif nxt == "u" and _HEX4.fullmatch(body[i + 2:i + 6]):
            decoded = chr(int(body[i + 2:i + 6], 16))
            value.append(decoded)
            pattern.append(_like_escape(decoded))
            i += 6
        else:
            raise located(
                MALFORMED_QUERY, query, pos,
                f"Invalid string literal '{body}'. Illegal character sequence "
                f"'\\{nxt}' in string literal.",
            )
    return Literal(LiteralKind.STRING, "".join(value), token, pos,
                   like_pattern="".join(pattern), like_only=like_only)


def decode_number(token: str, pos: Pos, query: str) -> Literal:
    try:
        number = Decimal(token)
    except InvalidOperation:
        raise located(MALFORMED_QUERY, query, pos, f"unexpected token: '{token}'") from None
    return Literal(LiteralKind.NUMBER, number, token, pos)


def decode_date(token: str, pos: Pos, query: str) -> Literal:
    match = _DATE.fullmatch(token)
    try:
        if not match:
            raise ValueError(token)
        value = date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        raise located(MALFORMED_QUERY, query, pos, f"Invalid date: {token}") from None
    return Literal(LiteralKind.DATE, value, token, pos)


def decode_datetime(token: str, pos: Pos, query: str) -> Literal:
    """``YYYY-MM-DDThh:mm:ss[.fff](Z|+hh:mm|-hhmm)`` -> an aware datetime."""
    match = _DATETIME.fullmatch(token)
    try:
        if not match:
            raise ValueError(token)
        micros = int((match[7] or "0").ljust(6, "0")[:6])
        if match[8]:
            zone = UTC
        else:
            hours, minutes = int(match[10]), int(match[11])
            if hours > 23 or minutes > 59:
                raise ValueError(token)
            offset = timedelta(hours=hours, minutes=minutes)
            zone = timezone(-offset if match[9] == "-" else offset)
        value = datetime(int(match[1]), int(match[2]), int(match[3]), int(match[4]),
                         int(match[5]), int(match[6]), micros, tzinfo=zone)
    except ValueError:
        raise located(MALFORMED_QUERY, query, pos, f"Invalid datetime: {token}") from None
    return Literal(LiteralKind.DATETIME, value, token, pos)


def decode_word(token: str, pos: Pos, query: str, date_literals: frozenset[str],
                n_date_literals: frozenset[str]) -> Literal:
    """TRUE, FALSE, NULL or a date literal such as ``TODAY`` or ``LAST_N_DAYS:30``."""
    name, _, count = token.upper().partition(":")
    if not count:
        if name in ("TRUE", "FALSE"):
            return Literal(LiteralKind.BOOLEAN, name == "TRUE", token, pos)
        if name == "NULL":
            return Literal(LiteralKind.NULL, None, token, pos)
        if name in date_literals:
            return Literal(LiteralKind.DATE_LITERAL, name, token, pos)
    elif name in n_date_literals and not count.startswith("-"):
        return Literal(LiteralKind.DATE_LITERAL, name, token, pos, n=int(count))
    raise located(MALFORMED_QUERY, query, pos, f"unexpected token: '{token}'")


def check_length(query: str) -> None:
    """Salesforce refuses statements over 100,000 characters with MALFORMED_QUERY."""
    if len(query) > 100_000:
        raise SoqlError(MALFORMED_QUERY,
                        "Query string exceeds the maximum length of 100,000 characters")
