"""The product carries its own contract: docs/interfaces.md names every command and
setting the code has, and the README points there rather than at team documents."""

from __future__ import annotations

import re
from pathlib import Path

import typer
from typer.core import TyperGroup

from connector.cli import _mount_optional, app
from connector.config import (
    ConnectorSettings,
    HubSpotSettings,
    MapSettings,
    MarketoSettings,
    SalesforceSettings,
)

ROOT = Path(__file__).resolve().parents[1]
INTERFACES = (ROOT / "docs" / "interfaces.md").read_text()
README = (ROOT / "README.md").read_text()


def _commands() -> list[str]:
    _mount_optional()
    root = typer.main.get_command(app)
    assert isinstance(root, TyperGroup)
    names = []
    for name, command in root.commands.items():
        if isinstance(command, TyperGroup):
            names += [f"{name} {sub}" for sub in command.commands]
        else:
            names.append(name)
    return names


def test_every_command_is_in_the_interfaces_document() -> None:
    for name in _commands():
        assert f"`connector {name}" in INTERFACES, name


def test_every_setting_is_in_the_interfaces_document() -> None:
    for cls in (SalesforceSettings, MapSettings, MarketoSettings, HubSpotSettings,
                ConnectorSettings):
        prefix = str(cls.model_config.get("env_prefix", ""))
        for field in cls.model_fields:
            variable = f"{prefix}{field}".upper()
            assert variable in INTERFACES, variable
    for variable in ("CONNECTOR_CONFIG", "CONNECTOR_LOG_FORMAT", "CONNECTOR_METRICS_FILE"):
        assert variable in INTERFACES


def test_readme_links_the_product_docs_not_team_documents() -> None:
    assert "CONTRACT.md" not in README
    assert "docs/interfaces.md" in README and "CHANGELOG.md" in README
    for target in re.findall(r"\]\(((?:docs/|deploy/)[^)#]+)", README):
        assert (ROOT / target).exists(), target
