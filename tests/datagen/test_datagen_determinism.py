"""Same arguments, same bytes: demos, tests and benchmarks are reproducible."""

from __future__ import annotations

from datetime import timedelta, timezone
from pathlib import Path

import pytest

from connector.datagen import DEFAULT_AS_OF, generate


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file()}


@pytest.mark.parametrize("fmt", [pytest.param("csv", id="csv"), pytest.param("jsonl", id="jsonl")])
def test_same_arguments_write_byte_identical_files(tmp_path: Path, fmt: str) -> None:
    a = generate(tmp_path / "a", people=250, seed=9, fmt=fmt)  # type: ignore[arg-type]
    b = generate(tmp_path / "b", people=250, seed=9, fmt=fmt)  # type: ignore[arg-type]
    files_a, files_b = _files(tmp_path / "a"), _files(tmp_path / "b")
    assert set(files_a) == set(files_b)
    assert len(files_a) == 4 + 7 + 1  # map tables, seed objects + manifest, summary.json
    for name, content in files_a.items():
        assert content == files_b[name], f"{name} differs between two identical runs"
    assert a.summary == b.summary


@pytest.mark.parametrize("name", [
    pytest.param("map/people.csv", id="people"),
    pytest.param("map/touches.csv", id="touches"),
    pytest.param("sf/Account.jsonl", id="accounts"),
    pytest.param("sf/Lead.jsonl", id="leads"),
])
def test_a_different_seed_gives_different_data(tmp_path: Path, name: str) -> None:
    generate(tmp_path / "a", people=150, seed=1)
    generate(tmp_path / "b", people=150, seed=2)
    assert (tmp_path / "a" / name).read_bytes() != (tmp_path / "b" / name).read_bytes()


def test_as_of_defaults_to_a_fixed_moment_not_now(tmp_path: Path) -> None:
    implicit = generate(tmp_path / "a", people=120, seed=4)
    explicit = generate(tmp_path / "b", people=120, seed=4, as_of=DEFAULT_AS_OF)
    assert _files(tmp_path / "a") == _files(tmp_path / "b")
    assert implicit.summary["as_of"] == explicit.summary["as_of"] == \
        "2026-10-01T12:00:00.000+0000"


def test_as_of_in_another_offset_is_the_same_moment(tmp_path: Path) -> None:
    new_york = DEFAULT_AS_OF.astimezone(timezone(timedelta(hours=-4)))
    generate(tmp_path / "a", people=100, seed=4, as_of=new_york)
    generate(tmp_path / "b", people=100, seed=4)
    assert _files(tmp_path / "a") == _files(tmp_path / "b")


def test_regenerating_into_the_same_directory_replaces_the_other_format(tmp_path: Path) -> None:
    generate(tmp_path, people=100, seed=4, fmt="csv")
    generate(tmp_path, people=100, seed=4, fmt="jsonl")
    names = sorted(p.name for p in (tmp_path / "map").iterdir())
    assert names == ["people.jsonl", "programs.jsonl", "target_accounts.jsonl", "touches.jsonl"]
