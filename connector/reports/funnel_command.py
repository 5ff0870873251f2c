"""``connector report funnel``: parse the period, compute, render, write."""

from __future__ import annotations

import dataclasses
import json
import sys
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal, cast

from connector.config import Settings
from connector.errors import ConfigError
from connector.mappings import Mappings
from connector.reports.funnel import FunnelQuery, Grain, default_range, funnel_report
from connector.state.store import StateStore

FORMATS = ("table", "json", "csv", "html")


def _date(option: str, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ConfigError(f"{option}: {value!r} is not a date",
                          hint="give it as YYYY-MM-DD, e.g. 2026-01-31") from None


def parse_query(start: str | None, end: str | None, grain: str, as_of: datetime) -> FunnelQuery:
    """The period: ``--from``/``--to`` inclusive; by default the 12 months (4
    quarters) up to ``as_of``."""
    if grain not in ("month", "quarter"):
        raise ConfigError(f"--grain: {grain!r} is not month or quarter")
    g = cast(Grain, grain)
    first, last = default_range(as_of, g)
    q = FunnelQuery(as_of, _date("--from", start) or first, _date("--to", end) or last, g)
    if q.start > q.end:
        raise ConfigError(f"--from {q.start} is after --to {q.end}",
                          hint="give the period's first day, then its last")
    return q


def funnel_command(store: StateStore, *, fmt: Literal["table", "json", "csv", "html"],
                   out: Path | None, start: str | None, end: str | None, grain: str,
                   as_of: datetime, png: Path | None,
                   snapshot: tuple[Settings, Mappings] | None = None, http: Any = None,
                   model: str | None = None, mappings: Mappings | None = None) -> int:
    """Render the report; with ``snapshot``, also upsert it as Funnel_Snapshot__c
    (then the JSON carries a ``snapshot`` key; exit 1 when records failed)."""
    from connector.reports import funnel_render as render
    from connector.reports.console import err
    from connector.reports.console import out as stdout

    query = parse_query(start, end, grain, as_of)
    if model is not None or mappings is not None:
        decl = mappings.fields.objects.get("Attribution__c") if mappings else None
        names = tuple(decl.field(k).api_name for k in
                      ("model", "channel", "revenue", "opportunity")) if decl else \
            query.attribution_fields
        chosen = model or (mappings.attribution.models[0] if mappings else query.model)
        if mappings is not None and chosen not in mappings.attribution.models:
            raise ConfigError(f"--model {chosen!r} is not one of the active models "
                              f"({', '.join(mappings.attribution.models)})",
                              hint="choose an active model, or add it to attribution.yaml")
        query = dataclasses.replace(query, model=chosen,
                                    attribution_fields=names)  # type: ignore[arg-type]
    report = funnel_report(store.db, query)
    for warning in report["warnings"]:
        err.print(f"warning: {warning}", highlight=False, soft_wrap=True)
    code = 0
    if snapshot is not None:
        from connector.reports.funnel_snapshot import write_snapshot

        report["snapshot"] = written = write_snapshot(*snapshot, report, http=http)
        code = 1 if written["failed"] else 0
        if fmt != "json" or out is not None:
            err.print(f"{written['object']}: {written['created']} created, "
                      f"{written['updated']} updated, {written['failed']} failed",
                      highlight=False)
            for line in written["errors"]:
                err.print(f"  {line}", highlight=False)
    if fmt == "json":
        text = json.dumps(report, indent=2) + "\n"
    elif fmt == "csv":
        text = render.render_csv(report)
    elif fmt == "html":
        text = render.render_html(report)
    else:
        text = ""
    if fmt == "table" and out is None:
        render.render_table(report, stdout)
    elif fmt == "table":
        assert out is not None
        out.parent.mkdir(parents=True, exist_ok=True)
        with out.open("w", encoding="utf-8") as fh:
            from rich.console import Console

            render.render_table(report, Console(file=fh, width=200))
    elif out is None:
        sys.stdout.write(text)
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
    if out is not None:
        err.print(f"wrote {out}", highlight=False)
    if png is not None:
        for path in render.write_pngs(report, png):
            err.print(f"wrote {path}", highlight=False)
    return code
