"""Back-test metrics: deciles, top k, bands and bootstrap intervals."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from connector.learn import backtest


@pytest.mark.parametrize(("y", "s", "first"), [
    pytest.param([1] * 10 + [0] * 90, list(range(100, 0, -1)),
                 {"count": 10, "conversions": 10, "rate": 1.0, "lift": 10.0,
                  "cumulative_capture": 1.0}, id="perfect"),
    pytest.param([0] * 90 + [1] * 10, list(range(100, 0, -1)),
                 {"count": 10, "conversions": 0, "rate": 0.0, "lift": 0.0,
                  "cumulative_capture": 0.0}, id="inverted"),
    pytest.param([1, 0] * 50, [1.0] * 100,
                 {"count": 10, "conversions": 5, "rate": 0.5, "lift": 1.0,
                  "cumulative_capture": 0.1}, id="all-tied"),
])
def test_first_decile(y: list[int], s: list[float], first: dict[str, float]) -> None:
    got = backtest.deciles(np.array(y, dtype=np.int8), np.array(s, dtype=float))
    assert {k: got[0][k] for k in first} == first
    assert got[0]["decile"] == 1 and len(got) == 10


@settings(max_examples=80, deadline=None)
@given(y=hnp.arrays(np.int8, st.integers(10, 300), elements=st.integers(0, 1)),
       seed=st.integers(0, 10_000))
def test_deciles_account_for_every_snapshot(y: np.ndarray, seed: int) -> None:
    s = np.random.default_rng(seed).random(y.size)
    d = backtest.deciles(y, s)
    assert sum(r["count"] for r in d) == y.size
    assert sum(r["conversions"] for r in d) == int(y.sum())
    caps = [r["cumulative_capture"] for r in d]
    if y.sum():
        assert caps == sorted(caps) and caps[-1] == 1.0
    else:
        assert caps == [None] * 10


def test_top_k_is_per_snapshot_date() -> None:
    y = np.array([1, 0, 0, 0, 1, 1], dtype=np.int8)
    s = np.array([0.9, 0.8, 0.1, 0.9, 0.8, 0.1])
    dates = np.array([1.0, 1.0, 1.0, 2.0, 2.0, 2.0])
    got = backtest.at_top_k(y, s, dates, [1, 2])
    assert got == [{"k": 1, "precision": 0.5, "recall": 0.5},
                   {"k": 2, "precision": 0.5, "recall": 0.75}]


def test_bands_compare_predicted_with_observed() -> None:
    y = np.array([0, 0, 1, 1], dtype=np.int8)
    p = np.array([0.005, 0.005, 0.6, 0.8])
    assert backtest.bands(y, p) == [
        {"band": "0%-1%", "count": 2, "predicted": 0.005, "observed": 0.0},
        {"band": "50%-100%", "count": 2, "predicted": 0.7, "observed": 1.0}]


def test_bootstrap_on_noise_includes_chance_and_resamples_people() -> None:
    rng = np.random.default_rng(1)
    people = np.repeat(np.arange(400), 5)  # five snapshots each
    y = np.repeat((rng.random(400) < 0.2).astype(np.int8), 5)
    noise = rng.random(y.size)
    ci = backtest.bootstrap(y, {"a": noise, "b": rng.random(y.size)}, people, 200, 3)
    lo, hi = ci["roc_auc"]["a"]
    assert lo < 0.5 < hi
    dlo, dhi = ci["difference"]["b"]
    assert dlo < 0 < dhi
    # the same scores on a real signal: the interval is clear of chance
    strong = y + rng.random(y.size)
    lo, _ = backtest.bootstrap(y, {"a": strong}, people, 200, 3)["roc_auc"]["a"]
    assert lo > 0.9


def test_bootstrap_is_deterministic_for_a_seed() -> None:
    rng = np.random.default_rng(5)
    y = (rng.random(300) < 0.3).astype(np.int8)
    s = rng.random(300)
    people = np.arange(300)
    assert backtest.bootstrap(y, {"a": s}, people, 50, 9) == \
        backtest.bootstrap(y, {"a": s}, people, 50, 9)


@settings(max_examples=60, deadline=None)
@given(y=hnp.arrays(np.int8, st.integers(2, 200), elements=st.integers(0, 1)),
       s=st.data())
def test_weighted_metrics_match_scikit_learn(y: np.ndarray, s: st.DataObject) -> None:
    from sklearn.metrics import average_precision_score, roc_auc_score

    if not 0 < y.sum() < y.size:
        return
    scores = np.array(s.draw(st.lists(st.integers(0, 8), min_size=y.size, max_size=y.size)),
                      dtype=float)  # few values: many ties
    w = np.array(s.draw(st.lists(st.integers(0, 3), min_size=y.size, max_size=y.size)),
                 dtype=float)
    if not 0 < (w * y).sum() < w.sum():
        return
    ranked = backtest._Ranked(y, scores)
    assert ranked.auc(w) == pytest.approx(roc_auc_score(y, scores, sample_weight=w))
    assert ranked.average_precision(w) == pytest.approx(
        average_precision_score(y, scores, sample_weight=w))


@settings(max_examples=60, deadline=None)
@given(y=hnp.arrays(np.int8, st.integers(4, 200), elements=st.integers(0, 1)),
       s=st.data())
def test_within_date_metrics_are_per_date_averages(y: np.ndarray, s: st.DataObject) -> None:
    """ROC AUC within dates = the per-date AUCs weighted by positive x negative pairs;
    average precision = the per-date APs weighted by positives (scikit-learn per date)."""
    from sklearn.metrics import average_precision_score, roc_auc_score

    n = y.size
    scores = np.array(s.draw(st.lists(st.integers(0, 6), min_size=n, max_size=n)), dtype=float)
    dates = np.array(s.draw(st.lists(st.sampled_from([10.0, 20.0, 30.0]), min_size=n,
                                     max_size=n)))
    w = np.array(s.draw(st.lists(st.integers(0, 3), min_size=n, max_size=n)), dtype=float)
    pairs = auc_sum = pos_sum = ap_sum = 0.0
    for d in np.unique(dates):
        rows = dates == d
        yd, sd, wd = y[rows], scores[rows], w[rows]
        p, q = float((wd * yd).sum()), float((wd * (1 - yd)).sum())
        if p > 0:
            ap_sum += p * average_precision_score(yd, sd, sample_weight=wd) if q > 0 else p
            pos_sum += p
        if p > 0 and q > 0:
            auc_sum += p * q * roc_auc_score(yd, sd, sample_weight=wd)
            pairs += p * q
    ranked = backtest._Ranked(y, scores, dates)
    if pairs:
        assert ranked.auc(w) == pytest.approx(auc_sum / pairs)
    else:
        assert np.isnan(ranked.auc(w))
    if pos_sum:
        assert ranked.average_precision(w) == pytest.approx(ap_sum / pos_sum)


@pytest.mark.parametrize(("score", "within", "pooled"), [
    pytest.param("date", 0.5, 19 / 30, id="knows-only-the-date"),
    pytest.param("person", 1.0, 1.0, id="ranks-within-each-date"),
])
def test_a_score_that_only_tells_dates_apart_has_no_lift(score: str, within: float,
                                                         pooled: float) -> None:
    """Date 2 converts more than date 1; a score that is just the date looks like lift
    when dates are pooled, and is chance within each date."""
    dates = np.array([1.0] * 4 + [2.0] * 4)
    y = np.array([1, 0, 0, 0, 1, 1, 0, 0], dtype=np.int8)
    s = dates.copy() if score == "date" else y + dates / 10
    report = backtest.model_report(y, s, np.full(8, 0.3), dates, [2], [])
    assert report["roc_auc"] == within
    assert report["roc_auc_pooled"] == pytest.approx(pooled, abs=1e-4)


def test_deciles_within_dates_take_the_top_of_each_date() -> None:
    dates = np.repeat([1.0, 2.0], 10)
    y = np.zeros(20, dtype=np.int8)
    y[[0, 10]] = 1
    s = np.concatenate([np.arange(10, 0, -1), np.arange(10, 0, -1) + 100.0])
    by_date = backtest.deciles(y, s, dates)
    assert by_date[0]["count"] == 2 and by_date[0]["conversions"] == 2
    pooled = backtest.deciles(y, s)
    assert pooled[0]["conversions"] == 1  # pooled, date 2 fills the top two deciles
