"""The ``connector`` command line: thin commands that parse, call and render.

Exit codes (docs/interfaces.md): 0 done; 1 done but records failed; 2 usage or
configuration error; 3 authentication or connection failure; 4 stopped early
at the API budget (safe to re-run); 5 another run holds the state database's
lock (nothing was done). JSON goes to stdout alone; progress and
logs go to stderr.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import typer

from connector.errors import ConfigError, ConnectorError
from connector.run.status import RunStatus

T = TypeVar("T")

app = typer.Typer(no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Reconcile a marketing automation platform with Salesforce.")
schema_app = typer.Typer(no_args_is_help=True, help="Salesforce metadata for the mappings.")
app.add_typer(schema_app, name="schema")
report_app = typer.Typer(no_args_is_help=True, help="Reports over the state database.")
app.add_typer(report_app, name="report")


class Format(StrEnum):
    table = "table"
    json = "json"


FormatOpt = Annotated[Format, typer.Option("--format", help="table for people, json for "
                                           "machines (stdout only)")]
AsOfOpt = Annotated[str | None, typer.Option(
    "--as-of", help="ISO 8601 timestamp with offset to run as of (default: now)")]


def _parse_as_of(value: str | None) -> datetime:
    if value is None:
        return datetime.now(UTC)
    from connector.normalize import parse_timestamp

    try:
        moment = parse_timestamp(value)
    except ValueError as exc:
        raise ConfigError(f"--as-of: {exc}") from None
    assert moment is not None
    return moment


def _fail(exc: ConnectorError) -> NoReturn:
    from connector.reports.console import err

    if _JSON_OUTPUT:
        # machines reading stdout get an object even when the command fails
        _emit_json({"status": RunStatus.FAILED, "error": exc.message, "hint": exc.hint,
                    "exit_code": exc.exit_code})
    if _LOG_FORMAT == "json":
        logging.getLogger("connector").error(
            "%s", exc.message + (f" -> {exc.hint}" if exc.hint else ""))
        raise typer.Exit(exc.exit_code)
    err.print(f"[bold red]error:[/bold red] {exc.message}", highlight=False)
    if exc.hint:
        err.print(f"  [dim]->[/dim] {exc.hint}", highlight=False)
    raise typer.Exit(exc.exit_code)


_JSON_OUTPUT = False


def _json_mode(fmt: Format) -> None:
    global _JSON_OUTPUT
    _JSON_OUTPUT = fmt is Format.json


def _guard(fn: Callable[[], T]) -> T:
    try:
        return fn()
    except ConnectorError as exc:
        _fail(exc)


_LOG_FORMAT = "text"


_VERBOSE = False


def _setup_logging(verbose: bool) -> None:
    global _VERBOSE
    _VERBOSE = verbose
    from connector.logs import setup_logging

    setup_logging("json" if _LOG_FORMAT == "json" else "text", verbose=verbose)


def _version_callback(value: bool) -> None:
    if value:
        from importlib.metadata import version

        typer.echo(f"connector {version('map-salesforce-connector')}")
        raise typer.Exit()


@app.callback()
def _global_options(
    version: Annotated[bool, typer.Option(
        "--version", callback=_version_callback, is_eager=True,
        help="print the installed version and exit")] = False,
    log_format: Annotated[str | None, typer.Option(
        "--log-format", metavar="text|json",
        help="json: one JSON object per line on stderr (also CONNECTOR_LOG_FORMAT)")] = None,
) -> None:
    """Reconcile a marketing automation platform with Salesforce."""
    global _LOG_FORMAT
    from connector.logs import resolve_format

    try:
        _LOG_FORMAT = resolve_format(log_format)
    except ConnectorError as exc:
        _fail(exc)
    _setup_logging(False)  # sync and replay set it again with their --verbose


def _context() -> tuple[Any, Any, Any]:
    from connector.config import load_settings
    from connector.mappings import load_mappings
    from connector.state.store import open_store

    settings = load_settings()
    mappings = load_mappings(settings.connector.mappings)
    store = open_store(settings.connector.state)
    return settings, mappings, store


def _locked_context(command: str) -> tuple[Any, Any, Any, Any]:
    """Settings, mappings and the state store, holding the single-writer lock.

    The lock is taken before the store is opened, so two runs never race in a
    migration; runs a killed process left ``running`` are then marked
    ``interrupted`` (nobody else can be running while we hold the lock).
    """
    from connector.config import load_settings
    from connector.mappings import load_mappings
    from connector.run_lock import RunLock
    from connector.state.interrupted import mark_interrupted_runs
    from connector.state.store import open_store

    settings = load_settings()
    lock = RunLock(settings.connector.state, command).acquire()
    try:
        mappings = load_mappings(settings.connector.mappings)
        store = open_store(settings.connector.state)
        stale = mark_interrupted_runs(store)
        if stale:
            logging.getLogger("connector").warning(
                "run(s) %s ended without recording it (the process was killed); marked "
                "interrupted", ", ".join(map(str, stale)))
    except BaseException:
        lock.release()
        raise
    return settings, mappings, store, lock


def _emit_json(data: Any) -> None:
    from connector.redact import redact

    sys.stdout.write(redact(json.dumps(data, indent=2, default=str)) + "\n")


# ---------------------------------------------------------------- sync


def _run_sync(*, dry_run: bool, full: bool, since: str | None, as_of: str | None,
              fmt: Format, replay: bool = False, verbose: bool = False,
              attribution: bool = False) -> None:
    _setup_logging(verbose)
    _json_mode(fmt)
    from connector.logs import LoggingReporter, log_run_finished, track_runs
    from connector.metrics import RunMetrics
    from connector.reports.console import (
        RichReporter,
        problem_rows,
        render_problems,
        render_sync,
    )
    from connector.run.sync import QuietReporter, Sync, SyncOptions

    metrics = RunMetrics("replay" if replay else "sync")

    def go() -> int:
        options = SyncOptions(as_of=_parse_as_of(as_of), dry_run=dry_run, full=full,
                              since=_parse_as_of(since) if since else None, replay=replay,
                              attribution=attribution)
        command = "replay" if replay else "sync --dry-run" if dry_run else "sync"
        settings, mappings, store, lock = _locked_context(command)
        reporter: Any = LoggingReporter() if _LOG_FORMAT == "json" else \
            QuietReporter() if fmt is Format.json else RichReporter()
        track_runs(store)
        try:
            result = Sync(settings, mappings, store, reporter=reporter).run(options)
            summary = metrics.completed(result, store)
            problems = problem_rows(store.dead_letters(), result.run_id)
            summary["first_problems"] = problems
        finally:
            store.close()
            lock.release()
        log_run_finished(summary)
        if fmt is Format.json:
            _emit_json(summary)
        else:
            render_sync(result)
            render_problems(problems)
        return result.exit_code

    code = _guard(lambda: metrics.guard(go))
    raise typer.Exit(code)


@app.command()
def sync(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="print the plan, write nothing "
                                          "to Salesforce")] = False,
    full: Annotated[bool, typer.Option("--full", help="re-read the MAP and the org "
                                       "completely and reconcile every person")] = False,
    since: Annotated[str | None, typer.Option(
        "--since", help="also reconcile people with touches or MAP changes since this "
                        "ISO 8601 timestamp")] = None,
    as_of: AsOfOpt = None,
    fmt: FormatOpt = Format.table,
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
    no_attribution: Annotated[bool, typer.Option(
        "--no-attribution", help="skip recomputing attribution at the end of the run")] = False,
) -> None:
    """One reconciliation run: MAP -> ledger -> plan -> Salesforce, then attribution."""
    _run_sync(dry_run=dry_run, full=full, since=since, as_of=as_of, fmt=fmt, verbose=verbose,
              attribution=not no_attribution)


@app.command()
def replay(
    as_of: AsOfOpt = None,
    fmt: FormatOpt = Format.table,
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
) -> None:
    """Retry records kept after failed writes, and re-read rejected input rows.

    The MAP is re-read in full, so rows fixed in the export (or made valid by a
    mapping change) are picked up and their rejections resolved.
    """
    _run_sync(dry_run=False, full=False, since=None, as_of=as_of, fmt=fmt, replay=True,
              verbose=verbose)


@app.command()
def runs(
    limit: Annotated[int, typer.Option(help="how many recent runs")] = 10,
    fmt: FormatOpt = Format.table,
) -> None:
    """Recent runs with their status and counts."""
    _json_mode(fmt)

    def go() -> None:
        from rich.table import Table

        from connector.reports.console import out

        _settings, _mappings, store = _context()
        rows = store.runs(limit)
        dead = store.dead_letters()
        if fmt is Format.json:
            _emit_json({"runs": rows, "open_dead_letters": len(dead)})
            return
        table = Table(title="Recent runs", title_justify="left")
        for col in ("run", "kind", "started", "status", "api calls", "written", "failed"):
            table.add_column(col)
        for r in rows:
            summary = r.get("summary") or {}
            objects = summary.get("objects") or {}
            written = sum(o.get("created", 0) + o.get("updated", 0) for o in objects.values())
            failed = sum(o.get("failed", 0) for o in objects.values())
            table.add_row(str(r["run_id"]), r["kind"], r["started_at"][:19], r["status"],
                          str(summary.get("api_calls", "")), str(written), str(failed))
        out.print(table)
        out.print(f"{len(dead)} record(s) kept for replay")

    _guard(go)


# --------------------------------------------------------------- audit


class AuditFormat(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"
    html = "html"


@app.command()
def audit(
    fmt: Annotated[AuditFormat, typer.Option(
        "--format", help="table (summary and top findings), json, csv or html (one "
                         "self-contained file)")] = AuditFormat.table,
    out_file: Annotated[Path | None, typer.Option("--out", help="write the report to this "
                                                  "file instead of stdout")] = None,
    fail_on: Annotated[str | None, typer.Option(
        "--fail-on", help="CATEGORY=N,...: exit 1 when a category has more than N "
                          "findings (any=N for the total)")] = None,
    history: Annotated[bool, typer.Option("--history", help="list past audits and "
                                          "exit")] = False,
    top: Annotated[int, typer.Option(help="findings shown by --format table")] = 20,
    fix: Annotated[bool, typer.Option("--fix", help="then write the fixable findings (drift, "
                                      "missing records and members) as a sync would; "
                                      "never write-once fields, never merges")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="with --fix: count what it "
                                          "would write, write nothing")] = False,
    as_of: AsOfOpt = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
) -> None:
    """Reconciliation findings: the MAP, the connector's intent and Salesforce compared."""
    _setup_logging(verbose)
    _json_mode(Format.json if fmt is AuditFormat.json and out_file is None else Format.table)

    def go() -> int:
        from connector.audit.command import audit_command

        settings, mappings, store = _context()
        try:
            return audit_command(settings, mappings, store, fmt=fmt.value, out=out_file,
                                 fail_on=fail_on, history=history, as_of=_parse_as_of(as_of),
                                 top=top, fix=fix, dry_run=dry_run)
        finally:
            store.close()

    raise typer.Exit(_guard(go))


