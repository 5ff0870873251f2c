"""Back-test metrics on the test snapshots, with bootstrap confidence intervals.

Confidence intervals resample *people*, not snapshots: one person appears on
several snapshot dates, and treating those rows as independent would make
intervals too narrow and let data with no signal claim lift. The interval of
the AUC difference (learned minus rules) is computed on the same resamples,
so the two scores are compared on the same people each time.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise
from typing import Any

import numpy as np
import numpy.typing as npt

Floats = npt.NDArray[np.float64]
BANDS = (0.0, 0.01, 0.02, 0.05, 0.1, 0.2, 0.35, 0.5, 1.0)


def _auc(y: npt.NDArray[np.int8], s: Floats) -> float | None:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(y, s)) if 0 < y.sum() < y.size else None


def _pr_auc(y: npt.NDArray[np.int8], s: Floats) -> float | None:
    from sklearn.metrics import average_precision_score

    return float(average_precision_score(y, s)) if 0 < y.sum() < y.size else None


def deciles(y: npt.NDArray[np.int8], s: Floats) -> list[dict[str, Any]]:
    """Ten equal-count groups by score, decile 1 = highest (ties keep snapshot order)."""
    order = np.argsort(-s, kind="stable")
    total = int(y.sum())
    base = total / y.size if y.size else 0.0
    out: list[dict[str, Any]] = []
    captured = 0
    for i, part in enumerate(np.array_split(order, 10), start=1):
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


class _Ranked:
    """One score's distinct values, computed once, so each bootstrap resample costs two
    ``bincount`` calls: a resample is a weight per snapshot (how often its person
    was drawn), and weighted AUC and average precision follow from per-value sums."""

    def __init__(self, y: npt.NDArray[np.int8], s: Floats) -> None:
        values, self.inv = np.unique(s, return_inverse=True)  # ascending
        self.groups = int(values.size)
        self.pos = y.astype(np.float64)
        self.neg = 1.0 - self.pos

    def auc(self, w: Floats) -> float:
        pos = np.bincount(self.inv, weights=w * self.pos, minlength=self.groups)
        neg = np.bincount(self.inv, weights=w * self.neg, minlength=self.groups)
        below = np.cumsum(neg) - neg
        return float((pos * (below + 0.5 * neg)).sum() / (pos.sum() * neg.sum()))

    def average_precision(self, w: Floats) -> float:
        pos = np.bincount(self.inv, weights=w * self.pos, minlength=self.groups)[::-1]
        neg = np.bincount(self.inv, weights=w * self.neg, minlength=self.groups)[::-1]
        tp, fp = np.cumsum(pos), np.cumsum(neg)
        seen = (tp + fp) > 0
        precision = np.divide(tp, tp + fp, out=np.zeros_like(tp), where=seen)
        return float((pos / pos.sum() * precision).sum())


def _weights(person: npt.NDArray[np.int64], rounds: int, seed: int) -> list[Floats]:
    """For each of ``rounds`` resamples of people with replacement, how many times
    each snapshot is drawn (all of a person's snapshots go together)."""
    _, inv = np.unique(person, return_inverse=True)
    people = int(inv.max()) + 1 if inv.size else 0
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(rounds):
        drawn = np.bincount(rng.integers(0, people, people), minlength=people)
        out.append(drawn[inv].astype(np.float64))
    return out


def _ci(values: list[float]) -> list[float] | None:
    if len(values) < 20:
        return None
    lo, hi = np.percentile(values, [2.5, 97.5])
    return [round(float(lo), 4), round(float(hi), 4)]


def bootstrap(y: npt.NDArray[np.int8], scores: dict[str, Floats],
              person: npt.NDArray[np.int64], rounds: int, seed: int) -> dict[str, Any]:
    """95% percentile intervals of each model's ROC AUC and PR AUC, and of the AUC
    difference of the first model against each other one."""
    ranked = {k: _Ranked(y, s) for k, s in scores.items()}
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


def model_report(y: npt.NDArray[np.int8], score: Floats, probability: Floats, dates: Floats,
                 ks: Sequence[int], factors: list[dict[str, Any]]) -> dict[str, Any]:
    from sklearn.metrics import brier_score_loss

    auc, pr = _auc(y, score), _pr_auc(y, score)
    return {
        "roc_auc": round(auc, 4) if auc is not None else None,
        "pr_auc": round(pr, 4) if pr is not None else None,
        "brier": round(float(brier_score_loss(y, probability)), 5) if y.size else None,
        "deciles": deciles(y, score),
        "top_k": at_top_k(y, score, dates, ks),
        "calibration": bands(y, probability),
        "top_factors": factors,
    }
