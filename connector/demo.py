"""``connector demo``: the whole job against a local org, in about a minute.

Generates a demo MAP export and a matching Salesforce org, starts the org
emulator on loopback HTTPS, runs a sync through exactly the code path a real
org gets, shows what it wrote, and runs again to show that a re-run with
nothing changed spends no write calls.
"""

from __future__ import annotations

import os
import shlex
import shutil
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

from rich.panel import Panel
from rich.table import Table

from connector.config import (
    Settings,
)
from connector.errors import ConfigError, ConnectorError
from connector.logs import LoggingReporter, log_run_finished
from connector.mappings import bundled_dir, load_mappings
from connector.reports.console import RichReporter, out, render_sync
from connector.run.sync import Sync, SyncOptions
from connector.state.store import open_store

DEMO_SEED = 42
DEMO_DOMAIN = "lumora.io"  # the demo company's own website: internal navigation


def _demo_mappings(directory: Path) -> Path:
    """The bundled mappings with one customisation, as an admin would make it:
    referrers from the company's own site are navigation, not a source."""
    directory.mkdir(parents=True, exist_ok=True)
    text = (bundled_dir() / "channels.yaml").read_text(encoding="utf-8")
    (directory / "channels.yaml").write_text(
        text.replace("own_domains: []", f"own_domains: [{DEMO_DOMAIN}]"), encoding="utf-8")
    return directory


def _clear_kept(base: Path) -> None:
    """Replace an earlier kept demo, but never delete a directory that is not one
    (``--keep ~`` must not empty a home directory)."""
    if not base.is_dir():
        raise ConfigError(f"--keep {base}: not a directory",
                          hint="name a new directory or an earlier demo's")
    earlier = (base / ENV_FILE).exists() or (base / "org" / "org.db").exists()
    if any(base.iterdir()) and not earlier:
        raise ConfigError(f"--keep {base}: the directory is not empty and holds no earlier "
                          f"demo, so it is left alone",
                          hint="name a new or empty directory")
    shutil.rmtree(base)


def _heading(title: str) -> None:
    """A rule across a terminal; a plain line elsewhere (a log file gets no
    240-character rule)."""
    if out.is_terminal:
        out.rule(title)
    else:
        out.print(f"\n== {title} ==", highlight=False)


def run_demo(*, people: int = 1000, keep: Path | None = None,
             json_logs: bool = False) -> int:
    from connector.datagen import generate
    from connector.datagen.generate import DEFAULT_AS_OF
    from connector.emulator.testing import running_emulator, settings_for_org

    base = Path(keep) if keep else Path(tempfile.mkdtemp(prefix="connector-demo-"))
    if keep and base.exists():
        _clear_kept(base)
    base.mkdir(parents=True, exist_ok=True)
    out.print(Panel.fit(
        "A demo MAP export and a demo Salesforce org, reconciled by the connector over "
        "HTTPS exactly as a real org would be. Nothing leaves this machine.",
        title="connector demo"))
    def new_reporter() -> Any:
        return LoggingReporter() if json_logs else RichReporter()

    reporter = new_reporter()
    reporter.phase(f"generating {people} people, their programs and touches")
    data = generate(base / "data", people=people, seed=DEMO_SEED)
    reporter.done()
    summary = data.summary
    out.print(f"MAP export: {summary.get('people')} people, {summary.get('programs')} programs, "
              f"{summary.get('touches')} touches (with a share of deliberately dirty rows); "
              f"Salesforce: {summary.get('accounts')} accounts, {summary.get('contacts')} "
              f"contacts, {summary.get('leads')} leads, {summary.get('opportunities')} "
              f"opportunities.")
    mappings_dir = _demo_mappings(base / "mappings")
    mappings = load_mappings(mappings_dir)
    code = 0
    with running_emulator(base / "org", seed_dir=data.sf_dir) as org:
        env = org.env()
        settings: Settings = settings_for_org(env, map_dir=data.map_dir,
                                              state=base / "state.db", mappings=mappings_dir)
        out.print(f"Emulated org at {org.instance_url} (its CA: {org.ca_path})\n")
        store = open_store(settings.connector.state)
        try:
            _heading("First sync")
            first = Sync(settings, mappings, store, reporter=new_reporter()).run(
                SyncOptions(as_of=DEFAULT_AS_OF, attribution=True))
            log_run_finished(first.as_json())
            render_sync(first)
            _show_what_was_written(org.salesforce())
            _show_scores_and_revenue(org.salesforce())
            _heading("Second sync, nothing changed")
            org.reset_stats()
            second = Sync(settings, mappings, store, reporter=new_reporter()).run(
                SyncOptions(as_of=DEFAULT_AS_OF, attribution=True))
            log_run_finished(second.as_json())
            writes = org.stats()["api_calls"]["write"]
            out.print(f"Re-run: {second.api_calls.get('total', 0)} API calls, "
                      f"[bold]{writes} write calls[/bold] (the org's own count).")
            code = max(first.exit_code, second.exit_code)
            example = _an_email(store)
            _audit(settings, mappings, store, base if keep is not None else None)
            _funnel(store, base if keep is not None else None)
        finally:
            store.close()
        _next_steps(base, env, data.map_dir, mappings_dir, keep is not None, example)
    if not keep:
        shutil.rmtree(base, ignore_errors=True)
    return 0 if code in (0, 1) else code


