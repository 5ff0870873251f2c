"""Timestamps as the MAP APIs write them.

Marketo writes ``2023-01-16T23:32:19Z``, ``2014-09-17T22:31:49+0000`` and, in the
asset API, ``2015-05-21T22:45:13Z+0000``; HubSpot writes ISO 8601 strings and
epoch milliseconds. All become aware UTC datetimes through ``parse_timestamp``.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from connector.normalize import parse_timestamp

_Z_AND_OFFSET = re.compile(r"Z([+-]\d{2}:?\d{2})$")


def parse_api_timestamp(raw: str | int | float | None) -> datetime | None:
    """An API timestamp (ISO 8601 string or epoch milliseconds) -> aware UTC datetime."""
    if raw is None or raw == "":
        return None
    if isinstance(raw, bool):
        raise ValueError(f"{raw!r} is not a timestamp")
    if isinstance(raw, (int, float)):
        return datetime.fromtimestamp(raw / 1000, tz=UTC)
    text = raw.strip()
    if text.isdigit():
        return datetime.fromtimestamp(int(text) / 1000, tz=UTC)
    text = _Z_AND_OFFSET.sub(r"\1", text)
    return parse_timestamp(text)


def to_epoch_ms(value: datetime) -> int:
    return int(value.timestamp() * 1000)


def iso_z(value: datetime) -> str:
    """UTC ISO 8601 with a ``Z``, second precision, as Marketo's query parameters want."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
