"""The emulated org's schema: standard objects plus the mappings' custom fields.

One ``Schema`` drives everything in the emulator that depends on field types:
the SQLite tables (one per object, one column per field), value checks on
writes, SOQL type checks and literal coercion, and the describe payloads.

Storage contract (shared by the store, SOQL and Bulk modules):

* table ``"{Object}"``, primary key ``Id`` (18-character id), one column per field;
* text, picklist, email, url, phone, textarea: ``TEXT`` (compared case-insensitively,
  as SOQL does); id and reference: ``TEXT`` (exact, always 18 characters);
* boolean: ``INTEGER`` 0/1; int: ``INTEGER``; double, currency, percent: ``REAL``;
* date: ``TEXT`` ``YYYY-MM-DD``; datetime: ``TEXT`` ``YYYY-MM-DDTHH:MM:SS.sss+0000``,
  always UTC, so text order is time order.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import cached_property
from importlib import resources
from typing import Any

import yaml

from connector import sfid as ids
from connector.mappings import TEXT_TYPES, FieldDecl, Mappings

SYSTEM_FIELDS = ("Id", "IsDeleted", "CreatedDate", "CreatedById", "LastModifiedDate",
                 "LastModifiedById", "SystemModstamp")
NUMERIC_TYPES = frozenset({"int", "double", "currency", "percent"})
SOAP_TYPES = {
    "id": "tns:ID", "reference": "tns:ID", "boolean": "xsd:boolean", "int": "xsd:int",
    "double": "xsd:double", "currency": "xsd:double", "percent": "xsd:double",
    "date": "xsd:date", "datetime": "xsd:dateTime",
}


class ValueError_(ValueError):
    """A value that does not fit its field; carries Salesforce's error code."""

    def __init__(self, code: str, message: str, field_name: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field_name = field_name


@dataclass(frozen=True)
class FieldSchema:
    name: str
    type: str
    label: str = ""
    length: int = 0
    precision: int = 0
    scale: int = 0
    required: bool = False
    createable: bool = True
    updateable: bool = True
    nillable: bool = True
    default: Any = None
    picklist_values: tuple[str, ...] = ()
    restricted: bool = False
    reference_to: tuple[str, ...] = ()
    relationship_name: str | None = None
    external_id: bool = False
    unique: bool = False
    custom: bool = False
    formula: str | None = None

    @property
    def is_text(self) -> bool:
        return self.type in TEXT_TYPES or self.type == "textarea"

    @property
    def sql_type(self) -> str:
        if self.type in ("boolean", "int"):
            return "INTEGER"
        if self.type in ("double", "currency", "percent"):
            return "REAL"
        return "TEXT"

    @property
    def collation(self) -> str:
        """SOQL compares text case-insensitively; ids exactly."""
        return " COLLATE NOCASE" if self.is_text else ""

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "label": self.label or self.name,
            "type": self.type,
            "soapType": SOAP_TYPES.get(self.type, "xsd:string"),
            "length": self.length if self.is_text or self.type in ("id", "reference") else 0,
            "precision": self.precision,
            "scale": self.scale,
            "digits": self.precision if self.type == "int" else 0,
            "byteLength": self.length * 3 if self.is_text else 18,
            "createable": self.createable,
            "updateable": self.updateable,
            "nillable": self.nillable,
            "defaultedOnCreate": self.default is not None or self.name in SYSTEM_FIELDS,
            "externalId": self.external_id,
            "unique": self.unique,
            "idLookup": self.name == "Id" or self.external_id,
            "custom": self.custom,
            "calculated": self.formula is not None,
            "caseSensitive": False,
            "filterable": True,
            "sortable": self.type != "textarea",
            "groupable": self.type not in ("textarea", "double", "currency", "percent"),
            "referenceTo": list(self.reference_to),
            "relationshipName": self.relationship_name,
            "restrictedPicklist": self.restricted,
            "picklistValues": [
                {"value": v, "label": v, "active": True, "defaultValue": v == self.default,
                 "validFor": None}
                for v in self.picklist_values
            ],
            "nameField": self.name == "Name",
            "autoNumber": False,
            "htmlFormatted": False,
        }


