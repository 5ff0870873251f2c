"""Benchmark learned scoring: snapshots, training and the back-test on a large history.

Generates (once, cached in DIR) a world of PEOPLE people with about 10 touches each
(``--signal``), reads it as ``connector score train --data DIR`` does (streaming the
export into the compact ledger: every row validated, as a sync does, then every
touch matched to its rule once and capped), then times ``prepare``, the
point-in-time snapshots, and the fit + calibration + back-test with bootstrap
intervals, at person level and at account level. Peak RSS is the process's
maximum resident memory (``getrusage``), after everything.

Usage: ``.venv/bin/python scripts/bench_learn.py [PEOPLE] [DIR]`` (default 100000,
/tmp/bench-learn-PEOPLE). Prints one JSON object.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from bench_common import peak_rss_mb

from connector.datagen.generate import DEFAULT_AS_OF, generate
from connector.learn.snapshots import build, earliest, grid, prepare
from connector.learn.sources import from_generated
from connector.learn.train import Options, run
from connector.mappings import load_mappings


def main() -> None:
    people = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    out = Path(sys.argv[2]) if len(sys.argv) > 2 else Path(f"/tmp/bench-learn-{people}")
    figures: dict[str, object] = {"people": people}
    if not (out / "summary.json").exists():
        t = time.perf_counter()
        generate(out, people=people, seed=1, signal=True, touches_per_person=10.0)
        figures["generate_s"] = round(time.perf_counter() - t, 1)
    mappings = load_mappings()
    assert mappings.scoring is not None
    t = time.perf_counter()
    history = from_generated(out, mappings, DEFAULT_AS_OF)
    figures["read_export_s"] = round(time.perf_counter() - t, 1)
    figures["touches"] = int(history.t_time.size)
    figures["rss_after_read_mb"] = round(peak_rss_mb())
    free_mail = mappings.sync.free_mail_domains
    options = Options(target="opportunity")

    t0 = time.perf_counter()
    prepared = prepare(history, mappings.scoring, free_mail, options.target)
    figures["prepare_s"] = round(time.perf_counter() - t0, 1)
    t = time.perf_counter()
    latest = history.latest
    assert latest is not None
    from datetime import UTC, datetime, timedelta
    first = datetime.fromtimestamp(earliest(prepared), tz=UTC)
    train_dates, test_dates = grid(latest - timedelta(days=180), latest, 90, 30, first)
    split = build(prepared, train_dates, test_dates, 90)
    figures["snapshots_s"] = round(time.perf_counter() - t, 1)
    figures["train_snapshots"] = len(split.train)
    figures["test_snapshots"] = len(split.test)

    t = time.perf_counter()
    report = run(history, mappings.scoring, free_mail, options).report
    figures["score_train_total_s"] = round(time.perf_counter() - t, 1)
    figures["learned_roc_auc"] = report["models"]["learned"]["roc_auc"]
    figures["learned_roc_auc_ci"] = report["models"]["learned"]["roc_auc_ci"]
    figures["rules_roc_auc"] = report["models"]["rules"]["roc_auc"]
    figures["train_positives"] = report["train"]["positives"]
    figures["rss_after_person_training_mb"] = round(peak_rss_mb())
    t = time.perf_counter()
    accounts = run(history, mappings.scoring, free_mail, Options(level="account")).report
    figures["account_score_train_total_s"] = round(time.perf_counter() - t, 1)
    figures["account_test_snapshots"] = accounts["test"]["snapshots"]
    figures["account_learned_roc_auc"] = accounts["models"]["learned"]["roc_auc"]
    figures["account_rules_roc_auc"] = accounts["models"]["rules"]["roc_auc"]
    figures["peak_rss_mb"] = round(peak_rss_mb())
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