@report_app.command("funnel")
def report_funnel(
    fmt: Annotated[AuditFormat, typer.Option(
        "--format", help="table (the two funnels side by side), json, csv or html (one "
                         "self-contained file)")] = AuditFormat.table,
    out_file: Annotated[Path | None, typer.Option("--out", help="write the report to this "
                                                  "file instead of stdout")] = None,
    start: Annotated[str | None, typer.Option("--from", help="first day of the period "
                                              "(YYYY-MM-DD; default: 12 months back)")] = None,
    end: Annotated[str | None, typer.Option("--to", help="last day of the period "
                                            "(YYYY-MM-DD; default: the as-of day)")] = None,
    grain: Annotated[str, typer.Option("--grain", metavar="month|quarter",
                                       help="periods of the trend")] = "month",
    png: Annotated[Path | None, typer.Option("--png", help="also write each chart as a PNG "
                                             "into this directory")] = None,
    snapshot: Annotated[bool, typer.Option("--snapshot", help="also upsert the numbers to "
                                           "Salesforce as Funnel_Snapshot__c records")] = False,
    model: Annotated[str | None, typer.Option(
        "--model", help="attribution model for attributed revenue per channel (default: "
                        "the first active model)")] = None,
    as_of: AsOfOpt = None,
) -> None:
    """The dual funnel: the demand waterfall beside the account-based funnel."""
    _json_mode(Format.json if fmt is AuditFormat.json and out_file is None else Format.table)

    def go() -> int:
        from connector.reports.funnel_command import funnel_command

        settings, mappings, store = _context()
        try:
            return funnel_command(store, fmt=fmt.value, out=out_file, start=start, end=end,
                                  grain=grain, as_of=_parse_as_of(as_of), png=png,
                                  snapshot=(settings, mappings) if snapshot else None,
                                  model=model, mappings=mappings)
        finally:
            store.close()

    raise typer.Exit(_guard(go))


