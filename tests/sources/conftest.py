"""Shared fixtures of the source tests: the bundled mappings, a fake clock, settings."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import SecretStr

from connector.config import HubSpotSettings, MarketoSettings
from connector.mappings import Mappings, load_mappings
from connector.sources.clock import FakeClock
from tests.sources.marketo_fake import BASE, CLIENT_ID, CLIENT_SECRET, IDENTITY

AS_OF = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def mappings() -> Mappings:
    return load_mappings()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def marketo_settings(**overrides: object) -> MarketoSettings:
    values: dict[str, object] = {
        "base_url": BASE, "identity_url": IDENTITY, "client_id": CLIENT_ID,
        "client_secret": SecretStr(CLIENT_SECRET), "run_call_budget": 10_000}
    values.update(overrides)
    return MarketoSettings(**values)  # type: ignore[arg-type]


def hubspot_settings(**overrides: object) -> HubSpotSettings:
    values: dict[str, object] = {"base_url": "https://api.hubapi.com",
                                 "token": SecretStr("pat-na1-test-token")}
    values.update(overrides)
    return HubSpotSettings(**values)  # type: ignore[arg-type]
