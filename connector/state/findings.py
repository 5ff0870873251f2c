"""Audit findings as a current state, and the history of audits.

A finding is identified by its key (category, record, field...). An audit
opens the findings it sees for the first time, refreshes the values of those
still open, and closes, with its as-of date, the open findings it no longer
sees in the categories it checked. So a finding is reported once, stays open
until its cause is fixed, and never flickers with a run's scope.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from connector.state.store import StateStore


@dataclass(frozen=True)
class Recorded:
    """What an audit changed in the findings state."""

    audit_id: int
    opened: int
    closed: int
    still_open: int
    opened_at: dict[str, str]


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def record_audit(store: StateStore, *, as_of: datetime, started_at: datetime, status: str,
                 summary: Mapping[str, Any], api_calls: int,
                 findings: Iterable[tuple[str, str, Mapping[str, Any]]],
                 checked: Iterable[str]) -> Recorded:
    """Store one audit: ``findings`` are (key, category, data) triples;
    ``checked`` the categories this audit evaluated (only those may close)."""
    db = store.db
    stamp = _iso(as_of)
    with store.transaction():
        cur = db.execute(
            "INSERT INTO audits (as_of, started_at, finished_at, status, summary, api_calls, "
            "opened, closed) VALUES (?, ?, ?, ?, ?, ?, 0, 0)",
            (stamp, _iso(started_at), _iso(datetime.now(UTC)), status,
             json.dumps(summary, sort_keys=True), api_calls))
        audit_id = int(cur.lastrowid or 0)
        open_rows = {r[0]: (r[1], r[2]) for r in db.execute(
            "SELECT key, id, opened_at FROM audit_findings WHERE closed_audit IS NULL")}
        opened = 0
        seen: set[str] = set()
        opened_at: dict[str, str] = {}
        updates = []
        inserts = []
        for key, category, data in findings:
            if key in seen:
                continue
            seen.add(key)
            text = json.dumps(data, sort_keys=True, default=str)
            if key in open_rows:
                row_id, since = open_rows[key]
                updates.append((text, audit_id, row_id))
                opened_at[key] = since
            else:
                inserts.append((key, category, text, stamp, audit_id, audit_id))
                opened_at[key] = stamp
                opened += 1
        db.executemany("UPDATE audit_findings SET data = ?, seen_audit = ? WHERE id = ?",
                       updates)
        db.executemany(
            "INSERT INTO audit_findings (key, category, data, opened_at, opened_audit, "
            "seen_audit) VALUES (?, ?, ?, ?, ?, ?)", inserts)
        closed = 0
        for category in set(checked):
            cur = db.execute(
                "UPDATE audit_findings SET closed_at = ?, closed_audit = ? WHERE "
                "closed_audit IS NULL AND category = ? AND seen_audit < ?",
                (stamp, audit_id, category, audit_id))
            closed += cur.rowcount
        db.execute("UPDATE audits SET opened = ?, closed = ? WHERE audit_id = ?",
                   (opened, closed, audit_id))
    return Recorded(audit_id, opened, closed, len(seen), opened_at)


def history(store: StateStore, limit: int = 50) -> list[dict[str, Any]]:
    """Past audits, newest first, with their per-category counts."""
    rows = store.db.execute(
        "SELECT audit_id, as_of, started_at, finished_at, status, summary, api_calls, opened, "
        "closed FROM audits ORDER BY audit_id DESC LIMIT ?", (limit,)).fetchall()
    return [{"audit_id": r[0], "as_of": r[1], "started_at": r[2], "finished_at": r[3],
             "status": r[4], "summary": json.loads(r[5]), "api_calls": r[6], "opened": r[7],
             "closed": r[8]} for r in rows]


def closed_findings(store: StateStore, audit_id: int) -> list[dict[str, Any]]:
    """The findings an audit closed (fixed since the audit before)."""
    rows = store.db.execute(
        "SELECT data, opened_at, closed_at FROM audit_findings WHERE closed_audit = ? "
        "ORDER BY id", (audit_id,))
    return [{**json.loads(r[0]), "opened_at": r[1], "closed_at": r[2]} for r in rows]


def open_count(store: StateStore) -> dict[str, int]:
    return {r[0]: int(r[1]) for r in store.db.execute(
        "SELECT category, count(*) FROM audit_findings WHERE closed_audit IS NULL "
        "GROUP BY category")}
