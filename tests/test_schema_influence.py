"""`connector schema export` declares the connector's campaign influence model only
when the mappings enable CampaignInfluence output."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from connector.mappings import load_mappings
from connector.schema_export import NS, export_schema

Q = f"{{{NS}}}"


def test_no_influence_model_unless_enabled(tmp_path: Path) -> None:
    files = export_schema(load_mappings(), tmp_path)
    assert not any("campaignInfluenceModels" in str(p) for p in files)


def test_enabled_output_declares_a_locked_custom_model(tmp_path: Path) -> None:
    m = load_mappings()
    ci = m.attribution.campaign_influence.model_copy(update={"enabled": True})
    enabled = m.model_copy(update={
        "attribution": m.attribution.model_copy(update={"campaign_influence": ci})})
    files = export_schema(enabled, tmp_path / "out")
    path = (tmp_path / "out/force-app/main/default/campaignInfluenceModels/"
            "MAP_Connector_Attribution.campaignInfluenceModel-meta.xml")
    assert path in files
    root = ET.parse(path).getroot()  # noqa: S314 - our own output
    assert root.tag == f"{Q}CampaignInfluenceModel"
    values = {c.tag.removeprefix(Q): c.text for c in root}
    assert values["isModelLocked"] == "true" and values["isDefaultModel"] == "false"
    assert values["name"] == "MAP Connector Attribution"
    assert list(values) == sorted(values)  # Metadata API element order
