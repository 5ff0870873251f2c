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


def _resamples(person: npt.NDArray[np.int64], rounds: int,
               seed: int) -> list[npt.NDArray[np.int64]]:
    """Row indices of ``rounds`` resamples of people with replacement."""
    order = np.argsort(person, kind="stable")
    _, starts, counts = np.unique(person[order], return_index=True, return_counts=True)
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(rounds):
        pick = rng.integers(0, starts.size, starts.size)
        c = counts[pick]
        offsets = np.repeat(starts[pick] - np.concatenate(([0], np.cumsum(c)[:-1])), c)
        out.append(order[np.arange(int(c.sum())) + offsets])
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
    aucs: dict[str, list[float]] = {k: [] for k in scores}
    prs: dict[str, list[float]] = {k: [] for k in scores}
    names = list(scores)
    diffs: dict[str, list[float]] = {k: [] for k in names[1:]}
    for rows in _resamples(person, rounds, seed):
        yy = y[rows]
        if not 0 < yy.sum() < yy.size:
            continue
        got = {k: _auc(yy, s[rows]) for k, s in scores.items()}
        for k in scores:
            aucs[k].append(float(got[k] or 0.0))
            prs[k].append(float(_pr_auc(yy, scores[k][rows]) or 0.0))
        for k in names[1:]:
            diffs[k].append(float((got[names[0]] or 0.0) - (got[k] or 0.0)))
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