def _audit(settings: Settings, mappings: Any, store: Any, kept: Path | None) -> None:
    """The audit after the sync: what still disagrees, and why (the demo data is
    deliberately dirty: rejected rows, duplicates, unknown programs)."""
    from connector.audit.run import run_audit
    from connector.datagen.generate import DEFAULT_AS_OF
    from connector.reports.audit import render_html, render_table
    from connector.state.findings import history

    out.rule("Audit")
    result = run_audit(settings, mappings, store, as_of=DEFAULT_AS_OF)
    render_table(result, out, top=8)
    if kept is not None:
        try:
            (kept / "audit.html").write_text(render_html(result, history(store)),
                                             encoding="utf-8")
            out.print(f"The audit as one HTML file: {kept / 'audit.html'}")
        except ConnectorError as exc:  # the reports extra is not installed
            out.print(f"(no HTML audit report: {exc.message})")


def _funnel(store: Any, kept: Path | None) -> None:
    """The dual funnel over what the syncs computed, in the terminal and as one
    HTML page (kept with the demo, or in its own temporary directory)."""
    from connector.datagen.generate import DEFAULT_AS_OF
    from connector.reports.funnel import FunnelQuery, default_range, funnel_report
    from connector.reports.funnel_render import render_html, render_table

    out.rule("The dual funnel")
    report = funnel_report(store.db, FunnelQuery(DEFAULT_AS_OF,
                                                 *default_range(DEFAULT_AS_OF, "month")))
    render_table(report, out)
    try:
        page = render_html(report)
        directory = kept or Path(tempfile.mkdtemp(prefix="connector-funnel-"))
        (directory / "funnel.html").write_text(page, encoding="utf-8")
        out.print(f"The funnel report as one HTML file: {directory / 'funnel.html'}",
                  highlight=False, soft_wrap=True)
    except ConnectorError as exc:  # the reports extra is not installed
        out.print(f"(no HTML funnel report: {exc.message})")


def _show_what_was_written(sf: Any) -> None:
    records = sf.query_all(
        "SELECT Email, Original_Source__c, Original_Source_Detail__c, First_Touch_Channel__c, "
        "First_Touch_Date__c, Last_Touch_Date__c, Funnel_Cycle__c FROM Lead "
        "WHERE Original_Source__c != null ORDER BY Funnel_Cycle__c DESC, Email LIMIT 6"
    )["records"]
    table = Table(title="Leads as revenue leaders now see them", title_justify="left")
    for col in ("email", "original source", "first touch", "first touch on", "cycle"):
        table.add_column(col, no_wrap=True, overflow="ellipsis",
                         max_width=30 if col == "email" else None)
    for r in records:
        table.add_row(r["Email"], r["Original_Source__c"], r["First_Touch_Channel__c"] or "-",
                      (r["First_Touch_Date__c"] or "")[:10],
                      str(int(r["Funnel_Cycle__c"] or 0)))
    out.print(table)
    sources = Counter(r["Original_Source__c"] for r in sf.query_all(
        "SELECT Original_Source__c FROM Lead WHERE Original_Source__c != null")["records"])
    out.print("Leads by original source: " + ", ".join(
        f"{k} {v}" for k, v in sources.most_common(8)))
    members = sf.query_all("SELECT Campaign.Channel__c, Status FROM CampaignMember "
                           "WHERE HasResponded = true")["records"]
    by_channel = Counter((m.get("Campaign") or {}).get("Channel__c") for m in members)
    out.print("Responded campaign members by channel: " + ", ".join(
        f"{k} {v}" for k, v in by_channel.most_common(8)) + "\n")


