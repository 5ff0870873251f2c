"""Record-level vocabulary of the emulator: errors, save results, and incoming values.

Salesforce first deserializes a whole REST payload (an unknown field or a value of
the wrong JSON type fails the whole call), then validates each record on its own
(too long, bad email, bad picklist value: that record fails, the others go on).
``parse_json_record`` and ``parse_csv_row`` are the first step; ``check_value`` the
second. Bulk CSV has no deserialization step, so its type errors are per record.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from connector import sfid as ids
from connector.emulator.schema import SOAP_TYPES, FieldSchema, ObjectSchema, ValueError_, to_db
from connector.mappings import TEXT_TYPES

# Salesforce's own email check is a simple shape test, not RFC 5322.
_EMAIL = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,}")

TEXTLIKE = TEXT_TYPES | {"textarea"}
ROLLED_BACK_MESSAGE = ("Record rolled back because not all records were valid and the request "
                       "was using AllOrNone header")


class RecordError(Exception):
    """One record failed; the call goes on (``statusCode`` in Salesforce's results)."""

    def __init__(self, code: str, message: str, fields: list[str] | tuple[str, ...] = ()) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.fields = list(fields)

    def result_json(self) -> dict[str, Any]:
        return {"statusCode": self.code, "message": self.message, "fields": self.fields}

    def api_json(self) -> dict[str, Any]:
        return {"message": self.message, "errorCode": self.code, "fields": self.fields}

    def bulk_text(self) -> str:
        """The ``sf__Error`` column of a Bulk API failed result."""
        fields = ",".join(self.fields)
        return f"{self.code}:{self.message}:{fields} --" if fields else \
            f"{self.code}:{self.message}:--"


class CallError(Exception):
    """The whole call fails with an HTTP status and Salesforce's error array."""

    def __init__(self, status: int, code: str, message: str,
                 fields: list[str] | None = None) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.fields = fields

    def body(self) -> list[dict[str, Any]]:
        entry: dict[str, Any] = {"message": self.message, "errorCode": self.code}
        if self.fields is not None:
            entry["fields"] = self.fields
        return [entry]


def not_found() -> CallError:
    return CallError(404, "NOT_FOUND", "The requested resource does not exist")


@dataclass
class SaveResult:
    id: str | None
    success: bool
    errors: list[RecordError] = field(default_factory=list)
    created: bool | None = None

    @classmethod
    def failed(cls, error: RecordError, record_id: str | None = None) -> SaveResult:
        return cls(record_id, False, [error])

    def as_json(self, *, with_created: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "success": self.success,
                               "errors": [e.result_json() for e in self.errors]}
        if with_created:
            out["created"] = bool(self.created) if self.success else False
        return out


@dataclass
class RelationRef:
    """A parent named by its external id: ``"Account": {"MAP_Id__c": "x"}`` or ``Account.X``."""

    field: FieldSchema
    target: ObjectSchema
    ext_field: FieldSchema
    value: Any


@dataclass
class Incoming:
    """One record as the client sent it, deserialized (values already in stored form)."""

    values: dict[str, Any] = field(default_factory=dict)
    record_id: str | None = None
    type_name: str | None = None
    relations: list[RelationRef] = field(default_factory=list)
    # The first per-record problem found while deserializing (e.g. MALFORMED_ID).
    error: RecordError | None = None
    raw: Any = None


_CANONICAL_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+0000")


_to18 = lru_cache(maxsize=65536)(ids.to18)


def to_stored(f: FieldSchema, value: Any) -> Any:
    """``schema.to_db`` with fast paths for the shapes clients send most (plain text,
    canonical datetimes, ISO dates); anything else goes through ``to_db``."""
    if type(value) is str:
        if f.type in TEXTLIKE:
            return value or None
        if f.type in ("reference", "id") and len(value) in (15, 18):
            try:
                return _to18(value)
            except ValueError:
                pass  # to_db reports it as MALFORMED_ID
        if f.type == "datetime" and len(value) == 28 and _CANONICAL_DATETIME.fullmatch(value):
            try:
                datetime.fromisoformat(value[:23])
            except ValueError:
                pass  # to_db reports it
            else:
                return value
        elif f.type == "date" and len(value) == 10:
            try:
                date.fromisoformat(value)
            except ValueError:
                pass
            else:
                return value
    return to_db(f, value)


def _deserialize_error(f: FieldSchema, value: Any) -> CallError:
    soap = SOAP_TYPES.get(f.type, "xsd:string").split(":")[1].lower()
    kind = "VALUE_STRING" if isinstance(value, str) else (
        "START_OBJECT" if isinstance(value, dict) else
        "START_ARRAY" if isinstance(value, list) else "VALUE_NUMBER")
    return CallError(400, "JSON_PARSER_ERROR",
                     f"Cannot deserialize instance of {soap} from {kind} value {value} "
                     "or request may be missing a required field")


def no_such_column(obj: ObjectSchema, name: str) -> CallError:
    return CallError(400, "INVALID_FIELD", f"No such column '{name}' on sobject of type {obj.name}")


def _relation(obj: ObjectSchema, rel_field: FieldSchema, ext_name: str, value: Any,
              schema_get: Any) -> RelationRef:
    target = schema_get(rel_field.reference_to[0]) if rel_field.reference_to else None
    if target is None:
        raise no_such_column(obj, rel_field.relationship_name or rel_field.name)
    ext = target.field(ext_name)
    if ext is None or not (ext.external_id or ext.name == "Id"):
        raise CallError(400, "INVALID_FIELD",
                        f"Field name provided, {ext_name} does not match an External ID, "
                        f"Salesforce Id, or indexed field for {target.name}")
    return RelationRef(rel_field, target, ext, value)


def parse_json_record(obj: ObjectSchema, data: dict[str, Any], schema_get: Any) -> Incoming:
    """Deserialize one REST JSON record; raise ``CallError`` as Salesforce fails the call."""
    rec = Incoming(raw=data)
    for key, value in data.items():
        if key == "attributes":
            if isinstance(value, dict):
                type_name = value.get("type")
                rec.type_name = type_name if isinstance(type_name, str) else None
            continue
        if key.lower() == "id":
            if value is not None and not isinstance(value, str):
                raise CallError(400, "JSON_PARSER_ERROR",
                                f"Cannot deserialize instance of id from value {value}")
            rec.record_id = value or None
            continue
        f = obj.field(key)
        if f is None:
            rel = obj.relationships.get(key.lower())
            if rel is not None and isinstance(value, dict):
                pairs = [(k, v) for k, v in value.items() if k != "attributes"]
                if len(pairs) != 1:
                    raise CallError(400, "INVALID_FIELD",
                                    f"{key}: a relationship must name exactly one external id "
                                    "field")
                rec.relations.append(_relation(obj, rel, pairs[0][0], pairs[0][1], schema_get))
                continue
            raise no_such_column(obj, key)
        try:
            rec.values[f.name] = to_stored(f, value)
        except ValueError_ as exc:
            if exc.code == "INVALID_TYPE_ON_FIELD_IN_RECORD":
                raise _deserialize_error(f, value) from None
            rec.values[f.name] = None
            if rec.error is None:
                rec.error = RecordError(exc.code, exc.message, [f.name])
    return rec


class CsvHeader:
    """A Bulk API CSV header resolved once against the object's fields."""

    def __init__(self, obj: ObjectSchema, columns: list[str], schema_get: Any) -> None:
        self.obj = obj
        self.columns = columns
        self.plan: list[tuple[str, FieldSchema | None, tuple[FieldSchema, ObjectSchema,
                                                             FieldSchema] | None]] = []
        for col in columns:
            name = col.strip()
            if name.lower() == "id":
                self.plan.append(("id", None, None))
                continue
            if "." in name:
                rel_name, ext_name = name.split(".", 1)
                rel = obj.relationships.get(rel_name.lower())
                if rel is None:
                    raise CallError(400, "INVALIDBATCH",
                                    f"InvalidBatch : Field name not found : {name}")
                try:
                    ref = _relation(obj, rel, ext_name, None, schema_get)
                except CallError:
                    raise CallError(400, "INVALIDBATCH",
                                    f"InvalidBatch : Field name not found : {name}") from None
                self.plan.append(("rel", None, (ref.field, ref.target, ref.ext_field)))
                continue
            f = obj.field(name)
            if f is None:
                raise CallError(400, "INVALIDBATCH",
                                f"InvalidBatch : Field name not found : {name}")
            self.plan.append(("field", f, None))

    def parse(self, row: list[str]) -> Incoming:
        """One CSV row: an empty cell leaves the field alone, ``#N/A`` sets it to null."""
        rec = Incoming(raw=row)
        for (kind, f, rel), cell in zip(self.plan, row, strict=False):
            if cell == "":
                continue
            value: str | None = None if cell == "#N/A" else cell
            if kind == "id":
                rec.record_id = value
            elif kind == "rel":
                assert rel is not None
                rec.relations.append(RelationRef(rel[0], rel[1], rel[2], value))
            else:
                assert f is not None
                try:
                    rec.values[f.name] = to_stored(f, value)
                except ValueError_ as exc:
                    rec.values[f.name] = None
                    if rec.error is None:
                        rec.error = RecordError(exc.code, exc.message, [f.name])
        if len(row) != len(self.plan) and rec.error is None:
            rec.error = RecordError("INVALID_FIELD",
                                    f"Number of values ({len(row)}) does not match the header "
                                    f"({len(self.plan)} columns)")
        return rec


def check_value(f: FieldSchema, value: Any) -> None:
    """Per-record checks Salesforce makes after deserializing: length, email, picklist."""
    if value is None:
        return
    if f.type in TEXTLIKE and f.length and isinstance(value, str) and len(value) > f.length:
        raise RecordError("STRING_TOO_LONG",
                          f"{f.label or f.name}: data value too large: {value} "
                          f"(max length={f.length})", [f.name])
    if f.type == "email" and not _EMAIL.fullmatch(str(value)):
        raise RecordError("INVALID_EMAIL_ADDRESS", f"{f.label or f.name}: invalid email address: "
                          f"{value}", [f.name])
    if f.type == "picklist" and f.restricted and f.picklist_values \
            and canonical_picklist(f, str(value)) is None:
        raise bad_picklist(f, value)


def canonical_picklist(f: FieldSchema, value: str) -> str | None:
    if value in f.picklist_values:
        return value
    lowered = value.lower()
    return next((v for v in f.picklist_values if v.lower() == lowered), None)


def bad_picklist(f: FieldSchema, value: Any) -> RecordError:
    return RecordError("INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                       f"{f.label or f.name}: bad value for restricted picklist field: {value}",
                       [f.name])


def external_key(ext: FieldSchema, rec: Incoming) -> Any:
    """A record's upsert key as Salesforce compares it (text case-insensitively)."""
    value = rec.record_id if ext.name == "Id" else rec.values.get(ext.name)
    return value.lower() if isinstance(value, str) and ext.is_text else value


def duplicated_keys(ext: FieldSchema, parsed: list[Incoming]) -> set[Any]:
    """Keys given twice in one call: Salesforce rejects every record that carries them."""
    counts = Counter(k for k in (external_key(ext, r) for r in parsed) if k is not None)
    return {k for k, n in counts.items() if n > 1}


def is_valid_email(value: str) -> bool:
    return bool(_EMAIL.fullmatch(value))
