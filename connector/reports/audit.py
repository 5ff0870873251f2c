"""Rendering an audit: terminal tables, CSV, and the self-contained HTML report."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from rich.console import Console
from rich.table import Table as RichTable

from connector.audit.fix import FixOutcome
from connector.audit.rules import CATEGORIES
from connector.audit.run import AuditResult
from connector.reports.csv_safe import to_csv
from connector.values import FindingCategory

COLUMNS = ("category", "object", "record_id", "map_id", "field", "salesforce_value",
           "expected_value", "detail", "action", "opened_at")


def finding_rows(result: AuditResult) -> list[list[Any]]:
    return [[d.get(c) for c in COLUMNS] for d in result.finding_dicts()]


def render_csv(result: AuditResult) -> str:
    """Every finding, one row each, formula-injection safe."""
    return to_csv(COLUMNS, finding_rows(result))


def _short(value: Any, width: int = 60) -> str:
    if value is None:
        return "-"
    text = str(value)
    return text if len(text) <= width else text[:width - 1] + "…"


def render_table(result: AuditResult, console: Console, top: int = 20) -> None:
    """A summary by category and object, then the first findings."""
    by = Counter((f.category, f.object or "-") for f in result.findings)
    summary = RichTable(title=f"Audit {result.audit_id} as of {result.as_of.isoformat()}: "
                              f"{len(result.findings)} finding(s)", title_justify="left")
    for col in ("category", "object", "findings"):
        summary.add_column(col, justify="right" if col == "findings" else "left")
    for category in CATEGORIES:
        rows = sorted((obj, n) for (c, obj), n in by.items() if c == category)
        for obj, n in rows:
            summary.add_row(category, obj, str(n))
        if not rows:
            summary.add_row(f"[dim]{category}[/dim]", "", "[dim]0[/dim]")
    console.print(summary)
    counts = RichTable(title="Records per object (connector's plan vs Salesforce)",
                       title_justify="left")
    for col in ("object", "expected", "in Salesforce"):
        counts.add_column(col, justify="left" if col == "object" else "right")
    for obj in sorted(set(result.expected) | set(result.actual)):
        want, have = result.expected.get(obj, 0), result.actual.get(obj, 0)
        counts.add_row(obj, str(want), str(have) if want == have else f"[red]{have}[/red]")
    console.print(counts)
    if result.findings:
        # a list, not a table: details and actions stay readable in any terminal
        console.print(f"[bold]Top findings[/bold] ({min(top, len(result.findings))} of "
                      f"{len(result.findings)})", highlight=False)
        for f in result.findings[:top]:
            record = " ".join(x for x in (f.object, f.record_id or f.map_id) if x)
            values = (f" {_short(f.salesforce_value, 40)} -> {_short(f.expected_value, 40)}"
                      if f.salesforce_value is not None or f.expected_value is not None
                      else "")
            console.print(f"- [bold]{f.category}[/bold] {record}"
                          + (f" {f.field}:" if f.field else "") + values, highlight=False)
            console.print(f"  {f.detail}", highlight=False, style="dim")
            console.print(f"  -> {f.action}", highlight=False)
    calls = result.api_calls
    by_kind = ", ".join(f"{k} {v}" for k, v in calls.get("by_kind", {}).items())
    console.print(f"Opened {result.opened}, closed {result.closed} since the last audit. "
                  f"API calls: {calls.get('total', 0)} ({by_kind or 'none'}); "
                  f"{result.seconds:.1f}s.", highlight=False)
    for note in result.notes:
        console.print(f"[yellow]note:[/yellow] {note}", highlight=False)
    if len(result.findings) > top:
        console.print("All findings: `connector audit --format csv|json|html --out FILE`.",
                      highlight=False)


def render_history(rows: Sequence[Mapping[str, Any]], console: Console) -> None:
    table = RichTable(title="Past audits", title_justify="left")
    for col in ("audit", "as of", "finished", "findings", "opened", "closed", "api calls",
                "largest categories"):
        table.add_column(col)
    for r in rows:
        summary: Mapping[str, int] = r["summary"]
        top = ", ".join(f"{c} {n}" for c, n in sorted(summary.items(), key=lambda x: -x[1])
                        if n)[:80]
        table.add_row(str(r["audit_id"]), r["as_of"][:19], r["finished_at"][:19],
                      str(sum(summary.values())), str(r["opened"]), str(r["closed"]),
                      str(r["api_calls"]), top or "-")
    console.print(table)


def render_fix(fix: FixOutcome, console: Console) -> None:
    """What ``--fix`` wrote (or, with ``--dry-run``, would write)."""
    verb = "would write" if fix.dry_run else "wrote"
    parts = []
    for obj, counts in sorted(fix.planned.items()):
        done = fix.objects.get(obj, {})
        if fix.dry_run:
            parts.append(f"{obj} {counts['create']} create(s), {counts['update']} update(s)")
        else:
            parts.append(f"{obj} {done.get('created', 0)} created, {done.get('updated', 0)} "
                         f"updated, {done.get('failed', 0)} failed")
    console.print(f"Fix {verb}: " + ("; ".join(parts) or "nothing (no fixable finding)")
                  + ". Duplicates and write-once conflicts are left for a person to decide.",
                  highlight=False)
    if fix.stopped:
        console.print(f"[yellow]Fix stopped early:[/yellow] {fix.stopped}", highlight=False)
    if not fix.dry_run:
        console.print("Run `connector audit` again to see what is left.", highlight=False)


# ------------------------------------------------------------------- HTML


def category_chart(summary: Mapping[str, int]) -> Any:
    import altair as alt

    data = [{"category": c, "findings": n} for c, n in summary.items()]
    return alt.Chart({"values": data}).mark_bar(color="#2f6db3").encode(
        x=alt.X("findings:Q", title="open findings"),
        y=alt.Y("category:N", sort=list(summary), title=None,
                axis=alt.Axis(labelLimit=260)),
        tooltip=["category:N", "findings:Q"],
    ).properties(width=520, height=22 * len(data))


def trend_chart(history: Sequence[Mapping[str, Any]]) -> Any:
    import altair as alt

    data = []
    for r in sorted(history, key=lambda r: r["audit_id"]):
        label = f"#{r['audit_id']} {str(r['as_of'])[:10]}"
        for category, n in r["summary"].items():
            data.append({"audit": label, "category": category, "findings": n})
    order = [f"#{r['audit_id']} {str(r['as_of'])[:10]}"
             for r in sorted(history, key=lambda r: r["audit_id"])]
    return alt.Chart({"values": data}).mark_line(point=True).encode(
        x=alt.X("audit:O", sort=order, title="audit", axis=alt.Axis(labelAngle=0)),
        y=alt.Y("findings:Q", title="findings"),
        color=alt.Color("category:N", sort=list(CATEGORIES),
                        legend=alt.Legend(labelLimit=260)),
        tooltip=["audit:O", "category:N", "findings:Q"],
    ).properties(width=620, height=260)


def render_html(result: AuditResult, history: Sequence[Mapping[str, Any]]) -> str:
    """One self-contained page: summary, charts, counts and every finding."""
    from connector.reports import html as page

    summary = result.summary
    calls = result.api_calls
    by_code = Counter(f.extra.get("error_code") or "unknown" for f in result.findings
                      if f.category == FindingCategory.FAILED_WRITE)
    figures = {"findings": len(result.findings), "opened since last audit": result.opened,
               "closed since last audit": result.closed,
               "API calls": calls.get("total", 0), "seconds": f"{result.seconds:.1f}"}
    overview = page.Section("Summary", [
        page.Figures(figures),
        page.Chart("Findings by category", category_chart(summary), id="chart-categories"),
        page.Chart("Findings across audits", trend_chart(history), id="chart-trend"),
    ])
    for note in result.notes:
        overview.blocks.append(page.Text(f"Note: {note}"))
    counts = page.Table(
        "Records per object", ("object", "expected (connector's plan)", "in Salesforce",
                               "difference"),
        [[obj, result.expected.get(obj, 0), result.actual.get(obj, 0),
          result.actual.get(obj, 0) - result.expected.get(obj, 0)]
         for obj in sorted(set(result.expected) | set(result.actual))], id="counts")
    sections = [overview, page.Section("Counts", [counts])]
    if by_code:
        sections.append(page.Section("Failed writes by Salesforce error code", [page.Table(
            "", ("error code", "records"), sorted(([c, n] for c, n in by_code.items()),
                                                  key=lambda r: -int(r[1])), id="codes")]))
    sections.append(page.Section("Findings", [page.Table(
        f"{len(result.findings)} open finding(s)", COLUMNS, finding_rows(result),
        id="findings", filter_column="category",
        note="Click a header to sort; type to filter.")]))
    if result.closed_findings:
        sections.append(page.Section("Closed by this audit", [page.Table(
            "", ("category", "object", "record_id", "map_id", "field", "detail", "opened_at",
                 "closed_at"),
            [[d.get(c) for c in ("category", "object", "record_id", "map_id", "field",
                                 "detail", "opened_at", "closed_at")]
             for d in result.closed_findings], id="closed")]))
    sections.append(page.Section("Past audits", [page.Table(
        "", ("audit", "as of", "findings", "opened", "closed", "API calls"),
        [[r["audit_id"], r["as_of"], sum(r["summary"].values()), r["opened"], r["closed"],
          r["api_calls"]] for r in history], id="history")]))
    return page.Page(
        "Reconciliation audit",
        f"Audit {result.audit_id} as of {result.as_of.isoformat()}: the MAP (ledger), what "
        f"the connector intends, and what Salesforce holds", sections).render()