@dataclass
class ObjectSchema:
    name: str
    key_prefix: str
    fields: dict[str, FieldSchema]
    custom: bool = False
    label: str = ""
    owned: bool = False
    # Objects the API may query but never write: Organization (one row the org
    # keeps) and metadata-backed CampaignInfluenceModel.
    read_only: bool = False
    # child relationship name -> (child object, lookup field), as describe lists them
    children: dict[str, tuple[str, str]] = field(default_factory=dict)
    # Auto-number display format of a custom object's Name, e.g. "ATT-{0000000}".
    name_format: str = ""
    _lower: dict[str, str] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._lower = {name.lower(): name for name in self.fields}

    def field(self, name: str) -> FieldSchema | None:
        """Case-insensitive lookup, as Salesforce resolves field names."""
        canonical = self._lower.get(name.lower())
        return self.fields[canonical] if canonical else None

    @cached_property
    def relationships(self) -> dict[str, FieldSchema]:
        """Lower-cased relationship name -> the reference field behind it."""
        return {
            f.relationship_name.lower(): f
            for f in self.fields.values()
            if f.relationship_name
        }

    @property
    def external_id_fields(self) -> list[FieldSchema]:
        return [f for f in self.fields.values() if f.external_id]

    def describe(self, api_version: str) -> dict[str, Any]:
        base = f"/services/data/v{api_version}/sobjects/{self.name}"
        return {
            "name": self.name,
            "label": self.label or self.name,
            "labelPlural": (self.label or self.name) + "s",
            "keyPrefix": self.key_prefix,
            "custom": self.custom,
            "createable": not self.read_only,
            "updateable": not self.read_only,
            "deletable": not self.read_only,
            "queryable": True,
            "searchable": True,
            "retrieveable": True,
            "fields": [f.describe() for f in self.fields.values()],
            "urls": {"sobject": base, "describe": f"{base}/describe",
                     "rowTemplate": f"{base}/{{ID}}"},
            "childRelationships": [
                {"cascadeDelete": False, "childSObject": child, "deprecatedAndHidden": False,
                 "field": lookup, "junctionIdListNames": [], "junctionReferenceTo": [],
                 "relationshipName": name, "restrictedDelete": False}
                for name, (child, lookup) in self.children.items()],
            "recordTypeInfos": [],
        }

    def describe_global_entry(self, api_version: str) -> dict[str, Any]:
        base = f"/services/data/v{api_version}/sobjects/{self.name}"
        return {"name": self.name, "label": self.label or self.name,
                "keyPrefix": self.key_prefix, "custom": self.custom, "queryable": True,
                "createable": not self.read_only, "updateable": not self.read_only,
                "deletable": not self.read_only,
                "urls": {"sobject": base, "describe": f"{base}/describe"}}


def _plural(name: str) -> str:
    if name.endswith("y") and name[-2:-1] not in "aeiou":
        return name[:-1] + "ies"
    return name + ("es" if name.endswith("s") else "s")


def _link_children(objects: dict[str, ObjectSchema], raw: dict[str, Any],
                   mappings: Mappings) -> None:
    """Child relationships: standard lookups by the plural of the child object (or
    the ``child_relationship`` of standard_objects.yaml), custom lookups by the
    names ``connector schema export`` deploys (``Lead_First_Touch_Campaign__r``)."""
    from connector.schema_export import relationship_name

    taken: dict[str, set[str]] = {}
    for name, spec in raw["objects"].items():
        for fname, fspec in spec["fields"].items():
            target = fspec.get("reference_to")
            if not target or target not in objects:
                continue
            child = fspec["child_relationship"] if "child_relationship" in fspec \
                else _plural(name)
            if child and child not in objects[target].children:
                objects[target].children[child] = (name, fname)
    for obj_name, obj_decl in mappings.fields.objects.items():
        for decl in obj_decl.fields.values():
            target = decl.reference_to
            if decl.custom and target in objects:
                child = relationship_name(obj_name, decl, taken.setdefault(target, set()))
                objects[target].children[f"{child}__r"] = (obj_name, decl.api_name)


def _system_fields() -> dict[str, FieldSchema]:
    def ro(name: str, ftype: str, label: str, **kw: Any) -> FieldSchema:
        return FieldSchema(name, ftype, label, createable=False, updateable=False, **kw)

    return {
        "Id": ro("Id", "id", "Record ID", length=18, nillable=False),
        "IsDeleted": ro("IsDeleted", "boolean", "Deleted", nillable=False, default=False),
        # CreatedDate is createable, as in an org with "Set Audit Fields upon
        # Record Creation", so seeded history keeps its dates.
        "CreatedDate": FieldSchema("CreatedDate", "datetime", "Created Date", nillable=False,
                                   createable=True, updateable=False),
        "CreatedById": ro("CreatedById", "reference", "Created By ID", length=18,
                          reference_to=("User",), relationship_name="CreatedBy"),
        "LastModifiedDate": ro("LastModifiedDate", "datetime", "Last Modified Date",
                               nillable=False),
        "LastModifiedById": ro("LastModifiedById", "reference", "Last Modified By ID",
                               length=18, reference_to=("User",),
                               relationship_name="LastModifiedBy"),
        "SystemModstamp": ro("SystemModstamp", "datetime", "System Modstamp", nillable=False),
    }


