"""Defect 12: an error in a shared block points at the field's line, once."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from connector.errors import MappingError
from connector.mappings import bundled_dir, load_mappings


def test_an_error_in_person_fields_is_reported_once_at_its_own_line(tmp_path: Path) -> None:
    for f in bundled_dir().glob("*.yaml"):
        shutil.copy(f, tmp_path / f.name)
    path = tmp_path / "fields.yaml"
    lines = path.read_text().splitlines()
    target = next(i for i, line in enumerate(lines) if line.strip().startswith("fit_score:"))
    lines[target] = lines[target].replace("policy: always", "policy: sometimes")
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(MappingError) as info:
        load_mappings(tmp_path)
    message = info.value.message
    problems = [p for p in message.splitlines() if "fit_score" in p]
    assert len(problems) == 1, message  # once, not once per object that merges it
    assert f"fields.yaml:{target + 1}:" in problems[0]  # the field's line, not the block's
    assert "objects.Lead.fields.fit_score" in problems[0]  # and where it is reused
