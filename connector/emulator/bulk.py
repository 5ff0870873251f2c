"""Bulk API 2.0: ingest jobs (CSV in, per-record result CSVs out) and query jobs.

Jobs follow Salesforce's life cycle (Open -> UploadComplete -> JobComplete, or
Failed / Aborted) and its wire shapes, as simple-salesforce's ``bulk2`` module
drives them. Processing is synchronous: closing an ingest job processes it in
chunks of 10,000 records (one transaction each, as Salesforce's internal batches)
before the response, so the next status poll sees ``JobComplete``. Result order
is not promised, as Salesforce does not promise it.
"""

from __future__ import annotations

import base64
import binascii
import csv
import io
import json
import re
import time
from collections import Counter
from typing import Any

from werkzeug.wrappers import Response

from connector import sfid as ids
from connector.emulator.dml import Writer
from connector.emulator.org import Org
from connector.emulator.records import (
    CallError,
    CsvHeader,
    Incoming,
    RecordError,
    SaveResult,
    duplicated_keys,
    external_key,
)
from connector.emulator.schema import FieldSchema, ObjectSchema, format_datetime
from connector.emulator.soql import SoqlError, compile_soql
from connector.emulator.wire import Call, json_response

JOB_PREFIX = "750"
CHUNK = 10_000
QUERY_PAGE_DEFAULT = 100_000
INGEST_OPERATIONS = ("insert", "update", "upsert", "delete", "hardDelete")
DELIMITERS = {"COMMA": ",", "TAB": "\t", "PIPE": "|", "SEMICOLON": ";", "CARET": "^",
              "BACKQUOTE": "`"}
LINE_ENDINGS = {"LF": "\n", "CRLF": "\r\n"}
RESULT_KINDS = {"successfulresults": "success", "failedresults": "failed",
                "unprocessedrecords": "unprocessed"}
FINAL_STATES = ("JobComplete", "Failed", "Aborted")
CSV_TYPE = "text/csv"


def _invalid_job(message: str) -> CallError:
    return CallError(400, "INVALIDJOB", message)


def _bad_state(state: str) -> CallError:
    return CallError(400, "INVALIDJOBSTATE", f"Job is in state {state}; the operation is not "
                     "allowed in this state")


def _job_not_found() -> CallError:
    return CallError(404, "NOT_FOUND", "The requested resource does not exist")


def _csv_text(rows: list[list[str]], delimiter: str = ",", ending: str = "\n") -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator=ending,
                        quoting=csv.QUOTE_ALL)
    writer.writerows(rows)
    return buffer.getvalue()


def _line_endings_ok(text: str, ending: str) -> bool:
    """Salesforce's rule: outside quoted values every CR and LF must be part of
    the job's line ending; inside quotes anything goes (RFC 4180). So a bare CR
    or LF in unquoted data, or CRLF rows in an LF job, fail the whole job."""
    quoted = False
    skip_to = -1
    for match in _SPECIAL.finditer(text):
        i = match.start()
        if i < skip_to:
            continue
        if match.group() == '"':
            quoted = not quoted  # a doubled quote toggles twice
        elif not quoted:
            if not text.startswith(ending, i):
                return False
            skip_to = i + len(ending)
    return True


_SPECIAL = re.compile('["\\r\\n]')


def encode_locator(offset: int) -> str:
    return base64.b64encode(str(offset).encode()).decode().rstrip("=")


def decode_locator(locator: str) -> int:
    try:
        padded = locator + "=" * (-len(locator) % 4)
        return int(base64.b64decode(padded, validate=True).decode())
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise CallError(400, "INVALIDLOCATOR", f"Invalid locator: {locator}") from None


