"""``connector schema export``: Salesforce metadata (SFDX source format) from mappings.

The same declarations that drive the connector and the emulator become the
custom fields and objects an admin deploys (``sf project deploy start -d DIR``),
plus a permission set granting the integration user access to each of them and
to the standard objects the sync reads and writes. Every file is checked
against the Metadata API's rules (:mod:`connector.schema_rules`) before the
export reports success, and elements are written in the order
``sf project retrieve`` uses, so a retrieved copy diffs clean.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

from connector.errors import MappingError
from connector.mappings import FieldDecl, Mappings
from connector.schema_influence import influence_model_metadata, influence_model_path
from connector.schema_rules import NS, check_export

PERMISSION_SET = "MAP_Connector_Integration"
_SIMPLE_TYPES = {
    "email": "Email", "url": "Url", "phone": "Phone", "date": "Date", "datetime": "DateTime",
}
_PLURAL = {"Opportunity": "Opportunities", "Campaign": "Campaigns", "Lead": "Leads",
           "Contact": "Contacts", "Account": "Accounts", "CampaignMember": "Campaign Members"}
# Standard objects the sync reads or writes: (create, edit, delete). Read is always
# granted. Campaign create/edit also needs the user's Marketing User flag; Campaign
# Member access follows Campaign (edit) and Lead/Contact (read), it has no object
# permission of its own.
STANDARD_ACCESS: dict[str, tuple[bool, bool, bool]] = {
    "Account": (False, True, False),
    "Campaign": (True, True, False),
    "Contact": (False, True, False),
    "Lead": (True, True, False),
    "Opportunity": (False, False, False),
}
Children = list[tuple[str, "str | Children"]]


def _element(tag: str, children: Children) -> ET.Element:
    root = ET.Element(tag, xmlns=NS)
    _add(root, children)
    return root


def _add(parent: ET.Element, children: Children) -> None:
    for name, value in children:
        child = ET.SubElement(parent, name)
        if isinstance(value, list):
            _add(child, value)
        else:
            child.text = value


def _write(path: Path, element: ET.Element) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    ET.indent(element, space="    ")
    body = ET.tostring(element, encoding="unicode")
    path.write_text('<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n", encoding="utf-8")


def _bare(api_name: str) -> str:
    return api_name.removesuffix("__c")


def relationship_name(sobject: str, decl: FieldDecl, taken: set[str]) -> str:
    """The child relationship name on the looked-up object: ``Lead_First_Touch_Campaign``.

    Salesforce wants a developer name (no ``__``, no trailing ``_``, at most 40
    characters) unique among the children of the object the lookup points at,
    so two objects' lookups to Campaign each get their own. ``taken`` holds the
    lower-cased names already used on that object and is updated.
    """
    base = re.sub(r"[^A-Za-z0-9]+", "_", f"{_bare(sobject)}_{_bare(decl.api_name)}").strip("_")
    if not base or not base[0].isalpha():
        base = f"R_{base}"
    name = base[:40].rstrip("_")
    n = 2
    while name.lower() in taken:
        suffix = f"_{n}"
        name = base[:40 - len(suffix)].rstrip("_") + suffix
        n += 1
    taken.add(name.lower())
    return name


def _label(decl: FieldDecl) -> str:
    return decl.label or _bare(decl.api_name).replace("_", " ")


def _description(sobject: str, decl: FieldDecl) -> str:
    if decl.description:
        return decl.description
    return (f"Maintained by the MAP connector (fields.yaml {sobject}.{decl.api_name}, "
            f"policy {decl.policy}).")


def field_metadata(sobject: str, decl: FieldDecl, *, plural: str = "",
                   taken: set[str] | None = None) -> ET.Element:
    """One CustomField; elements collected by name and written in retrieve order."""
    label = _label(decl)
    description = _description(sobject, decl)
    items: dict[str, str] = {"fullName": decl.api_name, "label": label,
                             "description": description, "inlineHelpText": description,
                             "required": "false"}
    t = decl.type
    if t in ("string", "picklist"):
        items |= {"length": str(decl.length or 255), "type": "Text"}
    elif t == "textarea":
        items |= {"length": str(max(decl.length or 32768, 256)), "type": "LongTextArea",
                  "visibleLines": "3"}
    elif t in _SIMPLE_TYPES:
        items["type"] = _SIMPLE_TYPES[t]
    elif t == "boolean":
        items |= {"defaultValue": "false", "type": "Checkbox"}
        del items["required"]  # a checkbox is never required
    elif t in ("int", "double", "currency", "percent"):
        kind = {"int": "Number", "double": "Number", "currency": "Currency",
                "percent": "Percent"}[t]
        items |= {"precision": str(decl.precision or 18),
                  "scale": str(0 if t == "int" else (decl.scale or 0)), "type": kind}
    elif t == "reference":
        target = decl.reference_to or ""
        items |= {"deleteConstraint": "SetNull", "referenceTo": target,
                  "relationshipLabel": f"{plural or sobject} ({label})"[:80],
                  "relationshipName": relationship_name(sobject, decl,
                                                        taken if taken is not None else set()),
                  "type": "Lookup"}
    else:
        raise MappingError(f"fields.yaml: {sobject}.{decl.api_name} has type {t}, which "
                           f"`schema export` cannot create",
                           hint="create the field by hand or use another type")
    if decl.external_id:
        items["externalId"] = "true"
    if decl.unique:
        items |= {"unique": "true", "caseSensitive": "false"}
    from connector.schema_rules import ORDER

    order = ORDER["CustomField"]
    return _element("CustomField", [(k, items[k]) for k in order if k in items])


def _object_metadata(sobject: str, mappings: Mappings) -> ET.Element:
    co = mappings.fields.objects[sobject].custom_object
    assert co is not None
    name_field = co.name_field
    nf: Children = []
    if "display_format" in name_field:
        nf.append(("displayFormat", name_field["display_format"]))
    nf += [("label", name_field.get("label", "Name")),
           ("type", "AutoNumber" if name_field.get("type") == "autonumber" else "Text")]
    return _element("CustomObject", [
        ("deploymentStatus", "Deployed"),
        ("description", f"Written by the MAP connector ({co.plural_label.lower()})."),
        ("enableActivities", "false"), ("enableBulkApi", "true"), ("enableFeeds", "false"),
        ("enableHistory", "false"), ("enableReports", "true"), ("enableSearch", "true"),
        ("enableSharing", "true"), ("enableStreamingApi", "true"),
        ("label", co.label), ("nameField", nf), ("pluralLabel", co.plural_label),
        ("sharingModel", "ReadWrite"),
    ])


def _plural(sobject: str, mappings: Mappings) -> str:
    co = mappings.fields.objects[sobject].custom_object
    if co is not None:
        return co.plural_label
    return _PLURAL.get(sobject, f"{sobject}s")


def _permission_set(fields: list[str], custom_objects: list[str]) -> ET.Element:
    items: Children = [("description", "Object and field access for the MAP-Salesforce "
                                       "connector's integration user")]
    for name in sorted(fields):
        items.append(("fieldPermissions", [("editable", "true"), ("field", name),
                                           ("readable", "true")]))
    items += [("hasActivationRequired", "false"), ("label", "MAP Connector Integration")]
    access = dict(STANDARD_ACCESS)
    for sobject in custom_objects:
        access[sobject] = (True, True, True)
    for sobject in sorted(access):
        create, edit, delete = access[sobject]
        items.append(("objectPermissions", [
            ("allowCreate", str(create).lower()), ("allowDelete", str(delete).lower()),
            ("allowEdit", str(edit).lower()), ("allowRead", "true"),
            ("modifyAllRecords", "false"), ("object", sobject),
            ("viewAllRecords", "true" if sobject in custom_objects else "false")]))
    return _element("PermissionSet", items)


def export_schema(mappings: Mappings, out: Path, *, api_version: str = "62.0") -> list[Path]:
    """Write the SFDX project; returns the files written.

    Raises ``MappingError`` listing every Metadata API rule the output would
    break (a name too long after a rename, say), so nothing undeployable is
    handed to ``sf``.
    """
    written: list[Path] = []
    base = out / "force-app" / "main" / "default"
    field_names: list[str] = []
    custom_objects: list[str] = []
    taken: dict[str, set[str]] = {}
    for sobject, obj in mappings.fields.objects.items():
        obj_dir = base / "objects" / sobject
        if obj.custom_object is not None:
            path = obj_dir / f"{sobject}.object-meta.xml"
            _write(path, _object_metadata(sobject, mappings))
            written.append(path)
            custom_objects.append(sobject)
        for decl in obj.fields.values():
            if not decl.custom:
                continue
            path = obj_dir / "fields" / f"{decl.api_name}.field-meta.xml"
            _write(path, field_metadata(
                sobject, decl, plural=_plural(sobject, mappings),
                taken=taken.setdefault(decl.reference_to or "", set())))
            written.append(path)
            field_names.append(f"{sobject}.{decl.api_name}")
    influence = influence_model_metadata(mappings)
    if influence is not None:
        ipath = influence_model_path(base, influence[0])
        _write(ipath, influence[1])
        written.append(ipath)
    path = base / "permissionsets" / f"{PERMISSION_SET}.permissionset-meta.xml"
    _write(path, _permission_set(field_names, custom_objects))
    written.append(path)
    problems = check_export(base)
    if problems:
        raise MappingError(
            f"the exported metadata would not deploy ({len(problems)} problem(s)):\n  - "
            + "\n  - ".join(problems),
            hint="rename the fields in mappings/fields.yaml (api_name, label) and export again")
    project = out / "sfdx-project.json"
    project.write_text(json.dumps({
        "packageDirectories": [{"path": "force-app", "default": True}],
        "name": "map-salesforce-connector-metadata",
        "sourceApiVersion": api_version,
    }, indent=2) + "\n", encoding="utf-8")
    written.append(project)
    return written
