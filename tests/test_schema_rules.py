"""`connector schema export` writes metadata the Metadata API accepts, in retrieve order.

The rules module is tested on hand-made breaches (each must be caught), and the
export of the bundled mappings, and of renamed ones, must pass every rule.
"""

from __future__ import annotations

import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connector.errors import MappingError
from connector.mappings import FieldDecl, bundled_dir, load_mappings
from connector.schema_export import export_schema, relationship_name
from connector.schema_rules import (
    NS,
    ORDER,
    check_custom_field,
    check_export,
    check_permission_set,
    developer_name_problem,
)

Q = f"{{{NS}}}"
BASE = "force-app/main/default"


def _xml(tag: str, children: list[tuple[str, str]]) -> ET.Element:
    root = ET.Element(f"{Q}{tag}")
    for name, text in children:
        ET.SubElement(root, f"{Q}{name}").text = text
    return root


GOOD_TEXT = [("fullName", "Good__c"), ("description", "d"), ("label", "Good"),
             ("length", "80"), ("required", "false"), ("type", "Text")]


def _replace(items: list[tuple[str, str]], name: str, value: str | None) -> list[tuple[str, str]]:
    if value is None:
        return [(k, v) for k, v in items if k != name]
    return [(k, value if k == name else v) for k, v in items]


@pytest.mark.parametrize(("children", "expected"), [
    pytest.param(GOOD_TEXT, None, id="valid-text"),
    pytest.param(_replace(GOOD_TEXT, "fullName", "Bad__Name__c"), "single underscores",
                 id="double-underscore-name"),
    pytest.param(_replace(GOOD_TEXT, "fullName", "Trailing___c"), "not ending",
                 id="trailing-underscore-name"),
    pytest.param(_replace(GOOD_TEXT, "fullName", "A" * 41 + "__c"), "longer than 40",
                 id="name-too-long"),
    pytest.param(_replace(GOOD_TEXT, "fullName", "NoSuffix"), "must end in __c",
                 id="no-suffix"),
    pytest.param(_replace(GOOD_TEXT, "label", "L" * 41), "<label> is 41 characters",
                 id="label-too-long"),
    pytest.param(_replace(GOOD_TEXT, "length", None), "needs <length>", id="text-no-length"),
    pytest.param(_replace(GOOD_TEXT, "length", "300"), "must be 1-255", id="text-too-long"),
    pytest.param(_replace(GOOD_TEXT, "label", None), "lacks <label>", id="no-label"),
    pytest.param(_replace(GOOD_TEXT, "required", "yes"), "true or false", id="bad-boolean"),
    pytest.param([GOOD_TEXT[0], GOOD_TEXT[2], GOOD_TEXT[1], *GOOD_TEXT[3:]], "out of the "
                 "retrieve order", id="order"),
    pytest.param([("fullName", "N__c"), ("label", "N"), ("precision", "20"), ("scale", "2"),
                  ("type", "Number")], "precision 20", id="precision"),
    pytest.param([("fullName", "N__c"), ("label", "N"), ("precision", "5"), ("scale", "6"),
                  ("type", "Number")], "scale 6", id="scale"),
    pytest.param([("fullName", "R__c"), ("deleteConstraint", "SetNull"), ("label", "R"),
                  ("referenceTo", "Campaign"), ("relationshipLabel", "Leads (R)"),
                  ("relationshipName", "Lead__R"), ("type", "Lookup")], "relationshipName",
                 id="relationship-double-underscore"),
    pytest.param([("fullName", "R__c"), ("label", "R"), ("referenceTo", "Campaign"),
                  ("type", "Lookup")], "needs <relationshipName>", id="lookup-incomplete"),
    pytest.param([("fullName", "D__c"), ("label", "D"), ("type", "DateTime"),
                  ("unique", "true")], "cannot be unique", id="unique-datetime"),
])
def test_custom_field_rules(children: list[tuple[str, str]], expected: str | None) -> None:
    problems = check_custom_field("f", _xml("CustomField", children))
    if expected is None:
        assert problems == []
    else:
        assert any(expected in p for p in problems), problems


def test_permission_set_entries_must_be_sorted_and_unique() -> None:
    root = _xml("PermissionSet", [("label", "x")])
    for name in ("Lead.B__c", "Lead.A__c", "Lead.A__c"):
        fp = ET.SubElement(root, f"{Q}fieldPermissions")
        for k, v in (("editable", "true"), ("field", name), ("readable", "true")):
            ET.SubElement(fp, f"{Q}{k}").text = v
    root.insert(0, root[0])  # label first: out of order as well
    problems = check_permission_set("ps", root)
    assert any("not sorted" in p for p in problems)
    assert any("twice" in p for p in problems)
    assert any("retrieve order" in p for p in problems)


