"""Training end to end on generated history: the planted signal is found, shuffled
labels claim no lift, too few positives is refused, results repeat for a seed, and
--apply writes a scoring.yaml the connector loads."""

from __future__ import annotations

import json
import random
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from connector.learn import apply
from connector.learn.history import History
from connector.learn.train import Options, Refused, run
from connector.mappings import load_mappings
from tests.factories import mappings

CONTRACT_MODEL_KEYS = {"roc_auc", "pr_auc", "brier", "deciles", "top_factors"}
DECILE_KEYS = {"decile", "count", "conversions", "rate", "lift", "cumulative_capture"}
WON = Options(target="won", min_positives=60, bootstrap=120, seed=3)


def _run(history: History, options: Options) -> dict:
    m = mappings()
    assert m.scoring is not None
    return run(history, m.scoring, m.sync.free_mail_domains, options).report


def _shuffled(history: History, seed: int) -> History:
    """The same people, touches and outcomes, but outcomes dealt to random people:
    whatever the features say, they no longer say who wins."""
    ids = sorted(history.people)
    outcomes = [history.reached.get(i) for i in ids]
    random.Random(seed).shuffle(outcomes)
    reached = {i: o for i, o in zip(ids, outcomes, strict=True) if o}
    return History(history.people, history.touches, reached, history.source)


def test_planted_signal_is_found_and_beats_the_rules(signal_history: History) -> None:
    r = _run(signal_history, WON)
    learned, rules = r["models"]["learned"], r["models"]["rules"]
    assert r["train"]["positives"] >= 60 and r["test"]["positives"] > 20
    assert learned["roc_auc_ci"][0] > 0.5, learned
    assert learned["roc_auc"] > rules["roc_auc"] + 0.05
    # the planted profile shows among the top factors, with a positive weight
    top = {f["feature"]: f["weight"] for f in learned["top_factors"]}
    assert top.get("fit:executive", 0) > 0 or top.get("fit:vp", 0) > 0, top
    assert learned["deciles"][0]["lift"] > 2


def test_no_signal_claims_no_lift(signal_history: History) -> None:
    r = _run(_shuffled(signal_history, 1), replace(WON, target="opportunity"))
    learned = r["models"]["learned"]
    lo, hi = learned["roc_auc_ci"]
    assert lo <= 0.5 <= hi, learned["roc_auc_ci"]
    assert abs(learned["roc_auc"] - 0.5) < 0.1
    assert r["comparison"]["verdict"].startswith("no evidence of signal")


def test_report_has_the_contract_shape(signal_history: History) -> None:
    r = _run(signal_history, replace(WON, boosting=True, bootstrap=30))
    assert {"target", "horizon_days", "base_rate", "train", "test", "models"} <= set(r)
    for period in ("train", "test"):
        assert {"from", "until", "snapshots", "positives"} <= set(r[period])
    assert r["train"]["until"] <= r["test"]["from"] or r["train"]["until"] is not None
    for name in ("learned", "rules", "boosting"):
        assert set(r["models"][name]) >= CONTRACT_MODEL_KEYS
        assert [d["decile"] for d in r["models"][name]["deciles"]] == list(range(1, 11))
        assert all(set(d) == DECILE_KEYS for d in r["models"][name]["deciles"])
    assert r["base_rate"] == pytest.approx(r["test"]["positives"] / r["test"]["snapshots"],
                                           abs=1e-5)
    json.dumps(r)


def test_refuses_below_the_minimum_and_says_how_much_more(signal_history: History) -> None:
    with pytest.raises(Refused) as refused:
        _run(signal_history, replace(WON, min_positives=100_000))
    payload = refused.value.payload
    assert payload["refused"] == "too_few_positives" and payload["needed"] == 100_000
    assert 0 < payload["positives"] < 100_000
    assert "more days of history" in str(refused.value)


def test_same_seed_same_report(signal_history: History) -> None:
    options = replace(WON, bootstrap=40)
    assert _run(signal_history, options) == _run(signal_history, options)


def test_apply_writes_a_scoring_yaml_the_connector_loads(signal_history: History,
                                                        tmp_path: Path) -> None:
    m = mappings()
    assert m.scoring is not None
    outcome = run(signal_history, m.scoring, m.sync.free_mail_domains,
                  replace(WON, bootstrap=20))
    directory = tmp_path / "mappings"
    shutil.copytree(Path(load_mappings().directory or ""), directory,
                    ignore=shutil.ignore_patterns("__init__.py", "__pycache__"))
    apply.write(directory / "scoring.yaml", m.scoring, outcome)
    loaded = load_mappings(directory).scoring
    assert loaded is not None
    points = outcome.learned.points()
    for rule in loaded.behavior.rules:
        assert rule.points == points[f"rule:{rule.name}"]
    for fit_rule in loaded.fit.rules:
        assert fit_rule.points == points[f"fit:{fit_rule.name}"]
    assert [r.name for r in loaded.behavior.rules] == [r.name for r in m.scoring.behavior.rules]
    assert loaded.exclusions == m.scoring.exclusions
    text = (directory / "scoring.yaml").read_text(encoding="utf-8")
    assert text.startswith("# Learned by `connector score train`")
