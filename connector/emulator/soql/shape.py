"""Turning result rows into Salesforce's REST records and Bulk 2.0 CSV rows.

REST: each record starts with ``attributes`` (type and url), then the selected
fields in SELECT order in their describe spelling; a parent relationship is a
nested record placed where its first field was selected, or ``null`` when the
record has no parent. Bulk 2.0 CSV: one column per selected path
(``ConvertedContact.Email``), empty for null, ``true``/``false`` for booleans,
numbers as the Java-based API prints doubles (``1500.0``, ``9.0E7``) and
datetimes in UTC with a ``Z``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from connector.emulator.schema import FieldSchema, from_db


@dataclass(frozen=True)
class Column:
    """One selected field: where it is in the SQL row and how it is named."""

    field: FieldSchema
    index: int
    header: str


@dataclass
class RecordNode:
    """A record (the queried one or a parent) and its selected children in order."""

    object_name: str
    id_index: int
    children: list[tuple[str, Column | RecordNode]] = field(default_factory=list)

    def child_record(self, key: str) -> RecordNode | None:
        for name, child in self.children:
            if name == key and isinstance(child, RecordNode):
                return child
        return None


def java_double(value: float) -> str:
    """``Double.toString``: plain in [1e-3, 1e7), else ``d.dddE[-]n``; shortest digits."""
    if value == 0:
        return "-0.0" if str(value).startswith("-") else "0.0"
    if 1e-3 <= abs(value) < 1e7:
        text = repr(value)
        return text if "e" not in text else format(Decimal(text), "f")
    sign, digits, exponent = Decimal(repr(value)).as_tuple()
    assert isinstance(exponent, int)
    body = "".join(map(str, digits)).rstrip("0") or "0"
    power = len(digits) - 1 + exponent
    mantissa = body[0] + "." + (body[1:] or "0")
    return f"{'-' if sign else ''}{mantissa}E{power}"


def json_value(f: FieldSchema, value: Any) -> Any:
    """``schema.from_db``, except that a boolean is never null (Salesforce has no null
    checkboxes; filters already read a stored null as false)."""
    if f.type == "boolean":
        return bool(value)
    return from_db(f, value)


def csv_value(f: FieldSchema, value: Any) -> str:
    if f.type == "boolean":
        return "true" if value else "false"
    if value is None:
        return ""
    if f.type == "int":
        return str(int(value))
    if f.type in ("double", "currency", "percent"):
        return java_double(float(value))
    if f.type == "datetime" and isinstance(value, str) and value.endswith("+0000"):
        return value[:-5] + "Z"
    return str(value)


class CompiledQuery:
    """A compiled SOQL statement: SQL with its parameters, and result shaping."""

    def __init__(self, *, object_name: str, is_count: bool, sql: str, params: tuple[Any, ...],
                 api_version: str, root: RecordNode | None, columns: tuple[Column, ...]) -> None:
        self.object_name = object_name
        self.is_count = is_count
        self.sql = sql
        self.params = params
        self.api_version = api_version
        self._root = root
        self._columns = columns

    def __repr__(self) -> str:
        return f"CompiledQuery({self.object_name!r}, sql={self.sql!r}, params={self.params!r})"

    @property
    def records_root(self) -> RecordNode | None:
        """The selected fields as a tree (None for ``SELECT COUNT()``), for column metadata."""
        return self._root

    def _require_records(self) -> RecordNode:
        if self._root is None:
            raise TypeError("a SELECT COUNT() query has no records to shape")
        return self._root

    def _attributes(self, object_name: str, record_id: str) -> dict[str, str]:
        return {"type": object_name,
                "url": f"/services/data/v{self.api_version}/sobjects/{object_name}/{record_id}"}

    def _record(self, node: RecordNode, row: Sequence[Any]) -> dict[str, Any] | None:
        record_id = row[node.id_index]
        if record_id is None:
            return None
        record: dict[str, Any] = {"attributes": self._attributes(node.object_name, record_id)}
        for key, child in node.children:
            if isinstance(child, Column):
                record[key] = json_value(child.field, row[child.index])
            else:
                record[key] = self._record(child, row)
        return record

    def shape(self, row: Sequence[Any]) -> dict[str, Any]:
        """The REST JSON record for one SQL row."""
        record = self._record(self._require_records(), row)
        assert record is not None  # the queried record always has its Id
        return record

    @property
    def csv_header(self) -> list[str]:
        """The Bulk 2.0 query CSV header: the selected paths, canonically spelled."""
        self._require_records()
        return [c.header for c in self._columns]

    def shape_flat(self, row: Sequence[Any]) -> list[str]:
        """One Bulk 2.0 CSV row, in ``csv_header`` order."""
        self._require_records()
        return [csv_value(c.field, row[c.index]) for c in self._columns]
