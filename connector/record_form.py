"""How two copies of a Salesforce record compare.

The connector keeps a copy of every record it reads or writes. The copy it
stores after a write holds the values as sent (``2026-11-27T10:00:00Z``, ``3``);
the next read returns the org's spelling of the same values
(``2026-11-27T10:00:00.000+0000``, ``3.0``) plus stamps that change on every
save. A *digest* of the comparable form lets a re-read recognise the
connector's own writes by one text comparison per record, without decoding
the stored copy.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from connector.normalize import parse_timestamp

SF_DATETIME = re.compile(r"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,6}))?(Z|[+-]00:?00)$")
# Stamps, fields fixed at creation, and fields Salesforce derives from others: a
# difference in these alone is not a change the connector must react to.
IGNORED = frozenset({"SystemModstamp", "LastModifiedDate", "LastModifiedById", "CreatedDate",
                     "CreatedById", "OwnerId", "HasResponded", "Name"})


def stamp(value: Any) -> str | None:
    """Datetimes as one sortable text form, whichever API (REST or Bulk CSV) sent them."""
    if value in (None, ""):
        return None
    text = str(value)
    fast = SF_DATETIME.match(text)
    if fast:  # Salesforce always answers in UTC: skip the general parser
        return f"{fast.group(1)}.{(fast.group(2) or '0').ljust(3, '0')[:3]}+00:00"
    moment = parse_timestamp(text)
    return moment.isoformat(timespec="milliseconds") if moment else None


def comparable(value: Any) -> Any:
    """One spelling per value: blanks (None, "", False) alike, datetimes in one
    form, numbers as floats."""
    if value is None or value == "" or value is False:
        return None  # blank, whichever way it is spelled
    if isinstance(value, str):
        return stamp(value) if SF_DATETIME.match(value) else value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return value
    return float(value)


def same_fields(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """Whether two copies of a record agree, ignoring system stamps and API formatting
    (the connector stores what it wrote; the org echoes it as ...000+0000)."""
    for key in set(a) | set(b):
        if key in IGNORED:
            continue
        left, right = a.get(key), b.get(key)
        if left != right and comparable(left) != comparable(right):
            return False
    return True


@functools.lru_cache(maxsize=256)
def _digest_order(keys: tuple[str, ...]) -> tuple[str, ...]:
    """The keys a digest covers, in digest order: the records of one read share
    their keys, so this is sorted once per read, not once per record."""
    return tuple(key for key in sorted(keys) if key not in IGNORED)


def digest(fields: Mapping[str, Any]) -> str:
    """A short hash of the comparable form: equal exactly when ``same_fields``
    holds (blank fields and ignored ones leave no trace). Inlines ``comparable``:
    a re-read digests every record it returns."""
    parts: list[str] = []
    append = parts.append
    for key in _digest_order(tuple(fields)):
        value = fields[key]
        if value is None or value is False or value == "":
            continue
        kind = type(value)
        if kind is str:
            if len(value) >= 20 and value[10] == "T" and SF_DATETIME.match(value):
                value = stamp(value)
            append(f"{key}\x1fstr\x1f{value}")
        elif kind is int or kind is float:
            append(f"{key}\x1ffloat\x1f{float(value)}")
        else:
            append(f"{key}\x1f{kind.__name__}\x1f{value}")
    return hashlib.blake2b("\x1e".join(parts).encode(), digest_size=12).hexdigest()

_BOOLEAN = "boolean"
_INTEGER = "int"
_DECIMAL = frozenset({"double", "currency", "percent"})


def csv_digester(header: Sequence[str],
                 types: Mapping[str, str]) -> Callable[[Mapping[str, str]], str]:
    """``digest`` of a Bulk CSV row (all text) as the REST API would have typed it,
    without building the typed record first: a re-read of the connector's own
    writes mostly matches, and then the row is never decoded at all.

    ``digest(coerce_csv(row, types)) == csv_digester(header, types)(row)``, a
    property the tests check. The header's order, kinds and ignored columns are
    worked out once per read instead of once per row."""
    columns = []
    for key in sorted(header):
        if key in IGNORED or key == "IsDeleted":  # a deletion is never digested
            continue
        kind = types.get(key.lower(), "string")
        columns.append((key, _BOOLEAN if kind == _BOOLEAN else _INTEGER if kind == _INTEGER
                        else "double" if kind in _DECIMAL else "string"))

    def row_digest(row: Mapping[str, str]) -> str:
        parts = []
        for key, kind in columns:
            text = row.get(key)
            if not text:
                continue
            if kind == "string":
                if len(text) >= 20 and text[10] == "T" and SF_DATETIME.match(text):
                    text = stamp(text) or text
                parts.append(f"{key}\x1fstr\x1f{text}")
            elif kind == _BOOLEAN:
                if text.lower() == "true":
                    parts.append(f"{key}\x1fbool\x1fTrue")
            elif kind == _INTEGER:
                parts.append(f"{key}\x1ffloat\x1f{float(int(float(text)))}")
            else:
                parts.append(f"{key}\x1ffloat\x1f{float(text)}")
        return hashlib.blake2b("\x1e".join(parts).encode(), digest_size=12).hexdigest()

    return row_digest
