"""What every part of the state store shares: the connection, chunked IN
lookups and the timestamp format."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

# bound parameters per IN (...) lookup: SQLite allows 32,766 since 3.32, and
# fewer, larger lookups cost less per id (a mirror batch is 2,000 records)
CHUNK = 2_000


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def _chunks(values: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start:start + size]


class StoreBase:
    db: sqlite3.Connection

    def _in(self, sql: str, values: Sequence[Any], extra: Sequence[Any] = ()) -> \
            Iterator[tuple[Any, ...]]:
        """Run ``sql`` containing ``{in}`` for each chunk of values."""
        for chunk in _chunks(list(values)):
            marks = ",".join("?" * len(chunk))
            yield from self.db.execute(sql.format(**{"in": marks}), [*extra, *chunk])
