"""`connector schema export` writes deployable SFDX metadata for every custom field."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from connector.mappings import load_mappings
from connector.schema_export import NS, export_schema

Q = f"{{{NS}}}"


def test_every_custom_field_and_object_is_exported(tmp_path: Path) -> None:
    m = load_mappings()
    files = export_schema(m, tmp_path)
    base = tmp_path / "force-app" / "main" / "default" / "objects"
    expected = {(obj, d.api_name) for obj, o in m.fields.objects.items()
                for d in o.fields.values() if d.custom}
    found = {(p.parent.parent.name, p.name.removesuffix(".field-meta.xml"))
             for p in base.glob("*/fields/*.field-meta.xml")}
    assert found == expected
    assert (base / "Attribution__c" / "Attribution__c.object-meta.xml") in files
    assert (tmp_path / "sfdx-project.json").exists()


def test_field_metadata_carries_type_length_and_external_id(tmp_path: Path) -> None:
    export_schema(load_mappings(), tmp_path)
    path = tmp_path / "force-app/main/default/objects/Lead/fields/MAP_Id__c.field-meta.xml"
    root = ET.parse(path).getroot()  # noqa: S314 - our own output
    values = {child.tag.removeprefix(Q): child.text for child in root}
    assert values["type"] == "Text" and values["length"] == "80"
    assert values["externalId"] == "true" and values["unique"] == "true"
    lookup = ET.parse(tmp_path / "force-app/main/default/objects/Lead/fields/"  # noqa: S314
                      "First_Touch_Campaign__c.field-meta.xml").getroot()
    assert {c.tag.removeprefix(Q): c.text for c in lookup}["referenceTo"] == "Campaign"


def test_permission_set_grants_every_exported_field(tmp_path: Path) -> None:
    export_schema(load_mappings(), tmp_path)
    ps = next((tmp_path / "force-app/main/default/permissionsets").glob("*.xml"))
    root = ET.parse(ps).getroot()  # noqa: S314
    fields = {fp.find(f"{Q}field").text for fp in root.findall(f"{Q}fieldPermissions")}  # type: ignore[union-attr]
    assert "Lead.Original_Source__c" in fields and "Attribution__c.Credit__c" in fields