def _from_standard(name: str, spec: dict[str, Any]) -> FieldSchema:
    ftype = spec["type"]
    return FieldSchema(
        name=name,
        type=ftype,
        label=spec.get("label", name),
        length=spec.get("length", 18 if ftype == "reference" else 0),
        precision=spec.get("precision", 18 if ftype in NUMERIC_TYPES else 0),
        scale=spec.get("scale", 0),
        required=spec.get("required", False),
        createable=spec.get("create", True),
        updateable=spec.get("update", True),
        nillable=not spec.get("required", False) and ftype != "boolean",
        default=spec.get("default"),
        picklist_values=tuple(spec.get("values", ())),
        restricted=spec.get("restricted", False),
        reference_to=(spec["reference_to"],) if spec.get("reference_to") else (),
        relationship_name=spec.get("relationship_name"),
        formula=spec.get("formula"),
    )


def _from_mapping(decl: FieldDecl) -> FieldSchema:
    precision = decl.precision or (18 if decl.type in NUMERIC_TYPES else 0)
    return FieldSchema(
        name=decl.api_name,
        type=decl.type,
        label=decl.label or decl.api_name,
        length=decl.length or (18 if decl.type == "reference" else 0),
        precision=precision,
        scale=decl.scale or 0,
        nillable=decl.type != "boolean",
        default=False if decl.type == "boolean" else None,
        reference_to=(decl.reference_to,) if decl.reference_to else (),
        relationship_name=decl.relationship_name,
        external_id=decl.external_id,
        unique=decl.unique,
        custom=True,
    )


PRIMARY_INFLUENCE_MODEL = "primaryModel"


class Schema:
    """Every object of the emulated org, case-insensitively addressable."""

    def __init__(self, objects: dict[str, ObjectSchema], closed_stages: frozenset[str],
                 won_stages: frozenset[str],
                 influence_models: tuple[tuple[str, str, bool], ...] = ()) -> None:
        self.objects = objects
        # (DeveloperName, MasterLabel, IsDefaultModel) of the campaign influence
        # models the org holds, as if deployed (see emulator/influence.py)
        self.influence_models = influence_models
        self._lower = {name.lower(): name for name in objects}
        self._by_prefix = {o.key_prefix: o.name for o in objects.values()}
        self.closed_stages = closed_stages
        self.won_stages = won_stages

    @classmethod
    def build(cls, mappings: Mappings) -> Schema:
        raw = yaml.safe_load(
            resources.files("connector.emulator").joinpath("standard_objects.yaml")
            .read_text(encoding="utf-8")
        )
        objects: dict[str, ObjectSchema] = {}
        for name, spec in raw["objects"].items():
            fields = _system_fields()
            if spec.get("owned"):
                fields["OwnerId"] = FieldSchema(
                    "OwnerId", "reference", "Owner ID", length=18, reference_to=("User",),
                    relationship_name="Owner", nillable=False, default="__current_user__")
            for fname, fspec in spec["fields"].items():
                fields[fname] = _from_standard(fname, fspec)
            objects[name] = ObjectSchema(name, spec["key_prefix"], fields,
                                         owned=spec.get("owned", False),
                                         read_only=spec.get("read_only", False))

        custom_prefix = 0
        for obj_name, obj_decl in mappings.fields.objects.items():
            if obj_name not in objects:
                if not obj_name.endswith("__c"):
                    raise ValueError(f"mappings declare unknown standard object {obj_name}")
                label = obj_decl.custom_object.label if obj_decl.custom_object else obj_name
                fields = _system_fields()
                fields["OwnerId"] = FieldSchema(
                    "OwnerId", "reference", "Owner ID", length=18, reference_to=("User",),
                    relationship_name="Owner", nillable=False, default="__current_user__")
                fields["Name"] = FieldSchema("Name", "string", "Name", length=80,
                                             createable=False, updateable=False,
                                             formula="autonumber")
                name_format = (obj_decl.custom_object.name_field.get("display_format", "")
                               if obj_decl.custom_object else "")
                objects[obj_name] = ObjectSchema(
                    obj_name, f"a0{ids._BASE62[custom_prefix]}", fields, custom=True,
                    label=label, owned=True, name_format=name_format)
                custom_prefix += 1
            target = objects[obj_name]
            for decl in obj_decl.fields.values():
                if decl.custom and decl.api_name not in target.fields:
                    target.fields[decl.api_name] = _from_mapping(decl)
            target.__post_init__()
        ci = mappings.attribution.campaign_influence
        models = ((PRIMARY_INFLUENCE_MODEL, "Primary Campaign Source", True),) + (
            ((ci.influence_model, ci.label, False),) if ci.enabled else ())
        _link_children(objects, raw, mappings)
        return cls(
            objects,
            closed_stages=frozenset(raw["opportunity_stages"]["closed"]),
            won_stages=frozenset(raw["opportunity_stages"]["won"]),
            influence_models=models,
        )

    def get(self, name: str) -> ObjectSchema | None:
        canonical = self._lower.get(name.lower())
        return self.objects[canonical] if canonical else None

    def by_id(self, record_id: str) -> ObjectSchema | None:
        name = self._by_prefix.get(record_id[:3])
        return self.objects[name] if name else None

    def ddl(self) -> list[str]:
        """CREATE TABLE statements for every object (idempotent)."""
        statements = []
        for obj in self.objects.values():
            cols = ", ".join(
                f'"{f.name}" {f.sql_type}{f.collation}'
                + (" PRIMARY KEY" if f.name == "Id" else "")
                for f in obj.fields.values()
            )
            statements.append(f'CREATE TABLE IF NOT EXISTS "{obj.name}" ({cols})')
            for f in obj.fields.values():
                if f.unique or f.external_id or f.type == "reference" or f.name == "Email" \
                        or f.name == "SystemModstamp":
                    statements.append(
                        f'CREATE INDEX IF NOT EXISTS "ix_{obj.name}_{f.name}" '
                        f'ON "{obj.name}" ("{f.name}")'
                    )
        return statements


