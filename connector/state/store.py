"""The SQLite state store: the ledger, links, the Salesforce mirror, runs.

One file at ``CONNECTOR_STATE``, created readable by its owner only, in WAL mode
so a reader (``explain``, ``audit``) never blocks a running sync. Every public
method is a unit of work the sync can commit; ``transaction()`` groups them.
Secrets are never stored here.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel

from connector.errors import StateError
from connector.models import Person, Program, TargetAccount, Touch
from connector.redact import redact
from connector.run.status import SUCCEEDED, RunStatus
from connector.state.base import _iso
from connector.state.dead_letters import DeadLetter as DeadLetter
from connector.state.dead_letters import DeadLetterStore
from connector.state.dead_letters import Finding as Finding
from connector.state.migrations import MIGRATIONS
from connector.state.mirror_store import MirrorStore
from connector.values import Link as Link  # re-exported for existing callers
from connector.values import MirrorRow as MirrorRow

M = TypeVar("M", bound=BaseModel)


def _hash(model: BaseModel) -> str:
    text = model.model_dump_json(exclude={"origin"})
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


_ORIGIN_KEY = b',"origin":'


@functools.cache
def _ends_with_origin(model: type[BaseModel]) -> bool:
    return next(reversed(model.model_fields), None) == "origin"


def _data_and_hash(model: BaseModel) -> tuple[str, str]:
    """The record's stored JSON and its ``_hash``, serialising it once.

    ``origin`` is the last field of every ledger record, so the JSON without it
    is the JSON with it cut before ``,"origin":`` (a key inside a string value
    would have its quotes escaped) and closed again: the very text ``_hash``
    digests, so hashes stay what earlier versions stored. (``to_json`` is what
    ``model_dump_json`` calls, with the same defaults.)"""
    data = type(model).__pydantic_serializer__.to_json(model)
    cut = data.rfind(_ORIGIN_KEY)
    if cut < 0 or not _ends_with_origin(type(model)):
        return data.decode(), _hash(model)  # not a record ending with origin
    digest = hashlib.blake2b(data[:cut] + b"}", digest_size=16).hexdigest()
    return data.decode(), digest


def _unique(ids: Iterable[str]) -> bool:
    """True when no id repeats: then a batch's unchanged records can be written
    apart from the others (a repeated id must keep its upserts in order)."""
    seen: set[str] = set()
    for record_id in ids:
        if record_id in seen:
            return False
        seen.add(record_id)
    return True


@dataclass
class LedgerCounts:
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    duplicates: int = 0


def _create_private(path: Path) -> None:
    """Create the database file (and its directory) so only the owner can read it."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    if not path.exists():
        fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
        os.close(fd)
    os.chmod(path, 0o600)


