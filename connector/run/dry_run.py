"""``sync --dry-run``: read and plan against a scratch copy of the state database.

A dry run must leave the state exactly as it was (the MAP checkpoint, the
mirror's watermarks, dead letters, the ledger), or the next real run would
treat the files as already read. Rather than teaching every step of a sync
not to write, the whole run works on a throw-away copy (SQLite's online
backup, consistent even while readers are open), and only one row goes into
the real database: the dry run's entry in the run history, whose summary
keeps the plan under ``planned`` and reports nothing as written.
"""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from connector.errors import ConnectorError
from connector.run.status import RunStatus
from connector.state.store import StateStore

if TYPE_CHECKING:
    from connector.run.sync import Sync, SyncOptions, SyncResult


class ScratchStore(StateStore):
    """A copy of the state database that is deleted after the dry run."""


@contextmanager
def scratch_copy(store: StateStore) -> Iterator[ScratchStore]:
    directory = Path(tempfile.mkdtemp(prefix="connector-dry-run-"))
    try:
        path = directory / "state.db"
        target = sqlite3.connect(path)
        try:
            store.db.backup(target)
        finally:
            target.close()
        scratch = ScratchStore(path)
        try:
            yield scratch
        finally:
            scratch.close()
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def run_dry(sync: Sync, options: SyncOptions) -> SyncResult:
    """Run ``sync`` as a dry run on a scratch copy; record only its history row."""
    from connector.run.sync import Sync

    run_id = sync.store.start_run("sync-dry-run", options.as_of)
    try:
        with scratch_copy(sync.store) as scratch:
            inner = Sync(sync.settings, sync.mappings, scratch, http=sync.http,
                         map_transport=sync.map_transport, reporter=sync.reporter,
                         sleep=sync.sleep)
            result = inner.run(options)
    except ConnectorError as exc:
        sync.store.finish_run(run_id, RunStatus.FAILED, {"error": str(exc)})
        raise
    except BaseException:
        sync.store.finish_run(run_id, RunStatus.FAILED, {"error": "interrupted"})
        raise
    result.run_id = run_id
    sync.store.finish_run(run_id, result.status, history_summary(result.as_json()))
    return result


def history_summary(summary: dict[str, Any]) -> dict[str, Any]:
    """What the run history keeps of a dry run: the plan, and nothing written."""
    planned = summary.get("objects") or {}
    return {**summary, "objects": {}, "planned": planned}


__all__ = ["ScratchStore", "history_summary", "run_dry", "scratch_copy"]
