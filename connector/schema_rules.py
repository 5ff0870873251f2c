"""The Metadata API's rules for what ``connector schema export`` writes.

Salesforce checks these at deploy time and refuses the whole deployment on the
first breach; checking them here, before anything leaves the machine, turns a
failed deploy into an error naming the file and the element. The rules are the
ones of the Metadata API's XSD (element order, required elements, types) plus
the name and length limits the API enforces beyond the schema.

Element order is the order ``sf project retrieve`` writes (the WSDL sequence:
``fullName`` first, then the rest alphabetically), so a retrieved copy of the
deployed metadata diffs clean against the export.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

NS = "http://soap.sforce.com/2006/04/metadata"

# The WSDL sequence of each type, restricted to the elements the export uses.
ORDER: dict[str, tuple[str, ...]] = {
    "CustomField": (
        "fullName", "caseSensitive", "defaultValue", "deleteConstraint", "description",
        "externalId", "inlineHelpText", "label", "length", "precision", "referenceTo",
        "relationshipLabel", "relationshipName", "required", "scale", "trackFeedHistory",
        "trackHistory", "trackTrending", "type", "unique", "visibleLines"),
    "CustomObject": (
        "allowInChatterGroups", "compactLayoutAssignment", "deploymentStatus", "description",
        "enableActivities", "enableBulkApi", "enableFeeds", "enableHistory", "enableLicensing",
        "enableReports", "enableSearch", "enableSharing", "enableStreamingApi",
        "externalSharingModel", "label", "nameField", "pluralLabel", "sharingModel",
        "visibility"),
    "nameField": ("displayFormat", "label", "trackHistory", "type"),
    "PermissionSet": ("description", "fieldPermissions", "hasActivationRequired", "label",
                      "license", "objectPermissions", "userPermissions"),
    "fieldPermissions": ("editable", "field", "readable"),
    "objectPermissions": ("allowCreate", "allowDelete", "allowEdit", "allowRead",
                          "modifyAllRecords", "object", "viewAllRecords"),
}

REQUIRED: dict[str, tuple[str, ...]] = {
    "CustomField": ("fullName", "label", "type"),
    "CustomObject": ("deploymentStatus", "label", "nameField", "pluralLabel", "sharingModel"),
    "nameField": ("label", "type"),
    "PermissionSet": ("label",),
    "fieldPermissions": ("editable", "field", "readable"),
    "objectPermissions": ("allowCreate", "allowDelete", "allowEdit", "allowRead",
                          "modifyAllRecords", "object", "viewAllRecords"),
}

# per field type: the elements it needs
TYPE_REQUIRES: dict[str, tuple[str, ...]] = {
    "Text": ("length",),
    "LongTextArea": ("length", "visibleLines"),
    "Number": ("precision", "scale"),
    "Currency": ("precision", "scale"),
    "Percent": ("precision", "scale"),
    "Lookup": ("referenceTo", "relationshipLabel", "relationshipName", "deleteConstraint"),
    "Checkbox": ("defaultValue",),
}
FIELD_TYPES = frozenset({*TYPE_REQUIRES, "Email", "Url", "Phone", "Date", "DateTime"})
BOOLEAN_ELEMENTS = frozenset({
    "caseSensitive", "externalId", "required", "unique", "trackFeedHistory", "trackHistory",
    "trackTrending", "enableActivities", "enableBulkApi", "enableFeeds", "enableHistory",
    "enableLicensing", "enableReports", "enableSearch", "enableSharing", "enableStreamingApi",
    "allowInChatterGroups", "editable", "readable", "hasActivationRequired", "allowCreate",
    "allowDelete", "allowEdit", "allowRead", "modifyAllRecords", "viewAllRecords"})
MAX_LENGTH = {"label": 40, "pluralLabel": 40, "relationshipLabel": 80, "description": 1000,
              "inlineHelpText": 510, "relationshipName": 40}

# A developer name: a letter, then letters, digits and single underscores, no
# trailing underscore (custom names then take the __c suffix).
_DEVELOPER_NAME = re.compile(r"[A-Za-z](?:[A-Za-z0-9]|_(?!_))*(?<!_)")


def developer_name_problem(name: str, *, limit: int = 40) -> str | None:
    """Why ``name`` (without its ``__c``) is not a valid developer name, or None."""
    if len(name) > limit:
        return f"{name!r} is longer than {limit} characters"
    if not _DEVELOPER_NAME.fullmatch(name):
        return (f"{name!r} must start with a letter and hold only letters, digits and single "
                f"underscores, not ending with one")
    return None


def _local(tag: str) -> str:
    return tag.split("}", 1)[-1]


def _check_order(where: str, element: ET.Element, kind: str) -> list[str]:
    order = ORDER[kind]
    problems: list[str] = []
    positions: list[int] = []
    for child in element:
        name = _local(child.tag)
        if name not in order:
            problems.append(f"{where}: <{name}> is not an element of {kind} the export knows")
            continue
        positions.append(order.index(name))
    if positions != sorted(positions):
        names = [_local(c.tag) for c in element]
        problems.append(f"{where}: elements out of the retrieve order: {', '.join(names)}")
    present = {_local(c.tag) for c in element}
    problems += [f"{where}: <{kind}> lacks <{r}>" for r in REQUIRED.get(kind, ())
                 if r not in present]
    for child in element:
        name, text = _local(child.tag), (child.text or "").strip()
        if name in BOOLEAN_ELEMENTS and text not in ("true", "false"):
            problems.append(f"{where}: <{name}> must be true or false, not {text!r}")
        if name in MAX_LENGTH and len(text) > MAX_LENGTH[name]:
            problems.append(f"{where}: <{name}> is {len(text)} characters, at most "
                            f"{MAX_LENGTH[name]}")
        if name in ORDER and len(child):
            problems += _check_order(f"{where} <{name}>", child, name)
    return problems


def _int(element: ET.Element, name: str) -> int | None:
    child = element.find(f"{{{NS}}}{name}")
    if child is None or child.text is None:
        return None
    try:
        return int(child.text)
    except ValueError:
        return None


def _text(element: ET.Element, name: str) -> str | None:
    child = element.find(f"{{{NS}}}{name}")
    return child.text if child is not None else None


def check_custom_field(where: str, root: ET.Element) -> list[str]:
    problems = _check_order(where, root, "CustomField")
    full_name = _text(root, "fullName") or ""
    if not full_name.endswith("__c"):
        problems.append(f"{where}: fullName {full_name!r} must end in __c")
    elif (p := developer_name_problem(full_name.removesuffix("__c"))) is not None:
        problems.append(f"{where}: fullName {p}")
    ftype = _text(root, "type") or ""
    if ftype not in FIELD_TYPES:
        problems.append(f"{where}: type {ftype!r} is not one the export writes")
        return problems
    present = {_local(c.tag) for c in root}
    problems += [f"{where}: a {ftype} field needs <{r}>" for r in TYPE_REQUIRES.get(ftype, ())
                 if r not in present]
    length = _int(root, "length")
    if ftype == "Text" and length is not None and not 1 <= length <= 255:
        problems.append(f"{where}: Text length {length} must be 1-255")
    if ftype == "LongTextArea" and length is not None and not 256 <= length <= 131072:
        problems.append(f"{where}: LongTextArea length {length} must be 256-131072")
    precision, scale = _int(root, "precision"), _int(root, "scale")
    if precision is not None and not 1 <= precision <= 18:
        problems.append(f"{where}: precision {precision} must be 1-18")
    if precision is not None and scale is not None and not 0 <= scale <= precision:
        problems.append(f"{where}: scale {scale} must be 0-{precision}")
    relationship = _text(root, "relationshipName")
    if relationship is not None and (p := developer_name_problem(relationship)) is not None:
        problems.append(f"{where}: relationshipName {p}")
    if "unique" in present and ftype not in ("Text", "Email", "Number"):
        problems.append(f"{where}: a {ftype} field cannot be unique")
    if "externalId" in present and ftype not in ("Text", "Email", "Number"):
        problems.append(f"{where}: a {ftype} field cannot be an external id")
    return problems


def check_custom_object(where: str, root: ET.Element) -> list[str]:
    return _check_order(where, root, "CustomObject")


def check_permission_set(where: str, root: ET.Element) -> list[str]:
    problems = _check_order(where, root, "PermissionSet")
    for kind, key in (("fieldPermissions", "field"), ("objectPermissions", "object")):
        names = [_text(e, key) or "" for e in root.findall(f"{{{NS}}}{kind}")]
        if names != sorted(names):
            problems.append(f"{where}: {kind} are not sorted by {key}")
        if len(set(names)) != len(names):
            problems.append(f"{where}: {kind} name a {key} twice")
    return problems


def check_export(base: Path) -> list[str]:
    """Every rule breach in an exported ``force-app/main/default`` tree, plus
    relationship names colliding on the object they point at."""
    problems: list[str] = []
    children: dict[tuple[str, str], str] = {}
    for path in sorted(base.rglob("*-meta.xml")):
        where = str(path.relative_to(base))
        root = ET.parse(path).getroot()  # noqa: S314 - our own output, never remote input
        kind = _local(root.tag)
        if root.tag != f"{{{NS}}}{kind}":
            problems.append(f"{where}: root element is not in the metadata namespace")
        if kind == "CustomField":
            problems += check_custom_field(where, root)
            target, relationship = _text(root, "referenceTo"), _text(root, "relationshipName")
            if target and relationship:
                key = (target, relationship.lower())
                if key in children:
                    problems.append(f"{where}: relationshipName {relationship!r} is also used "
                                    f"by {children[key]} on {target}")
                children[key] = where
        elif kind == "CustomObject":
            problems += check_custom_object(where, root)
        elif kind == "PermissionSet":
            problems += check_permission_set(where, root)
        elif kind == "CampaignInfluenceModel":
            problems += [f"{where}: CampaignInfluenceModel needs <{tag}>"
                         for tag in ("isActive", "isDefaultModel", "name")
                         if root.find(f"{{{NS}}}{tag}") is None]
        else:
            problems.append(f"{where}: unexpected metadata type {kind}")
    return problems
