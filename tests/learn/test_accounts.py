"""Account-level learning: the planted account signal is found, too few positive
accounts is refused, shuffled outcomes claim no lift, and --apply writes the
account fit rules (and only them)."""

from __future__ import annotations

import random
import shutil
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest

from connector.engine.accounts import AccountProfile
from connector.learn import apply
from connector.learn.history import History, Reached
from connector.learn.ledger import Ledger
from connector.learn.snapshots import build, prepare
from connector.learn.train import Options, Refused, run
from connector.mappings import load_mappings
from tests.factories import T0, mappings, person, touch

ACCOUNTS = Options(level="account", min_positives=60, bootstrap=120, seed=3)


def _run(history: History | Ledger, options: Options) -> dict:
    m = mappings()
    assert m.scoring is not None
    return run(history, m.scoring, m.sync.free_mail_domains, options).report


def shuffled(ledger: Ledger, seed: int) -> Ledger:
    """The same people, accounts and touches; who reached the target, and when, dealt
    to random people and accounts."""
    rng = random.Random(seed)
    people, accounts = list(ledger.map_ids), list(ledger.account_ids)
    rng.shuffle(people)
    rng.shuffle(accounts)
    return replace(ledger, reached=dict(zip(people, ledger.reached.values(), strict=False)),
                   account_reached=dict(zip(accounts, ledger.account_reached.values(),
                                            strict=False)))


def test_planted_account_signal_is_found(account_signal_history: Ledger) -> None:
    r = _run(account_signal_history, ACCOUNTS)
    assert r["level"] == "account"
    learned, rules = r["models"]["learned"], r["models"]["rules"]
    assert r["train"]["positives"] >= 60 and r["test"]["positives"] > 30
    assert learned["roc_auc_ci"][0] > 0.5
    assert learned["roc_auc"] > rules["roc_auc"] + 0.1
    assert r["comparison"]["difference_ci"][0] > 0
    weights = {f["feature"]: f["weight"] for f in learned["top_factors"]}
    # the planted relationship: mid-market accounts buy; the rules favour enterprises
    assert learned["top_factors"][0]["feature"] == "account_fit:mid_market", weights
    assert weights["account_fit:mid_market"] > weights.get("account_fit:enterprise", 0.0)
    assert learned["deciles"][0]["lift"] > 2


@pytest.mark.parametrize("level", [pytest.param("person", id="people"),
                                   pytest.param("account", id="accounts")])
def test_shuffled_outcomes_claim_no_lift(signal_history: Ledger, level: str) -> None:
    """Generated history is not stationary (people arrive, touch volume grows), so a
    pooled AUC can find 'signal' in outcomes dealt at random; compared within each
    snapshot date, with intervals over whole people or accounts, it does not."""
    # gradient boosting (slow) at account level only
    r = _run(shuffled(signal_history, 1), replace(ACCOUNTS, level=level,
                                                  boosting=level == "account"))
    for name, model in r["models"].items():
        assert abs(model["roc_auc"] - 0.5) < 0.08, (name, model["roc_auc"])
        if name != "rules":  # the trained models: the ones that could fit a fake pattern
            lo, hi = model["roc_auc_ci"]
            assert lo <= 0.5 <= hi, (name, model["roc_auc_ci"])
    assert r["comparison"]["verdict"].startswith("no evidence of signal")


def test_refuses_below_the_minimum_of_positive_accounts(signal_history: Ledger) -> None:
    with pytest.raises(Refused) as refused:
        _run(signal_history, replace(ACCOUNTS, min_positives=100_000))
    payload = refused.value.payload
    assert payload["refused"] == "too_few_positives" and payload["level"] == "account"
    assert 0 < payload["positives"] < 100_000
    assert "accounts who reached" in str(refused.value)


def _tiny() -> History:
    """Two accounts: acme (mid-market, two people) and solo (no firmographics)."""
    people = {"M-1": person("M-1", "a@acme.com", title="VP Marketing"),
              "M-2": person("M-2", "b@acme.com", title="Student"),
              "M-3": person("M-3", "c@solo.com")}
    touches = {"M-1": [touch("T-1", 10, "demo_request", map_id="M-1"),
                       touch("T-2", 50, "webinar_attended", map_id="M-1")],
               "M-2": [touch("T-3", 55, "webinar_attended", map_id="M-2")],
               "M-3": [touch("T-4", 20, "web_visit", map_id="M-3")]}
    at = T0 + timedelta(days=100)
    return History(people, touches, {}, "tiny",
                   account_of={"M-1": "001A", "M-2": "001A", "M-3": "001B"},
                   accounts={"001A": AccountProfile(domain="acme.com", industry="Technology",
                                                    employees=500, country="Germany"),
                             "001B": AccountProfile(domain="solo.com")},
                   account_reached={"001A": [Reached(at, None)]})


def test_account_snapshot_columns() -> None:
    m = mappings()
    assert m.scoring is not None
    p = prepare(_tiny(), m.scoring, m.sync.free_mail_domains, "opportunity")
    names = p.names("account")
    s = build(p, [T0 + timedelta(days=60)], [], 90, 10_000, level="account").train
    assert s.person.tolist() == [0, 1] and s.y.tolist() == [1, 0]
    row = dict(zip(names, s.x[0].tolist(), strict=True))
    # two people's webinars, 10 and 5 days before, decayed and summed over the account
    assert row["rule:webinar_attended"] == pytest.approx(0.5 ** (10 / 30) + 0.5 ** (5 / 30),
                                                         rel=1e-5)
    assert row["account_fit:mid_market"] == 1 and row["account_fit:icp_industry"] == 1
    assert row["people_fit:vp"] == 1 and row["people_fit:not_a_buyer"] == 1
    assert row["people:known"] == 2 and row["people:engaged_90d"] == 2
    assert row["type:webinar_attended:30d"] == 2 and row["volume:touches_365d"] == 3
    # rule score = account fit + engagement (decayed points in the 90-day window)
    fit = 15 + 25 + 10  # mid_market, icp_industry, served_country
    engagement = 60 * 0.5 ** (50 / 30) + 20 * 0.5 ** (10 / 30) + 20 * 0.5 ** (5 / 30)
    assert s.rule_score[0] == fit + np.floor(engagement + 0.5)


def test_apply_at_account_level_writes_the_account_fit_rules(account_signal_history: Ledger,
                                                             tmp_path: Path) -> None:
    m = mappings()
    assert m.scoring is not None
    outcome = run(account_signal_history, m.scoring, m.sync.free_mail_domains,
                  replace(ACCOUNTS, bootstrap=20))
    directory = tmp_path / "mappings"
    shutil.copytree(Path(load_mappings().directory or ""), directory,
                    ignore=shutil.ignore_patterns("__init__.py", "__pycache__"))
    apply.write(directory / "scoring.yaml", m.scoring, outcome)
    loaded = load_mappings(directory).scoring
    assert loaded is not None
    points = outcome.learned.points()
    for rule in loaded.accounts.fit_rules:
        assert rule.points == points[f"account_fit:{rule.name}"]
    assert loaded.behavior == m.scoring.behavior and loaded.fit == m.scoring.fit
    assert loaded.mql == m.scoring.mql
    by_name = {r.name: r.points for r in loaded.accounts.fit_rules}
    assert by_name["mid_market"] > by_name["enterprise"]
    assert "learned from ACCOUNT snapshots" in (directory / "scoring.yaml").read_text()