# ------------------------------------------------------------------- codec

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def format_datetime(value: datetime) -> str:
    """Salesforce's wire format, always UTC: 2024-01-31T09:30:00.000+0000."""
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}+0000"


def parse_datetime(text: str) -> datetime:
    t = text.strip()
    if t.endswith(("Z", "z")):
        t = t[:-1] + "+00:00"
    t = re.sub(r"([+-]\d{2})(\d{2})$", r"\1:\2", t)
    value = datetime.fromisoformat(t)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)  # Salesforce reads offset-less values as UTC
    return value.astimezone(UTC)


def to_db(f: FieldSchema, value: Any) -> Any:
    """A JSON (or CSV string) value from a client -> the stored value.

    Raises ``ValueError_`` with Salesforce's error code when it does not fit.
    """
    if value is None or (isinstance(value, str) and value == "" and not f.is_text):
        return None
    t = f.type
    try:
        if t == "boolean":
            if isinstance(value, bool):
                return int(value)
            if isinstance(value, str) and value.lower() in ("true", "false", "1", "0"):
                return int(value.lower() in ("true", "1"))
            raise ValueError
        if t == "int":
            if isinstance(value, bool):
                raise ValueError
            number = float(value)
            if not number.is_integer():
                raise ValueError
            return int(number)
        if t in ("double", "currency", "percent"):
            if isinstance(value, bool):
                raise ValueError
            number = float(value)
            if math.isnan(number) or math.isinf(number):
                raise ValueError
            digits = f.precision - f.scale if f.precision else 18
            if abs(number) >= 10 ** digits:
                raise ValueError_(
                    "NUMBER_OUTSIDE_VALID_RANGE",
                    f"{f.name}: value outside of valid range on numeric field: {value}", f.name)
            return round(number, f.scale) if f.scale is not None else number
        if t == "date":
            text = str(value)
            if not _DATE.fullmatch(text[:10]):
                raise ValueError
            date.fromisoformat(text[:10])
            return text[:10]
        if t == "datetime":
            if isinstance(value, datetime):
                return format_datetime(value)
            return format_datetime(parse_datetime(str(value)))
        if t in ("id", "reference"):
            text = str(value)
            if text == "":
                return None
            try:
                return ids.to18(text)
            except ValueError:
                raise ValueError_(
                    "MALFORMED_ID", f"{f.name}: id value of incorrect type: {text}", f.name
                ) from None
    except ValueError_:
        raise
    except (ValueError, TypeError, OverflowError):
        raise ValueError_(
            "INVALID_TYPE_ON_FIELD_IN_RECORD",
            f"{f.name}: value not of required type: {value}", f.name
        ) from None
    # text types
    if isinstance(value, (dict, list)):
        raise ValueError_("INVALID_TYPE_ON_FIELD_IN_RECORD",
                          f"{f.name}: value not of required type: {value}", f.name)
    text = value if isinstance(value, str) else str(value)
    return text if text != "" else None


def from_db(f: FieldSchema, value: Any) -> Any:
    """A stored value -> its JSON representation in API responses."""
    if value is None:
        return None
    if f.type == "boolean":
        return bool(value)
    if f.type == "int":
        return int(value)
    if f.type in ("double", "currency", "percent"):
        return float(value)
    return value
