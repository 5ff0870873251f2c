"""``score train``: snapshots, models, back-test, as one JSON-ready result.

The result's shape is fixed by the product contract (``connector score train
--format json``); extra keys (intervals, top-k, calibration bands, the verdict)
are allowed and documented in the README.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from connector.engine.scoring_config import ScoringMapping
from connector.errors import TrainingRefused
from connector.learn import backtest
from connector.learn.history import History, Target
from connector.learn.ledger import Ledger
from connector.learn.models import POINTS_PER_LOG_ODDS, Trained, rules_calibrator, train
from connector.learn.snapshots import Level, Prepared, Split, build, earliest, grid, prepare


@dataclass(frozen=True)
class Options:
    target: Target = "opportunity"
    horizon_days: int = 90
    train_until: datetime | None = None  # default: test_until - horizon - 90 days
    test_until: datetime | None = None  # default: the last moment the history knows
    step_days: int = 30
    active_days: int = 180
    min_positives: int = 100
    top_k: tuple[int, ...] = (50, 200, 1000)
    boosting: bool = False
    features: str = "rules"  # rules | all: what the logistic regression reads
    bootstrap: int = 200
    seed: int = 7
    regularisation: float = 1.0
    level: Level = "person"  # person | account: what a snapshot is


Refused = TrainingRefused  # too few positive examples to learn from


@dataclass
class Outcome:
    report: dict[str, Any]
    learned: Trained
    prepared: Prepared
    split: Split
    rules_share_at_mql: float = 0.0
    extras: dict[str, Any] = field(default_factory=dict)


def _iso(d: datetime | None) -> str | None:
    return d.isoformat() if d is not None else None


def _period(dates: list[datetime], horizon: int, y_count: int, pos: int) -> dict[str, Any]:
    return {"from": _iso(dates[0]) if dates else None,
            "until": _iso(dates[-1] + timedelta(days=horizon)) if dates else None,
            "snapshots": y_count, "positives": pos, "snapshot_dates": len(dates)}


def _refuse(o: Options, positives: int, dates: int) -> Refused:
    who = "people" if o.level == "person" else "accounts"
    needed = o.min_positives
    per_date = positives / dates if dates else 0.0
    more = needed - positives
    if per_date > 0:
        extra_days = int(np.ceil(more / per_date)) * o.step_days
        how = (f"at the current rate (~{per_date:.1f} per {o.step_days}-day snapshot) about "
               f"{extra_days} more days of history, or a longer --horizon")
    else:
        how = "history with people who reached the target (check that sync has run and " \
              "opportunities with contact roles are mirrored)"
    message = (f"refusing to train: {positives} positive training snapshots ({who} who reached "
               f"'{o.target}' within {o.horizon_days} days), at least {needed} needed "
               f"(--min-positives); {more} more are needed: {how}")
    return Refused({"refused": "too_few_positives", "positives": positives, "needed": needed,
                    "level": o.level, "message": message}, message)


def factors(weights: dict[str, float], top: int = 15) -> list[dict[str, Any]]:
    ranked = sorted(weights.items(), key=lambda kv: (-abs(kv[1]), kv[0]))[:top]
    return [{"feature": k, "weight": round(v, 4),
             "points": round(v * POINTS_PER_LOG_ODDS)} for k, v in ranked]


def rule_factors(scoring: ScoringMapping, level: Level = "person",
                 top: int = 15) -> list[dict[str, Any]]:
    points = {f"rule:{r.name}": float(r.points) for r in scoring.behavior.rules}
    if level == "person":
        points |= {f"fit:{r.name}": float(r.points) for r in scoring.fit.rules}
    else:
        points |= {f"account_fit:{r.name}": float(r.points) for r in scoring.accounts.fit_rules}
    ranked = sorted(points.items(), key=lambda kv: (-abs(kv[1]), kv[0]))[:top]
    return [{"feature": k, "weight": v, "points": int(v)} for k, v in ranked]


def run(history: History | Ledger, scoring: ScoringMapping, free_mail: frozenset[str],
        o: Options) -> Outcome:
    prepared = prepare(history, scoring, free_mail, o.target)
    latest = prepared.ledger.latest
    test_until = o.test_until or latest
    if test_until is None:
        message = ("refusing to train: the history has no touches (run `connector sync` "
                   "first, or pass --data DIR of generated data)")
        raise Refused({"refused": "no_history", "positives": 0, "needed": o.min_positives,
                       "message": message}, message)
    train_until = o.train_until or test_until - timedelta(days=o.horizon_days + 90)
    start = earliest(prepared)
    first = datetime.fromtimestamp(start, tz=test_until.tzinfo) if np.isfinite(start) \
        else test_until
    train_dates, test_dates = grid(train_until, test_until, o.horizon_days, o.step_days, first)
    split = build(prepared, train_dates, test_dates, o.horizon_days, o.active_days, o.level)
    tr, te = split.train, split.test
    if tr.positives < o.min_positives:
        raise _refuse(o, tr.positives, len(train_dates))
    if len(te) == 0 or te.positives == 0 or te.positives == len(te):
        message = (f"refusing to report: the test period ({_iso(train_until)} to "
                   f"{_iso(test_until)}) has {len(te)} snapshots and {te.positives} "
                   "positives; move --train-until earlier or --test-until later "
                   f"(it needs more than --horizon {o.horizon_days} days)")
        raise Refused({"refused": "empty_test_period", "positives": tr.positives,
                       "needed": o.min_positives, "message": message}, message)
    names = prepared.names(o.level)
    columns = prepared.rule_columns_of(o.level) if o.features == "rules" else len(names)
    learned = train("logistic", tr.x, tr.y, names, columns, o.seed, o.regularisation)
    p_learned = learned.probability(te.x)
    calib = rules_calibrator(tr.rule_score, tr.y)
    p_rules = np.asarray(calib.predict(te.rule_score), dtype=np.float64)
    # ties in the rules' calibrated probability are ties in the score: rank by the score
    scores = {"learned": p_learned, "rules": te.rule_score}
    models = {
        "learned": backtest.model_report(te.y, p_learned, p_learned, te.date, o.top_k,
                                         factors(learned.weights)),
        "rules": backtest.model_report(te.y, te.rule_score, p_rules, te.date, o.top_k,
                                       rule_factors(scoring, o.level)),
    }
    models["learned"]["kind"] = f"logistic regression ({learned.calibration} calibration)"
    models["rules"]["kind"] = ("current scoring.yaml (lead score = behavior + fit)"
                               if o.level == "person" else
                               "current scoring.yaml (account fit + engagement)")
    if o.boosting:
        boosted = train("boosting", tr.x, tr.y, names, len(names), o.seed)
        p_boost = boosted.probability(te.x)
        scores["boosting"] = p_boost
        models["boosting"] = backtest.model_report(
            te.y, p_boost, p_boost, te.date, o.top_k,
            backtest.permutation_factors(boosted.probability, te.x, te.y, te.date, names,
                                         o.seed))
        models["boosting"]["factor_measure"] = "ROC AUC drop when the column is shuffled"
        models["boosting"]["kind"] = f"gradient boosting ({boosted.calibration} calibration)"
    ci = backtest.bootstrap(te.y, scores, te.person, o.bootstrap, o.seed, te.date)
    for k, m in models.items():
        m["roc_auc_ci"] = ci["roc_auc"].get(k)
        m["pr_auc_ci"] = ci["pr_auc"].get(k)
    diff = ci["difference"].get("rules")
    report: dict[str, Any] = {
        "target": o.target, "horizon_days": o.horizon_days, "level": o.level,
        "base_rate": round(te.positives / len(te), 5),
        "train": _period(train_dates, o.horizon_days, len(tr), tr.positives),
        "test": _period(test_dates, o.horizon_days, len(te), te.positives),
        "models": models,
        "comparison": {"roc_auc_difference": _diff(models), "difference_ci": diff,
                       "verdict": verdict(models["learned"], diff)},
        "settings": {"train_until": _iso(train_until), "test_until": _iso(test_until),
                     "step_days": o.step_days, "active_days": o.active_days,
                     "features": o.features, "seed": o.seed, "bootstrap": o.bootstrap,
                     "min_positives": o.min_positives, "source": prepared.ledger.source,
                     "points_per_log_odds": round(POINTS_PER_LOG_ODDS, 3)},
    }
    share = _rules_share(scoring, prepared, split, o.level)
    return Outcome(report, learned, prepared, split, share)


def _rules_share(scoring: ScoringMapping, p: Prepared, split: Split, level: Level) -> float:
    """The share of training snapshots the current rules put over their line: the
    lead score at the MQL threshold (people), or the account fit at the qualified
    fit minimum (accounts). ``--apply`` keeps that share."""
    tr = split.train
    if not len(tr):
        return 0.0
    if level == "person":
        return float((tr.rule_score >= scoring.mql.threshold).mean())
    fit = p.ledger.account_fit_points[tr.person]
    return float((fit >= scoring.accounts.qualified_fit_minimum).mean())


def _diff(models: dict[str, Any]) -> float | None:
    a, b = models["learned"]["roc_auc"], models["rules"]["roc_auc"]
    return round(a - b, 4) if a is not None and b is not None else None


def verdict(learned: dict[str, Any], diff: list[float] | None) -> str:
    """One honest sentence: does the learned score rank better, and is there signal at all?"""
    ci = learned.get("roc_auc_ci")
    if ci is None:
        return "too few test positives for confidence intervals; do not act on this"
    if ci[0] <= 0.5:
        return ("no evidence of signal: the learned score's AUC interval includes 0.5, "
                "so it does not rank buyers better than chance on this data")
    if diff is not None and diff[0] > 0:
        return "the learned score ranks buyers better than the current rules (95% interval)"
    if diff is not None and diff[1] < 0:
        return "the current rules rank buyers better than the learned score (95% interval)"
    return ("the learned score finds signal, but not clearly more than the current rules "
            "(the interval of the AUC difference includes 0)")
