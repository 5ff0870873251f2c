"""The connector's campaign influence model, as SFDX metadata for ``schema export``.

Rows the connector wrote to Salesforce's Primary Campaign Source model would be
wiped whenever Salesforce recalculates it, so ``CampaignInfluence`` output goes
to a custom model of the connector's own. It is declared only when the mappings
enable that output: deploying a ``CampaignInfluenceModel`` fails in an org
without Customizable Campaign Influence. The model is locked, so its rows can
be changed through the API only (by the connector), never by hand in the UI.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from connector.mappings import Mappings

NS = "http://soap.sforce.com/2006/04/metadata"


def influence_model_metadata(mappings: Mappings) -> tuple[str, ET.Element] | None:
    """(file name, element) of the connector's model, or None when not enabled."""
    ci = mappings.attribution.campaign_influence
    if not ci.enabled:
        return None
    root = ET.Element("CampaignInfluenceModel", xmlns=NS)
    for tag, text in (
        ("isActive", "true"), ("isDefaultModel", "false"), ("isModelLocked", "true"),
        ("modelDescription", f"Written by the MAP-Salesforce connector: the {ci.model} "
                             "attribution model (one row per campaign and contact)"),
        ("name", ci.label), ("recordPreference", "RecordsWithAttribution"),
    ):
        ET.SubElement(root, tag).text = text
    return f"{ci.influence_model}.campaignInfluenceModel-meta.xml", root


def influence_model_path(base: Path, file_name: str) -> Path:
    return base / "campaignInfluenceModels" / file_name
