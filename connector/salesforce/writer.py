"""The writer: a batch of operations on one object -> typed per-record results.

Whatever the transport (sObject Collections, 200 records a call, or Bulk API
2.0, whichever costs fewer API calls for the batch), results come back in
input order, one per operation, with Salesforce's error code when a record
failed. Records are ordered by parent (``WriteOp.group``) so each parent's
children travel together and no two calls contend for the same parent row;
records that failed only because a row was locked (or were rolled back with
others, or hit a transient error) are resent after a backoff, then in smaller
batches.

Retrying a write can never duplicate a record because the connector only
creates records that carry a natural key Salesforce enforces: upsert on an
external id (Lead, Campaign, Attribution__c), or one Campaign Member per
campaign and person, one status label per campaign (a resent create fails with
DUPLICATE_VALUE, which the caller resolves).

A call that cannot be made (budget spent, session unrecoverable, org down after
all retries) stops the batch: records not yet sent are returned as
``NOT_ATTEMPTED`` and the error is handed back in ``WriteOutcome.stopped`` so the
caller records exactly what remains before it stops the run.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from connector.errors import (
    ApiLimitExceeded,
    AuthError,
    BudgetExhausted,
    ConnectionFailure,
    ConnectorError,
    RetriableApiError,
)
from connector.retry import Backoff
from connector.salesforce.client import SalesforceClient
from connector.salesforce.retry import RETRIABLE_RECORD_CODES
from connector.values import WriteAction

log = logging.getLogger(__name__)

Action = WriteAction
# Bulk API 2.0's name of each operation
BULK_OPERATION = {WriteAction.CREATE: "insert", WriteAction.UPDATE: "update",
                  WriteAction.UPSERT: "upsert", WriteAction.DELETE: "delete"}
NOT_ATTEMPTED = "NOT_ATTEMPTED"
# Bulk 2.0 refuses uploads above 100 MB (of CSV); stay well below per job.
MAX_BULK_UPLOAD_BYTES = 80 * 1024 * 1024
# Calls one Bulk ingest job costs when nothing fails: create, upload, close, the
# polls (backing off), and the successful results when ids are needed. Failed and
# unprocessed results are read only when the job reports some.
BULK_JOB_FIXED_CALLS = 3
BULK_EXPECTED_POLLS = 2
# What the budget reserves before a job: the worst case, every result file read.
BULK_JOB_CALLS = BULK_JOB_FIXED_CALLS + BULK_EXPECTED_POLLS + 3


def bulk_job_calls(n: int, action: Action) -> int:
    """Expected API calls of one Bulk 2.0 ingest job of ``n`` records.

    Creates and upserts read the successful results for the new ids; an update
    or delete whose job reports no failure needs no result file at all.
    """
    polls = BULK_EXPECTED_POLLS + (1 if n > 50_000 else 0)
    results = 1 if action in (WriteAction.CREATE, WriteAction.UPSERT) else 0
    return BULK_JOB_FIXED_CALLS + polls + results


def bulk_calls(n: int, action: Action) -> int:
    """Expected API calls to write ``n`` records through Bulk 2.0 jobs."""
    if n == 0:
        return 0
    jobs = max(1, math.ceil(n * 200 / MAX_BULK_UPLOAD_BYTES))
    return jobs * bulk_job_calls(math.ceil(n / jobs), action)


def collections_calls(n: int, batch_size: int = 200) -> int:
    return math.ceil(n / batch_size) if n else 0


def api_value(value: Any) -> Any:
    """A Python value as the REST API expects it in JSON."""
    if isinstance(value, datetime):
        return value.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return value


def csv_value(value: Any) -> str:
    """A value as a Bulk 2.0 CSV cell; ``#N/A`` clears a field (an empty cell does not)."""
    value = api_value(value)
    if value is None:
        return "#N/A"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


BULK_NULL = "#N/A"
BULK_JOB_FAILED = "BULK_JOB_FAILED"
# Characters that make a Bulk CSV cell need quotes. Python's csv module only
# quotes the characters of its own line terminator, so a bare CR in a value
# went out unquoted and Salesforce failed the whole job.
# One search per cell: a Bulk load writes a cell per field per record.
_NEEDS_QUOTES = re.compile(r'[,"\r\n]|^\s|\s\Z')


def csv_cell(text: str) -> str:
    """One cell, RFC 4180 quoted whenever it holds a comma, quote, CR or LF, or
    leading/trailing blanks (which Salesforce would otherwise trim)."""
    if _NEEDS_QUOTES.search(text):
        return '"' + text.replace('"', '""') + '"'
    return text


