"""scoring.yaml validates like every mapping: errors name the file, the line and the key."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from connector.errors import MappingError
from connector.mappings import bundled_dir, load_mappings


def _copy(tmp_path: Path) -> Path:
    target = tmp_path / "mappings"
    shutil.copytree(bundled_dir(), target)
    return target


def test_bundled_scoring_loads() -> None:
    scoring = load_mappings().scoring
    assert scoring is not None
    assert scoring.mql.threshold == 100 and scoring.stages.sla_days == {"MQL": 30, "SAL": 30}
    assert scoring.accounts.engagement_window_days == 90


@pytest.mark.parametrize(("old", "new", "key"), [
    pytest.param("url: '/pricing', points: 15", "url: '/pricing(', points: 15",
                 "behavior.rules.4.url", id="bad-regex"),
    pytest.param("field: employees, min: 200, below: 1000", "field: employees, min: 2000, "
                 "below: 1000", "fit.rules.8", id="empty-band"),
    pytest.param("field: title, pattern: '\\b(student|intern)\\b'}",
                 "field: title, pattern: 'x', in: [a]}", "exclusions.1", id="two-tests"),
    pytest.param("field: industry, in: [Education", "field: industry, min: 3, in: [Education",
                 "exclusions.3", id="band-on-text-field"),
    pytest.param("  threshold: 100", "  threshold: lots", "mql.threshold", id="not-a-number"),
    pytest.param("sla_days: {MQL: 30, SAL: 30}", "sla_days: {MQL: 0, SAL: 30}",
                 "stages.sla_days", id="sla-positive"),
    pytest.param("{Aware: 10, Consideration: 50, Decision: 150}",
                 "{Aware: 10, Consideration: 200, Decision: 150}",
                 "accounts", id="stage-thresholds-grow"),
    pytest.param("{name: trial_start,", "{name: demo_request,", "behavior",
                 id="duplicate-rule-name"),
])
def test_errors_name_file_line_and_key(tmp_path: Path, old: str, new: str, key: str) -> None:
    d = _copy(tmp_path)
    text = (d / "scoring.yaml").read_text()
    assert old in text
    changed = text.replace(old, new, 1)
    (d / "scoring.yaml").write_text(changed)
    with pytest.raises(MappingError) as info:
        load_mappings(d)
    message = str(info.value)
    line = next(i for i, t in enumerate(changed.splitlines(), 1) if new.splitlines()[0] in t)
    assert "scoring.yaml:" in message and key in message
    if key.count("."):  # errors on a leaf point at its own line
        assert f"scoring.yaml:{line}" in message


@pytest.mark.parametrize(("old", "new", "needle"), [
    pytest.param("touch_types: [demo_request], points: 60",
                 "touch_types: [demo_requested], points: 60", "demo_requested",
                 id="unknown-touch-type"),
    pytest.param("channels: [Content Syndication]", "channels: [Syndication Deals]",
                 "Syndication Deals", id="unknown-channel"),
])
def test_cross_file_references(tmp_path: Path, old: str, new: str, needle: str) -> None:
    d = _copy(tmp_path)
    text = (d / "scoring.yaml").read_text()
    assert old in text
    (d / "scoring.yaml").write_text(text.replace(old, new, 1))
    with pytest.raises(MappingError, match=needle):
        load_mappings(d)


def test_a_directory_without_scoring_yaml_uses_the_bundled_rules(tmp_path: Path) -> None:
    d = tmp_path / "only-sync"
    d.mkdir()
    shutil.copy(bundled_dir() / "sync.yaml", d / "sync.yaml")
    assert load_mappings(d).scoring == load_mappings().scoring
