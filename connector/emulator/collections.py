"""sObject Collections: up to 200 records per call, results in request order.

``allOrNone=false`` (the default) lets each record succeed or fail on its own.
With ``allOrNone=true`` one failure discards the whole transaction: failing
records keep their errors and every other record reports
``ALL_OR_NONE_OPERATION_ROLLED_BACK``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import partial
from typing import Any

from werkzeug.wrappers import Response

from connector import sfid as ids
from connector.emulator.dml import require_object
from connector.emulator.org import Org
from connector.emulator.records import (
    ROLLED_BACK_MESSAGE,
    CallError,
    Incoming,
    RecordError,
    SaveResult,
    duplicated_keys,
    external_key,
    parse_json_record,
)
from connector.emulator.rest import parse_fields, record_json
from connector.emulator.schema import ObjectSchema
from connector.emulator.wire import Call, json_response

MAX_RECORDS = 200
MAX_RETRIEVE = 2000


def _too_many(limit: int) -> CallError:
    return CallError(400, "EXCEEDED_ID_LIMIT",
                     f"record limit reached. cannot submit more than {limit} records into this "
                     "call")


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.lower() == "true"
    return bool(value)


def _ids(given: Iterable[str | None]) -> list[str]:
    """The well-formed ids among ``given``, as 18 characters (the rest fail later, per record)."""
    out = []
    for value in given:
        if value and ids.is_valid_id(value):
            out.append(ids.to18(value))
    return out


class CollectionsApi:
    def __init__(self, org: Org) -> None:
        self.org = org

    # ----------------------------------------------------------------- shared

    def _payload(self, call: Call) -> tuple[bool, list[dict[str, Any]]]:
        body = call.body()
        if not isinstance(body, dict) or not isinstance(body.get("records"), list):
            raise CallError(400, "JSON_PARSER_ERROR",
                            "The request body must be an object with a 'records' list")
        records = body["records"]
        if len(records) > MAX_RECORDS:
            raise _too_many(MAX_RECORDS)
        if not all(isinstance(r, dict) for r in records):
            raise CallError(400, "JSON_PARSER_ERROR", "Each record must be a JSON object")
        return _truthy(body.get("allOrNone", False)), records

    def _typed(self, data: dict[str, Any]) -> tuple[ObjectSchema, Incoming]:
        attributes = data.get("attributes")
        type_name = attributes.get("type") if isinstance(attributes, dict) else None
        schema = self.org.schema.get(type_name) if isinstance(type_name, str) else None
        if schema is None:
            raise CallError(
                400, "INVALID_TYPE",
                f"sObject type '{type_name}' is not supported. If you are attempting to use a "
                "custom object, be sure to append the '__c' after the entity name. Please "
                "reference your WSDL or the describe call for the appropriate names.")
        return schema, parse_json_record(schema, data, self.org.schema.get)

    def _run(self, all_or_none: bool, steps: list[Callable[[], SaveResult]],
             with_created: bool = False) -> Response:
        with self.org.store.transaction() as tx:
            results = [step() for step in steps]
            if all_or_none and not all(r.success for r in results):
                tx.rollback_only = True
                rolled_back = RecordError("ALL_OR_NONE_OPERATION_ROLLED_BACK",
                                          ROLLED_BACK_MESSAGE, [])
                results = [SaveResult(None, False, r.errors if not r.success else [rolled_back])
                           for r in results]
        return json_response([r.as_json(with_created=with_created) for r in results])

    # ------------------------------------------------------------ operations

    def create(self, call: Call) -> Response:
        all_or_none, records = self._payload(call)
        typed = [self._typed(r) for r in records]
        writer = call.writer()
        return self._run(all_or_none, [partial(writer.create, s, r) for s, r in typed])

    def update(self, call: Call) -> Response:
        all_or_none, records = self._payload(call)
        typed = [self._typed(r) for r in records]
        writer = call.writer()
        with self.org.store.lock:
            for schema in {s.name: s for s, _r in typed}.values():
                writer.prefetch(schema, schema.fields["Id"], _ids(
                    r.record_id for s, r in typed if s.name == schema.name))
        return self._run(all_or_none, [partial(writer.update, s, r) for s, r in typed])

    def upsert(self, call: Call, obj: str, field: str) -> Response:
        schema = require_object(self.org.schema, obj)
        ext = schema.field(field)
        if ext is None or not (ext.external_id or ext.name == "Id"):
            raise CallError(400, "INVALID_FIELD",
                            f"Field name provided, {field} does not match an External ID, "
                            f"Salesforce Id, or indexed field for {schema.name}")
        all_or_none, records = self._payload(call)
        parsed = []
        for data in records:
            attributes = data.get("attributes")
            type_name = attributes.get("type") if isinstance(attributes, dict) else None
            if type_name is not None and (not isinstance(type_name, str)
                                          or type_name.lower() != schema.name.lower()):
                raise CallError(400, "INVALID_TYPE",
                                f"sObject type '{type_name}' does not match the upsert object "
                                f"{schema.name}")
            parsed.append(parse_json_record(schema, data, self.org.schema.get))
        duplicated = duplicated_keys(ext, parsed)
        writer = call.writer()
        with self.org.store.lock:
            if ext.name == "Id":
                writer.prefetch(schema, ext, _ids(r.record_id for r in parsed))
            else:
                writer.prefetch(schema, ext, (r.values.get(ext.name) for r in parsed))

        def step(rec: Incoming) -> SaveResult:
            key = external_key(ext, rec)
            if key is not None and key in duplicated:
                return SaveResult.failed(RecordError(
                    "DUPLICATE_VALUE", f"Duplicate external id specified: {key}", [ext.name]))
            return writer.upsert(schema, ext, rec)

        return self._run(all_or_none, [partial(step, rec) for rec in parsed], with_created=True)

    def delete(self, call: Call) -> Response:
        raw = call.request.args.get("ids", "")
        id_list = [i.strip() for i in raw.split(",") if i.strip()]
        if not id_list:
            raise CallError(400, "MISSING_ARGUMENT", "ids parameter is required")
        if len(id_list) > MAX_RECORDS:
            raise _too_many(MAX_RECORDS)
        all_or_none = _truthy(call.request.args.get("allOrNone", "false"))
        writer = call.writer()

        def step(given: str) -> SaveResult:
            result = writer.delete(given)
            if not result.success and result.id is None and ids.is_valid_id(given):
                result.id = ids.to18(given)
            return result

        return self._run(all_or_none, [partial(step, rid) for rid in id_list])

    def retrieve(self, call: Call, obj: str) -> Response:
        schema = require_object(self.org.schema, obj)
        if call.request.method == "POST":
            body = call.body()
            if not isinstance(body, dict):
                raise CallError(400, "JSON_PARSER_ERROR", "The request body must be an object")
            id_list = [str(i) for i in body.get("ids") or []]
            field_names = body.get("fields") or []
            fields_text = ",".join(str(f) for f in field_names)
        else:
            id_list = [i.strip() for i in call.request.args.get("ids", "").split(",")
                       if i.strip()]
            fields_text = call.request.args.get("fields", "")
        if not fields_text:
            raise CallError(400, "MISSING_ARGUMENT", "fields parameter is required")
        if not id_list:
            raise CallError(400, "MISSING_ARGUMENT", "ids parameter is required")
        if len(id_list) > MAX_RETRIEVE:
            raise _too_many(MAX_RETRIEVE)
        fields = parse_fields(schema, fields_text)
        out: list[dict[str, Any] | None] = []
        store = self.org.store
        with store.lock:
            for given in id_list:
                try:
                    record_id = ids.to18(given)
                except ValueError:
                    out.append(None)
                    continue
                record = store.select_row(schema.name, record_id)
                if record is None or record["IsDeleted"]:
                    out.append(None)
                    continue
                out.append(record_json(call, schema, record, fields))
        return json_response(out)
