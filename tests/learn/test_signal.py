"""`generate-data --signal`: only outcomes change, and they follow the documented rule."""

from __future__ import annotations

import json
from pathlib import Path

from connector.datagen.generate import generate
from connector.datagen.world import SIGNAL_ATTENDED, SIGNAL_BASE, SIGNAL_SENIOR


def _rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_signal_changes_only_outcomes(tmp_path: Path) -> None:
    plain = generate(tmp_path / "plain", people=1500, seed=4)
    planted = generate(tmp_path / "planted", people=1500, seed=4, signal=True)
    for name in ("people.csv", "touches.csv", "programs.csv"):
        assert (plain.map_dir / name).read_bytes() == (planted.map_dir / name).read_bytes()
    a, b = _rows(plain.sf_dir / "Opportunity.jsonl"), _rows(planted.sf_dir / "Opportunity.jsonl")
    assert [r["_key"] for r in a] == [r["_key"] for r in b]
    closed = {"Closed Won", "Closed Lost"}
    for x, y in zip(a, b, strict=True):
        assert (x["StageName"] in closed) == (y["StageName"] in closed)
        rest = {k: v for k, v in x.items() if k not in ("StageName", "Probability")}
        assert rest == {k: v for k, v in y.items() if k not in ("StageName", "Probability")}
    assert planted.summary["signal"] is True and plain.summary["signal"] is False


def test_documented_probabilities_span_the_range() -> None:
    assert SIGNAL_BASE + SIGNAL_SENIOR + SIGNAL_ATTENDED <= 1.0
    assert SIGNAL_BASE < 0.2 and SIGNAL_SENIOR > 0.3
