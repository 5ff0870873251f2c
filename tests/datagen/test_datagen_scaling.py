"""Counts scale with the arguments and stay within realistic ranges."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from connector.datagen import generate
from tests.datagen.conftest import Dataset, load_dataset


@pytest.mark.parametrize("people", [pytest.param(100, id="100"), pytest.param(2000, id="2000")])
def test_counts_scale_with_people(tmp_path: Path, people: int) -> None:
    data = load_dataset(generate(tmp_path, people=people, seed=21))
    s = data.summary
    assert s["people"] == len(data.people) == people
    assert 8.0 <= s["touches"] / people <= 12.5
    assert people / 14 <= s["companies"] <= people / 4
    assert 0.65 * s["companies"] <= s["accounts"] <= 0.95 * s["companies"]
    assert s["contacts"] > 0 and s["leads"] > 0 and s["campaigns"] > 0
    if people >= 2000:
        assert 0.01 * people <= s["opportunities"] <= 0.05 * people
        assert s["converted"] > 0 and s["target_accounts"] > 0
        assert s["opportunities_won"] > 0 and s["opportunities_lost"] > 0
        assert s["opportunities_open"] > 0
    assert 150 <= s["programs"] <= 600


@pytest.mark.parametrize("touches_per_person", [
    pytest.param(0.0, id="none"), pytest.param(3.0, id="three"), pytest.param(25.0, id="many"),
])
def test_touches_per_person_sets_the_average(tmp_path: Path, touches_per_person: float) -> None:
    result = generate(tmp_path, people=800, seed=2, touches_per_person=touches_per_person)
    average = result.summary["touches"] / 800
    if touches_per_person == 0:
        assert result.summary["touches"] == 0
    else:
        assert 0.8 * touches_per_person <= average <= 1.25 * touches_per_person + 0.5


def test_summary_counts_match_the_files(medium: Dataset) -> None:
    s = medium.summary
    assert s["people"] == len(medium.people)
    assert s["touches"] == len(medium.touches)
    assert s["programs"] == len(medium.programs)
    assert s["target_accounts"] == len(medium.tables["target_accounts"])
    counts = medium.manifest["counts"]
    for obj, rows in medium.seed.items():
        assert counts[obj] == len(rows), obj
    assert s["accounts"] == counts["Account"] and s["contacts"] == counts["Contact"]
    assert s["leads"] == counts["Lead"] and s["opportunities"] == counts["Opportunity"]
    assert s["converted"] == sum(1 for r in medium.seed["Lead"] if r.get("IsConverted"))
    assert sum(s["touch_types"].values()) + s["dirty"]["duplicate_touch_id"] == s["touches"]


@pytest.mark.parametrize("kwargs", [
    pytest.param({"people": 0}, id="no-people"),
    pytest.param({"people": 20_000_000}, id="too-many-people"),
    pytest.param({"dirty": -0.1}, id="negative-dirty"),
    pytest.param({"dirty": 1.0}, id="all-dirty"),
    pytest.param({"fmt": "xml"}, id="unknown-format"),
    pytest.param({"as_of": datetime(2026, 1, 1)}, id="naive-as-of"),
    pytest.param({"touches_per_person": -1.0}, id="negative-touches"),
])
def test_invalid_arguments_are_refused_before_writing(tmp_path: Path,
                                                      kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        generate(tmp_path / "out", **kwargs)
    assert not (tmp_path / "out").exists()
