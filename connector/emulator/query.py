"""REST ``query`` and ``queryAll``: SOQL results in pages, with server-side cursors.

A query's result is materialized when it runs (a snapshot, as a Salesforce query
locator is): the first page goes back at once, the rest is stored page by page
as JSON in ``_cursor_pages`` so a million-row result never sits in memory.
``nextRecordsUrl`` is ``/services/data/vNN.N/query/{cursorId}-{offset}``; a
cursor idle for 15 minutes expires and its locator becomes invalid.
"""

from __future__ import annotations

import json
import time
from typing import Any

from werkzeug.wrappers import Response

from connector.emulator.org import Org
from connector.emulator.records import CallError
from connector.emulator.soql import SoqlError, compile_soql
from connector.emulator.wire import Call, json_response

DEFAULT_BATCH = 2000
MIN_BATCH = 200
CURSOR_IDLE_SECONDS = 15 * 60
CURSOR_PREFIX = "01g"


def batch_size(header: str | None) -> int:
    """``Sforce-Query-Options: batchSize=N``; Salesforce keeps it within 200..2000."""
    if not header:
        return DEFAULT_BATCH
    for part in header.split(","):
        key, _, value = part.partition("=")
        if key.strip().lower() == "batchsize":
            try:
                return max(MIN_BATCH, min(DEFAULT_BATCH, int(value.strip())))
            except ValueError:
                return DEFAULT_BATCH  # a malformed option is ignored, not fatal
    return DEFAULT_BATCH


def invalid_locator() -> CallError:
    return CallError(400, "INVALID_QUERY_LOCATOR", "invalid query locator")


class QueryApi:
    def __init__(self, org: Org) -> None:
        self.org = org

    def query(self, call: Call) -> Response:
        return self._run(call, include_deleted=False)

    def query_all(self, call: Call) -> Response:
        return self._run(call, include_deleted=True)

    def _run(self, call: Call, *, include_deleted: bool) -> Response:
        soql = call.request.args.get("q")
        if not soql:
            raise CallError(400, "MALFORMED_QUERY", "A query string has to be specified")
        clock = self.org.clock
        try:
            cq = compile_soql(self.org.schema, soql, now=clock.now(), tz=clock.tz,
                              include_deleted=include_deleted, api_version=call.version)
        except SoqlError as exc:
            raise CallError(400, exc.code, exc.message) from None
        size = batch_size(call.request.headers.get("Sforce-Query-Options"))
        endpoint = "queryAll" if include_deleted else "query"
        store = self.org.store
        with store.transaction():
            self._purge(time.time())
            cur = store.conn.execute(cq.sql, cq.params)
            if cq.is_count:
                total = int(cur.fetchone()[0])
                return json_response({"totalSize": total, "done": True, "records": []})
            first = [cq.shape(row) for row in cur.fetchmany(size)]
            total = len(first)
            cursor_id: str | None = None
            page = 1
            while len(first) == size:
                rows = cur.fetchmany(size)
                if not rows:
                    break
                if cursor_id is None:
                    cursor_id = store.new_id(CURSOR_PREFIX)
                store.conn.execute(
                    "INSERT INTO _cursor_pages (cursor_id, page, records) VALUES (?, ?, ?)",
                    (cursor_id, page, json.dumps([cq.shape(r) for r in rows],
                                                 separators=(",", ":"))))
                total += len(rows)
                page += 1
                if len(rows) < size:
                    break
            if cursor_id is not None:
                store.conn.execute(
                    "INSERT INTO _cursors (id, endpoint, total, page_size, last_used) "
                    "VALUES (?, ?, ?, ?, ?)", (cursor_id, endpoint, total, size, time.time()))
        body: dict[str, Any] = {"totalSize": total, "done": cursor_id is None, "records": first}
        if cursor_id is not None:
            body["nextRecordsUrl"] = f"/services/data/v{call.version}/{endpoint}/{cursor_id}-{size}"
        return json_response(body)

    def _purge(self, now: float) -> None:
        conn = self.org.store.conn
        expired = [r[0] for r in conn.execute(
            "SELECT id FROM _cursors WHERE last_used < ?", (now - CURSOR_IDLE_SECONDS,))]
        for cursor_id in expired:
            conn.execute("DELETE FROM _cursor_pages WHERE cursor_id = ?", (cursor_id,))
            conn.execute("DELETE FROM _cursors WHERE id = ?", (cursor_id,))

    def more(self, call: Call, locator: str) -> Response:
        cursor_id, _, offset_text = locator.rpartition("-")
        if not cursor_id or not offset_text.isdigit():
            raise invalid_locator()
        offset = int(offset_text)
        store = self.org.store
        now = time.time()
        with store.transaction():
            row = store.conn.execute(
                "SELECT endpoint, total, page_size, last_used FROM _cursors WHERE id = ?",
                (cursor_id,)).fetchone()
            if row is None or row[3] < now - CURSOR_IDLE_SECONDS:
                raise invalid_locator()
            endpoint, total, size, _last = row
            if offset < size or offset >= total:
                raise invalid_locator()
            records: list[dict[str, Any]] = []
            page, skip = divmod(offset, size)
            while len(records) < size and page * size < total:
                found = store.conn.execute(
                    "SELECT records FROM _cursor_pages WHERE cursor_id = ? AND page = ?",
                    (cursor_id, page)).fetchone()
                if found is None:
                    raise invalid_locator()
                records.extend(json.loads(found[0])[skip:])
                skip = 0
                page += 1
            records = records[:size]
            store.conn.execute("UPDATE _cursors SET last_used = ? WHERE id = ?", (now, cursor_id))
        next_offset = offset + len(records)
        body: dict[str, Any] = {"totalSize": total, "done": next_offset >= total,
                                "records": records}
        if next_offset < total:
            body["nextRecordsUrl"] = (f"/services/data/v{call.version}/{endpoint}/"
                                      f"{cursor_id}-{next_offset}")
        return json_response(body)
