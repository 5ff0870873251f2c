"""The emulated org's SQLite database: one table per object plus the emulator's bookkeeping.

Record tables follow the storage contract in ``schema.py``. Internal tables start
with an underscore so SOQL (which only knows schema objects) can never reach them.
One re-entrant lock serializes every use of the single connection: the org is a
test double, and a serialized SQLite in WAL mode is far faster than the clients
that drive it.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from connector import sfid as ids
from connector.emulator.schema import Schema

INTERNAL_DDL = (
    "CREATE TABLE IF NOT EXISTS _meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS _sequences (prefix TEXT PRIMARY KEY, next INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS _sessions (token_hash TEXT PRIMARY KEY, user_id TEXT NOT NULL,"
    " client_id TEXT NOT NULL, issued_at REAL NOT NULL, expires_at REAL NOT NULL)",
    "CREATE TABLE IF NOT EXISTS _api_calls (category TEXT NOT NULL, endpoint TEXT NOT NULL,"
    " count INTEGER NOT NULL, PRIMARY KEY (category, endpoint))",
    "CREATE TABLE IF NOT EXISTS _api_usage (hour INTEGER PRIMARY KEY, count INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS _cursors (id TEXT PRIMARY KEY, endpoint TEXT NOT NULL,"
    " total INTEGER NOT NULL, page_size INTEGER NOT NULL, last_used REAL NOT NULL)",
    "CREATE TABLE IF NOT EXISTS _cursor_pages (cursor_id TEXT NOT NULL, page INTEGER NOT NULL,"
    " records TEXT NOT NULL, PRIMARY KEY (cursor_id, page))",
    "CREATE TABLE IF NOT EXISTS _bulk_jobs (id TEXT PRIMARY KEY, kind TEXT NOT NULL,"
    " info TEXT NOT NULL, created REAL NOT NULL)",
    "CREATE TABLE IF NOT EXISTS _bulk_uploads (job_id TEXT NOT NULL, seq INTEGER NOT NULL,"
    " data BLOB NOT NULL, PRIMARY KEY (job_id, seq))",
    "CREATE TABLE IF NOT EXISTS _bulk_results (job_id TEXT NOT NULL, kind TEXT NOT NULL,"
    " seq INTEGER NOT NULL, count INTEGER NOT NULL, rows TEXT NOT NULL,"
    " PRIMARY KEY (job_id, kind, seq))",
)


def create_private_file(path: Path) -> None:
    """Create ``path`` readable by its owner only (no-op when it exists; mode enforced)."""
    fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
    os.close(fd)
    os.chmod(path, 0o600)


def write_private_text(path: Path, text: str) -> None:
    """Write a secret-bearing file atomically with mode 0600."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


class Transaction:
    """Handle on the open transaction; ``rollback_only`` discards it at the end."""

    def __init__(self) -> None:
        self.rollback_only = False