@pytest.mark.parametrize(("name", "ok"), [
    pytest.param("Lead_First_Touch", True, id="plain"),
    pytest.param("A1_b2", True, id="digits"),
    pytest.param("Attribution__c_Opportunity", False, id="double-underscore"),
    pytest.param("Trailing_", False, id="trailing"),
    pytest.param("1Leading", False, id="digit-first"),
    pytest.param("x" * 40, True, id="forty"),
    pytest.param("x" * 41, False, id="forty-one"),
])
def test_developer_names(name: str, ok: bool) -> None:
    assert (developer_name_problem(name) is None) is ok


_names = st.from_regex(r"[A-Za-z][A-Za-z0-9_]{0,60}", fullmatch=True)


@settings(max_examples=200, deadline=None)
@given(objects=st.lists(_names, min_size=1, max_size=6), fields=st.lists(_names, min_size=1,
                                                                         max_size=6))
def test_relationship_names_are_valid_and_unique_per_target(objects: list[str],
                                                            fields: list[str]) -> None:
    taken: set[str] = set()
    made = []
    for obj in objects:
        for field in fields:
            decl = FieldDecl(api_name=field + "__c", type="reference", reference_to="Campaign",
                             policy="always")
            made.append(relationship_name(obj + "__c", decl, taken))
    assert all(developer_name_problem(n) is None for n in made), made
    assert len({n.lower() for n in made}) == len(made)


def test_bundled_export_passes_every_rule_and_is_complete(tmp_path: Path) -> None:
    mappings = load_mappings()
    export_schema(mappings, tmp_path)
    base = tmp_path / BASE
    assert check_export(base) == []
    for path in base.rglob("*.field-meta.xml"):
        values = {c.tag.removeprefix(Q): c.text for c in ET.parse(path).getroot()}  # noqa: S314
        assert values.get("description") and values.get("inlineHelpText"), path
        if values["type"] == "Lookup":
            assert "__" not in (values["relationshipName"] or "")
            assert "(" in (values["relationshipLabel"] or "")  # a label, not an API name
    obj = ET.parse(base / "objects/Attribution__c/Attribution__c.object-meta.xml").getroot()  # noqa: S314
    assert obj.find(f"{Q}enableReports").text == "true"  # type: ignore[union-attr]
    ps = ET.parse(next((base / "permissionsets").glob("*.xml"))).getroot()  # noqa: S314
    access = {e.find(f"{Q}object").text: {c.tag.removeprefix(Q): c.text for c in e}  # type: ignore[union-attr]
              for e in ps.findall(f"{Q}objectPermissions")}
    assert set(access) == {"Account", "Attribution__c", "Campaign", "Contact", "Lead",
                           "Opportunity", "Funnel_Snapshot__c"}
    assert access["Lead"]["allowCreate"] == "true" and access["Campaign"]["allowEdit"] == "true"
    assert access["Opportunity"]["allowEdit"] == "false"
    assert [c.tag.removeprefix(Q) for c in ps][-1] == "objectPermissions"


def test_bundled_mappings_describe_every_custom_field() -> None:
    for obj, decl in load_mappings().fields.objects.items():
        for key, field in decl.fields.items():
            if field.custom:
                assert field.description, f"{obj}.{key} has no description"


def test_files_are_written_in_retrieve_order(tmp_path: Path) -> None:
    export_schema(load_mappings(), tmp_path)
    path = tmp_path / BASE / "objects/Lead/fields/MAP_Id__c.field-meta.xml"
    tags = [c.tag.removeprefix(Q) for c in ET.parse(path).getroot()]  # noqa: S314
    assert tags == sorted(tags, key=ORDER["CustomField"].index)
    assert tags[0] == "fullName"


def _renamed(tmp_path: Path, old: str, new: str) -> Path:
    target = tmp_path / "mappings"
    shutil.copytree(bundled_dir(), target)
    fields = target / "fields.yaml"
    fields.write_text(fields.read_text().replace(old, new))
    return target


def test_long_renamed_lookups_get_distinct_relationship_names(tmp_path: Path) -> None:
    long = "First_Touch_Campaign_For_The_Current_Cycle"  # 42 characters: cut at 40
    mappings = load_mappings(_renamed(tmp_path, "api_name: First_Touch_Campaign__c",
                                      f"api_name: {long[:38]}__c"))
    export_schema(mappings, tmp_path / "out")
    names = [c.text for p in (tmp_path / "out" / BASE).rglob("*.field-meta.xml")
             for c in ET.parse(p).getroot() if c.tag == f"{Q}relationshipName"]  # noqa: S314
    assert len(names) == len({n.lower() for n in names if n})
    assert all(n and len(n) <= 40 and not n.endswith("_") for n in names)


def test_an_undeployable_rename_is_refused_naming_the_file(tmp_path: Path) -> None:
    mappings = load_mappings(_renamed(tmp_path, "label: Original Source Detail,",
                                      "label: " + "Very " * 10 + "Long,"))
    with pytest.raises(MappingError) as info:
        export_schema(mappings, tmp_path / "out")
    assert "Original_Source_Detail__c.field-meta.xml" in info.value.message
    assert "<label>" in info.value.message
