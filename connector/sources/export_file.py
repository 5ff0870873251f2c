"""Reading one file of the file export incrementally, row by row, in bounded memory.

A checkpoint mark records what was consumed: size and mtime (to skip an
unchanged file without opening it), the byte offset just past the last
newline-terminated row, a SHA-256 of those bytes (to prove a grown file was only
appended to), and the line count (so appended rows keep their line numbers).
Any other change means the file is read again from the start.

Rows are numbered by the line they start on, the header being line 1 in a CSV
file, so a message points at the line an editor or spreadsheet shows. A final
row without a trailing newline is read, but the mark stops before it: if a
writer was still appending to it, the next run reads it again, whole.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from connector.errors import SourceFormatError
from connector.sources.base import StreamStatus

BOM = b"\xef\xbb\xbf"
_HASH_CHUNK = 1 << 20


@dataclass(frozen=True)
class ReadPlan:
    mode: StreamStatus  # the plan's mode is the status its stream reports
    offset: int = 0
    line: int = 0
    rows: int = 0
    header: tuple[str, ...] | None = None
    # The hash state of the verified prefix, continued by an append read.
    hasher: Any = None


class RawRow(NamedTuple):
    """One data row: its values by column, or the reason it cannot be used.

    A named tuple rather than a frozen dataclass: one is made per row, and a
    frozen dataclass costs four times as much to make."""

    line: int
    values: dict[str, Any] | None
    problem: str | None
    problem_field: str | None
    raw: dict[str, Any]
    # True when the row lies before the resume offset (already yielded by an
    # earlier run); only a caller that re-parses a whole file sees such rows.
    consumed: bool = False


class ExportFile:
    """One ``NAME.csv`` or ``NAME.jsonl`` of the export."""

    def __init__(self, path: Path, required: tuple[str, ...],
                 known: tuple[str, ...]) -> None:
        self.path = path
        self.name = path.name
        self.fmt = "jsonl" if path.suffix == ".jsonl" else "csv"
        self.required = required
        self.known = known
        self.new_mark: dict[str, Any] | None = None
        self.unknown_columns: tuple[str, ...] = ()

    # ------------------------------------------------------------ planning

    def plan(self, mark: dict[str, Any] | None) -> ReadPlan:
        """Decide, from the previous mark, whether to skip, append or read anew."""
        st = self.path.stat()
        if not mark or mark.get("file") != self.name:
            return ReadPlan(StreamStatus.READ)
        try:
            size, mtime, offset = int(mark["size"]), int(mark["mtime_ns"]), int(mark["offset"])
            line, rows, digest = int(mark["lines"]), int(mark["rows"]), str(mark["prefix_sha256"])
            header = tuple(mark["header"]) if mark.get("header") is not None else None
        except (KeyError, TypeError, ValueError):
            return ReadPlan(StreamStatus.REREAD)
        if st.st_size == size and st.st_mtime_ns == mtime:
            self.new_mark = dict(mark)
            return ReadPlan(StreamStatus.UNCHANGED, offset, line, rows, header)
        if st.st_size < offset:
            return ReadPlan(StreamStatus.REREAD)
        hasher = hashlib.sha256()
        remaining = offset
        with self.path.open("rb") as fh:
            while remaining:
                chunk = fh.read(min(_HASH_CHUNK, remaining))
                if not chunk:
                    return ReadPlan(StreamStatus.REREAD)
                hasher.update(chunk)
                remaining -= len(chunk)
        if hasher.hexdigest() != digest:
            return ReadPlan(StreamStatus.REREAD)
        return ReadPlan(StreamStatus.APPENDED, offset, line, rows, header, hasher)

    # ------------------------------------------------------------- reading

    def rows(self, plan: ReadPlan, *, from_start: bool = False) -> Iterator[RawRow]:
        """Rows from the plan's offset (or, with ``from_start``, every row, those
        before the offset flagged ``consumed``). Sets ``new_mark`` when exhausted."""
        if plan.mode is StreamStatus.UNCHANGED and not from_start:
            return
        resume = plan.offset if plan.mode in (StreamStatus.APPENDED, StreamStatus.UNCHANGED) else 0
        start = 0 if from_start else resume
        stat = self.path.stat()
        with self.path.open("rb") as fh:
            fh.seek(start)
            feeder = _LineFeeder(fh, start, plan.line if start else 0)
            if start == 0:
                hasher = hashlib.sha256()
            else:
                hasher = plan.hasher if plan.hasher is not None else hashlib.sha256()
            committed = start
            committed_lines = plan.line if start else 0
            rows_count = plan.rows if start else 0
            committed_rows = rows_count
            header = plan.header if start else None
            if self.fmt == "csv":
                reader = csv.reader(feeder)
                if header is None:
                    header = self._read_header(reader, feeder)
                    chunk = feeder.take()
                    hasher.update(chunk)
                    committed += len(chunk)
                    committed_lines = feeder.line
                while True:
                    try:
                        record: list[str] | None = next(reader)
                        problem = None
                    except StopIteration:
                        break
                    except csv.Error as exc:
                        record, problem = None, f"unparseable CSV row: {exc}"
                    row_line = feeder.row_start_line
                    chunk = feeder.take()
                    consumed = committed < resume
                    if record is None:
                        rows_count += 1
                        yield RawRow(row_line, None, problem, None,
                                     {"_line": chunk.decode("utf-8", "replace")}, consumed)
                    elif record:  # csv gives [] for a blank line
                        rows_count += 1
                        yield self._csv_row(header, record, row_line, feeder.bad_lines,
                                            consumed)
                    feeder.bad_lines.clear()
                    if chunk.endswith(b"\n"):
                        hasher.update(chunk)
                        committed += len(chunk)
                        committed_lines = feeder.line
                        committed_rows = rows_count
            else:
                for text in feeder:
                    row_line = feeder.row_start_line
                    chunk = feeder.take()
                    bad = bool(feeder.bad_lines)
                    feeder.bad_lines.clear()
                    if text.strip():
                        rows_count += 1
                        yield self._jsonl_row(text, row_line, bad, committed < resume)
                    if chunk.endswith(b"\n"):
                        hasher.update(chunk)
                        committed += len(chunk)
                        committed_lines = feeder.line
                        committed_rows = rows_count
        self.new_mark = {
            "file": self.name, "size": feeder.pos, "mtime_ns": stat.st_mtime_ns,
            "offset": committed, "prefix_sha256": hasher.hexdigest(),
            "lines": committed_lines, "rows": committed_rows,
            "header": list(header) if header is not None else None,
        }

    def _read_header(self, reader: Any, feeder: _LineFeeder) -> tuple[str, ...]:
        try:
            first = next(reader)
        except StopIteration:
            raise SourceFormatError(
                f"{self.name}: the file is empty; a CSV export starts with a header row",
                hint=f"expected columns include {', '.join(self.required)}") from None
        except csv.Error as exc:
            raise SourceFormatError(f"{self.name}: unreadable header: {exc}") from None
        if feeder.bad_lines:
            raise SourceFormatError(f"{self.name}: the header row is not valid UTF-8")
        header = tuple(h.strip() for h in first)
        if not any(header):
            raise SourceFormatError(f"{self.name}: the first row is blank; expected a header")
        blanks = [str(i + 1) for i, h in enumerate(header) if not h]
        if blanks:
            raise SourceFormatError(
                f"{self.name}: header has unnamed columns (positions {', '.join(blanks)})")
        dupes = sorted({h for h in header if header.count(h) > 1})
        if dupes:
            raise SourceFormatError(f"{self.name}: header names columns twice: {dupes}")
        self.check_columns(header)
        feeder.bad_lines.clear()
        return header

    def check_columns(self, columns: tuple[str, ...]) -> None:
        """Raise ``SourceFormatError`` naming missing required columns and unknown ones."""
        missing = [c for c in self.required if c not in columns]
        unknown = tuple(c for c in columns if c not in self.known)
        self.unknown_columns = unknown
        if missing:
            hint = f"unknown columns (kept as extra): {', '.join(unknown)}" if unknown \
                else None
            raise SourceFormatError(
                f"{self.name}: missing required column(s): {', '.join(missing)}", hint=hint)

    def _csv_row(self, header: tuple[str, ...], record: list[str], line: int,
                 bad_lines: set[int], consumed: bool) -> RawRow:
        raw: dict[str, Any] = dict(zip(header, record, strict=False))
        if len(record) > len(header):
            raw["_extra_values"] = record[len(header):]
        if bad_lines:
            return RawRow(line, None, "the row is not valid UTF-8", None, raw, consumed)
        if len(record) != len(header):
            return RawRow(line, None,
                          f"expected {len(header)} columns, found {len(record)}",
                          None, raw, consumed)
        return RawRow(line, raw, None, None, raw, consumed)

    def _jsonl_row(self, text: str, line: int, bad: bool, consumed: bool) -> RawRow:
        raw_text = {"_line": text.rstrip("\r\n")}
        if bad:
            return RawRow(line, None, "the line is not valid UTF-8", None, raw_text, consumed)
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            return RawRow(line, None, f"malformed JSON: {exc.msg} at column {exc.colno}",
                          None, raw_text, consumed)
        if not isinstance(value, dict):
            return RawRow(line, None, "a JSON line must be an object", None, raw_text,
                          consumed)
        values: dict[str, Any] = {}
        for key, item in value.items():
            if isinstance(item, bool):
                values[key] = "true" if item else "false"
            elif isinstance(item, (int, float)):
                values[key] = str(item)
            else:
                values[key] = item
        missing = [c for c in self.required if c not in values]
        if missing:
            return RawRow(line, None, f"missing required key(s): {', '.join(missing)}",
                          missing[0], value, consumed)
        return RawRow(line, values, None, None, value, consumed)


class _LineFeeder:
    """Feeds decoded lines to the parser while tracking byte positions and line numbers.

    ``csv.reader`` pulls one line at a time and never reads ahead, so after it
    returns a record the bytes taken since the last ``take()`` are exactly that
    record's bytes."""

    def __init__(self, fh: Any, offset: int, line: int) -> None:
        self._fh = fh
        self.pos = offset
        self.line = line
        self._pending: list[bytes] = []
        self.row_start_line = line + 1
        self.bad_lines: set[int] = set()

    def __iter__(self) -> Iterator[str]:
        for raw in iter(self._fh.readline, b""):
            if not self._pending:
                self.row_start_line = self.line + 1
            text_bytes = raw[len(BOM):] if self.pos == 0 and raw.startswith(BOM) else raw
            self.pos += len(raw)
            self.line += 1
            self._pending.append(raw)
            try:
                text = text_bytes.decode("utf-8")
            except UnicodeDecodeError:
                self.bad_lines.add(self.line)
                text = text_bytes.decode("utf-8", errors="replace")
            yield text

    def take(self) -> bytes:
        chunk = b"".join(self._pending)
        self._pending.clear()
        return chunk