class Store:
    """The org database. Every method must be called with ``lock`` held (they take it)."""

    def __init__(self, path: Path, schema: Schema) -> None:
        self.path = path
        self.schema = schema
        self.lock = threading.RLock()
        create_private_file(path)
        self.conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False,
                                    cached_statements=512)
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "temp_store=MEMORY",
                       "cache_size=-65536", "foreign_keys=OFF"):
            self.conn.execute(f"PRAGMA {pragma}")
        with self.lock:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                for stmt in INTERNAL_DDL:
                    self.conn.execute(stmt)
                self._migrate(schema)
                self.conn.execute("COMMIT")
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
        self._sequences: dict[str, int] = dict(
            self.conn.execute("SELECT prefix, next FROM _sequences").fetchall())
        self._dirty_sequences: set[str] = set()
        self._depth = 0
        self._columns: dict[str, tuple[str, ...]] = {}

    def _migrate(self, schema: Schema) -> None:
        """Create object tables, and add columns for fields the mappings gained since."""
        for stmt in schema.ddl():
            if stmt.startswith("CREATE TABLE"):
                self.conn.execute(stmt)
        for obj in schema.objects.values():
            present = {row[1] for row in self.conn.execute(f'PRAGMA table_info("{obj.name}")')}
            for f in obj.fields.values():
                if f.name not in present:
                    self.conn.execute(
                        f'ALTER TABLE "{obj.name}" ADD COLUMN "{f.name}" {f.sql_type}{f.collation}')
                    if f.type == "boolean":
                        self.conn.execute(f'UPDATE "{obj.name}" SET "{f.name}" = 0')
        for stmt in schema.ddl():
            if stmt.startswith("CREATE INDEX"):
                self.conn.execute(stmt)

    # ------------------------------------------------------------ transactions

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """One write transaction; nested use joins the outer one."""
        with self.lock:
            tx = Transaction()
            if self._depth:
                self._depth += 1
                try:
                    yield tx
                finally:
                    self._depth -= 1
                return
            self.conn.execute("BEGIN IMMEDIATE")
            self._depth = 1
            try:
                yield tx
            except BaseException:
                self._depth = 0
                self.conn.execute("ROLLBACK")
                raise
            self._depth = 0
            if tx.rollback_only:
                self.conn.execute("ROLLBACK")
            else:
                self._flush_sequences()
                self.conn.execute("COMMIT")

    def _flush_sequences(self) -> None:
        for prefix in self._dirty_sequences:
            self.conn.execute(
                "INSERT INTO _sequences (prefix, next) VALUES (?, ?) "
                "ON CONFLICT(prefix) DO UPDATE SET next = excluded.next",
                (prefix, self._sequences[prefix]))
        self._dirty_sequences.clear()

    # --------------------------------------------------------------------- ids

    def new_id(self, key_prefix: str) -> str:
        """The next id for ``key_prefix``; ids of rolled-back writes are skipped (as Salesforce)."""
        with self.lock:
            seq = self._sequences.get(key_prefix, 1)
            self._sequences[key_prefix] = seq + 1
            self._dirty_sequences.add(key_prefix)
            if not self._depth:
                with self.transaction():
                    pass
            return ids.make_id(key_prefix, seq)

    # -------------------------------------------------------------------- meta

    def get_meta(self, key: str) -> str | None:
        with self.lock:
            row = self.conn.execute("SELECT value FROM _meta WHERE key = ?", (key,)).fetchone()
            return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        with self.transaction():
            self.conn.execute(
                "INSERT INTO _meta (key, value) VALUES (?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value", (key, value))

    # ------------------------------------------------------------------ access

    def columns(self, table: str) -> tuple[str, ...]:
        """The columns ``SELECT *`` returns for ``table``, in order (fixed once migrated)."""
        found = self._columns.get(table)
        if found is None:
            with self.lock:
                found = tuple(r[1] for r in self.conn.execute(f'PRAGMA table_info("{table}")'))
            self._columns[table] = found
        return found

    def row_dict(self, table: str, row: Sequence[Any]) -> dict[str, Any]:
        return dict(zip(self.columns(table), row, strict=True))

    def select_row(self, table: str, record_id: str) -> dict[str, Any] | None:
        """The whole record with ``record_id`` (deleted or not), or None."""
        with self.lock:
            row = self.conn.execute(f'SELECT * FROM "{table}" WHERE Id = ?',
                                    (record_id,)).fetchone()
        return None if row is None else self.row_dict(table, row)

    def execute(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        with self.lock:
            return self.conn.execute(sql, params)

    def record_count(self) -> int:
        """Records of every object, deleted ones included (is the org empty?)."""
        with self.lock:
            return sum(
                int(self.conn.execute(f'SELECT COUNT(*) FROM "{name}"').fetchone()[0])
                for name in self.schema.objects if name not in ("User", "Organization")
            )

    def close(self) -> None:
        with self.lock:
            self.conn.close()
