"""The shared rate limiter, call budget, retry policy and open_source dispatch."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from connector.config import (
    ConnectorSettings,
    HubSpotSettings,
    MapSettings,
    MarketoSettings,
    SalesforceSettings,
    Settings,
)
from connector.errors import (
    BudgetExhausted,
    ConfigError,
    SourceError,
    SourceQuotaExhausted,
    SourceRateLimited,
)
from connector.mappings import Mappings
from connector.sources import open_source
from connector.sources.api_support import CallBudget, SlidingWindowLimiter, with_retries
from connector.sources.base import SourceBudgetExhausted
from connector.sources.clock import FakeClock
from connector.sources.files import FileExportReader
from connector.sources.hubspot import HubSpotReader
from connector.sources.marketo import MarketoReader
from connector.sources.timestamps import parse_api_timestamp
from tests.sources.conftest import AS_OF, hubspot_settings, marketo_settings


def test_limiter_never_allows_more_than_max_calls_in_any_window() -> None:
    clock = FakeClock()
    limiter = SlidingWindowLimiter(3, 10.0, clock)
    stamps = []
    for _ in range(10):
        limiter.acquire()
        stamps.append(clock.monotonic())
    for i, t in enumerate(stamps):
        assert sum(1 for s in stamps[i:] if s < t + 10.0) <= 3


def test_budget_is_both_a_quota_stop_and_a_budget_stop() -> None:
    budget = CallBudget(2, "Test")
    budget.spend()
    budget.spend()
    with pytest.raises(SourceBudgetExhausted) as err:
        budget.spend()
    assert isinstance(err.value, SourceQuotaExhausted) and isinstance(err.value, BudgetExhausted)
    assert err.value.exit_code == 4


@pytest.mark.parametrize(("failures", "error", "succeeds"), [
    pytest.param(2, SourceRateLimited("slow down", retry_after=7), True, id="retriable"),
    pytest.param(9, SourceRateLimited("slow down"), False, id="attempts-spent"),
    pytest.param(1, SourceError("bad request"), False, id="fatal-not-retried"),
])
def test_retries_only_retriable_errors_and_honours_retry_after(
        failures: int, error: Exception, succeeds: bool) -> None:
    clock = FakeClock()
    calls = {"n": 0}

    def call() -> str:
        calls["n"] += 1
        if calls["n"] <= failures:
            raise error
        return "ok"

    if succeeds:
        assert with_retries(call, clock=clock, attempts=4) == "ok"
        assert all(s >= 7 for s in clock.sleeps)
    else:
        with pytest.raises(type(error)):
            with_retries(call, clock=clock, attempts=4)
        assert calls["n"] == (1 if not error.retriable else 4)  # type: ignore[attr-defined]


@pytest.mark.parametrize(("raw", "iso"), [
    pytest.param("2015-05-21T22:45:13Z+0000", "2015-05-21T22:45:13+00:00", id="asset-api"),
    pytest.param("2014-09-17T22:31:49+0000", "2014-09-17T22:31:49+00:00", id="plus-0000"),
    pytest.param(1709650800000, "2024-03-05T15:00:00+00:00", id="epoch-ms"),
    pytest.param("1709650800000", "2024-03-05T15:00:00+00:00", id="epoch-ms-text"),
])
def test_api_timestamps_parse_to_utc(raw: str | int, iso: str) -> None:
    parsed = parse_api_timestamp(raw)
    assert parsed is not None and parsed.isoformat() == iso


def _settings(kind: str, tmp: Path) -> Settings:
    return Settings(salesforce=SalesforceSettings(), map=MapSettings(kind=kind, files_dir=tmp),
                    marketo=marketo_settings(), hubspot=hubspot_settings(),
                    connector=ConnectorSettings())


@pytest.mark.parametrize(("kind", "reader"), [
    pytest.param("files", FileExportReader, id="files"),
    pytest.param("marketo", MarketoReader, id="marketo"),
    pytest.param("hubspot", HubSpotReader, id="hubspot"),
])
def test_open_source_picks_the_reader_of_map_kind(tmp_path: Path, mappings: Mappings,
                                                  kind: str, reader: type) -> None:
    assert isinstance(open_source(_settings(kind, tmp_path), mappings, as_of=AS_OF), reader)


def test_open_source_refuses_naive_as_of_and_missing_files_dir(tmp_path: Path,
                                                               mappings: Mappings) -> None:
    with pytest.raises(ConfigError):
        open_source(_settings("files", tmp_path), mappings, as_of=datetime(2024, 1, 1))
    settings = Settings(salesforce=SalesforceSettings(), map=MapSettings(kind="files"),
                        marketo=MarketoSettings(), hubspot=HubSpotSettings(),
                        connector=ConnectorSettings())
    with pytest.raises(ConfigError, match="MAP_FILES_DIR"):
        open_source(settings, mappings, as_of=AS_OF)
