"""Runs a killed process left ``running`` are marked ``interrupted``.

Called only while holding the run lock (``connector.run_lock``): then no other
process can be running, so every ``running`` row belongs to a process that
died (``kill -9``, power loss, OOM) before it could record its end.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from connector.run.status import RunStatus


def mark_interrupted_runs(store: Any) -> list[int]:
    """Mark every ``running`` run ``interrupted``; return their ids."""
    db = store.db
    ids = [int(r[0]) for r in db.execute("SELECT run_id FROM runs WHERE status = ?",
                                          (RunStatus.RUNNING,))]
    if ids:
        db.execute("UPDATE runs SET status = ?, finished_at = ? WHERE status = ?",
                   (RunStatus.INTERRUPTED, datetime.now(UTC).isoformat(timespec="microseconds"),
                    RunStatus.RUNNING))
    return ids


__all__ = ["mark_interrupted_runs"]
