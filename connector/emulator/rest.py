"""REST resources: versions, limits, describe, single-record create/read/update/delete/upsert."""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Response

from connector import sfid as ids
from connector.emulator.dml import require_object
from connector.emulator.org import MAX_API_VERSION, MIN_API_VERSION, Org
from connector.emulator.records import CallError, SaveResult, not_found, parse_json_record
from connector.emulator.schema import FieldSchema, ObjectSchema, ValueError_, from_db, to_db
from connector.emulator.wire import Call, json_response

_SEASONS = ("Winter", "Spring", "Summer")


def api_versions() -> list[dict[str, str]]:
    """``GET /services/data/``: every version the emulator serves, labelled by release."""
    out = []
    for major in range(MIN_API_VERSION, MAX_API_VERSION + 1):
        i = major - MIN_API_VERSION
        out.append({"label": f"{_SEASONS[i % 3]} '{21 + i // 3}",
                    "url": f"/services/data/v{major}.0", "version": f"{major}.0"})
    return out


def record_json(call: Call, obj: ObjectSchema, row: dict[str, Any],
                fields: list[FieldSchema] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"attributes": {"type": obj.name,
                                          "url": call.record_url(obj.name, row["Id"])}}
    for f in fields if fields is not None else obj.fields.values():
        out[f.name] = from_db(f, row.get(f.name))
    return out


def parse_fields(obj: ObjectSchema, text: str | None) -> list[FieldSchema] | None:
    if not text:
        return None
    out = []
    for name in text.split(","):
        f = obj.field(name.strip())
        if f is None:
            raise CallError(400, "INVALID_FIELD",
                            f"No such column '{name.strip()}' on entity '{obj.name}'. If you are "
                            "attempting to use a custom field, be sure to append the '__c' after "
                            "the custom field name. Please reference your WSDL or the describe "
                            "call for the appropriate names.")
        out.append(f)
    return out


def _fetch(call: Call, obj: ObjectSchema, record_id: str) -> dict[str, Any] | None:
    return call.org.store.select_row(obj.name, record_id)


def _external_field(obj: ObjectSchema, name: str) -> FieldSchema:
    f = obj.field(name)
    if f is None or not (f.external_id or f.name == "Id"):
        raise CallError(404, "NOT_FOUND",
                        f"Provided external ID field does not exist or is not accessible: {name}")
    return f


def _save_failure(result: SaveResult) -> CallError:
    first = result.errors[0]
    return CallError(400, first.code, first.message, first.fields)


def _errors_response(result: SaveResult) -> Response:
    return json_response([e.api_json() for e in result.errors], 400)


