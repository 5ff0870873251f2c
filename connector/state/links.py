"""The state store's links and events: which Salesforce record each MAP person
is matched to (and by which rule), and the dated lifecycle events kept per
person (cycle closes) and per Salesforce record."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from connector.state.base import StoreBase, _iso
from connector.values import Link


class LinkStore(StoreBase):
    """Who is who across the two systems, and what happened to them when."""

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