class StateStore(MirrorStore, DeadLetterStore):
    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            _create_private(path)
            # WAL and SHM side files inherit the umask: keep them private too.
            old_umask = os.umask(0o077)
            try:
                self.db = sqlite3.connect(path, isolation_level=None, timeout=30,
                                          check_same_thread=False)
                self.db.execute("PRAGMA journal_mode=WAL")
            finally:
                os.umask(old_umask)
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.execute("PRAGMA foreign_keys=ON")
            self._migrate()
        except sqlite3.DatabaseError as exc:
            raise StateError(f"the state database {path} is unusable: {exc}",
                             hint="move it aside to start afresh (the next sync re-reads "
                                  "everything), or restore a backup") from exc
        self._depth = 0

    # ------------------------------------------------------------ plumbing

    def _migrate(self) -> None:
        version = int(self.db.execute("PRAGMA user_version").fetchone()[0])
        if version > len(MIGRATIONS):
            raise StateError(
                f"{self.path} was written by a newer connector (schema {version})",
                hint="upgrade the connector or point CONNECTOR_STATE elsewhere",
            )
        for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
            self.db.execute("BEGIN IMMEDIATE")
            try:
                for statement in script.split(";"):
                    if statement.strip():
                        self.db.execute(statement)
                self.db.execute(f"PRAGMA user_version = {number}")
                self.db.execute("COMMIT")
            except Exception:
                self.db.execute("ROLLBACK")
                raise

    @property
    def schema_version(self) -> int:
        return int(self.db.execute("PRAGMA user_version").fetchone()[0])

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Nested-safe: only the outermost block commits."""
        if self._depth == 0:
            self.db.execute("BEGIN IMMEDIATE")
        self._depth += 1
        try:
            yield
        except BaseException:
            self._depth -= 1
            if self._depth == 0:
                self.db.execute("ROLLBACK")
            raise
        self._depth -= 1
        if self._depth == 0:
            self.db.execute("COMMIT")

    def close(self) -> None:
        self.db.close()

    # ---------------------------------------------------------------- runs

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

    # -------------------------------------------------------------- ledger

    def upsert_people(self, run_id: int, people: Sequence[Person]) -> LedgerCounts:
        counts = LedgerCounts()
        existing = {r[0]: r[1] for r in self._in(
            "SELECT map_id, hash FROM people WHERE map_id IN ({in})",
            [p.map_id for p in people])}
        rows = []
        same: list[tuple[str, int, str]] = []  # unchanged: only data and seen_run move
        split = _unique(p.map_id for p in people)
        for person in people:
            data, digest = _data_and_hash(person)
            old = existing.get(person.map_id)
            changed = old != digest
            counts.new += old is None
            counts.changed += old is not None and changed
            counts.unchanged += not changed
            if split and not changed:
                same.append((data, run_id, person.map_id))
                continue
            rows.append((person.map_id, person.email, int(person.email_valid),
                         data, digest, run_id, run_id,
                         run_id if changed else None))
        self.db.executemany("UPDATE people SET data = ?, seen_run = ? WHERE map_id = ?", same)
        self.db.executemany(
            "INSERT INTO people (map_id, email, email_valid, data, hash, first_run, seen_run, "
            "changed_run) VALUES (?, ?, ?, ?, ?, ?, ?, coalesce(?, 0)) "
            "ON CONFLICT(map_id) DO UPDATE SET email = excluded.email, "
            "email_valid = excluded.email_valid, data = excluded.data, hash = excluded.hash, "
            "seen_run = excluded.seen_run, "
            "changed_run = CASE WHEN people.hash != excluded.hash THEN excluded.seen_run "
            "ELSE people.changed_run END", rows)
        return counts

    def upsert_programs(self, run_id: int, programs: Sequence[Program]) -> LedgerCounts:
        counts = LedgerCounts()
        existing = {r[0]: r[1] for r in self._in(
            "SELECT program_id, hash FROM programs WHERE program_id IN ({in})",
            [p.program_id for p in programs])}
        rows = []
        same: list[tuple[str, int, str]] = []  # unchanged: only data and seen_run move
        split = _unique(p.program_id for p in programs)
        for program in programs:
            data, digest = _data_and_hash(program)
            old = existing.get(program.program_id)
            counts.new += old is None
            counts.changed += old is not None and old != digest
            counts.unchanged += old == digest
            if split and old == digest:
                same.append((data, run_id, program.program_id))
                continue
            rows.append((program.program_id, data, digest, run_id, run_id))
        self.db.executemany("UPDATE programs SET data = ?, seen_run = ? WHERE program_id = ?",
                            same)
        self.db.executemany(
            "INSERT INTO programs (program_id, data, hash, seen_run, changed_run) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT(program_id) DO UPDATE SET "
            "data = excluded.data, seen_run = excluded.seen_run, "
            "changed_run = CASE WHEN programs.hash != excluded.hash THEN excluded.seen_run "
            "ELSE programs.changed_run END, hash = excluded.hash", rows)
        return counts

    def upsert_touches(self, run_id: int,
                       touches: Sequence[Touch]) -> tuple[LedgerCounts, list[Touch]]:
        """Store touches; a touch id seen earlier in this same run with different
        content is a duplicate and is returned (not stored) for rejection."""
        counts = LedgerCounts()
        existing = {r[0]: (r[1], r[2]) for r in self._in(
            "SELECT touch_id, hash, seen_run FROM touches WHERE touch_id IN ({in})",
            [t.touch_id for t in touches])}
        rows = []
        # unchanged touches (ids are unique here): only data and seen_run move
        same: list[tuple[str, int, str]] = []
        duplicates: list[Touch] = []
        batch_seen: dict[str, str] = {}
        for touch in touches:
            data, digest = _data_and_hash(touch)
            prior = existing.get(touch.touch_id)
            in_batch = batch_seen.get(touch.touch_id)
            if in_batch is not None or (prior is not None and prior[1] == run_id):
                if (in_batch or (prior[0] if prior else None)) != digest:
                    duplicates.append(touch)
                counts.duplicates += 1
                continue
            batch_seen[touch.touch_id] = digest
            counts.new += prior is None
            counts.changed += prior is not None and prior[0] != digest
            if prior is not None and prior[0] == digest:
                counts.unchanged += 1
                same.append((data, run_id, touch.touch_id))
                continue
            occurred_at = touch.occurred_at
            rows.append((touch.touch_id, touch.map_id, touch.program_id, touch.touch_type,
                         occurred_at.isoformat(timespec="microseconds")
                         if occurred_at.tzinfo is UTC else _iso(occurred_at),
                         int(touch.is_response),
                         data, digest, run_id, run_id))
        self.db.executemany("UPDATE touches SET data = ?, seen_run = ? WHERE touch_id = ?",
                            same)
        self.db.executemany(
            "INSERT INTO touches (touch_id, map_id, program_id, touch_type, occurred_at, "
            "is_response, data, hash, seen_run, changed_run) VALUES (?,?,?,?,?,?,?,?,?,?) "
            "ON CONFLICT(touch_id) DO UPDATE SET map_id = excluded.map_id, "
            "program_id = excluded.program_id, touch_type = excluded.touch_type, "
            "occurred_at = excluded.occurred_at, is_response = excluded.is_response, "
            "data = excluded.data, seen_run = excluded.seen_run, "
            "changed_run = CASE WHEN touches.hash != excluded.hash THEN excluded.seen_run "
            "ELSE touches.changed_run END, hash = excluded.hash", rows)
        return counts, duplicates

    def upsert_target_accounts(self, run_id: int, accounts: Sequence[TargetAccount]) -> None:
        self.db.executemany(
            "INSERT INTO target_accounts (key, data, seen_run) VALUES (?, ?, ?) "
            "ON CONFLICT(key) DO UPDATE SET data = excluded.data, seen_run = excluded.seen_run",
            [((a.account_id or a.domain or "").lower(), a.model_dump_json(), run_id)
             for a in accounts])

    def programs(self) -> dict[str, Program]:
        return {r[0]: Program.model_validate_json(r[1])
                for r in self.db.execute("SELECT program_id, data FROM programs")}

    def changed_programs(self, run_id: int) -> set[str]:
        return {r[0] for r in self.db.execute(
            "SELECT program_id FROM programs WHERE changed_run = ?", (run_id,))}

    def people(self, map_ids: Iterable[str] | None = None) -> dict[str, Person]:
        if map_ids is None:
            rows: Iterable[tuple[Any, ...]] = self.db.execute("SELECT map_id, data FROM people")
        else:
            rows = self._in("SELECT map_id, data FROM people WHERE map_id IN ({in})",
                            list(map_ids))
        return {r[0]: Person.model_validate_json(r[1]) for r in rows}

    def all_map_ids(self) -> list[str]:
        return [r[0] for r in self.db.execute("SELECT map_id FROM people ORDER BY map_id")]

    def people_count(self) -> int:
        return int(self.db.execute("SELECT count(*) FROM people").fetchone()[0])

    def people_by_email(self, emails: Iterable[str]) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for email, map_id in self._in(
                "SELECT email, map_id FROM people WHERE email IN ({in}) ORDER BY map_id",
                list(emails)):
            out.setdefault(email, []).append(map_id)
        return out

    def touches_of(self, map_ids: Iterable[str]) -> dict[str, list[Touch]]:
        """Touches per person, ordered by time then touch id."""
        out: dict[str, list[Touch]] = {}
        for map_id, data in self._in(
                "SELECT map_id, data FROM touches WHERE map_id IN ({in}) "
                "ORDER BY map_id, occurred_at, touch_id", list(map_ids)):
            out.setdefault(map_id, []).append(Touch.model_validate_json(data))
        return out

    def touch_count(self) -> int:
        return int(self.db.execute("SELECT count(*) FROM touches").fetchone()[0])

    def changed_people(self, run_id: int) -> set[str]:
        """People whose record or any touch changed in this run."""
        rows = self.db.execute(
            "SELECT map_id FROM people WHERE changed_run = ? "
            "UNION SELECT map_id FROM touches WHERE changed_run = ?", (run_id, run_id))
        return {r[0] for r in rows}

    def people_changed_since(self, run_id: int) -> set[str]:
        """People whose record or any touch changed after run ``run_id``."""
        rows = self.db.execute(
            "SELECT map_id FROM people WHERE changed_run > ? "
            "UNION SELECT map_id FROM touches WHERE changed_run > ?", (run_id, run_id))
        return {r[0] for r in rows}

    def people_touched_since(self, moment: datetime) -> set[str]:
        """People with a touch at or after ``moment``, or created/updated in the MAP since."""
        stamp = _iso(moment)
        found = {r[0] for r in self.db.execute(
            "SELECT DISTINCT map_id FROM touches WHERE occurred_at >= ?", (stamp,))}
        for map_id, data in self.db.execute("SELECT map_id, data FROM people"):
            person = json.loads(data)
            for key in ("updated_at", "created_at"):
                value = person.get(key)
                if value and datetime.fromisoformat(value) >= moment:
                    found.add(map_id)
                    break
        return found

    def unlinked_people_by_email(self, emails: Iterable[str]) -> set[str]:
        return {r[0] for r in self._in(
            "SELECT p.map_id FROM people p LEFT JOIN person_links l ON l.map_id = p.map_id "
            "WHERE l.map_id IS NULL AND p.email IN ({in})", list(emails))}

    def people_touching_programs(self, program_ids: Iterable[str]) -> set[str]:
        return {r[0] for r in self._in(
            "SELECT DISTINCT map_id FROM touches WHERE program_id IN ({in})",
            list(program_ids))}

    def unknown_program_ids(self) -> dict[str, int]:
        """Program ids named by touches but absent from the ledger's programs."""
        rows = self.db.execute(
            "SELECT t.program_id, count(*) FROM touches t LEFT JOIN programs p "
            "ON p.program_id = t.program_id WHERE t.program_id IS NOT NULL "
            "AND p.program_id IS NULL GROUP BY t.program_id ORDER BY t.program_id")
        return {r[0]: int(r[1]) for r in rows}

    def target_accounts(self) -> list[TargetAccount]:
        return [TargetAccount.model_validate_json(r[0])
                for r in self.db.execute("SELECT data FROM target_accounts")]

    # --------------------------------------------------------------- links

    def links(self, map_ids: Iterable[str] | None = None) -> dict[str, Link]:
        sql = "SELECT map_id, sobject, sf_id, rule, detail, account_id FROM person_links"
        rows: Iterable[tuple[Any, ...]]
        if map_ids is None:
            rows = self.db.execute(sql)
        else:
            rows = self._in(sql + " WHERE map_id IN ({in})", list(map_ids))
        return {r[0]: Link(r[0], r[1], r[2], r[3], json.loads(r[4]), r[5]) for r in rows}

    def people_linked_by_record(self, sf_ids: Sequence[str]) -> dict[str, set[str]]:
        """Salesforce record id -> every MAP person linked to it."""
        out: dict[str, set[str]] = {}
        for sf_id, map_id in self._in(
                "SELECT sf_id, map_id FROM person_links WHERE sf_id IN ({in})", sf_ids):
            out.setdefault(sf_id, set()).add(map_id)
        return out

    def people_linked_to(self, sf_ids: Iterable[str]) -> set[str]:
        return {r[0] for r in self._in(
            "SELECT map_id FROM person_links WHERE sf_id IN ({in})", list(sf_ids))}

    def accounts_of(self, map_ids: Iterable[str]) -> set[str]:
        """The Accounts these MAP people are matched to."""
        return {r[0] for r in self._in(
            "SELECT DISTINCT account_id FROM person_links WHERE account_id IS NOT NULL "
            "AND map_id IN ({in})", list(map_ids))}

    def people_by_account(self, account_ids: Iterable[str]) -> dict[str, list[str]]:
        """Account id -> the MAP people matched to it (oldest link first)."""
        out: dict[str, list[str]] = {}
        for account_id, map_id in self._in(
                "SELECT account_id, map_id FROM person_links WHERE account_id IN ({in}) "
                "ORDER BY account_id, map_id", list(account_ids)):
            out.setdefault(account_id, []).append(map_id)
        return out

    def set_links(self, run_id: int, links: Iterable[Link]) -> None:
        self.db.executemany(
            "INSERT INTO person_links (map_id, sobject, sf_id, rule, detail, account_id, run_id) "
            "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(map_id) DO UPDATE SET "
            "sobject = excluded.sobject, sf_id = excluded.sf_id, rule = excluded.rule, "
            "detail = excluded.detail, account_id = excluded.account_id, "
            "run_id = excluded.run_id",
            [(lk.map_id, lk.sobject, lk.sf_id, lk.rule, json.dumps(lk.detail, sort_keys=True),
              lk.account_id, run_id) for lk in links])

    # ------------------------------------------------------- cycle events

    def cycle_events(self, map_ids: Iterable[str]) -> dict[str, list[tuple[datetime, str]]]:
        out: dict[str, list[tuple[datetime, str]]] = {}
        for map_id, at, reason in self._in(
                "SELECT map_id, at, reason FROM cycle_events WHERE map_id IN ({in}) "
                "ORDER BY at", list(map_ids)):
            out.setdefault(map_id, []).append((datetime.fromisoformat(at), reason))
        return out

    def add_cycle_events(self, run_id: int,
                         events: Iterable[tuple[str, datetime, str]]) -> None:
        self.db.executemany(
            "INSERT OR IGNORE INTO cycle_events (map_id, at, reason, run_id) VALUES (?,?,?,?)",
            [(m, _iso(at), reason, run_id) for m, at, reason in events])

    def record_events(self, sf_ids: Iterable[str]) -> dict[str, list[tuple[datetime, str]]]:
        out: dict[str, list[tuple[datetime, str]]] = {}
        for sf_id, at, reason in self._in(
                "SELECT sf_id, at, reason FROM record_events WHERE sf_id IN ({in}) "
                "ORDER BY at", list(sf_ids)):
            out.setdefault(sf_id, []).append((datetime.fromisoformat(at), reason))
        return out

    def add_record_events(self, run_id: int,
                          events: Iterable[tuple[str, datetime, str]]) -> None:
        self.db.executemany(
            "INSERT OR IGNORE INTO record_events (sf_id, at, reason, run_id) VALUES (?,?,?,?)",
            [(sf_id, _iso(at), reason, run_id) for sf_id, at, reason in events])

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

def open_store(path: Path) -> StateStore:
    return StateStore(Path(path))
