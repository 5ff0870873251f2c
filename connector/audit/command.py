"""``connector audit``: run (or list) audits and write them in the asked format."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path

from connector.config import Settings
from connector.errors import ConfigError
from connector.mappings import Mappings
from connector.state import findings as findings_state
from connector.state.store import StateStore

from .run import parse_fail_on, run_audit

FORMATS = ("table", "json", "csv", "html")


def _write(text: str, out: Path | None) -> None:
    if out is None:
        sys.stdout.write(text)
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")


def audit_command(settings: Settings, mappings: Mappings, store: StateStore, *, fmt: str,
                  out: Path | None, fail_on: str | None, history: bool, as_of: datetime,
                  top: int = 20, fix: bool = False, dry_run: bool = False) -> int:
    """Returns the exit code: 1 when a ``--fail-on`` threshold is exceeded or a fix
    could not write every record."""
    from rich.console import Console

    from connector.reports import audit as report
    from connector.reports.console import err
    from connector.reports.console import out as stdout

    thresholds = parse_fail_on(fail_on)  # a usage error before any API call
    if dry_run and not fix:
        raise ConfigError("--dry-run goes with --fix (an audit alone writes nothing)")
    if history:
        rows = findings_state.history(store)
        if fmt == "json":
            _write(json.dumps({"audits": rows}, indent=2) + "\n", out)
        else:
            report.render_history(rows, stdout)
        return 0

    def phase(name: str) -> None:
        if fmt == "table":
            err.print(f"- {name}", highlight=False)

    result = run_audit(settings, mappings, store, as_of=as_of, on_phase=phase, fix=fix,
                       dry_run=dry_run)
    if fmt == "json":
        _write(json.dumps(result.as_json(), indent=2, default=str) + "\n", out)
    elif fmt == "csv":
        _write(report.render_csv(result), out)
    elif fmt == "html":
        _write(report.render_html(result, findings_state.history(store)), out)
    elif out is not None:
        with out.open("w", encoding="utf-8") as fh:
            report.render_table(result, Console(file=fh, width=160), top=top)
    else:
        report.render_table(result, stdout, top=top)
    if out is not None and fmt != "json":
        err.print(f"wrote {out}", highlight=False)
    over = result.exceeded(thresholds)
    for category, (count, limit) in sorted(over.items()):
        err.print(f"[red]--fail-on:[/red] {category} has {count} finding(s), more than "
                  f"{limit}", highlight=False)
    if result.fix is not None and fmt != "json":
        report.render_fix(result.fix, err)
    failed = result.fix is not None and (result.fix.failed > 0 or bool(result.fix.stopped))
    return 1 if over or failed else 0