def bulk_safe(op: WriteOp) -> bool:
    """False when a value cannot cross Bulk 2.0 intact: the literal text ``#N/A``
    is read by Salesforce as "set this field to null", quoted or not."""
    return not any(isinstance(v, str) and v.strip() == BULK_NULL for v in op.fields.values())


def failed_job_code(info: Mapping[str, Any]) -> tuple[str, str]:
    """Why a Bulk job ended without processing records, as (code, message).

    A job Salesforce failed for its content (line endings, encoding, columns)
    fails the same way every time it is resent, so it must not be classified
    as a retriable server fault; only a job that ended without a reason is.
    """
    reason = str(info.get("errorMessage") or "").strip()
    state = str(info.get("state") or "")
    if reason:
        return BULK_JOB_FAILED, f"Bulk 2.0 job {info.get('id', '')} {state}: {reason}"
    return "SERVER_UNAVAILABLE", f"not processed: Bulk 2.0 job {info.get('id', '')} ended " \
                                 f"{state}"


@dataclass(frozen=True)
class WriteOp:
    ref: str
    fields: Mapping[str, Any] = field(default_factory=dict)
    id: str | None = None
    group: str | None = None


@dataclass(frozen=True)
class RecordResult:
    ref: str
    id: str | None
    success: bool
    created: bool = False
    error_code: str | None = None
    message: str | None = None
    fields: tuple[str, ...] = ()
    attempts: int = 1


@dataclass
class WriteOutcome:
    results: list[RecordResult]
    stopped: ConnectorError | None = None
    calls: int = 0
    transport: str = "collections"

    @property
    def failed(self) -> list[RecordResult]:
        return [r for r in self.results if not r.success]


def _stops_run(exc: ConnectorError) -> bool:
    return isinstance(exc, (BudgetExhausted, AuthError, ApiLimitExceeded, ConnectionFailure,
                            RetriableApiError))


def _parse_bulk_error(text: str) -> tuple[str, str, tuple[str, ...]]:
    """'DUPLICATE_VALUE:duplicate value found: ...:--' -> (code, message, fields)."""
    code, _, rest = text.partition(":")
    message, _, fields = rest.rpartition(":")
    if not message:
        message, fields = rest, ""
    names = tuple(f for f in fields.split(",") if f and f != "--")
    return code.strip(), message.strip(), names