def _show_scores_and_revenue(sf: Any) -> None:
    """The account view, the MQLs of the run, and revenue by channel under two models."""
    accounts = sf.query_all(
        "SELECT Name, Buying_Stage__c, Engagement_Score__c, Account_Fit_Score__c, "
        "Qualified_Account__c FROM Account WHERE Engagement_Score__c > 0 "
        "ORDER BY Engagement_Score__c DESC LIMIT 5")["records"]
    table = Table(title="Top accounts by engagement", title_justify="left")
    for col in ("account", "buying stage", "engagement", "fit", "qualified"):
        table.add_column(col, no_wrap=True, overflow="ellipsis")
    for a in accounts:
        table.add_row(a["Name"], a["Buying_Stage__c"] or "-",
                      str(int(a["Engagement_Score__c"] or 0)),
                      str(int(a["Account_Fit_Score__c"] or 0)),
                      "yes" if a["Qualified_Account__c"] else "no")
    out.print(table)
    stages = Counter(r["Lifecycle_Stage__c"] for r in sf.query_all(
        "SELECT Lifecycle_Stage__c FROM Lead WHERE Lifecycle_Stage__c != null")["records"])
    out.print("Leads by lifecycle stage: " + ", ".join(
        f"{k} {v}" for k, v in stages.most_common()))
    mqls = sf.query_all("SELECT Email, Lead_Score__c, MQL_Date__c FROM Lead WHERE "
                        "Lifecycle_Stage__c = 'MQL' ORDER BY Lead_Score__c DESC LIMIT 5")
    for r in mqls["records"]:
        out.print(f"  MQL {r['Email']}: lead score {int(r['Lead_Score__c'] or 0)}, "
                  f"MQL on {(r['MQL_Date__c'] or '')[:10]}", highlight=False)
    credits = sf.query_all("SELECT Model__c, Channel__c, Revenue__c FROM Attribution__c "
                           "WHERE Model__c IN ('first_touch', 'w_shaped')")["records"]
    revenue: dict[str, dict[str, float]] = {}
    for c in credits:
        channels = revenue.setdefault(c["Model__c"], {})
        key = c["Channel__c"] or "-"
        channels[key] = channels.get(key, 0.0) + float(c["Revenue__c"] or 0)
    for model, by_channel in sorted(revenue.items()):
        top = sorted(by_channel.items(), key=lambda kv: -kv[1])[:6]
        out.print(f"Revenue by channel ({model}): " + ", ".join(
            f"{k} {v:,.0f}" for k, v in top), highlight=False)
    out.print("")


def _an_email(store: Any) -> str | None:
    for link in store.links().values():
        person = store.people([link.map_id]).get(link.map_id)
        if person and person.email and link.sobject == "Lead":
            return str(person.email)
    return None


ENV_FILE = "connector.env"


def write_env_file(base: Path, env: dict[str, str], map_dir: Path,
                   mappings_dir: Path) -> Path:
    """``DIR/connector.env``: every variable needed to go on with the kept demo, to
    ``source`` in a shell (mode 0600: it holds the emulated org's client secret)."""
    port = env["SF_INSTANCE_URL"].rsplit(":", 1)[-1]
    exports = {**env, "MAP_KIND": "files", "MAP_FILES_DIR": str(map_dir.resolve()),
               "CONNECTOR_STATE": str((base / "state.db").resolve()),
               "CONNECTOR_MAPPINGS": str(mappings_dir.resolve())}
    lines = [
        "# Written by `connector demo --keep`: the demo's settings, for `source`.",
        "# Start the kept org first (it listens on the same port as during the demo):",
        f"#   connector emulator serve --data-dir {shlex.quote(str((base / 'org').resolve()))}"
        f" --port {port}",
        *(f"export {k}={shlex.quote(v)}" for k, v in exports.items()),
    ]
    path = base / ENV_FILE
    fd = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write("\n".join(lines) + "\n")
    os.chmod(path, 0o600)
    return path


def _next_steps(base: Path, env: dict[str, str], map_dir: Path, mappings_dir: Path,
                kept: bool, example: str | None) -> None:
    if not kept:
        out.print("To explore the result afterwards, run [bold]connector demo --keep DIR[/bold];"
                  " the org, the export and the state stay in DIR.")
        return
    path = write_env_file(base, env, map_dir, mappings_dir)
    port = env["SF_INSTANCE_URL"].rsplit(":", 1)[-1]
    out.print(f"Kept in {base}. To explore it:", highlight=False)
    out.print(f"  connector emulator serve --data-dir {base / 'org'} --port {port} &",
              highlight=False, soft_wrap=True)
    out.print(f"  source {path}", highlight=False, soft_wrap=True)
    out.print(f"  connector explain person {example or 'EMAIL'}", highlight=False,
              soft_wrap=True)
    out.print("  connector runs", highlight=False)
