"""MAP sources: read people, programs and touches from a file export, Marketo or
HubSpot, and yield canonical records.

The interface the sync consumes::

    from connector.sources import open_source, SourceReader, ReadSummary

    reader: SourceReader = open_source(settings, mappings, transport=None, as_of=now)
    for item in reader.read(checkpoint, known_programs):
        ...  # Program | Person | Touch | TargetAccount | Rejection
    new_checkpoint = reader.checkpoint   # JSON-serializable
    summary = reader.summary             # per stream: read, accepted, rejected,
                                         # skipped, skipped_unchanged, api_calls

- ``checkpoint`` is what an earlier read returned (or ``None`` for a first read);
  ``known_programs`` are programs already in the ledger, used to resolve the
  channel of a touch whose program was not read this time.
- Yield order: all programs, then people, then touches, then target accounts.
  A ``Rejection`` appears where the record it stands for would have.
- ``reader.checkpoint`` is valid once ``read()`` is exhausted, or once it has
  raised ``SourceQuotaExhausted`` (the MAP's daily quota; ``SourceBudgetExhausted``,
  a subclass that is also a ``BudgetExhausted``, for the run's own call budget):
  then it reflects exactly the items yielded before the exception, so storing it
  after committing them makes the next run resume without losing anything.
  Read at any other moment it raises ``CheckpointNotReady``. Store it only after
  committing what was read: a crash in between re-reads, and the ledger dedupes.
- Checkpoints never hold tokens or secrets.
- After a stop at a quota, some touches may name people who were not read yet
  (Marketo: ``pending_lead_ids`` in the checkpoint); the next run reads them first.
"""

from __future__ import annotations

from datetime import datetime

import httpx

from connector.config import Settings
from connector.errors import ConfigError
from connector.mappings import Mappings
from connector.sources.base import (
    CheckpointNotReady,
    ReadSummary,
    SourceBudgetExhausted,
    SourceItem,
    SourceReader,
    StreamStatus,
    StreamSummary,
)
from connector.sources.clock import Clock, SystemClock
from connector.sources.files import FileExportReader

__all__ = [
    "CheckpointNotReady",
    "ReadSummary",
    "SourceBudgetExhausted",
    "SourceItem",
    "SourceReader",
    "StreamStatus",
    "StreamSummary",
    "open_source",
]


def open_source(settings: Settings, mappings: Mappings, *,
                transport: httpx.BaseTransport | None = None, as_of: datetime,
                clock: Clock | None = None) -> SourceReader:
    """The reader for ``settings.map.kind``; ``transport`` and ``clock`` are for tests."""
    if as_of.tzinfo is None:
        raise ConfigError("as_of must be a timezone-aware timestamp")
    kind = settings.map.kind
    if kind == "files":
        if settings.map.files_dir is None:
            raise ConfigError("MAP_KIND=files needs MAP_FILES_DIR",
                              hint="set MAP_FILES_DIR to the directory of the export")
        return FileExportReader(settings.map.files_dir, mappings, as_of=as_of)
    if kind == "marketo":
        from connector.sources.marketo import MarketoReader

        return MarketoReader(settings.marketo, mappings, transport=transport, as_of=as_of,
                             clock=clock or SystemClock())
    from connector.sources.hubspot import HubSpotReader

    return HubSpotReader(settings.hubspot, mappings, transport=transport, as_of=as_of,
                         clock=clock or SystemClock())