class Writer:
    def __init__(
        self,
        client: SalesforceClient,
        *,
        batch_size: int | None = None,
        bulk_threshold: int | None = None,
        lock_rounds: int = 4,
        backoff: Backoff | None = None,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self.client = client
        self.batch_size = min(200, batch_size or client.settings.batch_size)
        # None: choose by cost (see ``use_bulk``); a number: a fixed override.
        self.bulk_threshold = bulk_threshold or client.settings.bulk_threshold
        self.lock_rounds = lock_rounds
        self.backoff = backoff or client.backoff
        self.sleep = sleep or client.sleep

    # ----------------------------------------------------------------- API

    def write(
        self,
        sobject: str,
        action: Action,
        ops: Sequence[WriteOp],
        *,
        external_id_field: str | None = None,
        bulk_key: Sequence[str] | None = None,
    ) -> WriteOutcome:
        """Write ``ops`` and return one result per op, in input order."""
        self._validate(action, ops, external_id_field)
        if not ops:
            return WriteOutcome([])
        calls_before = self.client.log.api_calls
        order = {op.ref: i for i, op in enumerate(ops)}
        # Group children of one parent together (stable: input order within a parent).
        ordered = sorted(ops, key=lambda op: (op.group is None, op.group or ""))
        key_field = self._bulk_key(action, external_id_field, bulk_key)
        use_bulk = key_field is not None and self.use_bulk(len(ops), action)
        results: dict[str, RecordResult] = {}
        stopped: ConnectorError | None = None
        pending = list(ordered)
        size = self.batch_size
        attempts: dict[str, int] = {}
        for round_no in range(self.lock_rounds + 1):
            for op in pending:
                attempts[op.ref] = attempts.get(op.ref, 0) + 1
            if use_bulk and key_field and self.use_bulk(len(pending), action):
                got, stopped = self._bulk(sobject, action, pending, external_id_field,
                                          key_field)
            else:
                got, stopped = self._collections(sobject, action, pending, external_id_field,
                                                 size)
            retry: list[WriteOp] = []
            for op in pending:
                res = got[op.ref]
                if res.attempts != attempts[op.ref]:  # most records take one (replace is slow)
                    res = replace(res, attempts=attempts[op.ref])
                results[op.ref] = res
                if not res.success and res.error_code in RETRIABLE_RECORD_CODES:
                    retry.append(op)
            if stopped is not None or not retry or round_no == self.lock_rounds:
                break
            delay = self.backoff.delay(round_no + 1)
            log.info("%d %s record(s) hit %s; resending in %.1fs", len(retry), sobject,
                     sorted({str(results[o.ref].error_code) for o in retry}), delay)
            self.sleep(delay)
            # Later rounds use smaller batches so one locked parent holds back fewer rows.
            if round_no >= 1:
                size = max(1, size // 4)
            pending = retry
        ordered_results = sorted(results.values(), key=lambda r: order[r.ref])
        return WriteOutcome(
            ordered_results, stopped=stopped,
            calls=self.client.log.api_calls - calls_before,
            transport="bulk2" if use_bulk else "collections",
        )

    def use_bulk(self, n: int, action: Action) -> bool:
        """Bulk 2.0 when it costs fewer calls than Collections (or, with an
        explicit threshold, when the batch reaches it)."""
        if self.bulk_threshold is not None:
            return n >= self.bulk_threshold
        return bulk_calls(n, action) < collections_calls(n, self.batch_size)

    def estimate_calls(self, n: int, action: Action, *, has_bulk_key: bool = True) -> int:
        """API calls a write of ``n`` records costs when nothing fails."""
        if n == 0:
            return 0
        if (action != WriteAction.CREATE or has_bulk_key) and self.use_bulk(n, action):
            return bulk_calls(n, action)
        return collections_calls(n, self.batch_size)

    # ------------------------------------------------------------ helpers

    @staticmethod
    def _validate(action: Action, ops: Sequence[WriteOp], ext: str | None) -> None:
        refs = [op.ref for op in ops]
        if len(set(refs)) != len(refs):
            raise ValueError("WriteOp.ref values must be unique within a batch")
        if action == WriteAction.UPSERT:
            if not ext:
                raise ValueError("upsert needs external_id_field")
            missing = [op.ref for op in ops if op.fields.get(ext) in (None, "")]
            if missing:
                raise ValueError(f"upsert records without {ext}: {missing[:5]}")
        if action in (WriteAction.UPDATE, WriteAction.DELETE):
            missing = [op.ref for op in ops if not op.id]
            if missing:
                raise ValueError(f"{action} records without id: {missing[:5]}")

    @staticmethod
    def _bulk_key(action: Action, ext: str | None,
                  bulk_key: Sequence[str] | None) -> tuple[str, ...] | None:
        """Columns that identify a row in Bulk results (their order is not guaranteed).

        Creates need a caller-given natural key (e.g. CampaignId + LeadId + ContactId);
        without one they go through collections, whose results are positional.
        """
        if action == WriteAction.UPSERT:
            return (ext,) if ext else None
        if action in (WriteAction.UPDATE, WriteAction.DELETE):
            return ("Id",)
        return tuple(bulk_key) if bulk_key else None

    @staticmethod
    def _failed_all(ops: Sequence[WriteOp], code: str, message: str) -> dict[str, RecordResult]:
        return {op.ref: RecordResult(op.ref, op.id, False, error_code=code, message=message)
                for op in ops}

    # -------------------------------------------------------- collections

    def _collections(
        self, sobject: str, action: Action, ops: Sequence[WriteOp], ext: str | None, size: int,
    ) -> tuple[dict[str, RecordResult], ConnectorError | None]:
        out: dict[str, RecordResult] = {}
        for start in range(0, len(ops), size):
            chunk = ops[start:start + size]
            try:
                raw = self._collections_call(sobject, action, chunk, ext)
            except ConnectorError as exc:
                if _stops_run(exc):
                    out.update(self._failed_all(ops[start:], NOT_ATTEMPTED, exc.message))
                    return out, exc
                code = getattr(exc, "error_code", "") or "CALL_FAILED"
                out.update(self._failed_all(chunk, code, exc.message))
                continue
            if not isinstance(raw, list) or len(raw) != len(chunk):
                out.update(self._failed_all(
                    chunk, "UNEXPECTED_RESPONSE",
                    f"expected {len(chunk)} results, got {type(raw).__name__}"))
                continue
            for op, item in zip(chunk, raw, strict=True):
                out[op.ref] = self._record_result(op, item)
        return out, None

    def _collections_call(self, sobject: str, action: Action, chunk: Sequence[WriteOp],
                          ext: str | None) -> Any:
        what = f"{action} {len(chunk)} {sobject}"
        if action == WriteAction.DELETE:
            ids = ",".join(str(op.id) for op in chunk)
            return self.client.rest(what, "composite/sobjects", method="DELETE",
                                    params={"ids": ids, "allOrNone": "false"})
        records = []
        for op in chunk:
            rec: dict[str, Any] = {"attributes": {"type": sobject}}
            if action == WriteAction.UPDATE:
                rec["id"] = op.id
            rec.update({k: api_value(v) for k, v in op.fields.items()})
            records.append(rec)
        body = {"allOrNone": False, "records": records}
        if action == WriteAction.CREATE:
            return self.client.rest(what, "composite/sobjects", method="POST", json=body)
        if action == WriteAction.UPDATE:
            return self.client.rest(what, "composite/sobjects", method="PATCH", json=body)
        return self.client.rest(what, f"composite/sobjects/{sobject}/{ext}", method="PATCH",
                                json=body)

    @staticmethod
    def _record_result(op: WriteOp, item: Mapping[str, Any]) -> RecordResult:
        if item.get("success"):
            return RecordResult(op.ref, item.get("id") or op.id, True,
                                created=bool(item.get("created", False)))
        errors = item.get("errors") or [{}]
        first = errors[0]
        return RecordResult(
            op.ref, item.get("id") or op.id, False,
            error_code=str(first.get("statusCode") or first.get("errorCode") or "UNKNOWN"),
            message=str(first.get("message", "")),
            fields=tuple(first.get("fields") or ()),
        )

    # ------------------------------------------------------------ Bulk 2.0

    def _bulk(
        self, sobject: str, action: Action, ops: Sequence[WriteOp], ext: str | None,
        key: tuple[str, ...],
    ) -> tuple[dict[str, RecordResult], ConnectorError | None]:
        out: dict[str, RecordResult] = {}
        unsafe = [op for op in ops if not bulk_safe(op)]
        if unsafe:  # values Bulk would turn into nulls go through collections instead
            got, stopped = self._collections(sobject, action, unsafe, ext, self.batch_size)
            out.update(got)
            if stopped is not None:
                rest = [op for op in ops if op.ref not in out]
                out.update(self._failed_all(rest, NOT_ATTEMPTED, stopped.message))
                return out, stopped
            ops = [op for op in ops if bulk_safe(op)]
        for part in self._bulk_parts(ops, key, action):
            try:
                self.client.budget.reserve(BULK_JOB_CALLS, f"a Bulk 2.0 job of {len(part)} "
                                                           f"{sobject}")
                out.update(self._bulk_job(sobject, action, part, ext, key))
            except ConnectorError as exc:
                if _stops_run(exc):
                    remaining = [op for op in ops if op.ref not in out]
                    out.update(self._failed_all(remaining, NOT_ATTEMPTED, exc.message))
                    return out, exc
                code = getattr(exc, "error_code", "") or "CALL_FAILED"
                out.update(self._failed_all(part, code, exc.message))
        return out, None

    @staticmethod
    def _bulk_parts(ops: Sequence[WriteOp], key: tuple[str, ...],
                    action: Action) -> list[list[WriteOp]]:
        """Split so each job's CSV stays under the upload limit (estimated per row)."""
        parts: list[list[WriteOp]] = []
        current: list[WriteOp] = []
        size = 0
        for op in ops:
            row = sum(len(str(v)) + 3 for v in op.fields.values()) + 40
            if current and size + row > MAX_BULK_UPLOAD_BYTES:
                parts.append(current)
                current, size = [], 0
            current.append(op)
            size += row
        if current:
            parts.append(current)
        return parts

    @staticmethod
    def _bulk_key_value(op: WriteOp, key: tuple[str, ...]) -> str:
        parts = []
        for name in key:
            if name == "Id":
                parts.append(str(op.id))
            else:  # exactly as the cell was written to the CSV
                parts.append(csv_value(op.fields[name]) if name in op.fields else "")
        return "\x1f".join(parts).lower()

    def _bulk_csv(self, action: Action, ops: Sequence[WriteOp]) -> str:
        columns: list[str] = []
        if action in (WriteAction.UPDATE, WriteAction.DELETE):
            columns.append("Id")
        if action != WriteAction.DELETE:
            for op in ops:
                for name in op.fields:
                    if name not in columns:
                        columns.append(name)
        lines = [",".join(csv_cell(c) for c in columns)]
        for op in ops:
            row = []
            for col in columns:
                if col == "Id":
                    row.append(str(op.id))
                elif col in op.fields:
                    row.append(csv_value(op.fields[col]))
                else:
                    row.append("")  # empty cell: leave the field as it is
            lines.append(",".join(csv_cell(cell) for cell in row))
        return "\n".join(lines) + "\n"

    def _bulk_job(self, sobject: str, action: Action, ops: Sequence[WriteOp],
                  ext: str | None, key: tuple[str, ...]) -> dict[str, RecordResult]:
        c = self.client
        job_id = c.bulk_create_job(sobject, BULK_OPERATION[action],
                                   external_id_field=ext if action == WriteAction.UPSERT else None)
        try:
            c.bulk_upload(sobject, job_id, self._bulk_csv(action, ops))
            c.bulk_close(sobject, job_id)
        except ConnectorError:
            # Leave no open job behind; its records were not processed.
            try:
                c.bulk_abort(sobject, job_id)
            except ConnectorError:
                log.warning("could not abort Bulk 2.0 job %s", job_id)
            raise
        info = c.bulk_wait(job_id)
        by_key: dict[str, WriteOp] = {}
        for op in ops:
            by_key.setdefault(self._bulk_key_value(op, key), op)
        out: dict[str, RecordResult] = {}
        lowered = [k.lower() for k in key]

        def matched(rows: Iterable[Mapping[str, str]]) -> Iterator[tuple[Mapping[str, str],
                                                                         WriteOp]]:
            """Each result row with the op it answers. The org echoes the columns
            as sent, possibly in another case: their names are matched once per
            result file (all its rows share the header), not once per row."""
            names: list[str | None] | None = None
            for row in rows:
                if names is None:
                    by_lower = {k.lower(): k for k in row if k}
                    names = [by_lower.get(k) for k in lowered]
                hit = by_key.get("\x1f".join(row.get(n, "") if n else ""
                                             for n in names).lower())
                if hit is not None:
                    yield row, hit

        # The job's counters say which result files hold rows; without them
        # (an older API or a proxy that strips fields) every file is read.
        counted = "numberRecordsProcessed" in info and "numberRecordsFailed" in info
        processed = int(info.get("numberRecordsProcessed") or 0)
        failed = int(info.get("numberRecordsFailed") or 0) if counted else 1
        complete = counted and info.get("state") == "JobComplete" and processed >= len(ops)
        if complete and failed == 0 and action in (WriteAction.UPDATE, WriteAction.DELETE):
            # every record succeeded and its id is known: no result file to read
            return {op.ref: RecordResult(op.ref, op.id, True) for op in ops}
        for row, hit in matched(c.bulk_results(sobject, job_id, "successfulResults")):
            out[hit.ref] = RecordResult(hit.ref, row.get("sf__Id") or hit.id, True,
                                        created=row.get("sf__Created", "").lower() == "true")
        for row, hit in matched(c.bulk_results(sobject, job_id, "failedResults")
                                if failed else ()):
            code, message, fields = _parse_bulk_error(row.get("sf__Error", ""))
            out[hit.ref] = RecordResult(hit.ref, row.get("sf__Id") or hit.id, False,
                                        error_code=code or "UNKNOWN", message=message,
                                        fields=fields)
        code, why = failed_job_code({"id": job_id, **info})
        if code == BULK_JOB_FAILED:
            log.warning("%s", why)
        for _row, hit in matched(() if complete else
                                c.bulk_results(sobject, job_id, "unprocessedrecords")):
            if hit.ref not in out:
                out[hit.ref] = RecordResult(hit.ref, hit.id, False, error_code=code,
                                            message=why)
        for op in ops:
            if op.ref not in out:
                out[op.ref] = RecordResult(
                    op.ref, op.id, False, error_code=code,
                    message=why if code == BULK_JOB_FAILED else
                    f"missing from the results of Bulk 2.0 job {job_id} ({info.get('state')})")
        return out


__all__ = ["BULK_JOB_FAILED", "NOT_ATTEMPTED", "RecordResult", "WriteOp", "WriteOutcome",
           "Writer", "api_value", "bulk_calls", "bulk_safe", "collections_calls", "csv_cell",
           "csv_value", "failed_job_code"]
