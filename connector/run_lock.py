"""One writer at a time: an exclusive lock beside the state database.

Two runs against one state database would both spend the API budget writing
the same records, and could race in a schema migration. ``RunLock`` takes an
``fcntl.flock`` lock on ``<state>.lock`` for the whole run. ``flock`` locks
belong to the open file, so the kernel releases them the moment the holding
process exits for any reason, ``kill -9`` included: a stale lock can never
block the next run. It works on local disks and on volumes mounted into a
container (Linux maps it onto POSIX locks on NFS).

The lock file also says who holds it (pid, host, command, run id, start time),
so the run that is refused can name the one that holds it.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from connector.errors import ConfigError, RunLocked
from connector.run.status import RunStatus


def lock_path(state: Path) -> Path:
    return state.with_name(state.name + ".lock")


class RunLock:
    def __init__(self, state: Path, command: str) -> None:
        self.state = Path(state)
        self.path = lock_path(self.state)
        self.command = command
        self._fd: int | None = None
        self._info: dict[str, Any] = {}

    def acquire(self) -> RunLock:
        """Take the lock at once or raise ``RunLocked`` (exit 5) naming the holder."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise ConfigError(f"cannot create the run lock {self.path}: {exc.strerror}",
                              hint="CONNECTOR_STATE must be in a directory this user can "
                                   "write") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read(fd)
            os.close(fd)
            holder.setdefault("run_id", _running_run(self.state))
            raise RunLocked(
                f"another run holds the state database's lock ({describe(holder)})",
                hint="nothing was done; retry when it has finished (it is released "
                     "automatically if that process dies)") from None
        self._fd = fd
        self._info = {"pid": os.getpid(), "host": socket.gethostname(),
                      "command": self.command,
                      "started_at": datetime.now(UTC).isoformat(timespec="seconds")}
        self._write()
        return self

    def note_run(self, run_id: int) -> None:
        """Record the run id once the run exists, for the message others get."""
        self._info["run_id"] = run_id
        self._write()

    def release(self) -> None:
        if self._fd is None:
            return
        try:
            os.ftruncate(self._fd, 0)
        finally:
            os.close(self._fd)  # closing the file releases the flock
            self._fd = None

    def _write(self) -> None:
        assert self._fd is not None
        data = json.dumps(self._info).encode()
        os.ftruncate(self._fd, 0)
        os.pwrite(self._fd, data, 0)

    def __enter__(self) -> RunLock:
        return self.acquire()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.release()


def _read(fd: int) -> dict[str, Any]:
    try:
        raw = os.pread(fd, 4096, 0)
        data = json.loads(raw.decode() or "{}")
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def _running_run(state: Path) -> int | None:
    """The newest run the state database shows as running (read-only, never blocks)."""
    try:
        db = sqlite3.connect(f"file:{state}?mode=ro", uri=True, timeout=1)
        try:
            row = db.execute("SELECT max(run_id) FROM runs WHERE status = ?",
                             (RunStatus.RUNNING,)).fetchone()
        finally:
            db.close()
    except sqlite3.Error:
        return None
    return int(row[0]) if row and row[0] is not None else None


def describe(holder: dict[str, Any]) -> str:
    if not holder:
        return "holder unknown"
    parts = []
    if holder.get("run_id"):
        parts.append(f"run {holder['run_id']}")
    parts.append(f"`connector {holder.get('command', '?')}`")
    parts.append(f"pid {holder.get('pid', '?')} on {holder.get('host', '?')}")
    if holder.get("started_at"):
        parts.append(f"since {holder['started_at']}")
    return ", ".join(parts)


__all__ = ["RunLock", "describe", "lock_path"]