class RestApi:
    def __init__(self, org: Org) -> None:
        self.org = org

    # ------------------------------------------------------------- discovery

    def versions(self, call: Call) -> Response:
        return json_response(api_versions())

    def resources(self, call: Call) -> Response:
        base = f"/services/data/v{call.version}"
        # only what the emulator serves at these URLs (GET on each answers)
        names = ("sobjects", "query", "queryAll", "limits", "composite")
        return json_response({n: f"{base}/{n}" for n in names})

    def limits(self, call: Call) -> Response:
        return json_response(limits_payload(self.org))

    def describe_global(self, call: Call) -> Response:
        return json_response({
            "encoding": "UTF-8", "maxBatchSize": 200,
            "sobjects": [o.describe_global_entry(call.version)
                         for o in self.org.schema.objects.values()]})

    def sobject_info(self, call: Call, obj: str) -> Response:
        schema = require_object(self.org.schema, obj)
        return json_response({"objectDescribe": schema.describe_global_entry(call.version),
                              "recentItems": []})

    def describe(self, call: Call, obj: str) -> Response:
        return json_response(require_object(self.org.schema, obj).describe(call.version))

    # ---------------------------------------------------------- single record

    def create(self, call: Call, obj: str) -> Response:
        schema = require_object(self.org.schema, obj)
        body = call.body()
        if not isinstance(body, dict):
            raise CallError(400, "JSON_PARSER_ERROR", "The request body must be a JSON object")
        rec = parse_json_record(schema, body, self.org.schema.get)
        with self.org.store.transaction():
            result = call.writer().create(schema, rec)
        if not result.success:
            return _errors_response(result)
        return json_response(result.as_json(), 201)

    def _resolve_id(self, schema: ObjectSchema, rid: str) -> str:
        try:
            record_id = ids.to18(rid)
        except ValueError:
            raise CallError(404, "NOT_FOUND", "Provided external ID field does not exist or is "
                            f"not accessible: {rid}") from None
        if not record_id.startswith(schema.key_prefix):
            raise not_found()
        return record_id

    def get(self, call: Call, obj: str, rid: str) -> Response:
        schema = require_object(self.org.schema, obj)
        fields = parse_fields(schema, call.request.args.get("fields"))
        row = _fetch(call, schema, self._resolve_id(schema, rid))
        if row is None or row["IsDeleted"]:
            raise not_found()
        return json_response(record_json(call, schema, row, fields))

    def _existing(self, call: Call, schema: ObjectSchema, rid: str) -> str:
        record_id = self._resolve_id(schema, rid)
        row = _fetch(call, schema, record_id)
        if row is None:
            raise not_found()
        if row["IsDeleted"]:
            raise CallError(404, "ENTITY_IS_DELETED", "entity is deleted", [])
        return record_id

    def update(self, call: Call, obj: str, rid: str) -> Response:
        schema = require_object(self.org.schema, obj)
        body = call.body()
        if not isinstance(body, dict):
            raise CallError(400, "JSON_PARSER_ERROR", "The request body must be a JSON object")
        rec = parse_json_record(schema, body, self.org.schema.get)
        with self.org.store.transaction():
            rec.record_id = self._existing(call, schema, rid)
            result = call.writer().update(schema, rec)
        if not result.success:
            return _errors_response(result)
        return Response(status=204)

    def delete(self, call: Call, obj: str, rid: str) -> Response:
        schema = require_object(self.org.schema, obj)
        with self.org.store.transaction():
            record_id = self._existing(call, schema, rid)
            result = call.writer().delete(record_id, expected=schema)
        if not result.success:
            return _errors_response(result)
        return Response(status=204)

    # ------------------------------------------------------------- by ext id

    def _matches(self, call: Call, schema: ObjectSchema, ext: FieldSchema,
                 value: str) -> list[str]:
        with self.org.store.lock:
            return call.writer().find_by_external(schema, ext, value)

    def _multiple(self, call: Call, schema: ObjectSchema, matches: list[str]) -> Response:
        return json_response([call.record_url(schema.name, m) for m in matches], 300)

    def get_by_external(self, call: Call, obj: str, field: str, value: str) -> Response:
        schema = require_object(self.org.schema, obj)
        ext = _external_field(schema, field)
        fields = parse_fields(schema, call.request.args.get("fields"))
        matches = self._matches(call, schema, ext, value)
        if len(matches) > 1:
            return self._multiple(call, schema, matches)
        row = _fetch(call, schema, matches[0]) if matches else None
        if row is None:
            raise not_found()
        return json_response(record_json(call, schema, row, fields))

    def upsert(self, call: Call, obj: str, field: str, value: str) -> Response:
        schema = require_object(self.org.schema, obj)
        ext = _external_field(schema, field)
        body = call.body()
        if not isinstance(body, dict):
            raise CallError(400, "JSON_PARSER_ERROR", "The request body must be a JSON object")
        rec = parse_json_record(schema, body, self.org.schema.get)
        with self.org.store.transaction():
            if ext.name == "Id":
                rec.record_id = self._existing(call, schema, value)
            else:
                rec.values[ext.name] = _coerce_external(ext, value)
                matches = self._matches(call, schema, ext, rec.values[ext.name])
                if len(matches) > 1:
                    return self._multiple(call, schema, matches)
            result = call.writer().upsert(schema, ext, rec)
        if not result.success:
            return _errors_response(result)
        return json_response(result.as_json(with_created=True), 201 if result.created else 200)

    def delete_by_external(self, call: Call, obj: str, field: str, value: str) -> Response:
        schema = require_object(self.org.schema, obj)
        ext = _external_field(schema, field)
        with self.org.store.transaction():
            matches = self._matches(call, schema, ext, value)
            if len(matches) > 1:
                return self._multiple(call, schema, matches)
            if not matches:
                raise not_found()
            result = call.writer().delete(matches[0], expected=schema)
        if not result.success:
            raise _save_failure(result)
        return Response(status=204)


def _coerce_external(ext: FieldSchema, value: str) -> Any:
    try:
        return to_db(ext, value)
    except ValueError_ as exc:
        raise CallError(400, exc.code, exc.message, [ext.name]) from None


def limits_payload(org: Org) -> dict[str, Any]:
    """``GET /limits``: the daily API allocation plus the other limits clients look at."""
    used = org.usage.daily_used()
    maximum = org.usage.daily_max
    store = org.store
    with store.lock:
        jobs = store.conn.execute(
            "SELECT kind, COUNT(*) FROM _bulk_jobs WHERE created > strftime('%s','now') - 86400 "
            "GROUP BY kind").fetchall()
        records = store.record_count()
    per_kind = dict(jobs)
    storage_mb = max(0, (records * 2) // 1024)  # Salesforce counts ~2 KB per record

    def entry(limit: int, spent: int) -> dict[str, int]:
        return {"Max": limit, "Remaining": max(0, limit - spent)}

    return {
        "DailyApiRequests": entry(maximum, used),
        "DailyAsyncApexExecutions": entry(250_000, 0),
        "DailyBulkApiBatches": entry(15_000, int(per_kind.get("ingest", 0))),
        "DailyBulkV2QueryFileStorageMB": entry(976_562, 0),
        "DailyBulkV2QueryJobs": entry(10_000, int(per_kind.get("query", 0))),
        "DataStorageMB": entry(1_024, storage_mb),
        "FileStorageMB": entry(1_024, 0),
        "HourlyODataCallout": entry(10_000, 0),
        "SingleEmail": entry(5_000, 0),
        "MassEmail": entry(5_000, 0),
    }
