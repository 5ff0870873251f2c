"""Creating, updating, upserting and deleting records, with Salesforce's checks and results.

Every public method processes one record and returns a ``SaveResult``. All checks
run before the first write of a record, so a failing record leaves no trace and
the call goes on, exactly as with ``allOrNone=false``. Callers hold the store's
transaction and decide, for ``allOrNone=true``, whether to discard it.
``privileged`` is the data-import mode of the seed loader and of lead conversion:
it may set audit and conversion fields.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, tzinfo
from functools import lru_cache
from typing import Any

from connector import sfid as ids
from connector.emulator.records import (
    CallError,
    Incoming,
    RecordError,
    SaveResult,
    check_value,
)
from connector.emulator.schema import (
    SYSTEM_FIELDS,
    FieldSchema,
    ObjectSchema,
    Schema,
    format_datetime,
    to_db,
)
from connector.emulator.semantics import ObjectRules, is_derived
from connector.emulator.store import Store

# Deleting a parent deletes these children, as the standard relationships do.
CASCADES: dict[str, tuple[tuple[str, str, str], ...]] = {
    "Campaign": (("CampaignMember", "CampaignId", ""), ("CampaignMemberStatus", "CampaignId", "")),
    # A converted lead's member belongs to the contact now; it stays.
    "Lead": (("CampaignMember", "LeadId", " AND ContactId IS NULL"),),
    "Contact": (("CampaignMember", "ContactId", ""), ("OpportunityContactRole", "ContactId", "")),
    "Account": (("Contact", "AccountId", ""), ("Opportunity", "AccountId", "")),
    "Opportunity": (("OpportunityContactRole", "OpportunityId", ""),
                    ("CampaignInfluence", "OpportunityId", "")),
}
# Audit fields a data import may set; everything else system-owned stays the org's.
PRIVILEGED_SETTABLE = frozenset({"CreatedDate", "CreatedById", "LastModifiedDate",
                                 "LastModifiedById"})
FIELD_SECURITY = ("Please check the security settings of this field and verify that it is "
                  "read/write for your profile or permission set.")

RecordFault = Callable[[str, str | None], RecordError | None]
PREFETCH_CHUNK = 500
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


@lru_cache(maxsize=1024)
def _insert_sql(table: str, columns: tuple[str, ...]) -> str:
    names = ", ".join(f'"{c}"' for c in columns)
    return f'INSERT INTO "{table}" ({names}) VALUES ({", ".join("?" * len(columns))})'


def _fold(value: Any) -> Any:
    """Compare as SQLite's NOCASE does (ASCII letters only), so prefetching matches SQL."""
    return value.translate(_ASCII_LOWER) if isinstance(value, str) else value


@dataclass(frozen=True)
class ObjectPlan:
    """What the writer needs to know about an object's fields, computed once per call."""

    derived: frozenset[str]
    defaults: tuple[tuple[str, Any], ...]
    booleans: frozenset[str]
    references: dict[str, FieldSchema]
    unique: frozenset[str]
    required: tuple[str, ...]

    @classmethod
    def of(cls, obj: ObjectSchema) -> ObjectPlan:
        defaults: list[tuple[str, Any]] = []
        for f in obj.fields.values():
            if f.name in SYSTEM_FIELDS:
                continue
            if f.default == "__current_user__":
                defaults.append((f.name, f.default))
            elif f.default is not None:
                defaults.append((f.name, to_db(f, f.default)))
            elif f.type == "boolean":
                defaults.append((f.name, 0))
        return cls(
            derived=frozenset(n for n in obj.fields if is_derived(obj, n)),
            defaults=tuple(defaults),
            booleans=frozenset(f.name for f in obj.fields.values() if f.type == "boolean"),
            references={f.name: f for f in obj.fields.values() if f.type == "reference"
                        and f.name not in ("CreatedById", "LastModifiedById")},
            unique=frozenset(f.name for f in obj.fields.values() if f.unique),
            required=tuple(f.name for f in obj.fields.values() if f.required),
        )


@dataclass(frozen=True)
class WriteEnv:
    """What one API call's writes share: one timestamp, one user, one org time zone."""

    store: Store
    schema: Schema
    user_id: str
    now: datetime
    tz: tzinfo


class MultipleMatches(Exception):
    """An upsert's external id matches several records (HTTP 300 for single-record upsert)."""

    def __init__(self, ids_: list[str]) -> None:
        super().__init__(", ".join(ids_))
        self.ids = ids_


def normalize_id(value: Any, field_name: str = "Id") -> str:
    try:
        return ids.to18(str(value))
    except ValueError:
        raise RecordError("MALFORMED_ID", f"malformed id {value}", [field_name]) from None


