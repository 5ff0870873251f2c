"""What every MAP source shares: the reader protocol, the read summary, and the
exceptions a read stops with.

The sync drives any source through :class:`SourceReader` alone, so a new
platform only has to honour this shape (see the package docstring).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from connector.errors import CheckpointNotReady as CheckpointNotReady  # re-exported
from connector.errors import SourceBudgetExhausted as SourceBudgetExhausted
from connector.models import Person, Program, Rejection, TargetAccount, Touch

SourceItem = Program | Person | Touch | TargetAccount | Rejection
"""What ``read()`` yields: programs, then people, then touches, then target accounts;
rejections appear where the rejected record would have."""

CHECKPOINT_VERSION = 1


class StreamStatus(StrEnum):
    """How a stream was read this run: the ``status`` of its read summary, and how
    the file export plans each file from its checkpoint mark.

    A ``StrEnum`` whose values are the strings the run's JSON summary (and the
    README's "The read summary") have always carried, so the output is unchanged
    while the code can no longer misspell a status."""

    READ = "read"            # read from the start, with no mark (every API stream)
    APPENDED = "appended"    # grown by appending: only the new rows are read
    REREAD = "reread"        # changed otherwise (or a bad mark): read again from the start
    UNCHANGED = "unchanged"  # same size and mtime as the mark: not opened again


@dataclass
class StreamSummary:
    """Counts for one file or one API stream of one read."""

    name: str
    status: StreamStatus = StreamStatus.READ
    read: int = 0
    accepted: int = 0
    rejected: int = 0
    skipped: int = 0
    skipped_unchanged: int = 0
    api_calls: int = 0
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": self.status, "read": self.read, "accepted": self.accepted,
            "rejected": self.rejected, "skipped": self.skipped,
            "skipped_unchanged": self.skipped_unchanged, "api_calls": self.api_calls,
            "notes": list(self.notes),
        }


@dataclass
class ReadSummary:
    """Per stream (file or API endpoint family): read, accepted, rejected, skipped
    (unchanged or not mapped), and the API calls the run spent."""

    source: str
    streams: dict[str, StreamSummary] = field(default_factory=dict)
    auth_calls: int = 0
    stopped_early: str | None = None

    def stream(self, name: str) -> StreamSummary:
        if name not in self.streams:
            self.streams[name] = StreamSummary(name)
        return self.streams[name]

    @property
    def api_calls(self) -> int:
        return sum(s.api_calls for s in self.streams.values())

    @property
    def accepted(self) -> int:
        return sum(s.accepted for s in self.streams.values())

    @property
    def rejected(self) -> int:
        return sum(s.rejected for s in self.streams.values())

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source, "api_calls": self.api_calls,
            "auth_calls": self.auth_calls, "stopped_early": self.stopped_early,
            "streams": {name: s.as_dict() for name, s in sorted(self.streams.items())},
        }


class SourceReader(Protocol):
    """One read of one MAP. See the package docstring for the contract."""

    def read(self, checkpoint: Mapping[str, Any] | None,
             known_programs: Mapping[str, Program]) -> Iterator[SourceItem]: ...

    @property
    def checkpoint(self) -> dict[str, Any]: ...

    @property
    def summary(self) -> ReadSummary: ...


def usable_checkpoint(checkpoint: Mapping[str, Any] | None, kind: str,
                      summary: ReadSummary) -> dict[str, Any]:
    """The previous checkpoint if it belongs to this kind of source, else a fresh one.

    A checkpoint from another MAP kind (the admin switched MAP_KIND) or another
    format version is ignored with a note, which makes the run a full read."""
    if not checkpoint:
        return {}
    if checkpoint.get("kind") != kind or checkpoint.get("version") != CHECKPOINT_VERSION:
        summary.stream("checkpoint").notes.append(
            f"ignored a checkpoint of kind {checkpoint.get('kind')!r} "
            f"version {checkpoint.get('version')!r}; reading everything")
        return {}
    return dict(checkpoint)


class ReaderState:
    """What every reader keeps between ``read()`` and its caller: the summary, and
    the checkpoint, which exists only once the read ended (or stopped at a quota)."""

    def __init__(self, source: str) -> None:
        self._summary = ReadSummary(source=source)
        self._checkpoint: dict[str, Any] | None = None

    @property
    def checkpoint(self) -> dict[str, Any]:
        if self._checkpoint is None:
            raise CheckpointNotReady("the checkpoint is only valid once read() is exhausted "
                                     "or has stopped at a quota")
        return self._checkpoint

    @property
    def summary(self) -> ReadSummary:
        return self._summary