class BulkApi:
    def __init__(self, org: Org) -> None:
        self.org = org

    # ----------------------------------------------------------------- store

    def _save(self, info: dict[str, Any], kind: str, *, new: bool = False) -> None:
        text = json.dumps(info)
        if new:
            self.org.store.conn.execute(
                "INSERT INTO _bulk_jobs (id, kind, info, created) VALUES (?, ?, ?, ?)",
                (info["id"], kind, text, time.time()))
        else:
            self.org.store.conn.execute("UPDATE _bulk_jobs SET info = ? WHERE id = ?",
                                        (text, info["id"]))

    def _load(self, job_id: str, kind: str) -> dict[str, Any]:
        row = self.org.store.conn.execute(
            "SELECT info FROM _bulk_jobs WHERE id = ? AND kind = ?", (job_id, kind)).fetchone()
        if row is None:
            raise _job_not_found()
        info: dict[str, Any] = json.loads(row[0])
        return info

    @staticmethod
    def _public(info: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in info.items() if not k.startswith("_")}

    def _base_info(self, call: Call, job_id: str, operation: str, obj: str,
                   body: dict[str, Any], job_type: str) -> dict[str, Any]:
        delimiter = body.get("columnDelimiter", "COMMA")
        ending = body.get("lineEnding", "LF")
        if delimiter not in DELIMITERS:
            raise _invalid_job(f"InvalidJob : Invalid columnDelimiter: {delimiter}")
        if ending not in LINE_ENDINGS:
            raise _invalid_job(f"InvalidJob : Invalid lineEnding: {ending}")
        if body.get("contentType", "CSV") != "CSV":
            raise _invalid_job(f"InvalidJob : Invalid contentType: {body.get('contentType')}")
        now = format_datetime(self.org.clock.now())
        return {"id": job_id, "operation": operation, "object": obj,
                "createdById": self.org.credentials.user_id, "createdDate": now,
                "systemModstamp": now, "state": "Open", "concurrencyMode": "Parallel",
                "contentType": "CSV", "apiVersion": float(call.version), "jobType": job_type,
                "lineEnding": ending, "columnDelimiter": delimiter}

    def _touch(self, info: dict[str, Any], state: str) -> None:
        info["state"] = state
        info["systemModstamp"] = format_datetime(self.org.clock.now())

    # ---------------------------------------------------------------- ingest

    def ingest_create(self, call: Call) -> Response:
        body = call.body()
        if not isinstance(body, dict):
            raise _invalid_job("InvalidJob : the request body must be a JSON object")
        operation = body.get("operation")
        if operation not in INGEST_OPERATIONS:
            raise _invalid_job(f"InvalidJob : Invalid operation: {operation}")
        obj = self.org.schema.get(str(body.get("object", "")))
        if obj is None:
            raise _invalid_job(f"InvalidJob : Unable to find object: {body.get('object')}")
        ext_name = body.get("externalIdFieldName")
        with self.org.store.transaction():
            job_id = self.org.store.new_id(JOB_PREFIX)
            info = self._base_info(call, job_id, str(operation), obj.name, body, "V2Ingest")
            if operation == "upsert":
                ext = obj.field(str(ext_name or ""))
                if ext is None or not (ext.external_id or ext.name == "Id"):
                    raise _invalid_job(
                        f"InvalidJob : Field name provided, {ext_name} does not match an "
                        f"External ID, Salesforce Id, or indexed field for {obj.name}")
                info["externalIdFieldName"] = ext.name
            info.update({"contentUrl": f"services/data/v{call.version}/jobs/ingest/{job_id}"
                                       "/batches",
                         "numberRecordsProcessed": 0, "numberRecordsFailed": 0, "retries": 0,
                         "totalProcessingTime": 0, "apiActiveProcessingTime": 0,
                         "apexProcessingTime": 0, "_uploads": 0})
            self._save(info, "ingest", new=True)
        return json_response(self._public(info))

    def ingest_list(self, call: Call) -> Response:
        return self._list("ingest")

    def _list(self, kind: str) -> Response:
        with self.org.store.lock:
            rows = self.org.store.conn.execute(
                "SELECT info FROM _bulk_jobs WHERE kind = ? ORDER BY created", (kind,)).fetchall()
        return json_response({"done": True, "records": [self._public(json.loads(r[0]))
                                                        for r in rows],
                              "nextRecordsUrl": None})

    def ingest_get(self, call: Call, job: str) -> Response:
        with self.org.store.lock:
            return json_response(self._public(self._load(job, "ingest")))

    def ingest_upload(self, call: Call, job: str) -> Response:
        content_type = call.request.headers.get("Content-Type", "")
        if not content_type.lower().startswith(CSV_TYPE):
            raise CallError(400, "INVALIDJOB",
                            f"InvalidJob : Unsupported content type: {content_type}")
        data = call.request.get_data()
        with self.org.store.transaction():
            info = self._load(job, "ingest")
            if info["state"] != "Open":
                raise _bad_state(info["state"])
            seq = int(info.get("_uploads", 0))
            self.org.store.conn.execute(
                "INSERT INTO _bulk_uploads (job_id, seq, data) VALUES (?, ?, ?)",
                (job, seq, data))
            info["_uploads"] = seq + 1
            self._save(info, "ingest")
        return Response(status=201)

    def ingest_state(self, call: Call, job: str) -> Response:
        body = call.body()
        state = body.get("state") if isinstance(body, dict) else None
        with self.org.store.transaction():
            info = self._load(job, "ingest")
            if state == "Aborted":
                if info["state"] in FINAL_STATES:
                    raise _bad_state(info["state"])
                uploads = self.org.store.conn.execute(
                    "SELECT seq, data FROM _bulk_uploads WHERE job_id = ? ORDER BY seq",
                    (job,)).fetchall()
                for seq, data in uploads:
                    self._store_unprocessed(job, bytes(data), info, int(seq))
                self.org.store.conn.execute("DELETE FROM _bulk_uploads WHERE job_id = ?", (job,))
                self._touch(info, "Aborted")
                self._save(info, "ingest")
                return json_response(self._public(info))
            if state != "UploadComplete":
                raise _invalid_job(f"InvalidJob : Invalid state: {state}")
            if info["state"] != "Open":
                raise _bad_state(info["state"])
            self._touch(info, "UploadComplete")
            self._save(info, "ingest")
        response = json_response(self._public(info))
        self._process(call, job)
        return response

    def ingest_delete(self, call: Call, job: str) -> Response:
        return self._delete(job, "ingest", ("UploadComplete", *FINAL_STATES))

    def _delete(self, job: str, kind: str, allowed: tuple[str, ...]) -> Response:
        with self.org.store.transaction():
            info = self._load(job, kind)
            if info["state"] not in allowed:
                raise _bad_state(info["state"])
            for table in ("_bulk_jobs", "_bulk_uploads", "_bulk_results"):
                column = "id" if table == "_bulk_jobs" else "job_id"
                self.org.store.conn.execute(f"DELETE FROM {table} WHERE {column} = ?", (job,))
        return Response(status=204)

    def ingest_results(self, call: Call, job: str, results: str) -> Response:
        kind = RESULT_KINDS.get(results.lower())
        if kind is None:
            raise _job_not_found()
        with self.org.store.lock:
            info = self._load(job, "ingest")
            columns: list[str] = info.get("_columns", [])
            chunks = [r[0] for r in self.org.store.conn.execute(
                "SELECT rows FROM _bulk_results WHERE job_id = ? AND kind = ? ORDER BY seq",
                (job, kind))]
        prefix = {"success": ["sf__Id", "sf__Created"], "failed": ["sf__Id", "sf__Error"],
                  "unprocessed": []}[kind]
        header = _csv_text([prefix + columns]) if (prefix or columns) else ""
        return Response(header + "".join(chunks), status=200, content_type=CSV_TYPE)

    # ------------------------------------------------------------ processing

    def _process(self, call: Call, job: str) -> None:
        started = time.monotonic()
        store = self.org.store
        with store.lock:
            info = self._load(job, "ingest")
            uploads = [bytes(r[0]) for r in store.conn.execute(
                "SELECT data FROM _bulk_uploads WHERE job_id = ? ORDER BY seq", (job,))]
        obj = self.org.schema.objects[info["object"]]
        totals = Counter[str]()
        failure: str | None = None
        failed_from = len(uploads)
        seq = 0
        if not uploads:
            failure = "InvalidBatch : No data uploaded for the job"
        for index, data in enumerate(uploads):
            try:
                columns, rows = self._read_csv(info, obj, data)
            except CallError as exc:
                failure, failed_from = exc.message, index
                break
            info["_columns"] = columns
            header = CsvHeader(obj, columns, self.org.schema.get)
            for start in range(0, len(rows), CHUNK):
                chunk = rows[start:start + CHUNK]
                seq += 1
                self._process_chunk(call, info, obj, header, chunk, seq, totals)
        with store.transaction():
            if failure is not None:
                info["errorMessage"] = failure
                for index, data in enumerate(uploads[failed_from:]):
                    self._store_unprocessed(job, data, info, index)
            info["numberRecordsProcessed"] = totals["processed"]
            info["numberRecordsFailed"] = totals["failed"]
            elapsed = int((time.monotonic() - started) * 1000)
            info["totalProcessingTime"] = info["apiActiveProcessingTime"] = elapsed
            self._touch(info, "Failed" if failure is not None else "JobComplete")
            self._save(info, "ingest")
            store.conn.execute("DELETE FROM _bulk_uploads WHERE job_id = ?", (job,))

    def _read_csv(self, info: dict[str, Any], obj: ObjectSchema,
                  data: bytes) -> tuple[list[str], list[list[str]]]:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise _invalid_job("InvalidBatch : the data is not valid UTF-8") from None
        ending = info["lineEnding"]
        if not _line_endings_ok(text, LINE_ENDINGS[ending]):
            raise _invalid_job(f"ClientInputError : LineEnding is invalid on user data. Current "
                               f"LineEnding setting is {ending}")
        reader = csv.reader(io.StringIO(text, newline=""),
                            delimiter=DELIMITERS[info["columnDelimiter"]])
        all_rows = [row for row in reader if row]
        if not all_rows:
            raise _invalid_job("InvalidBatch : No data found in the upload")
        columns = all_rows[0]
        CsvHeader(obj, columns, self.org.schema.get)  # raises on unknown columns
        lowered = [c.strip().lower() for c in columns]
        if info["operation"] in ("delete", "hardDelete") and lowered != ["id"]:
            raise _invalid_job("InvalidBatch : The 'delete' batch must contain only 'Id'")
        if info["operation"] == "update" and "id" not in lowered:
            raise _invalid_job("InvalidBatch : Field name not found : Id")
        ext = info.get("externalIdFieldName")
        if info["operation"] == "upsert" and ext and ext.lower() not in lowered:
            raise _invalid_job(f"InvalidBatch : Field name not found : {ext}")
        return columns, all_rows[1:]

    def _process_chunk(self, call: Call, info: dict[str, Any], obj: ObjectSchema,
                       header: CsvHeader, rows: list[list[str]], seq: int,
                       totals: Counter[str]) -> None:
        operation = info["operation"]
        ext: FieldSchema | None = None
        if operation == "upsert":
            ext = obj.field(info["externalIdFieldName"])
        successes: list[list[str]] = []
        failures: list[list[str]] = []
        with self.org.store.transaction():
            writer = call.writer()
            parsed = [header.parse(row) for row in rows]
            duplicated = duplicated_keys(ext, parsed) if ext is not None else set()
            if ext is not None and ext.name != "Id":
                writer.prefetch(obj, ext, (r.values.get(ext.name) for r in parsed))
            elif operation in ("update", "upsert"):
                writer.prefetch(obj, obj.fields["Id"], [
                    ids.to18(r.record_id) for r in parsed
                    if r.record_id and ids.is_valid_id(r.record_id)])
            for row, rec in zip(rows, parsed, strict=True):
                result = self._apply(writer, operation, obj, ext, rec, duplicated)
                if result.success:
                    successes.append([result.id or "", "true" if result.created else "false",
                                      *row])
                else:
                    failures.append([result.id or "", result.errors[0].bulk_text(), *row])
            for kind, result_rows in (("success", successes), ("failed", failures)):
                if result_rows:
                    self.org.store.conn.execute(
                        "INSERT INTO _bulk_results (job_id, kind, seq, count, rows) "
                        "VALUES (?, ?, ?, ?, ?)",
                        (info["id"], kind, seq, len(result_rows), _csv_text(result_rows)))
        totals["processed"] += len(rows)
        totals["failed"] += len(failures)

    @staticmethod
    def _apply(writer: Writer, operation: str, obj: ObjectSchema, ext: FieldSchema | None,
               rec: Incoming, duplicated: set[Any]) -> SaveResult:
        if operation == "insert":
            return writer.create(obj, rec)
        if operation == "update":
            return writer.update(obj, rec)
        if operation == "upsert":
            assert ext is not None
            key = external_key(ext, rec)
            if key is not None and key in duplicated:
                return SaveResult.failed(RecordError(
                    "DUPLICATE_VALUE", f"Duplicate external id specified: {key}", [ext.name]))
            return writer.upsert(obj, ext, rec)
        if not rec.record_id:
            return SaveResult.failed(RecordError("MISSING_ARGUMENT", "Id not specified", []))
        return writer.delete(rec.record_id, expected=obj, hard=operation == "hardDelete")

    def _store_unprocessed(self, job: str, data: bytes, info: dict[str, Any],
                           seq: int) -> None:
        """A job that failed before processing returns its rows as unprocessed records."""
        text = data.decode("utf-8-sig", errors="replace")
        reader = csv.reader(io.StringIO(text, newline=""),
                            delimiter=DELIMITERS[info["columnDelimiter"]])
        rows = [row for row in reader if row]
        if not rows:
            return
        info.setdefault("_columns", rows[0])
        self.org.store.conn.execute(
            "INSERT INTO _bulk_results (job_id, kind, seq, count, rows) VALUES (?, ?, ?, ?, ?)",
            (job, "unprocessed", seq, len(rows) - 1, _csv_text(rows[1:])))

    # ----------------------------------------------------------------- query

    def query_create(self, call: Call) -> Response:
        body = call.body()
        if not isinstance(body, dict):
            raise _invalid_job("InvalidJob : the request body must be a JSON object")
        operation = body.get("operation", "query")
        if operation not in ("query", "queryAll"):
            raise _invalid_job(f"InvalidJob : Invalid operation: {operation}")
        soql = body.get("query")
        if not isinstance(soql, str) or not soql.strip():
            raise _invalid_job("InvalidJob : a query is required")
        clock = self.org.clock
        try:
            cq = compile_soql(self.org.schema, soql, now=clock.now(), tz=clock.tz,
                              include_deleted=operation == "queryAll", api_version=call.version)
        except SoqlError as exc:
            raise CallError(400, exc.code, exc.message) from None
        if cq.is_count:
            raise CallError(400, "API_ERROR",
                            "FeatureNotEnabled : Aggregate queries are not supported by Bulk "
                            "API 2.0 query jobs")
        started = time.monotonic()
        store = self.org.store
        with store.transaction():
            job_id = store.new_id(JOB_PREFIX)
            info = self._base_info(call, job_id, str(operation), cq.object_name, body, "V2Query")
            delimiter = DELIMITERS[info["columnDelimiter"]]
            ending = LINE_ENDINGS[info["lineEnding"]]
            header = _csv_text([cq.csv_header], delimiter, ending)
            cur = store.conn.execute(cq.sql, cq.params)
            total, seq = 0, 0
            while rows := cur.fetchmany(CHUNK):
                lines = [_csv_text([cq.shape_flat(r)], delimiter, ending) for r in rows]
                store.conn.execute(
                    "INSERT INTO _bulk_results (job_id, kind, seq, count, rows) "
                    "VALUES (?, 'query', ?, ?, ?)", (job_id, seq, len(lines), json.dumps(lines)))
                total += len(lines)
                seq += 1
            elapsed = int((time.monotonic() - started) * 1000)
            info.update({"numberRecordsProcessed": total, "retries": 0,
                         "totalProcessingTime": elapsed, "isPkChunkingSupported": True,
                         "_header": header})
            created = self._public({**info, "state": "UploadComplete"})
            self._touch(info, "JobComplete")
            self._save(info, "query", new=True)
        return json_response(created)

    def query_list(self, call: Call) -> Response:
        return self._list("query")

    def query_get(self, call: Call, job: str) -> Response:
        with self.org.store.lock:
            return json_response(self._public(self._load(job, "query")))

    def query_abort(self, call: Call, job: str) -> Response:
        body = call.body()
        with self.org.store.transaction():
            info = self._load(job, "query")
            if not isinstance(body, dict) or body.get("state") != "Aborted":
                raise _invalid_job("InvalidJob : a query job can only be set to Aborted")
            if info["state"] in FINAL_STATES:
                raise _bad_state(info["state"])
            self._touch(info, "Aborted")
            self._save(info, "query")
        return json_response(self._public(info))

    def query_delete(self, call: Call, job: str) -> Response:
        return self._delete(job, "query", ("UploadComplete", *FINAL_STATES))

    def query_results(self, call: Call, job: str) -> Response:
        args = call.request.args
        try:
            max_records = int(args.get("maxRecords", QUERY_PAGE_DEFAULT))
        except ValueError:
            raise CallError(400, "INVALIDJOB", "maxRecords must be a number") from None
        if max_records < 1:
            raise CallError(400, "INVALIDJOB", "maxRecords must be positive")
        locator = args.get("locator", "")
        offset = decode_locator(locator) if locator and locator != "null" else 0
        store = self.org.store
        with store.lock:
            info = self._load(job, "query")
            if info["state"] != "JobComplete":
                raise _bad_state(info["state"])
            total = int(info["numberRecordsProcessed"])
            if offset > total:
                raise CallError(400, "INVALIDLOCATOR", f"Invalid locator: {locator}")
            lines: list[str] = []
            first, skip = divmod(offset, CHUNK)
            for (rows_json,) in store.conn.execute(
                    "SELECT rows FROM _bulk_results WHERE job_id = ? AND kind = 'query' "
                    "AND seq >= ? ORDER BY seq", (job, first)):
                chunk: list[str] = json.loads(rows_json)
                lines.extend(chunk[skip:skip + max_records - len(lines)])
                skip = 0
                if len(lines) >= max_records:
                    break
        next_offset = offset + len(lines)
        headers = {"Sforce-NumberOfRecords": str(len(lines)),
                   "Sforce-Locator": encode_locator(next_offset) if next_offset < total
                   else "null"}
        return Response(info["_header"] + "".join(lines), status=200, headers=headers,
                        content_type=CSV_TYPE)
