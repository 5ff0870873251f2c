"""The state store's copy of Salesforce: mirrored records and the values the
connector last wrote (for drift)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from connector.record_form import digest
from connector.state.base import StoreBase
from connector.values import MirrorRow


class MirrorStore(StoreBase):
    # -------------------------------------------------------------- mirror

    @staticmethod
    def fields_text(fields: Mapping[str, Any]) -> str:
        """The stored form of a mirror row's fields (comparable as text)."""
        return json.dumps(fields, sort_keys=True, default=str)

    def mirror_texts(self, sobject: str, ids: Iterable[str]) -> dict[str, str]:
        """Stored field text per id (live or deleted), without decoding it."""
        return {r[0]: r[1] for r in self._in(
            "SELECT id, fields FROM sf_records WHERE sobject = ? AND id IN ({in})",
            list(ids), (sobject,))}

    def mirror_digests(self, sobject: str, ids: Iterable[str]) -> \
            dict[str, tuple[str | None, str | None, bool]]:
        """Per stored id: its digest, created date and whether it is marked deleted."""
        return {r[0]: (r[1], r[2], bool(r[3])) for r in self._in(
            "SELECT id, digest, created_date, is_deleted FROM sf_records WHERE sobject = ? "
            "AND id IN ({in})", list(ids), (sobject,))}

    def mirror_unread(self, sobject: str, *, above: int) -> bool:
        """Whether more than ``above`` records of ``sobject`` were created here and
        not read back yet (so the next read returns at least that many); stops
        counting at ``above`` (a partial index holds only such rows)."""
        row = self.db.execute(
            "SELECT count(*) FROM (SELECT 1 FROM sf_records WHERE sobject = ? AND "
            "modstamp IS NULL LIMIT ?)", (sobject, above + 1)).fetchone()
        return int(row[0]) > above

    def mirror_mark_read(self, sobject: str, moment: str) -> None:
        """After a complete read of ``sobject``: the records created here since the
        last read have all come back (their stamps are after its watermark), so
        none is unread any more. One statement over the partial index, not an
        update per record."""
        self.db.execute("UPDATE sf_records SET modstamp = ? WHERE sobject = ? AND "
                        "modstamp IS NULL", (moment, sobject))

    def mirror_settle_created(self, sobject: str, created: Iterable[tuple[str, str]]) -> None:
        """Fill in the CreatedDate the org gave records this connector created."""
        self.db.executemany(
            "UPDATE sf_records SET created_date = ? WHERE sobject = ? AND id = ?",
            [(when, sobject, record_id) for record_id, when in created])

    def mirror_upsert(self, rows: Iterable[MirrorRow],
                      digests: Mapping[str, str] | None = None) -> int:
        """Store rows whole (``digests``: already computed, by id)."""
        data = [(r.sobject, r.id, r.email, r.map_key, r.parent_id, r.lead_id, r.contact_id,
                 r.created_date, r.modstamp, int(r.is_deleted), self.fields_text(r.fields),
                 digests[r.id] if digests is not None and r.id in digests else digest(r.fields))
                for r in rows]
        self.db.executemany(
            "INSERT INTO sf_records (sobject, id, email, map_key, parent_id, lead_id, "
            "contact_id, created_date, modstamp, is_deleted, fields, digest) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT(sobject, id) DO UPDATE SET "
            "email = excluded.email, map_key = excluded.map_key, "
            "parent_id = excluded.parent_id, lead_id = excluded.lead_id, "
            "contact_id = excluded.contact_id, created_date = excluded.created_date, "
            "modstamp = coalesce(excluded.modstamp, sf_records.modstamp), "
            "is_deleted = excluded.is_deleted, fields = excluded.fields, "
            "digest = excluded.digest", data)
        return len(data)

    def mirror_patch(self, sobject: str, patches: Iterable[tuple[str, Mapping[str, Any]]]) -> None:
        """Apply fields the connector just wrote to its copies of records (batched)."""
        pending = list(patches)
        texts = self.mirror_texts(sobject, [record_id for record_id, _ in pending])
        updates = []
        for record_id, fields in pending:
            text = texts.get(record_id)
            if text is None:
                continue
            merged = json.loads(text)
            merged.update(fields)
            updates.append((self.fields_text(merged), digest(merged), sobject, record_id))
        self.db.executemany("UPDATE sf_records SET fields = ?, digest = ? WHERE sobject = ? "
                            "AND id = ?", updates)

    def mirror_mark_deleted(self, sobject: str, ids: Sequence[str]) -> None:
        self.db.executemany("UPDATE sf_records SET is_deleted = 1 WHERE sobject = ? AND id = ?",
                            [(sobject, record_id) for record_id in ids])

    def _mirror_rows(self, rows: Iterable[tuple[Any, ...]]) -> list[MirrorRow]:
        return [MirrorRow(sobject=r[0], id=r[1], email=r[2], map_key=r[3], parent_id=r[4],
                          lead_id=r[5], contact_id=r[6], created_date=r[7], modstamp=r[8],
                          is_deleted=bool(r[9]), fields=json.loads(r[10])) for r in rows]

    _MIRROR_COLS = ("sobject, id, email, map_key, parent_id, lead_id, contact_id, "
                    "created_date, modstamp, is_deleted, fields")

    def mirror_get(self, sobject: str, ids: Iterable[str]) -> dict[str, MirrorRow]:
        rows = self._in(f"SELECT {self._MIRROR_COLS} FROM sf_records WHERE sobject = ? AND "
                        "is_deleted = 0 AND id IN ({in})", list(ids), (sobject,))
        return {r.id: r for r in self._mirror_rows(rows)}

    def mirror_by(self, sobject: str, column: str, values: Iterable[str]) -> list[MirrorRow]:
        if column not in ("email", "map_key", "parent_id", "lead_id", "contact_id"):
            raise ValueError(column)
        rows = self._in(f"SELECT {self._MIRROR_COLS} FROM sf_records WHERE sobject = ? AND "
                        f"is_deleted = 0 AND {column} IN ({{in}})", list(values), (sobject,))
        return self._mirror_rows(rows)

    # A full read finds deletions set-wise: the ids it saw go to a temp table and
    # the live rows not among them are gone (no decoding, no set of every id).
    def mirror_seen_reset(self) -> None:
        self.db.execute("CREATE TEMP TABLE IF NOT EXISTS mirror_seen "
                        "(id TEXT PRIMARY KEY) WITHOUT ROWID")
        self.db.execute("DELETE FROM temp.mirror_seen")

    def mirror_seen_add(self, ids: Sequence[str]) -> None:
        self.db.executemany("INSERT OR IGNORE INTO temp.mirror_seen (id) VALUES (?)",
                            [(record_id,) for record_id in ids])

    def mirror_unseen(self, sobject: str) -> list[str]:
        """Live mirror rows of ``sobject`` the full read did not return."""
        return [r[0] for r in self.db.execute(
            "SELECT id FROM sf_records WHERE sobject = ? AND is_deleted = 0 AND id NOT IN "
            "(SELECT id FROM temp.mirror_seen)", (sobject,))]

    def mirror_all(self, sobject: str) -> Iterator[MirrorRow]:
        cur = self.db.execute(f"SELECT {self._MIRROR_COLS} FROM sf_records WHERE sobject = ? "
                              "AND is_deleted = 0", (sobject,))
        while True:
            batch = cur.fetchmany(2000)
            if not batch:
                return
            yield from self._mirror_rows(batch)

    def mirror_count(self, sobject: str) -> int:
        return int(self.db.execute(
            "SELECT count(*) FROM sf_records WHERE sobject = ? AND is_deleted = 0",
            (sobject,)).fetchone()[0])

    # ------------------------------------------------------------- written

    def written(self, sobject: str, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        """The values this connector last wrote, by record id and field."""
        return {record_id: json.loads(text) for record_id, text in self._in(
            "SELECT id, fields FROM written_records WHERE sobject = ? AND id IN ({in})",
            list(ids), (sobject,))}

    def set_written(self, run_id: int, sobject: str,
                    values: Iterable[tuple[str, str, Any]]) -> None:
        """Remember written values: one row per record, merged with what an earlier
        run wrote to its other fields."""
        by_record: dict[str, dict[str, Any]] = {}
        for record_id, name, value in values:
            by_record.setdefault(record_id, {})[name] = value
        if not by_record:
            return
        known = self.written(sobject, list(by_record))
        rows = []
        for record_id, fields in by_record.items():
            merged = known.get(record_id)
            if merged is not None:
                merged.update(fields)
                fields = merged
            rows.append((sobject, record_id, json.dumps(fields, default=str), run_id))
        self.db.executemany(
            "INSERT INTO written_records (sobject, id, fields, run_id) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(sobject, id) DO UPDATE SET fields = excluded.fields, "
            "run_id = excluded.run_id", rows)

