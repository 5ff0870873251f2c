"""A temporary on-disk queue of JSON records.

The API sources must yield people before touches, yet learn which people to
read from the touches themselves. Holding a million activities in memory is
not an option, so they wait here, one JSON line each, until the people are out.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from typing import IO, Any


class Spill:
    """Append records, then read them back once, in order."""

    def __init__(self) -> None:
        self._fh: IO[str] = tempfile.TemporaryFile(mode="w+", encoding="utf-8")  # noqa: SIM115
        self.count = 0

    def append(self, record: dict[str, Any]) -> None:
        self._fh.write(json.dumps(record, separators=(",", ":")))
        self._fh.write("\n")
        self.count += 1

    def __iter__(self) -> Iterator[dict[str, Any]]:
        self._fh.flush()
        self._fh.seek(0)
        for line in self._fh:
            value: dict[str, Any] = json.loads(line)
            yield value

    def close(self) -> None:
        self._fh.close()

    def __enter__(self) -> Spill:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
