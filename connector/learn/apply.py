"""``--apply FILE``: the learned weights as a scoring.yaml an admin reviews.

The current mapping is the template: every behavior and fit rule keeps its
match, cap and group, and gets the learned points (log-odds per fresh touch or
per fit rule, times ``POINTS_PER_LOG_ODDS``). The decay half-life stays, since
the features were decayed with it. The MQL threshold is moved so that the
share of training snapshots at or above it stays what the current rules gave
(MQL volume for sales stays the same; the people in it change). The file is
validated against the scoring mapping model before it is written, and nothing
reaches Salesforce until an admin points ``CONNECTOR_MAPPINGS`` at a directory
holding it.

At account level (``--level account``) only the account fit rules get learned
points, and ``accounts.qualified_fit_minimum`` moves to keep the share of
training account snapshots at or above it. The learned behavior weights of an
account model are reported but not written: account engagement is the sum of
the people's behavior points, which the lead score reads too, so writing them
would change every person's score to suit accounts.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import yaml

from connector.engine.scoring_config import ScoringMapping
from connector.learn.models import POINTS_PER_LOG_ODDS
from connector.learn.train import Outcome


def _with_points(rules: list[dict[str, Any]], points: dict[str, int],
                 prefix: str) -> list[dict[str, Any]]:
    """Each rule with its learned points, name and points first as an admin reads them."""
    return [{"name": r["name"], "points": points.get(f"{prefix}{r['name']}", 0),
             **{k: v for k, v in r.items() if k not in ("name", "points")}} for r in rules]


def _keep_share(values: np.ndarray[Any, Any], share: float) -> int | None:
    if values.size and 0 < share < 1:
        return int(np.ceil(np.quantile(values, 1 - share)))
    return None


def learned_mapping(scoring: ScoringMapping, outcome: Outcome) -> dict[str, Any]:
    points = outcome.learned.points()
    data = scoring.model_dump(mode="json", by_alias=True, exclude_none=True)
    level = outcome.report.get("level", "person")
    tr = outcome.split.train
    names = outcome.prepared.names(level)[:outcome.prepared.rule_columns_of(level)]
    if level == "account":
        # account engagement reuses the behavior rules' points (lead scores read them
        # too), so only the account fit rules and the qualified fit minimum change
        data["accounts"]["fit_rules"] = _with_points(data["accounts"]["fit_rules"], points,
                                                     "account_fit:")
        fit_cols = [i for i, n in enumerate(names) if n.startswith("account_fit:")]
        weights = np.array([points.get(names[i], 0) for i in fit_cols], dtype=np.float64)
        minimum = _keep_share(tr.x[:, fit_cols].astype(np.float64) @ weights,
                              outcome.rules_share_at_mql)
        if minimum is not None:
            data["accounts"]["qualified_fit_minimum"] = minimum
        return data
    data["behavior"]["rules"] = _with_points(data["behavior"]["rules"], points, "rule:")
    data["fit"]["rules"] = _with_points(data["fit"]["rules"], points, "fit:")
    weights = np.array([points.get(n, 0) for n in names], dtype=np.float64)
    threshold = _keep_share(tr.x[:, :len(names)].astype(np.float64) @ weights,
                            outcome.rules_share_at_mql)
    if threshold is not None:
        data["mql"]["threshold"] = threshold
    return data


def _sorted_lists(value: Any) -> Any:
    """Sets dump in arbitrary order; sort them so the file is deterministic."""
    if isinstance(value, dict):
        return {k: _sorted_lists(v) for k, v in value.items()}
    if isinstance(value, list):
        items = [_sorted_lists(v) for v in value]
        return sorted(items) if all(isinstance(v, str) for v in items) else items
    return value


def write(path: Path, scoring: ScoringMapping, outcome: Outcome) -> None:
    data = _sorted_lists(learned_mapping(scoring, outcome))
    ScoringMapping.model_validate(data)  # what the connector would load, or fail here
    r = outcome.report
    header = (
        f"# Learned by `connector score train` from {r['settings']['source']} "
        f"(data up to {r['settings']['test_until']}) - REVIEW BEFORE USE.\n"
        f"# target {r['target']} within {r['horizon_days']} days; trained on "
        f"{r['train']['snapshots']} snapshots ({r['train']['positives']} positive) up to "
        f"{r['settings']['train_until']};\n"
        f"# back-test ROC AUC learned {r['models']['learned']['roc_auc']} "
        f"(95% CI {r['models']['learned']['roc_auc_ci']}) vs rules "
        f"{r['models']['rules']['roc_auc']}: {r['comparison']['verdict']}.\n"
        f"# Points: {POINTS_PER_LOG_ODDS:.1f} points per unit of log-odds (10 points double "
        "the odds). Rules, caps, groups, half-life,\n# exclusions and stages are copied from "
        + ("the current mapping; the MQL threshold keeps the current MQL share.\n"
           if r.get("level", "person") == "person" else
           "the current mapping; learned from ACCOUNT snapshots: only the account fit\n"
           "# rules' points and qualified_fit_minimum (which keeps the current share of\n"
           "# accounts at it) changed; behavior points stay, as lead scores share them.\n")
        + "# To use it: copy it as scoring.yaml into a mappings directory and point "
        "CONNECTOR_MAPPINGS at it.\n")
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
    path.write_text(header + text, encoding="utf-8")
