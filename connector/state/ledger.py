"""The state store's ledger: the MAP's people, programs, touches and target
accounts as last read, each record with a content hash and the runs that saw
and changed it (so a run re-plans only the people whose inputs changed)."""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel

from connector.models import Person, Program, TargetAccount, Touch
from connector.state.base import StoreBase, _iso
from connector.values import TouchFacts


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


@functools.cache
def _upsert_sql(table: str, key: str, columns: tuple[str, ...], first_run: bool) -> str:
    """One ledger record's ``INSERT ... ON CONFLICT DO UPDATE``: the key, the plain
    ``columns``, ``data``, ``hash``, (``first_run``,) ``seen_run`` and
    ``changed_run``; on conflict every column but the key and ``first_run``
    moves, and ``changed_run`` only when the hash differs from the stored one
    (every expression of the update sees the row as it was)."""
    names = (key, *columns, "data", "hash", *(("first_run",) if first_run else ()),
             "seen_run", "changed_run")
    moved = ", ".join(f"{c} = excluded.{c}" for c in (*columns, "data", "hash", "seen_run"))
    return (f"INSERT INTO {table} ({', '.join(names)}) VALUES ({','.join('?' * len(names))}) "
            f"ON CONFLICT({key}) DO UPDATE SET {moved}, "
            f"changed_run = CASE WHEN {table}.hash != excluded.hash THEN excluded.seen_run "
            f"ELSE {table}.changed_run END")


# the touch columns ``touches_of`` reads, in ``TouchFacts`` order (the key first)
_TOUCH_COLUMNS = ("touch_id", "map_id", "program_id", "touch_type", "occurred_at", "url",
                  "referrer", "utm_source", "utm_medium", "utm_campaign", "utm_content",
                  "utm_term", "channel", "channel_rule", "is_response", "is_conversion")


def _touch_row(touch: Touch) -> tuple[Any, ...]:
    """The touch's plain columns after its id, as ``_TOUCH_COLUMNS`` names them."""
    occurred_at = touch.occurred_at
    return (touch.map_id, touch.program_id, touch.touch_type,
            occurred_at.isoformat(timespec="microseconds")
            if occurred_at.tzinfo is UTC else _iso(occurred_at),
            touch.url, touch.referrer, touch.utm_source, touch.utm_medium,
            touch.utm_campaign, touch.utm_content, touch.utm_term, touch.channel,
            touch.channel_rule, int(touch.is_response), int(touch.is_conversion))


class LedgerStore(StoreBase):
    """The MAP side of the state: what the last reads returned."""

    def _upsert_records(self, run_id: int, records: Sequence[Person] | Sequence[Program],
                        table: str, key: str, columns: tuple[str, ...],
                        first_run: bool) -> LedgerCounts:
        """Store people or programs (``key`` and ``columns`` name both the table's
        columns and the record's attributes), counting new, changed and unchanged
        ones by their hash. When no key repeats in the batch, unchanged records
        only move ``data`` (its origin may differ) and ``seen_run``; a repeated
        key keeps every upsert, in order."""
        counts = LedgerCounts()
        keys: list[str] = [getattr(r, key) for r in records]
        existing = {r[0]: r[1] for r in self._in(
            f"SELECT {key}, hash FROM {table} WHERE {key} IN ({{in}})", keys)}
        rows = []
        same: list[tuple[str, int, str]] = []  # unchanged: only data and seen_run move
        split = _unique(keys)
        for record, record_key in zip(records, keys, strict=True):
            data, digest = _data_and_hash(record)
            old = existing.get(record_key)
            changed = old != digest
            counts.new += old is None
            counts.changed += old is not None and changed
            counts.unchanged += not changed
            if split and not changed:
                same.append((data, run_id, record_key))
                continue
            # changed_run: used only by an insert, i.e. a record new in this run
            rows.append((record_key, *(getattr(record, c) for c in columns), data, digest,
                         *((run_id,) if first_run else ()), run_id, run_id))
        self.db.executemany(f"UPDATE {table} SET data = ?, seen_run = ? WHERE {key} = ?", same)
        self.db.executemany(_upsert_sql(table, key, columns, first_run), rows)
        return counts

    def upsert_people(self, run_id: int, people: Sequence[Person]) -> LedgerCounts:
        # email_valid, a bool, is stored as the integer 1 or 0 (sqlite3 binds bool as int)
        return self._upsert_records(run_id, people, "people", "map_id",
                                    ("email", "email_valid"), first_run=True)

    def upsert_programs(self, run_id: int, programs: Sequence[Program]) -> LedgerCounts:
        return self._upsert_records(run_id, programs, "programs", "program_id", (),
                                    first_run=False)

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
            rows.append((touch.touch_id, *_touch_row(touch), data, digest, run_id, run_id))
        self.db.executemany("UPDATE touches SET data = ?, seen_run = ? WHERE touch_id = ?",
                            same)
        self.db.executemany(
            _upsert_sql("touches", "touch_id", _TOUCH_COLUMNS[1:], first_run=False), rows)
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

    def touches_of(self, map_ids: Iterable[str]) -> dict[str, list[TouchFacts]]:
        """Touches per person, ordered by time then touch id, built from the
        columns alone: no JSON is decoded, and each tuple is made directly
        (``tuple.__new__``, skipping the named tuple's Python ``__new__``)."""
        out: dict[str, list[TouchFacts]] = {}
        parse = datetime.fromisoformat
        make = tuple.__new__
        for (touch_id, map_id, program_id, touch_type, occurred_at, url, referrer,
             utm_source, utm_medium, utm_campaign, utm_content, utm_term, channel,
             channel_rule, is_response, is_conversion) in self._in(
                f"SELECT {', '.join(_TOUCH_COLUMNS)} FROM touches WHERE map_id IN ({{in}}) "
                "ORDER BY map_id, occurred_at, touch_id", list(map_ids)):
            facts: TouchFacts = make(TouchFacts, (
                touch_id, map_id, program_id, touch_type, parse(occurred_at), url, referrer,
                utm_source, utm_medium, utm_campaign, utm_content, utm_term, channel,
                channel_rule, is_response == 1, is_conversion == 1))
            found = out.get(map_id)
            if found is None:
                out[map_id] = [facts]
            else:
                found.append(facts)
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
