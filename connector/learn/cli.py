"""``connector score train``: the learned-scoring sub-app (mounted by the main CLI).

Heavy imports (scikit-learn, numpy, Altair) happen inside the command, so the
rest of the CLI starts fast and works without the ``learn`` extra.
"""

from __future__ import annotations

import io
import json
import sys
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

score_app = typer.Typer(no_args_is_help=True,
                        help="Learn scoring weights from history and back-test them.")


class TrainFormat(StrEnum):
    table = "table"
    json = "json"
    html = "html"


class TargetOpt(StrEnum):
    opportunity = "opportunity"
    won = "won"


class LevelOpt(StrEnum):
    person = "person"
    account = "account"


class FeatureSet(StrEnum):
    rules = "rules"
    all = "all"


def _moment(value: str | None, flag: str) -> datetime | None:
    if value is None:
        return None
    from connector.normalize import parse_timestamp

    try:
        moment = parse_timestamp(value if "T" in value else value + "T00:00:00+00:00")
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint=flag) from None
    return moment


def _top_k(value: str) -> tuple[int, ...]:
    try:
        ks = tuple(int(v) for v in value.split(",") if v.strip())
    except ValueError:
        raise typer.BadParameter(f"{value!r}: give positive integers separated by commas, "
                                 "e.g. 50,200,1000", param_hint="--top-k") from None
    if not ks or min(ks) <= 0:
        raise typer.BadParameter("give at least one positive k", param_hint="--top-k")
    return ks


def _err(message: str) -> None:
    from rich.console import Console

    Console(file=sys.stderr, soft_wrap=True).print(message, highlight=False)


def _scored(mappings: Any) -> Any:
    from connector.errors import ConfigError

    if mappings.scoring is None:
        raise ConfigError("the mappings have no scoring.yaml to compare with",
                          hint="copy the bundled mappings/scoring.yaml")
    return mappings


def _history(data: Path | None, as_of: datetime) -> tuple[Any, Any]:
    from connector.config import load_settings
    from connector.errors import ConfigError
    from connector.learn.sources import from_generated, from_store
    from connector.mappings import load_mappings

    if data is not None:
        mappings = _scored(load_mappings(None))
        if not (data / "map").is_dir() or not (data / "sf").is_dir():
            raise ConfigError(f"--data {data}: not a generate-data output (needs map/ and sf/)",
                              hint="connector generate-data --out DIR, then --data DIR")
        return from_generated(data, mappings, as_of), mappings
    from connector.state.store import open_store

    settings = load_settings()
    mappings = _scored(load_mappings(settings.connector.mappings))
    store = open_store(settings.connector.state)
    try:
        return from_store(store, mappings), mappings
    finally:
        store.close()


@score_app.command("train")
def train_command(
    target: Annotated[TargetOpt, typer.Option(help="opportunity: a contact role on an "
                                              "opportunity; won: on a won one")
                      ] = TargetOpt.opportunity,
    horizon: Annotated[int, typer.Option("--horizon", min=1, help="Days after a snapshot in "
                                         "which reaching the target counts.")] = 90,
    train_until: Annotated[str | None, typer.Option(
        "--train-until", help="Train on snapshots whose horizon ends by this date "
        "(default: --test-until minus horizon minus 90 days).")] = None,
    test_until: Annotated[str | None, typer.Option(
        "--test-until", help="Test on snapshots from --train-until whose horizon ends by "
        "this date (default: the last touch or opportunity in the history).")] = None,
    level: Annotated[LevelOpt, typer.Option(
        "--level", help="person: snapshots of people (lead score); account: snapshots of "
        "accounts (account fit and engagement).")] = LevelOpt.person,
    fmt: Annotated[TrainFormat, typer.Option("--format")] = TrainFormat.table,
    out: Annotated[Path | None, typer.Option("--out", help="Write the report here.")] = None,
    apply: Annotated[Path | None, typer.Option(
        "--apply", help="Write the learned weights as a scoring.yaml for review.")] = None,
    data: Annotated[Path | None, typer.Option(
        "--data", help="Learn from a generate-data directory instead of the state "
        "database.")] = None,
    min_positives: Annotated[int, typer.Option(min=1, help="Refuse below this many positive "
                                               "training snapshots.")] = 100,
    top_k: Annotated[str, typer.Option("--top-k", help="k values for precision/recall at "
                                       "top k per snapshot date.")] = "50,200,1000",
    step: Annotated[int, typer.Option("--step", min=1, help="Days between snapshot dates.")
                    ] = 30,
    active_days: Annotated[int, typer.Option(min=1, help="Snapshot only people touched or "
                                             "created in this many days before.")] = 180,
    features: Annotated[FeatureSet, typer.Option(help="rules: the logistic regression reads "
                                                 "rule and fit columns only (exact --apply); "
                                                 "all: also type and channel windows")
                        ] = FeatureSet.rules,
    boosting: Annotated[bool, typer.Option("--boosting", help="Also train gradient boosting "
                                           "for comparison (slower).")] = False,
    bootstrap: Annotated[int, typer.Option(min=0, help="Bootstrap resamples for the "
                                           "intervals.")] = 200,
    seed: Annotated[int, typer.Option(help="Seed: same data and seed, same result.")] = 7,
    as_of: Annotated[str | None, typer.Option(
        "--as-of", help="The moment the --data export is read as of (default now).")] = None,
) -> None:
    """Learn behavior and fit weights from history; back-test them against the rules.

    Reads the state database a `connector sync` left (people, touches, mirrored
    opportunities and contact roles), or a generated world with --data.
    """
    from connector.errors import ConnectorError
    from connector.learn.train import Options, Refused, run

    as_json = fmt is TrainFormat.json and out is None
    try:
        history, mappings = _history(data, _moment(as_of, "--as-of") or datetime.now(UTC))
        options = Options(target=target.value, horizon_days=horizon,
                          train_until=_moment(train_until, "--train-until"),
                          test_until=_moment(test_until, "--test-until"), step_days=step,
                          active_days=active_days, min_positives=min_positives,
                          top_k=_top_k(top_k), boosting=boosting, features=features.value,
                          bootstrap=bootstrap, seed=seed, level=level.value)
        outcome = run(history, mappings.scoring, mappings.sync.free_mail_domains, options)
    except Refused as exc:
        if as_json:
            typer.echo(json.dumps(exc.payload, indent=2))
        else:
            _err(f"[bold red]{exc}[/bold red]")
        raise typer.Exit(1) from None
    except ConnectorError as exc:
        _err(f"[bold red]error:[/bold red] {exc.message}"
             + (f"\n  -> {exc.hint}" if exc.hint else ""))
        raise typer.Exit(exc.exit_code) from None
    report = outcome.report
    if apply is not None:
        from connector.learn.apply import write

        write(apply, mappings.scoring, outcome)
        _err(f"learned scoring.yaml written to {apply}: review it, then point "
             "CONNECTOR_MAPPINGS at a directory holding it as scoring.yaml")
    _emit(report, fmt, out)


def _emit(report: dict[str, Any], fmt: TrainFormat, out: Path | None) -> None:
    from rich.console import Console

    from connector.learn.report import render_html, render_table

    if fmt is TrainFormat.json:
        text = json.dumps(report, indent=2)
    elif fmt is TrainFormat.html:
        text = render_html(report)
    else:
        if out is None:
            render_table(report, Console())
            return
        console = Console(record=True, width=140, file=io.StringIO())
        render_table(report, console)
        text = console.export_text()
    if out is None:
        typer.echo(text)
    else:
        out.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
        _err(f"report written to {out}")
