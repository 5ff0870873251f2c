"""``connector schema export``: Salesforce metadata (SFDX source format) from mappings.

The same declarations that drive the connector and the emulator become the
custom fields and objects an admin deploys (``sf project deploy start -d DIR``),
plus a permission set granting the integration user access to each of them.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

from connector.mappings import FieldDecl, Mappings
from connector.schema_influence import influence_model_metadata, influence_model_path

NS = "http://soap.sforce.com/2006/04/metadata"
PERMISSION_SET = "MAP_Connector_Integration"
_SIMPLE_TYPES = {
    "email": "Email", "url": "Url", "phone": "Phone", "date": "Date", "datetime": "DateTime",
}


def _element(tag: str, children: list[tuple[str, str | list[tuple[str, str]]]]) -> ET.Element:
    root = ET.Element(tag, xmlns=NS)
    _add(root, children)
    return root


def _add(parent: ET.Element, children: list[tuple[str, str | list[tuple[str, str]]]]) -> None:
    for name, value in children:
        child = ET.SubElement(parent, name)
        if isinstance(value, list):
            _add(child, value)  # type: ignore[arg-type]
        else:
            child.text = value


def _write(path: Path, element: ET.Element) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    ET.indent(element, space="    ")
    body = ET.tostring(element, encoding="unicode")
    path.write_text('<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n", encoding="utf-8")


def field_metadata(sobject: str, decl: FieldDecl) -> ET.Element:
    label = decl.label or decl.api_name.removesuffix("__c").replace("_", " ")
    items: list[tuple[str, str | list[tuple[str, str]]]] = [
        ("fullName", decl.api_name), ("label", label)]
    t = decl.type
    if t in ("string", "picklist"):
        items += [("length", str(decl.length or 255)), ("type", "Text")]
    elif t == "textarea":
        items += [("length", str(decl.length or 32768)), ("type", "LongTextArea"),
                  ("visibleLines", "3")]
    elif t in _SIMPLE_TYPES:
        items.append(("type", _SIMPLE_TYPES[t]))
    elif t == "boolean":
        items += [("defaultValue", "false"), ("type", "Checkbox")]
    elif t in ("int", "double", "currency", "percent"):
        kind = {"int": "Number", "double": "Number", "currency": "Currency",
                "percent": "Percent"}[t]
        items += [("precision", str(decl.precision or 18)),
                  ("scale", str(0 if t == "int" else (decl.scale or 0))), ("type", kind)]
    elif t == "reference":
        relationship = (decl.relationship_name or decl.api_name).removesuffix("__r")
        items += [("deleteConstraint", "SetNull"), ("referenceTo", decl.reference_to or ""),
                  ("relationshipLabel", f"{sobject} ({label})"),
                  ("relationshipName", f"{sobject}_{relationship}"[:40]),
                  ("type", "Lookup")]
    else:
        raise ValueError(f"{sobject}.{decl.api_name}: cannot export type {t}")
    if decl.external_id:
        items.append(("externalId", "true"))
    if decl.unique:
        items += [("unique", "true"), ("caseSensitive", "false")]
    items.append(("required", "false"))
    return _element("CustomField", items)


def export_schema(mappings: Mappings, out: Path, *, api_version: str = "62.0") -> list[Path]:
    """Write the SFDX project; returns the files written."""
    written: list[Path] = []
    base = out / "force-app" / "main" / "default"
    permissions: list[tuple[str, bool]] = []
    custom_objects: list[str] = []
    for sobject, obj in mappings.fields.objects.items():
        obj_dir = base / "objects" / sobject
        if obj.custom_object is not None:
            co = obj.custom_object
            name_field = co.name_field
            nf: list[tuple[str, str]] = [("label", name_field.get("label", "Name")),
                                          ("type", "AutoNumber" if name_field.get("type") ==
                                           "autonumber" else "Text")]
            if "display_format" in name_field:
                nf.insert(0, ("displayFormat", name_field["display_format"]))
            element = _element("CustomObject", [
                ("deploymentStatus", "Deployed"), ("label", co.label),
                ("nameField", nf),
                ("pluralLabel", co.plural_label), ("sharingModel", "ReadWrite"),
            ])
            path = obj_dir / f"{sobject}.object-meta.xml"
            _write(path, element)
            written.append(path)
            custom_objects.append(sobject)
        for decl in obj.fields.values():
            if not decl.custom:
                continue
            path = obj_dir / "fields" / f"{decl.api_name}.field-meta.xml"
            _write(path, field_metadata(sobject, decl))
            written.append(path)
            permissions.append((f"{sobject}.{decl.api_name}", True))
    ps_items: list[tuple[str, str | list[tuple[str, str]]]] = [
        ("description", "Field access for the MAP-Salesforce connector's integration user"),
        ("label", "MAP Connector Integration"),
    ]
    for field_name, editable in sorted(permissions):
        ps_items.append(("fieldPermissions", [("editable", str(editable).lower()),
                                              ("field", field_name), ("readable", "true")]))
    for sobject in custom_objects:
        ps_items.append(("objectPermissions", [
            ("allowCreate", "true"), ("allowDelete", "true"), ("allowEdit", "true"),
            ("allowRead", "true"), ("modifyAllRecords", "false"), ("object", sobject),
            ("viewAllRecords", "true")]))
    influence = influence_model_metadata(mappings)
    if influence is not None:
        path = influence_model_path(base, influence[0])
        _write(path, influence[1])
        written.append(path)
    path = base / "permissionsets" / f"{PERMISSION_SET}.permissionset-meta.xml"
    _write(path, _element("PermissionSet", ps_items))
    written.append(path)
    project = out / "sfdx-project.json"
    project.write_text(json.dumps({
        "packageDirectories": [{"path": "force-app", "default": True}],
        "name": "map-salesforce-connector-metadata",
        "sourceApiVersion": api_version,
    }, indent=2) + "\n", encoding="utf-8")
    written.append(project)
    return written
