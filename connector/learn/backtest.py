"""Back-test metrics on the test snapshots, with bootstrap confidence intervals.

ROC AUC and PR AUC compare snapshots of the same date only (see ``_Ranked``):
the headline figures are per-date values averaged, so a score cannot gain by
telling dates apart. The pooled figures are reported alongside.

Confidence intervals resample *people* (or accounts), not snapshots: one
person appears on several snapshot dates, and treating those rows as
independent would make intervals too narrow and let data with no signal claim
lift. The interval of
the AUC difference (learned minus rules) is computed on the same resamples,
so the two scores are compared on the same people each time.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from itertools import pairwise
from typing import Any

import numpy as np
import numpy.typing as npt

Floats = npt.NDArray[np.float64]
BANDS = (0.0, 0.01, 0.02, 0.05, 0.1, 0.2, 0.35, 0.5, 1.0)


def _auc(y: npt.NDArray[np.int8], s: Floats, dates: Floats | None = None) -> float | None:
    """ROC AUC within snapshot dates (pooled when ``dates`` is None); None when no date
    has both a positive and a negative."""
    if not 0 < y.sum() < y.size:
        return None
    value = _Ranked(y, s, dates).auc(np.ones(y.size))
    return None if np.isnan(value) else value


def _pr_auc(y: npt.NDArray[np.int8], s: Floats, dates: Floats | None = None) -> float | None:
    if not 0 < y.sum() < y.size:
        return None
    return _Ranked(y, s, dates).average_precision(np.ones(y.size))


def deciles(y: npt.NDArray[np.int8], s: Floats,
            dates: Floats | None = None) -> list[dict[str, Any]]:
    """Ten equal-count groups by score, decile 1 = highest (ties keep snapshot order).
    With ``dates``, each snapshot date is cut into its own ten groups and decile i
    gathers group i of every date: the top tenth of each period, as sales would work
    it, so a score cannot fill decile 1 with the dates that happened to convert more."""
    code = _codes(dates, y.size)
    parts: list[list[npt.NDArray[np.intp]]] = [[] for _ in range(10)]
    for c in range(int(code.max()) + 1 if code.size else 0):
        rows = np.flatnonzero(code == c)
        order = rows[np.argsort(-s[rows], kind="stable")]
        for i, part in enumerate(np.array_split(order, 10)):
            parts[i].append(part)
    total = int(y.sum())
    base = total / y.size if y.size else 0.0
    out: list[dict[str, Any]] = []
    captured = 0
    for i, pieces in enumerate(parts, start=1):
        part = np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.intp)
        count, conv = int(part.size), int(y[part].sum())
        captured += conv
        rate = conv / count if count else 0.0
        out.append({"decile": i, "count": count, "conversions": conv, "rate": round(rate, 5),
                    "lift": round(rate / base, 3) if base else None,
                    "cumulative_capture": round(captured / total, 4) if total else None})
    return out


def at_top_k(y: npt.NDArray[np.int8], s: Floats, dates: Floats,
             ks: Sequence[int]) -> list[dict[str, Any]]:
    """Precision and recall among the k highest scores of each snapshot date, averaged
    over dates (k = the people sales can work in one period)."""
    out = []
    days = np.unique(dates)
    for k in ks:
        precision, recall = [], []
        for d in days:
            rows = np.flatnonzero(dates == d)
            top = rows[np.argsort(-s[rows], kind="stable")[:k]]
            hits = int(y[top].sum())
            precision.append(hits / max(len(top), 1))
            positives = int(y[rows].sum())
            if positives:
                recall.append(hits / positives)
        out.append({"k": k, "precision": round(float(np.mean(precision)), 4) if precision
                    else None, "recall": round(float(np.mean(recall)), 4) if recall else None})
    return out


def bands(y: npt.NDArray[np.int8], p: Floats) -> list[dict[str, Any]]:
    """Observed conversion against the mean predicted probability, per probability band."""
    out = []
    for lo, hi in pairwise(BANDS):
        mask = (p >= lo) & ((p < hi) if hi < 1.0 else (p <= hi))
        n = int(mask.sum())
        if n:
            out.append({"band": f"{lo:.0%}-{hi:.0%}", "count": n,
                        "predicted": round(float(p[mask].mean()), 4),
                        "observed": round(float(y[mask].mean()), 4)})
    return out


def _codes(strata: Floats | None, size: int) -> npt.NDArray[np.int64]:
    if strata is None:
        return np.zeros(size, dtype=np.int64)
    return np.unique(strata, return_inverse=True)[1].astype(np.int64).reshape(-1)


class _Ranked:
    """One score's ranking within each stratum (snapshot date), computed once, so each
    bootstrap resample costs a few ``bincount`` calls: a resample is a weight per
    snapshot (how often its person or account was drawn).

    ROC AUC compares positives with negatives *of the same snapshot date* only (the
    per-date AUCs averaged, weighted by their positive x negative pairs), and
    average precision is the per-date AP averaged, weighted by positives. Pooling
    dates would let a score win by telling dates apart: when the base rate and the
    features both drift with time, a model that only knows the date looks like lift.
    """

    def __init__(self, y: npt.NDArray[np.int8], s: Floats, strata: Floats | None = None) -> None:
        code = _codes(strata, y.size)
        self.pos = y.astype(np.float64)
        self.neg = 1.0 - self.pos
        self.up = _Groups(code, s)     # ascending score within stratum: for AUC
        self.down = _Groups(code, -s)  # descending: for average precision

    def auc(self, w: Floats) -> float:
        g = self.up
        pos = np.bincount(g.inv, weights=w * self.pos, minlength=g.n)
        neg = np.bincount(g.inv, weights=w * self.neg, minlength=g.n)
        below = g.within(np.cumsum(neg)) - neg
        per_stratum_pos = np.bincount(g.stratum, weights=pos)
        per_stratum_neg = np.bincount(g.stratum, weights=neg)
        pairs = float((per_stratum_pos * per_stratum_neg).sum())
        return float((pos * (below + 0.5 * neg)).sum() / pairs) if pairs else float("nan")

    def average_precision(self, w: Floats) -> float:
        g = self.down
        pos = np.bincount(g.inv, weights=w * self.pos, minlength=g.n)
        neg = np.bincount(g.inv, weights=w * self.neg, minlength=g.n)
        tp, fp = g.within(np.cumsum(pos)), g.within(np.cumsum(neg))
        seen = (tp + fp) > 0
        precision = np.divide(tp, tp + fp, out=np.zeros_like(tp), where=seen)
        total = pos.sum()
        return float((pos * precision).sum() / total) if total else float("nan")


class _Groups:
    """Snapshots grouped by (stratum, score value), ordered by stratum then score."""

    def __init__(self, code: npt.NDArray[np.int64], s: Floats) -> None:
        order = np.lexsort((s, code))
        sc, ss = code[order], s[order]
        new = np.ones(order.size, dtype=bool)
        new[1:] = (sc[1:] != sc[:-1]) | (ss[1:] != ss[:-1])
        gid = np.cumsum(new) - 1
        self.inv = np.empty(order.size, dtype=np.int64)
        self.inv[order] = gid
        self.n = int(gid[-1]) + 1 if gid.size else 0
        self.stratum = sc[new]
        first = np.ones(self.n, dtype=bool)
        first[1:] = self.stratum[1:] != self.stratum[:-1]
        self.start = np.maximum.accumulate(np.where(first, np.arange(self.n), 0))

    def within(self, running: Floats) -> Floats:
        """A running total over all groups -> the running total within each stratum."""
        before = np.concatenate([[0.0], running[:-1]])
        return np.asarray(running - before[self.start], dtype=np.float64)


def _weights(person: npt.NDArray[np.int64], rounds: int, seed: int) -> Iterator[Floats]:
    """For each of ``rounds`` resamples of people with replacement, how many times
    each snapshot is drawn (all of a person's snapshots go together); one at a time."""
    _, inv = np.unique(person, return_inverse=True)
    people = int(inv.max()) + 1 if inv.size else 0
    rng = np.random.default_rng(seed)
    for _ in range(rounds):
        drawn = np.bincount(rng.integers(0, people, people), minlength=people)
        yield drawn[inv].astype(np.float64)


def _ci(values: list[float]) -> list[float] | None:
    values = [v for v in values if not np.isnan(v)]
    if len(values) < 20:
        return None
    lo, hi = np.percentile(values, [2.5, 97.5])
    return [round(float(lo), 4), round(float(hi), 4)]


def bootstrap(y: npt.NDArray[np.int8], scores: dict[str, Floats],
              person: npt.NDArray[np.int64], rounds: int, seed: int,
              dates: Floats | None = None) -> dict[str, Any]:
    """95% percentile intervals of each model's ROC AUC and PR AUC (within snapshot
    date, see ``_Ranked``), and of the AUC difference of the first model against
    each other one; resampling whole people (or accounts): ``person`` is the cluster."""
    ranked = {k: _Ranked(y, s, dates) for k, s in scores.items()}
    aucs: dict[str, list[float]] = {k: [] for k in scores}
    prs: dict[str, list[float]] = {k: [] for k in scores}
    names = list(scores)
    diffs: dict[str, list[float]] = {k: [] for k in names[1:]}
    for w in _weights(person, rounds, seed):
        positives = float((w * y).sum())
        if not 0 < positives < w.sum():
            continue
        got = {k: r.auc(w) for k, r in ranked.items()}
        for k, r in ranked.items():
            aucs[k].append(got[k])
            prs[k].append(r.average_precision(w))
        for k in names[1:]:
            diffs[k].append(got[names[0]] - got[k])
    return {"roc_auc": {k: _ci(v) for k, v in aucs.items()},
            "pr_auc": {k: _ci(v) for k, v in prs.items()},
            "difference": {k: _ci(v) for k, v in diffs.items()}}


def _round(value: float | None) -> float | None:
    return round(value, 4) if value is not None else None


def model_report(y: npt.NDArray[np.int8], score: Floats, probability: Floats, dates: Floats,
                 ks: Sequence[int], factors: list[dict[str, Any]]) -> dict[str, Any]:
    from sklearn.metrics import brier_score_loss

    auc, pr = _auc(y, score, dates), _pr_auc(y, score, dates)
    pooled, pooled_pr = _auc(y, score), _pr_auc(y, score)
    return {
        "roc_auc": _round(auc),
        "pr_auc": _round(pr),
        "roc_auc_pooled": _round(pooled),
        "pr_auc_pooled": _round(pooled_pr),
        "brier": round(float(brier_score_loss(y, probability)), 5) if y.size else None,
        "deciles": deciles(y, score, dates),
        "top_k": at_top_k(y, score, dates, ks),
        "calibration": bands(y, probability),
        "top_factors": factors,
    }


def permutation_factors(predict: Any, x: npt.NDArray[np.float32], y: npt.NDArray[np.int8],
                        dates: Floats, names: Sequence[str], seed: int, top: int = 15,
                        sample: int = 5_000, repeats: int = 2) -> list[dict[str, Any]]:
    """Top factors of a model without coefficients (gradient boosting): how much the
    within-date ROC AUC on the test snapshots drops when one column's values are
    shuffled, averaged over ``repeats`` shuffles (permutation importance). At most
    ``sample`` test snapshots are used, drawn with the seed: every buyer (up to
    half of them) and non-buyers for the rest, since AUC does not depend on the
    base rate and a rare target would leave a uniform sample with few buyers. The
    same seed and data give the same factors."""
    from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

    rng = np.random.default_rng(seed)
    rows = np.arange(y.size)
    if y.size > sample:  # every buyer (up to half the sample), then non-buyers
        pos, neg = np.flatnonzero(y == 1), np.flatnonzero(y == 0)
        pos = rng.choice(pos, min(pos.size, sample // 2), replace=False)
        neg = rng.choice(neg, min(neg.size, sample - pos.size), replace=False)
        rows = np.sort(np.concatenate([pos, neg]))
    with threadpool_limits(1):  # many small predictions: threads cost more than they give
        return _permutation(predict, x[rows], y[rows], dates[rows], names, rng, top,
                            repeats)


def _permutation(predict: Any, xs: npt.NDArray[np.float32], ys: npt.NDArray[np.int8],
                 ds: Floats, names: Sequence[str], rng: np.random.Generator, top: int,
                 repeats: int) -> list[dict[str, Any]]:
    base = _auc(ys, predict(xs), ds)
    if base is None:
        return []
    drops: dict[str, float] = {}
    for j, name in enumerate(names):
        if not np.any(xs[:, j] != xs[0, j]):
            continue  # a constant column cannot matter
        column = xs[:, j].copy()
        losses = []
        for _ in range(repeats):
            xs[:, j] = rng.permutation(column)
            losses.append(base - (_auc(ys, predict(xs), ds) or 0.5))
        xs[:, j] = column
        drops[name] = float(np.mean(losses))
    ranked = sorted(drops.items(), key=lambda kv: (-kv[1], kv[0]))[:top]
    return [{"feature": k, "weight": round(v, 4), "points": None} for k, v in ranked]
