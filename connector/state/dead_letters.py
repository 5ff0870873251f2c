"""The state store's dead letters (rejected input rows, failed writes, kept for
replay) and the findings a sync records."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from connector.models import Rejection
from connector.redact import redact
from connector.state.base import StoreBase, _chunks, _iso
from connector.values import Finding as Finding  # re-exported for existing callers
from connector.values import FindingCategory


class DeadLetterKind(StrEnum):
    """Why a record waits for replay: its input row was rejected, or its write failed."""

    REJECTED_INPUT = "rejected_input"
    FAILED_WRITE = "failed_write"


@dataclass(frozen=True)
class DeadLetter:
    id: int
    run_id: int
    kind: DeadLetterKind
    sobject: str | None
    ref: str
    map_id: str | None
    error_code: str | None
    message: str
    file: str | None
    row: int | None
    field: str | None
    payload: dict[str, Any]
    attempts: int
    created_at: str


class DeadLetterStore(StoreBase):
    # -------------------------------------------------------- dead letters

    def add_rejection(self, run_id: int, rejection: Rejection) -> None:
        ref = f"{rejection.kind}:{rejection.file or ''}:{rejection.row or ''}:" \
              f"{rejection.record_id or ''}:{rejection.field or ''}"
        self._dead_letter(run_id, DeadLetterKind.REJECTED_INPUT, None, ref,
                          rejection.raw.get("map_id") if rejection.raw else None, None,
                          rejection.message, rejection.file, rejection.row, rejection.field,
                          rejection.model_dump(mode="json"))

    def add_failed_write(self, run_id: int, sobject: str, ref: str, map_id: str | None,
                         error_code: str | None, message: str,
                         payload: Mapping[str, Any]) -> None:
        self._dead_letter(run_id, DeadLetterKind.FAILED_WRITE, sobject, ref, map_id, error_code,
                          message, None, None, None, dict(payload))

    def _dead_letter(self, run_id: int, kind: DeadLetterKind, sobject: str | None, ref: str,
                     map_id: str | None, error_code: str | None, message: str,
                     file: str | None, row: int | None, field: str | None,
                     payload: Mapping[str, Any]) -> None:
        self.db.execute(
            "INSERT INTO dead_letters (run_id, kind, sobject, ref, map_id, error_code, message, "
            "file, row, field, payload, created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?) "
            "ON CONFLICT(kind, ref) WHERE resolved_run IS NULL DO UPDATE SET "
            "run_id = excluded.run_id, error_code = excluded.error_code, "
            "message = excluded.message, payload = excluded.payload, "
            "attempts = dead_letters.attempts + 1",
            (run_id, kind, sobject, ref, map_id, error_code, redact(message), file, row, field,
             redact(json.dumps(payload, default=str)), _iso(datetime.now(UTC))))

    def dead_letters(self, kind: DeadLetterKind | None = None, *,
                     open_only: bool = True) -> list[DeadLetter]:
        sql = ("SELECT id, run_id, kind, sobject, ref, map_id, error_code, message, file, row, "
               "field, payload, attempts, created_at FROM dead_letters WHERE 1=1")
        args: list[Any] = []
        if open_only:
            sql += " AND resolved_run IS NULL"
        if kind:
            sql += " AND kind = ?"
            args.append(kind)
        rows = self.db.execute(sql + " ORDER BY id", args)
        return [DeadLetter(r[0], r[1], DeadLetterKind(r[2]), r[3], r[4], r[5], r[6], r[7], r[8],
                           r[9], r[10], json.loads(r[11]), r[12], r[13]) for r in rows]

    def resolve_stale_rejections(self, run_id: int) -> int:
        """After a full re-read: rejections not reported again were fixed at the source."""
        cur = self.db.execute(
            "UPDATE dead_letters SET resolved_run = ? WHERE kind = ? AND "
            "resolved_run IS NULL AND run_id < ?", (run_id, DeadLetterKind.REJECTED_INPUT, run_id))
        return cur.rowcount

    def resolve_dead_letters(self, run_id: int, kind: DeadLetterKind, refs: Iterable[str]) -> int:
        total = 0
        for chunk in _chunks(list(refs)):
            marks = ",".join("?" * len(chunk))
            cur = self.db.execute(
                f"UPDATE dead_letters SET resolved_run = ? WHERE kind = ? AND "
                f"resolved_run IS NULL AND ref IN ({marks})", [run_id, kind, *chunk])
            total += cur.rowcount
        return total

    def dead_letter_count(self) -> dict[str, int]:
        return {r[0]: int(r[1]) for r in self.db.execute(
            "SELECT kind, count(*) FROM dead_letters WHERE resolved_run IS NULL GROUP BY kind")}

    # ------------------------------------------------------------ findings

    def add_findings(self, run_id: int, findings: Iterable[Finding]) -> None:
        self.db.executemany(
            "INSERT INTO findings (run_id, category, object, record_id, map_id, field, "
            "salesforce_value, expected_value, detail) VALUES (?,?,?,?,?,?,?,?,?)",
            [(run_id, f.category, f.object, f.record_id, f.map_id, f.field,
              f.salesforce_value, f.expected_value, redact(f.detail) if f.detail else None)
             for f in findings])

    def findings(self, run_id: int) -> list[Finding]:
        rows = self.db.execute(
            "SELECT category, object, record_id, map_id, field, salesforce_value, "
            "expected_value, detail FROM findings WHERE run_id = ? ORDER BY rowid", (run_id,))
        return [Finding(FindingCategory(r[0]), *r[1:]) for r in rows]