# ------------------------------------------------------------- explain


@app.command()
def doctor(fmt: FormatOpt = Format.table) -> None:
    """Connection, login, fields present and writable, API budget, state and MAP."""
    _json_mode(fmt)

    def go() -> int:
        from connector.doctor import run_doctor
        from connector.reports.console import out

        checks = run_doctor()
        worst = max((c.exit_code for c in checks if not c.ok), default=0)
        if fmt is Format.json:
            _emit_json({"ok": worst == 0, "checks": [c.as_dict() for c in checks]})
        else:
            for c in checks:
                mark = "[green]ok[/green]  " if c.ok else "[red]FAIL[/red]"
                out.print(f"{mark} {c.name}: {c.detail}", highlight=False)
                if c.hint and not c.ok:
                    out.print(f"      -> {c.hint}", highlight=False)
        return worst

    raise typer.Exit(_guard(go))


# --------------------------------------------------------------- schema


@schema_app.command("export")
def schema_export(
    out_dir: Annotated[Path, typer.Option("--out", help="directory for the SFDX project")],
) -> None:
    """Write SFDX metadata for every custom field and object the mappings use."""

    def go() -> None:
        from connector.config import load_settings
        from connector.mappings import load_mappings
        from connector.reports.console import out
        from connector.schema_export import export_schema

        settings = load_settings()
        files = export_schema(load_mappings(settings.connector.mappings), out_dir,
                              api_version=settings.salesforce.api_version)
        out.print(f"wrote {len(files)} files to {out_dir}; deploy with "
                  f"`sf project deploy start -d {out_dir / 'force-app'}` and assign the "
                  f"permission set MAP_Connector_Integration to the integration user")

    _guard(go)


