"""SOQL errors shaped exactly as Salesforce returns them.

A query error carries Salesforce's ``errorCode`` and ``message``. Parse and
schema errors locate themselves the way Salesforce prints it: the offending
query line, a caret under the column, then ``ERROR at Row:R:Column:C`` and the
reason, each on its own line, the whole message starting with a newline.
"""

from __future__ import annotations

from dataclasses import dataclass

MALFORMED_QUERY = "MALFORMED_QUERY"
INVALID_FIELD = "INVALID_FIELD"
INVALID_TYPE = "INVALID_TYPE"
INVALID_QUERY_FILTER_OPERATOR = "INVALID_QUERY_FILTER_OPERATOR"
NUMBER_OUTSIDE_VALID_RANGE = "NUMBER_OUTSIDE_VALID_RANGE"

CUSTOM_FIELD_HINT = (
    "If you are attempting to use a custom field, be sure to append the '__c' after the "
    "custom field name. Please reference your WSDL or the describe call for the appropriate "
    "names."
)
CUSTOM_OBJECT_HINT = (
    "If you are attempting to use a custom object, be sure to append the '__c' after the "
    "entity name. Please reference your WSDL or the describe call for the appropriate names."
)
CUSTOM_RELATIONSHIP_HINT = (
    "If you are attempting to use a custom relationship, be sure to append the '__r' after "
    "the custom relationship name. Please reference your WSDL or the describe call for the "
    "appropriate names."
)


class SoqlError(Exception):
    """A query Salesforce would reject, with its error code and message."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Pos:
    """A 1-based row and column in the query text, as Salesforce counts them."""

    line: int
    column: int


def located(code: str, text: str, pos: Pos, reason: str) -> SoqlError:
    """An error whose message points at ``pos`` in ``text`` the way Salesforce does."""
    lines = text.split("\n")
    source = lines[pos.line - 1].rstrip("\r") if 0 < pos.line <= len(lines) else ""
    caret = " " * max(pos.column - 1, 0) + "^"
    return SoqlError(
        code, f"\n{source}\n{caret}\nERROR at Row:{pos.line}:Column:{pos.column}\n{reason}"
    )


def end_of(text: str) -> Pos:
    """The position just past the last character (where '<EOF>' is reported)."""
    lines = text.split("\n")
    return Pos(len(lines), len(lines[-1].rstrip("\r")) + 1)


def unknown_object(text: str, name: str, pos: Pos) -> SoqlError:
    return located(INVALID_TYPE, text, pos,
                   f"sObject type '{name}' is not supported. {CUSTOM_OBJECT_HINT}")
