"""The state store's runs and what the next run starts from: each run's kind,
status and summary; the watermarks of incremental reads; when each person's
values next change with time alone (people due); and the fingerprints of the
inputs attribution last computed from."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from connector.redact import redact
from connector.run.status import SUCCEEDED, RunStatus
from connector.state.base import StoreBase, _iso


class RunStore(StoreBase):
    """Each run, and where the next one starts."""

    def start_run(self, kind: str, as_of: datetime) -> int:
        cur = self.db.execute(
            "INSERT INTO runs (kind, started_at, as_of, status) VALUES (?, ?, ?, ?)",
            (kind, _iso(datetime.now(UTC)), _iso(as_of), RunStatus.RUNNING))
        return int(cur.lastrowid or 0)

    def finish_run(self, run_id: int, status: RunStatus, summary: Mapping[str, Any]) -> None:
        self.db.execute(
            "UPDATE runs SET finished_at = ?, status = ?, summary = ? WHERE run_id = ?",
            (_iso(datetime.now(UTC)), status, redact(json.dumps(summary, default=str)), run_id))

    def last_completed_run(self, kind: str) -> int | None:
        """The last run of ``kind`` that finished (all records written or dead-lettered)."""
        row = self.db.execute(
            "SELECT max(run_id) FROM runs WHERE kind = ? AND status IN (?, ?)",
            (kind, *SUCCEEDED)).fetchone()
        return int(row[0]) if row and row[0] is not None else None

    def runs(self, limit: int = 20) -> list[dict[str, Any]]:
        rows = self.db.execute(
            "SELECT run_id, kind, started_at, finished_at, as_of, status, summary FROM runs "
            "ORDER BY run_id DESC LIMIT ?", (limit,)).fetchall()
        return [{"run_id": r[0], "kind": r[1], "started_at": r[2], "finished_at": r[3],
                 "as_of": r[4], "status": r[5], "summary": json.loads(r[6]) if r[6] else None}
                for r in rows]

    # ---------------------------------------------------------- watermarks

    def watermark(self, scope: str, name: str) -> Any:
        row = self.db.execute("SELECT value FROM watermarks WHERE scope = ? AND name = ?",
                              (scope, name)).fetchone()
        return json.loads(row[0]) if row else None

    def set_watermark(self, run_id: int, scope: str, name: str, value: Any) -> None:
        self.db.execute(
            "INSERT INTO watermarks (scope, name, value, run_id) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(scope, name) DO UPDATE SET value = excluded.value, "
            "run_id = excluded.run_id", (scope, name, json.dumps(value, default=str), run_id))

    def clear_watermarks(self, scope: str) -> None:
        self.db.execute("DELETE FROM watermarks WHERE scope = ?", (scope,))

    # ----------------------------------------------------------------- due

    def set_due(self, due: Mapping[str, datetime | None]) -> None:
        """When each person's values next change with time alone (None: never)."""
        self.db.executemany("DELETE FROM person_due WHERE map_id = ?",
                            [(m,) for m, at in due.items() if at is None])
        self.db.executemany(
            "INSERT INTO person_due (map_id, due_at) VALUES (?, ?) ON CONFLICT(map_id) "
            "DO UPDATE SET due_at = excluded.due_at",
            [(m, _iso(at)) for m, at in due.items() if at is not None])

    def people_due(self, as_of: datetime) -> set[str]:
        return {r[0] for r in self.db.execute(
            "SELECT map_id FROM person_due WHERE due_at <= ?", (_iso(as_of),))}

    # ------------------------------------------------------ attribution inputs

    def attribution_fingerprints(self, ids: Sequence[str]) -> dict[str, str]:
        return {r[0]: r[1] for r in self._in(
            "SELECT opportunity_id, fingerprint FROM attribution_inputs "
            "WHERE opportunity_id IN ({in})", list(ids))}

    def set_attribution_fingerprints(self, fingerprints: Mapping[str, str]) -> None:
        self.db.executemany(
            "INSERT INTO attribution_inputs (opportunity_id, fingerprint) VALUES (?, ?) "
            "ON CONFLICT(opportunity_id) DO UPDATE SET fingerprint = excluded.fingerprint",
            sorted(fingerprints.items()))
