"""The models: a regularised logistic regression (default) and gradient boosting.

The logistic regression is the default because it explains itself: with the
features in their own units (decayed rule touches, fit flags), each coefficient
is the change in log-odds per touch or per fit rule, and times
``POINTS_PER_LOG_ODDS`` it is a number of points an admin can compare with the
current rules and write into a ``scoring.yaml``. Gradient boosting is offered
for comparison: if it ranks much better, the linear points leave signal behind.

Probabilities are calibrated on cross-validated predictions of the training
snapshots (sigmoid below 1,000 snapshots, where isotonic overfits; isotonic
above), so the Brier score and the observed-vs-predicted bands mean something.
Everything is deterministic for a given seed and data (lbfgs, unshuffled folds,
seeded boosting).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

Kind = Literal["logistic", "boosting"]
POINTS_PER_LOG_ODDS = 10 / math.log(2)
"""10 points double the odds of reaching the target: the scale of learned points."""
ISOTONIC_FROM = 1000


@dataclass
class Trained:
    kind: Kind
    columns: int  # the model reads the first ``columns`` features
    model: Any
    calibration: str
    weights: dict[str, float] = field(default_factory=dict)  # log-odds per feature unit
    intercept: float = 0.0

    def probability(self, x: npt.NDArray[np.float32]) -> npt.NDArray[np.float64]:
        return np.asarray(self.model.predict_proba(x[:, :self.columns])[:, 1], dtype=np.float64)

    def points(self) -> dict[str, int]:
        return {k: round(v * POINTS_PER_LOG_ODDS) for k, v in self.weights.items()}


def _method(n: int) -> str:
    return "sigmoid" if n < ISOTONIC_FROM else "isotonic"


def train(kind: Kind, x: npt.NDArray[np.float32], y: npt.NDArray[np.int8], names: list[str],
          columns: int, seed: int, regularisation: float = 1.0) -> Trained:
    """Fit and calibrate one model on the training snapshots."""
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    xs = x[:, :columns]
    method = _method(len(y))
    folds = StratifiedKFold(n_splits=3, shuffle=False)
    base: Any
    if kind == "logistic":
        base = make_pipeline(StandardScaler(),
                             LogisticRegression(C=regularisation, max_iter=2000))
    else:
        base = HistGradientBoostingClassifier(max_iter=150, learning_rate=0.08,
                                              max_leaf_nodes=15, l2_regularization=1.0,
                                              early_stopping=False, random_state=seed)
    model = CalibratedClassifierCV(base, method=method, cv=folds, ensemble=False)
    model.fit(xs, y)
    trained = Trained(kind, columns, model, method)
    if kind == "logistic":
        fitted = model.calibrated_classifiers_[0].estimator
        scaler, lr = fitted[0], fitted[-1]
        coef = lr.coef_[0] / scaler.scale_
        trained.weights = {n: float(c) for n, c in zip(names[:columns], coef, strict=True)}
        trained.intercept = float(lr.intercept_[0] - np.sum(coef * scaler.mean_))
    return trained


def rules_calibrator(score: npt.NDArray[np.float64], y: npt.NDArray[np.int8]) -> Any:
    """A monotone map from the rule score to a probability, fitted on the training
    snapshots: the rules' ranking is unchanged, but their Brier score and bands
    become comparable with the learned model's."""
    from sklearn.isotonic import IsotonicRegression

    iso = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0)
    iso.fit(score, y)
    return iso
