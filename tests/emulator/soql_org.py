"""An in-memory org for SOQL engine tests: ``Schema.ddl()`` tables filled through
the codec, queried through ``compile_soql`` at a fixed clock and zone."""

from __future__ import annotations

import itertools
import sqlite3
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from connector import sfid as ids
from connector.emulator.schema import Schema, to_db
from connector.emulator.soql import CompiledQuery, compile_soql

NOW = datetime(2024, 3, 15, 6, 30, tzinfo=UTC)
TZ = ZoneInfo("America/Los_Angeles")


class SoqlOrg:
    def __init__(self, schema: Schema) -> None:
        self.schema = schema
        self.conn = sqlite3.connect(":memory:")
        for statement in schema.ddl():
            self.conn.execute(statement)
        self._sequence = itertools.count(1)

    def add(self, object_name: str, **values: Any) -> str:
        obj = self.schema.objects[object_name]
        record = {"Id": ids.make_id(obj.key_prefix, next(self._sequence)), "IsDeleted": False,
                  "CreatedDate": "2024-01-01T00:00:00Z", **values}
        columns = ", ".join(f'"{name}"' for name in record)
        self.conn.execute(
            f'INSERT INTO "{object_name}" ({columns}) VALUES ({", ".join("?" * len(record))})',
            [to_db(obj.fields[name], value) for name, value in record.items()],
        )
        return str(record["Id"])

    def compiled(self, soql: str, **options: Any) -> CompiledQuery:
        return compile_soql(self.schema, soql, now=NOW, tz=TZ, **options)

    def rows(self, soql: str, **options: Any) -> list[dict[str, Any]]:
        cq = self.compiled(soql, **options)
        return [cq.shape(row) for row in self.conn.execute(cq.sql, cq.params)]

    def csv(self, soql: str) -> list[list[str]]:
        cq = self.compiled(soql)
        return [cq.csv_header] + [cq.shape_flat(r) for r in self.conn.execute(cq.sql, cq.params)]

    def count(self, soql: str, **options: Any) -> int:
        cq = self.compiled(soql, **options)
        assert cq.is_count
        (value,) = self.conn.execute(cq.sql, cq.params).fetchone()
        return int(value)