# ----------------------------------------------------------------- init


@app.command()
def init(
    directory: Annotated[Path, typer.Argument(metavar="[DIR]", help="where to write "
                                              "(default: the current directory)")] = Path(),
    force: Annotated[bool, typer.Option("--force", help="overwrite existing files")] = False,
) -> None:
    """Write a commented connector.toml and a copy of the default mappings to customise."""

    def go() -> None:
        from connector.init_cmd import init_project
        from connector.reports.console import out

        result = init_project(directory, force=force)
        for path in result.written:
            out.print(f"wrote {path}", highlight=False)
        out.print("\nNext steps:", highlight=False)
        for n, step in enumerate(result.next_steps, 1):
            out.print(f"  {n}. {step}", highlight=False)

    _guard(go)


# ----------------------------------------------------------------- demo


@app.command()
def demo(
    people: Annotated[int, typer.Option(help="size of the demo MAP")] = 1000,
    keep: Annotated[Path | None, typer.Option(
        help="keep the emulator data, export and state in this directory")] = None,
) -> None:
    """The whole job against a local org emulator, in about a minute."""
    from connector.demo import run_demo

    raise typer.Exit(_guard(lambda: run_demo(people=people, keep=keep,
                                             json_logs=_LOG_FORMAT == "json")))


def _mount_optional() -> None:
    """Sub-apps defined in their own modules: explain and attribution, the
    emulator, learned scoring and the data generator."""
    from connector.cli_explain import attribution_app, explain_app
    from connector.datagen.cli import generate_command
    from connector.emulator.cli import emulator_app
    from connector.learn.cli import score_app

    app.add_typer(explain_app, name="explain")
    app.add_typer(attribution_app, name="attribution")
    app.add_typer(emulator_app, name="emulator")
    app.add_typer(score_app, name="score")
    app.command("generate-data", help="Generate a demo/benchmark MAP export and a matching "
                "Salesforce seed.")(generate_command)


def main() -> None:
    _setup_logging(False)  # every command's log lines are redacted; -v raises the level
    _mount_optional()
    app()
