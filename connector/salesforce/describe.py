"""Describe with caching, and validating the mappings against the org.

At start-up every mapped field is checked: it exists, its type fits, and it is
createable/updateable as its write policy needs. All problems are reported in
one error, not the first one, so an admin fixes the org in one pass.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from connector.errors import SchemaMismatch
from connector.mappings import FieldDecl, Mappings
from connector.salesforce.client import SalesforceClient

_FAMILIES = {
    "text": {"string", "textarea", "email", "phone", "url", "picklist", "multipicklist",
             "combobox", "encryptedstring"},
    "number": {"int", "double", "currency", "percent", "long"},
    "date": {"date"},
    "datetime": {"datetime"},
    "boolean": {"boolean"},
    "id": {"id", "reference"},
}


def _family(sf_type: str) -> str:
    for family, members in _FAMILIES.items():
        if sf_type in members:
            return family
    return sf_type


@dataclass(frozen=True)
class FieldInfo:
    name: str
    type: str
    length: int
    createable: bool
    updateable: bool
    external_id: bool
    unique: bool
    reference_to: tuple[str, ...]

    @classmethod
    def from_describe(cls, raw: dict[str, Any]) -> FieldInfo:
        return cls(
            name=raw["name"], type=raw["type"], length=int(raw.get("length") or 0),
            createable=bool(raw.get("createable")), updateable=bool(raw.get("updateable")),
            external_id=bool(raw.get("externalId")), unique=bool(raw.get("unique")),
            reference_to=tuple(raw.get("referenceTo") or ()),
        )


class DescribeCache:
    """One describe call per object per run."""

    def __init__(self, client: SalesforceClient) -> None:
        self.client = client
        self._objects: dict[str, dict[str, FieldInfo]] = {}
        self._missing: set[str] = set()

    def fields(self, sobject: str) -> dict[str, FieldInfo] | None:
        """Lower-cased field name -> info, or None when the object does not exist."""
        if sobject in self._missing:
            return None
        if sobject not in self._objects:
            from connector.errors import SalesforceApiError

            try:
                raw = self.client.describe(sobject)
            except SalesforceApiError as exc:
                if exc.status == 404 or exc.error_code == "NOT_FOUND":
                    self._missing.add(sobject)
                    return None
                raise
            self._objects[sobject] = {
                f["name"].lower(): FieldInfo.from_describe(f) for f in raw.get("fields", [])
            }
        return self._objects[sobject]

    def field(self, sobject: str, name: str) -> FieldInfo | None:
        fields = self.fields(sobject)
        return fields.get(name.lower()) if fields else None


def _check_field(sobject: str, key: str, decl: FieldDecl, info: FieldInfo | None) -> list[str]:
    where = f"{sobject}.{decl.api_name} ({key})"
    if info is None:
        kind = "custom field" if decl.custom else "field"
        return [f"{where}: no such {kind} in the org"]
    problems = []
    if _family(info.type) != _family(decl.type):
        problems.append(f"{where}: the org has type {info.type}, the mapping expects {decl.type}")
    if decl.type == "reference" and decl.reference_to and info.reference_to \
            and decl.reference_to not in info.reference_to:
        problems.append(f"{where}: looks up {', '.join(info.reference_to)}, the mapping "
                        f"expects {decl.reference_to}")
    if decl.policy != "never":
        if not info.createable:
            problems.append(f"{where}: not createable by the integration user "
                            f"(field-level security?)")
        if not info.updateable:
            problems.append(f"{where}: not updateable by the integration user "
                            f"(field-level security?)")
    if decl.external_id and not info.external_id:
        problems.append(f"{where}: must be marked External ID in the org")
    if decl.length and info.length and _family(info.type) == "text" \
            and info.length < decl.length:
        problems.append(f"{where}: length {info.length} in the org, the mapping needs "
                        f"{decl.length}")
    return problems


def validate_mappings(cache: DescribeCache, mappings: Mappings,
                      objects: Iterable[str] | None = None) -> list[str]:
    """Every problem with the mapped fields, as readable lines (empty when all is well)."""
    problems: list[str] = []
    wanted = set(objects) if objects is not None else set(mappings.fields.objects)
    for sobject, obj_decl in mappings.fields.objects.items():
        if sobject not in wanted:
            continue
        fields = cache.fields(sobject)
        if fields is None:
            problems.append(f"{sobject}: object not found in the org"
                            + (" (deploy it with `connector schema export`)"
                               if sobject.endswith("__c") else ""))
            continue
        for key, decl in obj_decl.fields.items():
            problems.extend(_check_field(sobject, key, decl, fields.get(decl.api_name.lower())))
    return problems


def require_valid_mappings(cache: DescribeCache, mappings: Mappings,
                           objects: Iterable[str] | None = None) -> None:
    problems = validate_mappings(cache, mappings, objects)
    if problems:
        raise SchemaMismatch(
            f"the org does not match the mappings ({len(problems)} problem"
            f"{'s' if len(problems) != 1 else ''}):\n  - " + "\n  - ".join(problems),
            hint="deploy the fields with `connector schema export --out DIR` and "
                 "`sf project deploy start -d DIR`, grant the integration user "
                 "field-level access, or fix mappings/fields.yaml",
        )
