"""Training end to end on generated history: the planted signal is found, shuffled
labels claim no lift, too few positives is refused, results repeat for a seed, and
--apply writes a scoring.yaml the connector loads."""

from __future__ import annotations

import json
import random
import shutil
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from connector.learn import apply
from connector.learn.history import History, Reached
from connector.learn.train import Options, Refused, run
from connector.mappings import load_mappings
from tests.factories import T0, mappings, person, touch

CONTRACT_MODEL_KEYS = {"roc_auc", "pr_auc", "brier", "deciles", "top_factors"}
DECILE_KEYS = {"decile", "count", "conversions", "rate", "lift", "cumulative_capture"}
WON = Options(target="won", min_positives=60, bootstrap=120, seed=3)


def _run(history: History, options: Options) -> dict:
    m = mappings()
    assert m.scoring is not None
    return run(history, m.scoring, m.sync.free_mail_domains, options).report


def _no_signal(people: int, seed: int) -> History:
    """A stationary world where outcomes are drawn independently of everything a
    snapshot can see: people created uniformly over two years, random touches of
    random types, and 30% of people reaching the target at a uniformly random time."""
    rng = random.Random(seed)
    types = ("web_visit", "form_fill", "email_open", "email_click", "webinar_attended",
             "demo_request", "content_download", "ad_click")
    urls = ("https://x.example/pricing", "https://x.example/blog/a", None)
    titles = ("VP Marketing", "Marketing Manager", "CEO", "Analyst", None)
    ps, ts, reached = {}, {}, {}
    for i in range(people):
        mid = f"M-{i:05d}"
        created = rng.randint(0, 700)
        ps[mid] = person(mid, f"p{i}@acme{i % 50}.com", title=rng.choice(titles),
                         created_at=T0 + timedelta(days=created))
        ts[mid] = sorted((touch(f"T-{i}-{j}", rng.randint(created, 730), rng.choice(types),
                                map_id=mid, url=rng.choice(urls))
                          for j in range(rng.randint(1, 12))), key=lambda t: t.order_key)
        if rng.random() < 0.3:
            at = T0 + timedelta(days=rng.uniform(created, 730))
            reached[mid] = [Reached(at, at)]
    return History(ps, ts, reached, "no-signal world")


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
    r = _run(_no_signal(4000, 1), replace(WON, target="opportunity"))
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
    # the last training label is known before the first test snapshot (ISO strings, UTC)
    assert r["train"]["until"] <= r["settings"]["train_until"] <= r["test"]["from"]
    for name in ("learned", "rules", "boosting"):
        assert set(r["models"][name]) >= CONTRACT_MODEL_KEYS
        assert [d["decile"] for d in r["models"][name]["deciles"]] == list(range(1, 11))
        assert all(set(d) == DECILE_KEYS for d in r["models"][name]["deciles"])
    assert r["level"] == "person"
    boosting = r["models"]["boosting"]["top_factors"]
    assert len(boosting) == 15 and all(f["weight"] is not None for f in boosting)
    assert [f["weight"] for f in boosting] == sorted((f["weight"] for f in boosting),
                                                     reverse=True)
    for name in ("learned", "rules"):
        assert 0 <= r["models"][name]["roc_auc_pooled"] <= 1
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
