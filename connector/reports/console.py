"""Terminal rendering: progress while a run works, readable tables after.

Progress and logs go to stderr; results go to stdout, so ``--format json``
output can be piped while a person still sees what is happening.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from connector.plan.model import Plan
from connector.run.status import RunStatus
from connector.run.sync import SyncResult


def _console(stderr: bool = False) -> Console:
    """A console that wraps at the terminal's width on a terminal, and not at 80
    columns elsewhere (cron mail, CI logs, ``| tee``): rich's default for a
    non-terminal would cut table headers. ``COLUMNS`` still wins when set."""
    console = Console(stderr=stderr)
    if not console.is_terminal and not os.environ.get("COLUMNS"):
        console = Console(stderr=stderr, width=NON_TERMINAL_WIDTH)
    return console


NON_TERMINAL_WIDTH = 240
out = _console()
err = _console(stderr=True)


class RichReporter:
    """Implements ``connector.run.sync.Reporter`` with a progress bar per phase."""

    def __init__(self, console: Console | None = None) -> None:
        self.console = console or err
        self.progress = Progress(
            SpinnerColumn(), TextColumn("[bold]{task.description}"), BarColumn(),
            MofNCompleteColumn(), TimeElapsedColumn(), console=self.console, transient=False,
            disable=not self.console.is_terminal,
        )
        self.task: TaskID | None = None
        self.started = False

    def phase(self, name: str, total: int | None = None) -> None:
        if not self.started:
            self.progress.start()
            self.started = True
        if self.task is not None:
            task = self.progress.tasks[self.task]
            self.progress.update(self.task, completed=task.total or task.completed)
        self.task = self.progress.add_task(name, total=total)
        if not self.console.is_terminal:
            self.console.print(f"- {name}", highlight=False)

    def advance(self, n: int = 1) -> None:
        if self.task is not None and n:
            self.progress.advance(self.task, n)

    def note(self, message: str) -> None:
        self.console.print(message, highlight=False)

    def done(self) -> None:
        if self.task is not None:
            task = self.progress.tasks[self.task]
            self.progress.update(self.task, completed=task.total or task.completed)
        if self.started:
            self.progress.stop()
            self.started = False


def objects_table(title: str, objects: Mapping[str, Mapping[str, int]]) -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column("object")
    for col in ("created", "updated", "unchanged", "failed"):
        table.add_column(col, justify="right")
    for name in sorted(objects):
        row = objects[name]
        failed = row.get("failed", 0)
        table.add_row(name, str(row.get("created", 0)), str(row.get("updated", 0)),
                      str(row.get("unchanged", 0)),
                      f"[red]{failed}[/red]" if failed else "0")
    return table


def render_sync(result: SyncResult, console: Console = out) -> None:
    title = "Plan (dry run: nothing was written)" if result.status == RunStatus.DRY_RUN \
        else f"Run {result.run_id}: {result.status}"
    console.print(objects_table(title, result.objects))
    calls = result.api_calls
    by_kind = ", ".join(f"{k} {v}" for k, v in calls.get("by_kind", {}).items())
    org = calls.get("org_usage") or {}
    console.print(f"API calls: {calls.get('total', 0)} ({by_kind or 'none'})"
                  + (f"; org usage {org.get('used')}/{org.get('max')} today" if org else ""))
    if result.status == RunStatus.DRY_RUN:
        est = result.estimate
        console.print(f"Writing this plan would take about {est.get('api_calls', 0)} API "
                      f"call(s) (budget left for this run: {est.get('budget_remaining')}, "
                      f"org: {est.get('org_remaining')}).")
        render_plan_samples(result.plan, console)
    if result.drift:
        console.print(f"Drift put back: {sum(result.drift.values())} field(s) edited by hand "
                      f"({', '.join(f'{k} {v}' for k, v in sorted(result.drift.items()))})")
    if result.findings:
        console.print("Findings: " + ", ".join(f"{k} {v}" for k, v in
                                               sorted(result.findings.items())))
    kinds = result.dead_letters_by_kind
    if kinds.get("failed_write"):
        console.print(f"[yellow]{kinds['failed_write']} record(s) could not be written[/yellow]"
                      f" and are kept with Salesforce's error; the next run or "
                      f"`connector replay` retries them")
    if kinds.get("rejected_input"):
        console.print(f"{kinds['rejected_input']} input row(s) were rejected (file, row and "
                      f"field are kept); fix them at the source and run `connector replay`")
    if result.stopped is not None:
        console.print(f"[yellow]Stopped early:[/yellow] {result.stopped}")


def problem_rows(dead_letters: Iterable[Any], run_id: int, limit: int = 5) -> list[dict[str, Any]]:
    """This run's first rejected rows and failed writes, for the run summary
    (``dead_letters`` are the store's open ``DeadLetter`` values)."""
    rows = []
    for d in dead_letters:
        if d.run_id != run_id:
            continue
        fields = d.field or ", ".join(d.payload.get("error_fields") or []) or None
        rows.append({"kind": d.kind, "file": d.file, "row": d.row, "object": d.sobject,
                     "record": d.payload.get("record_id") or d.map_id or d.ref,
                     "field": fields, "error_code": d.error_code, "reason": d.message})
    rejected = [r for r in rows if r["kind"] == "rejected_input"][:limit]
    failed = [r for r in rows if r["kind"] == "failed_write"][:limit]
    return rejected + failed


def render_problems(rows: list[dict[str, Any]], console: Console = out) -> None:
    """Name the first rejected rows and failed writes: file, row, field, error, why."""
    if not rows:
        return
    table = Table(title="First rejected rows and failed writes of this run",
                  title_justify="left")
    for col in ("kind", "where", "field", "error code", "reason"):
        table.add_column(col)
    for r in rows:
        where = f"{r['file']}, row {r['row']}" if r["kind"] == "rejected_input" \
            else f"{r['object']} {r['record']}"
        table.add_row(r["kind"], _short(where, 40), _short(r["field"], 30),
                      r["error_code"] or "-", _short(r["reason"], 80))
    console.print(table)
    console.print("All of them, with what to do: `connector audit` "
                  "(`--format csv|html --out FILE` for a file).", highlight=False)


def render_plan_samples(plan: Plan, console: Console = out, per_step: int = 3) -> None:
    for step in plan.steps:
        if not step.writes:
            continue
        table = Table(title=f"{step.name}: {step.total} {step.action}(s) of "
                            f"{step.sobject}", title_justify="left", show_lines=False)
        table.add_column("record")
        table.add_column("field")
        table.add_column("before")
        table.add_column("after")
        for write in step.writes[:per_step]:
            label = write.record_id or f"(new) {write.ref}"
            first = True
            for name, value in list(write.fields.items())[:8]:
                table.add_row(label if first else "", name,
                              _short(write.before.get(name)) if not write.is_create else "",
                              _short(value))
                first = False
            for name, ref in write.depends.items():
                table.add_row(label if first else "", name, "", f"(id of {ref})")
                first = False
        console.print(table)


def _short(value: Any, width: int = 48) -> str:
    if value is None:
        return "-"
    text = str(value)
    return text if len(text) <= width else text[:width - 1] + "…"


def key_values(title: str, rows: Iterable[tuple[str, Any]]) -> Table:
    table = Table(title=title, title_justify="left", show_header=False)
    table.add_column("key", style="bold")
    table.add_column("value")
    for key, value in rows:
        table.add_row(key, _short(value, 90))
    return table
