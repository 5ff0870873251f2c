"""Streaming writers: the MAP file export (CSV or JSONL) and the Salesforce seed.

Rows go straight to disk as they are generated, so memory stays flat whatever
the number of people. Column lists are the docs/interfaces.md file-export columns.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, TextIO

FileFormat = Literal["csv", "jsonl"]

PEOPLE_COLUMNS = ("map_id", "email", "first_name", "last_name", "company", "title", "industry",
                  "employees", "annual_revenue", "country", "created_at", "source",
                  "sfdc_lead_id", "sfdc_contact_id", "updated_at")
PROGRAM_COLUMNS = ("program_id", "name", "channel", "type", "start_date", "end_date", "cost",
                   "parent_id")
TOUCH_COLUMNS = ("touch_id", "map_id", "program_id", "touch_type", "occurred_at", "url",
                 "referrer", "utm_source", "utm_medium", "utm_campaign", "utm_content",
                 "utm_term")
TARGET_ACCOUNT_COLUMNS = ("domain", "account_id", "tier")
MAP_TABLES = {"people": PEOPLE_COLUMNS, "programs": PROGRAM_COLUMNS, "touches": TOUCH_COLUMNS,
              "target_accounts": TARGET_ACCOUNT_COLUMNS}

SEED_OBJECTS = ("Account", "Campaign", "Contact", "Opportunity", "OpportunityContactRole",
                "Lead")
"""Load order: every reference names a record of an object earlier in this list (or an
earlier line of the same file). Lead comes last so a converted Lead can point at
its Contact, Account and Opportunity."""

_BUFFER = 1 << 20
Cell = str | int | float | None


class TableWriter:
    """One table of the MAP export, in either format, one row at a time."""

    def __init__(self, path: Path, columns: Sequence[str], fmt: FileFormat) -> None:
        self.path = path
        self.columns = tuple(columns)
        self.fmt = fmt
        self.rows = 0
        self._file: TextIO = path.open("w", encoding="utf-8", newline="", buffering=_BUFFER)
        self._csv = csv.writer(self._file, lineterminator="\n") if fmt == "csv" else None
        if self._csv is not None:
            self._csv.writerow(self.columns)

    def write(self, row: Sequence[Cell]) -> None:
        if self._csv is not None:
            self._csv.writerow(row)  # None is written as an empty cell
        else:
            self._file.write(json.dumps(dict(zip(self.columns, row, strict=True)),
                                        ensure_ascii=False, separators=(",", ":")) + "\n")
        self.rows += 1

    def close(self) -> None:
        self._file.close()


class MapExport:
    """The four tables of the file export, opened together."""

    def __init__(self, directory: Path, fmt: FileFormat) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        for name in MAP_TABLES:  # a stale table in the other format would be read too
            for ext in ("csv", "jsonl"):
                (directory / f"{name}.{ext}").unlink(missing_ok=True)
        self.tables = {name: TableWriter(directory / f"{name}.{fmt}", cols, fmt)
                       for name, cols in MAP_TABLES.items()}
        self.people = self.tables["people"]
        self.programs = self.tables["programs"]
        self.touches = self.tables["touches"]
        self.target_accounts = self.tables["target_accounts"]

    def __enter__(self) -> MapExport:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        for table in self.tables.values():
            table.close()


class SeedWriter:
    """``{Object}.jsonl`` per object plus ``manifest.json``, as the emulator's loader reads."""

    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        for stale in directory.glob("*.jsonl"):
            stale.unlink()
        (directory / "manifest.json").unlink(missing_ok=True)
        self.directory = directory
        self.counts = dict.fromkeys(SEED_OBJECTS, 0)
        self._files = {obj: (directory / f"{obj}.jsonl").open("w", encoding="utf-8",
                                                               buffering=_BUFFER)
                       for obj in SEED_OBJECTS}

    def write(self, obj: str, record: dict[str, Any]) -> None:
        self._files[obj].write(json.dumps(record, ensure_ascii=False, separators=(",", ":"))
                               + "\n")
        self.counts[obj] += 1

    def close(self, seed: int, as_of: str) -> None:
        for f in self._files.values():
            f.close()
        manifest = {"objects": list(SEED_OBJECTS), "counts": self.counts, "seed": seed,
                    "as_of": as_of}
        (self.directory / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n",
                                                      encoding="utf-8")

    def abort(self) -> None:
        for f in self._files.values():
            f.close()