@lru_cache(maxsize=64)
def _clearable_lookups(schema: Schema, target: str) -> tuple[tuple[str, str], ...]:
    """Updateable lookups to ``target`` that Salesforce clears when the target is deleted."""
    cascaded = {(child, fk) for child, fk, _cond in CASCADES.get(target, ())}
    out = []
    for obj in schema.objects.values():
        for f in obj.fields.values():
            if f.type == "reference" and target in f.reference_to and f.updateable \
                    and f.name not in SYSTEM_FIELDS and (obj.name, f.name) not in cascaded:
                out.append((obj.name, f.name))
    return tuple(out)


class Writer(ObjectRules):
    """Record writes for one call. Not thread-safe: use it under the store's lock."""

    def __init__(self, env: WriteEnv, *, privileged: bool = False,
                 record_fault: RecordFault | None = None) -> None:
        self.store = env.store
        self.schema = env.schema
        self.user_id = env.user_id
        self.now = env.now
        self.tz = env.tz
        self.privileged = privileged
        self.record_fault = record_fault
        self._now_text = format_datetime(env.now)
        self._plans: dict[str, ObjectPlan] = {}
        # (object, field) -> (keys looked up, key -> live rows); see ``prefetch``
        self._prefetched: dict[tuple[str, str], tuple[set[Any], dict[Any, list[dict[str, Any]]]]] \
            = {}

    def plan(self, obj: ObjectSchema) -> ObjectPlan:
        plan = self._plans.get(obj.name)
        if plan is None:
            plan = self._plans[obj.name] = ObjectPlan.of(obj)
        return plan

    # ------------------------------------------------------------- public API

    def create(self, obj: ObjectSchema, rec: Incoming) -> SaveResult:
        return self._guarded(obj.name, None, lambda: self._insert(obj, rec))

    def update(self, obj: ObjectSchema, rec: Incoming) -> SaveResult:
        return self._guarded(obj.name, rec.record_id, lambda: self._update(obj, rec))

    def upsert(self, obj: ObjectSchema, ext: FieldSchema, rec: Incoming) -> SaveResult:
        return self._guarded(obj.name, rec.record_id, lambda: self._upsert(obj, ext, rec))

    def delete(self, record_id: str, *, expected: ObjectSchema | None = None,
               hard: bool = False) -> SaveResult:
        target = expected or self.schema.by_id(str(record_id))
        return self._guarded(target.name if target else "", record_id,
                             lambda: self._delete(record_id, expected, hard))

    def prefetch(self, obj: ObjectSchema, field: FieldSchema, values: Iterable[Any]) -> None:
        """Load in a few queries the live records a batch of upserts (by external id) or
        updates (by ``Id``) will touch. Each prefetched row serves one record, then is
        forgotten, so a record written earlier in the batch is never read stale."""
        fold = field.is_text
        keys = {_fold(v) if fold else v for v in values if v is not None}
        found: dict[Any, list[dict[str, Any]]] = {}
        ordered = sorted(keys, key=str)
        for start in range(0, len(ordered), PREFETCH_CHUNK):
            chunk = ordered[start:start + PREFETCH_CHUNK]
            for row in self.store.conn.execute(
                    f'SELECT * FROM "{obj.name}" WHERE "{field.name}" IN '
                    f'({", ".join("?" * len(chunk))}) AND IsDeleted = 0', chunk):
                record = self.store.row_dict(obj.name, row)
                value = record[field.name]
                found.setdefault(_fold(value) if fold else value, []).append(record)
        self._prefetched[(obj.name, field.name)] = (keys, found)

    def _prefetched_rows(self, obj: ObjectSchema, field: str,
                         value: Any) -> list[dict[str, Any]] | None:
        cache = self._prefetched.get((obj.name, field))
        if cache is None:
            return None
        key = _fold(value) if obj.fields[field].is_text else value
        if key not in cache[0]:
            return None
        cache[0].discard(key)
        return cache[1].pop(key, [])

    def find_by_external(self, obj: ObjectSchema, ext: FieldSchema, value: Any) -> list[str]:
        """Live records whose ``ext`` equals ``value`` (case-insensitively for text)."""
        if ext.name == "Id":
            try:
                value = ids.to18(str(value))
            except ValueError:
                return []
        rows = self.store.conn.execute(
            f'SELECT Id FROM "{obj.name}" WHERE "{ext.name}" = ? AND IsDeleted = 0 LIMIT 10',
            (value,)).fetchall()
        return [r[0] for r in rows]

    # ----------------------------------------------------------------- guard

    def _guarded(self, obj_name: str, record_id: str | None,
                 action: Callable[[], SaveResult]) -> SaveResult:
        target = self.schema.get(obj_name) if obj_name else None
        if target is not None and target.read_only and not self.privileged:
            return SaveResult.failed(RecordError(
                "INVALID_TYPE_FOR_OPERATION",
                f"entity type {target.name} does not support insert, update or delete"))
        if self.record_fault is not None:
            fault = self.record_fault(obj_name, record_id)
            if fault is not None:
                return SaveResult.failed(fault)
        try:
            return action()
        except RecordError as exc:
            return SaveResult.failed(exc)

    # ---------------------------------------------------------------- checks

    def _check_access(self, obj: ObjectSchema, names: Iterable[str], creating: bool) -> None:
        denied = []
        derived = self.plan(obj).derived
        for name in names:
            f = obj.fields[name]
            allowed = f.createable if creating else f.updateable
            if self.privileged:
                # derived fields are then checked against what the org computes
                allowed = (name in PRIVILEGED_SETTABLE or name in derived
                           or name not in SYSTEM_FIELDS)
            if not allowed:
                denied.append(name)
        if denied:
            denied.sort()
            raise RecordError("INVALID_FIELD_FOR_INSERT_UPDATE",
                              f"Unable to create/update fields: {', '.join(denied)}. "
                              + FIELD_SECURITY, denied)

    def _check_required(self, obj: ObjectSchema, values: dict[str, Any],
                        only_given: bool = False) -> None:
        missing = [name for name in self.plan(obj).required
                   if (not only_given or name in values) and values.get(name) in (None, "")]
        if missing:
            raise RecordError("REQUIRED_FIELD_MISSING",
                              f"Required fields are missing: [{', '.join(missing)}]", missing)

    def _check_reference(self, f: FieldSchema, value: Any) -> None:
        target = self.schema.by_id(str(value))
        if target is None or target.name not in f.reference_to:
            raise RecordError("INVALID_CROSS_REFERENCE_KEY",
                              f"{f.label or f.name}: id value of incorrect type: {value}",
                              [f.name])
        row = self.store.conn.execute(
            f'SELECT IsDeleted FROM "{target.name}" WHERE Id = ?', (value,)).fetchone()
        if row is None:
            raise RecordError("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id",
                              [f.name])
        if row[0]:
            raise RecordError("ENTITY_IS_DELETED", "entity is deleted", [f.name])

    def _check_unique(self, obj: ObjectSchema, values: dict[str, Any], names: Iterable[str],
                      self_id: str | None) -> None:
        unique = self.plan(obj).unique
        for name in names:
            value = values.get(name)
            if name not in unique or value is None:
                continue
            row = self.store.conn.execute(
                f'SELECT Id FROM "{obj.name}" WHERE "{name}" = ? AND IsDeleted = 0 AND Id != ? '
                "LIMIT 1", (value, self_id or "")).fetchone()
            if row is not None:
                raise RecordError(
                    "DUPLICATE_VALUE",
                    f"duplicate value found: {name} duplicates value on record with id: {row[0]}",
                    [name])

    def _resolve_relations(self, rec: Incoming, values: dict[str, Any]) -> None:
        for ref in rec.relations:
            if ref.value is None:
                values[ref.field.name] = None
                continue
            found = self.find_by_external(ref.target, ref.ext_field, ref.value)
            if not found:
                raise RecordError(
                    "INVALID_FIELD",
                    f"Foreign key external ID: {ref.value} not found for field "
                    f"{ref.ext_field.name} in entity {ref.target.name}", [ref.field.name])
            if len(found) > 1:
                raise RecordError(
                    "INVALID_FIELD",
                    f"Foreign key external ID: {ref.value} matches more than one record for "
                    f"field {ref.ext_field.name} in entity {ref.target.name}", [ref.field.name])
            values[ref.field.name] = found[0]

    def _check_derived(self, obj: ObjectSchema, given: dict[str, Any],
                       values: dict[str, Any]) -> None:
        """A data import may repeat what the org computes, never contradict it."""
        for name, value in given.items():
            if value != values.get(name):
                raise RecordError(
                    "INVALID_FIELD_FOR_INSERT_UPDATE",
                    f"{name} is computed by the org ({values.get(name)!r}); the value given "
                    f"({value!r}) contradicts it", [name])

    def _prepare(self, obj: ObjectSchema, rec: Incoming, creating: bool,
                 row: dict[str, Any] | None = None) -> dict[str, Any]:
        if rec.error is not None:
            raise rec.error
        self.object_guard(obj, "insert" if creating else "update")
        values = dict(rec.values)
        self._resolve_relations(rec, values)
        if row is not None:
            self.converted_lead_guard(obj, row)
        self._check_access(obj, values, creating)
        fields = obj.fields
        for name, value in values.items():
            check_value(fields[name], value)
        return values

    # ---------------------------------------------------------------- insert

    def _insert(self, obj: ObjectSchema, rec: Incoming, checked_unique: str = "") -> SaveResult:
        if rec.record_id:
            raise RecordError("INVALID_FIELD_FOR_INSERT_UPDATE",
                              "cannot specify Id in an insert call", ["Id"])
        values = self._prepare(obj, rec, creating=True)
        if self.privileged and obj.name == "CampaignMemberStatus":
            merged = self._merge_seeded_status(obj, values)
            if merged is not None:
                return merged
        plan = self.plan(obj)
        given = {k: values[k] for k in plan.derived if k in values}
        for name, default in plan.defaults:
            if name not in values:
                values[name] = self.user_id if default == "__current_user__" else default
            elif values[name] is None and name in plan.booleans:
                values[name] = 0
        created = values.get("CreatedDate") or self._now_text
        values["CreatedDate"] = created
        values.setdefault("CreatedById", self.user_id)
        self.before_insert(obj, values)
        self._check_derived(obj, given, values)
        self._check_required(obj, values)
        for name, f in plan.references.items():
            value = values.get(name)
            if value is not None and not (name == "OwnerId" and value == self.user_id):
                self._check_reference(f, value)
        # an upsert that found no record has already checked its external id
        self._check_unique(obj, values, plan.unique - {checked_unique}, None)
        record_id = self.store.new_id(obj.key_prefix)
        values["Id"] = record_id
        values["IsDeleted"] = 0
        if not self.privileged or not values.get("LastModifiedDate"):
            values["LastModifiedDate"] = created if self.privileged else self._now_text
        values.setdefault("LastModifiedById", values["CreatedById"])
        values["SystemModstamp"] = values["LastModifiedDate"]
        if not self.privileged:
            values["CreatedById"] = values["LastModifiedById"] = self.user_id
        self.store.conn.execute(_insert_sql(obj.name, tuple(values)), list(values.values()))
        self.after_insert(obj, record_id, values)
        return SaveResult(record_id, True, [], created=True)

    def _merge_seeded_status(self, obj: ObjectSchema,
                             values: dict[str, Any]) -> SaveResult | None:
        """A seeded status named like a default one (Sent, Responded) updates that one."""
        campaign_id, label = values.get("CampaignId"), values.get("Label")
        if not campaign_id or not label:
            return None
        for sid, existing, _responded, _default in self._member_statuses(str(campaign_id)):
            if existing.lower() == str(label).lower():
                changes = {k: v for k, v in values.items() if k not in ("CampaignId",)}
                result = self._update(obj, Incoming(values=changes, record_id=sid))
                result.created = False
                return result
        return None

    # ---------------------------------------------------------------- update

    def _load(self, obj: ObjectSchema | None, record_id: str) -> tuple[ObjectSchema,
                                                                          dict[str, Any]]:
        target = self.schema.by_id(record_id)
        if target is None or (obj is not None and target.name != obj.name):
            raise RecordError("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", [])
        row = self._row(target.name, record_id)
        if row is None:
            raise RecordError("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", [])
        if row["IsDeleted"]:
            raise RecordError("ENTITY_IS_DELETED", "entity is deleted", [])
        return target, row

    def _update(self, obj: ObjectSchema, rec: Incoming,
                row: dict[str, Any] | None = None) -> SaveResult:
        if row is None:
            if not rec.record_id:
                raise RecordError("MISSING_ARGUMENT", "Id not specified in an update call", [])
            wanted = normalize_id(rec.record_id)
            cached = self._prefetched_rows(obj, "Id", wanted)
            if cached:
                row = cached[0]
            else:
                _target, row = self._load(obj, wanted)
        record_id: str = row["Id"]
        values = self._prepare(obj, rec, creating=False, row=row)
        plan = self.plan(obj)
        given = {k: values[k] for k in plan.derived if k in values}
        for name in plan.booleans:
            if name in values and values[name] is None:
                values[name] = 0
        self.before_update(obj, row, values)
        self._check_derived(obj, given, values)
        self._check_required(obj, values, only_given=True)
        changed = {name for name, value in values.items() if row.get(name) != value}
        for name in changed:
            ref = plan.references.get(name)
            if ref is not None and values[name] is not None:
                self._check_reference(ref, values[name])
        self._check_unique(obj, values, changed, record_id)
        if not (self.privileged and values.get("LastModifiedDate")):
            values["LastModifiedDate"] = self._now_text
        if not self.privileged or "LastModifiedById" not in values:
            values["LastModifiedById"] = self.user_id
        values["SystemModstamp"] = values["LastModifiedDate"]
        # Every update moves LastModifiedDate, as Salesforce's does; unchanged values
        # are left out of the statement so their indexes are not rewritten.
        written = {k: v for k, v in values.items()
                   if k in changed or k in ("LastModifiedDate", "SystemModstamp")
                   or (k == "LastModifiedById" and v != row.get(k))}
        assignments = ", ".join(f'"{c}" = ?' for c in written)
        self.store.conn.execute(f'UPDATE "{obj.name}" SET {assignments} WHERE Id = ?',
                                [*written.values(), record_id])
        self.after_update(obj, row, values)
        return SaveResult(record_id, True, [], created=False)

    # ---------------------------------------------------------------- upsert

    def _upsert(self, obj: ObjectSchema, ext: FieldSchema, rec: Incoming) -> SaveResult:
        if ext.name == "Id":
            if rec.record_id:
                return self._update(obj, rec)
            return self._insert(obj, rec)
        value = rec.values.get(ext.name)
        if value is None:
            if rec.error is not None:
                raise rec.error
            raise RecordError("MISSING_ARGUMENT", f"{ext.name} not specified", [ext.name])
        if rec.record_id:
            raise RecordError("INVALID_FIELD_FOR_INSERT_UPDATE",
                              "Id is not allowed with an external id upsert", ["Id"])
        matches = self._prefetched_rows(obj, ext.name, value)
        if matches is None:
            matches = [self.store.row_dict(obj.name, r) for r in self.store.conn.execute(
                f'SELECT * FROM "{obj.name}" WHERE "{ext.name}" = ? AND IsDeleted = 0 LIMIT 10',
                (value,))]
        if len(matches) > 1:
            raise RecordError(
                "DUPLICATE_EXTERNAL_ID",
                f"{ext.name}: more than one record found for external id field: "
                f"[{', '.join(m['Id'] for m in matches)}]", [ext.name])
        if not matches:
            return self._insert(obj, rec, checked_unique=ext.name)
        row = matches[0]
        updated = Incoming(values={k: v for k, v in rec.values.items() if k != ext.name},
                           record_id=row["Id"], relations=rec.relations, error=rec.error)
        return self._update(obj, updated, row)

    # ---------------------------------------------------------------- delete

    def _delete(self, record_id: str, expected: ObjectSchema | None, hard: bool) -> SaveResult:
        rid = normalize_id(record_id)
        target = self.schema.by_id(rid)
        if target is None or (expected is not None and target.name != expected.name):
            raise RecordError("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", [])
        row = self._row(target.name, rid)
        if row is None:
            raise RecordError("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", [])
        if row["IsDeleted"] and not hard:
            raise RecordError("ENTITY_IS_DELETED", "entity is deleted", [])
        self.object_guard(target, "delete")
        self.before_delete(target, row)
        self._remove(target, rid, hard)
        return SaveResult(rid, True, [])

    def _remove(self, obj: ObjectSchema, record_id: str, hard: bool) -> None:
        for child, fk, condition in CASCADES.get(obj.name, ()):
            child_obj = self.schema.objects[child]
            for (child_id,) in self.store.conn.execute(
                    f'SELECT Id FROM "{child}" WHERE "{fk}" = ?{condition}'
                    + ("" if hard else " AND IsDeleted = 0"), (record_id,)).fetchall():
                self._remove(child_obj, child_id, hard)
        for table, column in _clearable_lookups(self.schema, obj.name):
            self.store.conn.execute(f'UPDATE "{table}" SET "{column}" = NULL WHERE "{column}" = ?',
                                    (record_id,))
        if hard:
            self.store.conn.execute(f'DELETE FROM "{obj.name}" WHERE Id = ?', (record_id,))
        else:
            self.store.conn.execute(
                f'UPDATE "{obj.name}" SET IsDeleted = 1, LastModifiedDate = ?, '
                "SystemModstamp = ?, LastModifiedById = ? WHERE Id = ?",
                (self._now_text, self._now_text, self.user_id, record_id))


def require_object(schema: Schema, name: str) -> ObjectSchema:
    obj = schema.get(name)
    if obj is None:
        raise CallError(404, "NOT_FOUND", "The requested resource does not exist")
    return obj
