"""Mappings load, validate across files, and name file, line and key in errors."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from connector.errors import MappingError
from connector.mappings import bundled_dir, channel_key, load_mappings


def test_bundled_mappings_load_and_resolve_channel_spellings() -> None:
    m = load_mappings()
    assert m.channels.canonical("paid_search") == "Paid Search"
    assert m.channels.canonical("  PAID-search ") == "Paid Search"
    assert m.channels.canonical("Trade Show") == "Event"
    assert m.channels.canonical("nonsense") is None
    assert m.touches.default_status == "Sent"
    assert channel_key("Paid_Search") == "paid search"


def _copy(tmp_path: Path) -> Path:
    target = tmp_path / "mappings"
    shutil.copytree(bundled_dir(), target)
    return target


def test_an_error_names_the_file_the_line_and_the_key(tmp_path: Path) -> None:
    d = _copy(tmp_path)
    text = (d / "fields.yaml").read_text()
    text = text.replace("original_source: {api_name: Original_Source__c, label: Original "
                        "Source, type: string, length: 80, policy: write_once,",
                        "original_source: {api_name: Original_Source__c, label: Original "
                        "Source, type: string, length: 80, policy: sometimes,")
    assert "policy: sometimes" in text
    (d / "fields.yaml").write_text(text)
    with pytest.raises(MappingError) as info:
        load_mappings(d)
    message = str(info.value)
    assert "fields.yaml:" in message
    line = next(i for i, t in enumerate(text.splitlines(), 1) if "sometimes" in t)
    assert f"fields.yaml:{line}" in message
    assert "policy" in message


def test_cross_file_references_are_checked(tmp_path: Path) -> None:
    d = _copy(tmp_path)
    (d / "touches.yaml").write_text((d / "touches.yaml").read_text().replace(
        "member_status: Attended}", "member_status: Showed Up}", 1))
    with pytest.raises(MappingError, match="Showed Up"):
        load_mappings(d)


def test_responded_statuses_must_follow_the_others(tmp_path: Path) -> None:
    d = _copy(tmp_path)
    text = (d / "touches.yaml").read_text().replace(
        "  - {label: Sent, responded: false, default: true}",
        "  - {label: Sent, responded: true, default: true}")
    (d / "touches.yaml").write_text(text)
    with pytest.raises(MappingError, match="HasResponded"):
        load_mappings(d)


def test_a_directory_with_only_sync_yaml_falls_back_to_the_bundled_files(
        tmp_path: Path) -> None:
    d = tmp_path / "custom"
    d.mkdir()
    (d / "sync.yaml").write_text("create_leads: never\n")
    m = load_mappings(d)
    assert m.sync.create_leads == "never"
    assert m.channels.canonical("Webinar") == "Webinar"


def test_broken_yaml_is_reported_with_the_file(tmp_path: Path) -> None:
    d = _copy(tmp_path)
    (d / "channels.yaml").write_text("channels: [unclosed\n")
    with pytest.raises(MappingError, match=r"channels\.yaml: not valid YAML"):
        load_mappings(d)
