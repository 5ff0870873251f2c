"""The SQLite state store: one connection over the state database, and the
public store API assembled from one module per concept.

One file at ``CONNECTOR_STATE``, created readable by its owner only, in WAL mode
so a reader (``explain``, ``audit``) never blocks a running sync. Every public
method is a unit of work the sync can commit; ``transaction()`` groups them.
Secrets are never stored here. The concepts, each over ``state.base``:

- ``state.ledger``: the MAP's people, programs, touches and target accounts;
- ``state.links``: person links to Salesforce records, cycle and record events;
- ``state.mirror_store``: the Salesforce mirror and the values the connector wrote;
- ``state.runs``: runs, watermarks, people due, attribution input fingerprints;
- ``state.dead_letters``: rejected rows and failed writes kept for replay, findings.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from connector.errors import StateError
from connector.state.dead_letters import DeadLetter as DeadLetter  # re-exported
from connector.state.dead_letters import DeadLetterStore
from connector.state.dead_letters import Finding as Finding
from connector.state.ledger import LedgerCounts as LedgerCounts
from connector.state.ledger import LedgerStore
from connector.state.ledger import _data_and_hash as _data_and_hash
from connector.state.ledger import _hash as _hash
from connector.state.links import LinkStore
from connector.state.migrations import MIGRATIONS
from connector.state.mirror_store import MirrorStore
from connector.state.runs import RunStore
from connector.values import Link as Link  # re-exported for existing callers
from connector.values import MirrorRow as MirrorRow


def _create_private(path: Path) -> None:
    """Create the database file (and its directory) so only the owner can read it."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    if not path.exists():
        fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
        os.close(fd)
    os.chmod(path, 0o600)


class StateStore(LedgerStore, LinkStore, MirrorStore, RunStore, DeadLetterStore):
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
            # 64 MiB of page cache (the default is 2 MiB): a run looks records up
            # by id all over a database of gigabytes; measured 3x faster lookups
            self.db.execute("PRAGMA cache_size=-65536")
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


def open_store(path: Path) -> StateStore:
    return StateStore(Path(path))
