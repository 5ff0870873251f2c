"""The dual funnel report in a terminal, as CSV, as one offline HTML page, as PNGs.

Every format renders the same ``funnel_report`` value, so the numbers a leader
sees on the page are the JSON's numbers (the HTML test checks exactly that).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from connector.errors import ConfigError
from connector.reports.csv_safe import to_csv

STAGE_COLUMNS = ("stage", "entered", "inferred", "reached_next", "in_flight", "conversion",
                 "median_days", "p75_days", "p90_days")


def _pct(value: Any) -> str:
    return "-" if value is None else f"{value * 100:.1f}%"


def _num(value: Any) -> str:
    return "-" if value is None else f"{value:g}" if isinstance(value, float) else str(value)


def _money(value: float) -> str:
    return f"{value:,.2f}"


def _stage_table(title: str, rows: Sequence[Mapping[str, Any]]) -> Table:
    table = Table(title=title, title_justify="left")
    for col in ("stage", "entered", "inferred", "-> next", "in flight", "median d", "p90 d"):
        table.add_column(col, justify="left" if col == "stage" else "right")
    for r in rows:
        table.add_row(r["stage"], str(r["entered"]), str(r["inferred"]), _pct(r["conversion"]),
                      _num(r["in_flight"]), _num(r["median_days"]), _num(r["p90_days"]))
    return table


def render_table(report: Mapping[str, Any], console: Console) -> None:
    """The two funnels side by side, then the channel table (first-touch view)."""
    from rich.columns import Columns

    console.print(f"Dual funnel {report['from']} .. {report['to']} (as of {report['as_of']})",
                  highlight=False)
    console.print(Columns([
        _stage_table("Demand (people)", report["demand"]["stages"]),
        _stage_table("Account-based (accounts)", report["abm"]["stages"])], padding=(0, 4)))
    rev = report["revenue"]
    console.print(f"pipeline {_money(rev['pipeline'])} (by created date), won "
                  f"{_money(rev['won'])} (by close date)", highlight=False)
    channels = Table(title="By channel (first touch of the cycle)", title_justify="left")
    for col in ("channel", "Inquiry", "MQL", "SQL", "MQL -> SAL", "SAL -> SQL", "Won",
                "accounts engaged", "pipeline", "won"):
        channels.add_column(col, justify="left" if col == "channel" else "right")
    for row in report["by_channel"]:
        if row["view"] != "first_touch":
            continue
        d, conv = row["demand"], row.get("demand_conversion", {})
        channels.add_row(row["channel"], str(d["Inquiry"]), str(d["MQL"]), str(d["SQL"]),
                         _pct(conv.get("MQL")), _pct(conv.get("SAL")), str(d["Won"]),
                         str(row["abm"]["Engaged"]), _money(row["pipeline"]),
                         _money(row["won"]))
    console.print(channels)
    console.print("Conversion is cohort-based: of those entering a stage in the period, the "
                  "share reaching the next by the as-of time; in flight have not yet and were "
                  "not recycled or lost. Accounts: target accounts, once per buying cycle.",
                  highlight=False)


def render_csv(report: Mapping[str, Any]) -> str:
    """One row per funnel and stage, then per view, channel, funnel and stage."""
    rows: list[list[Any]] = []
    for funnel in ("demand", "abm"):
        for r in report[funnel]["stages"]:
            rows.append(["total", "", "", funnel, *(r[c] for c in STAGE_COLUMNS)])
    for row in report["by_channel"]:
        for funnel in ("demand", "abm"):
            for stage, n in row[funnel].items():
                rows.append([row["view"], row["channel"], "", funnel, stage, n,
                             "", "", "", "", "", "", ""])
    for p in report["periods"]:
        for funnel in ("demand", "abm"):
            for stage, n in p[funnel].items():
                rows.append(["period", "", p["period"], funnel, stage, n,
                             "", "", "", "", "", "", ""])
    return to_csv(("section", "channel", "period", "funnel", *STAGE_COLUMNS), rows)


# ------------------------------------------------------------------ charts

def _altair() -> Any:
    try:
        import altair
    except ImportError:  # pragma: no cover - depends on the install
        raise ConfigError("HTML and PNG reports need the reports extra",
                          hint="pip install 'map-salesforce-connector[reports]'") from None
    return altair


def funnel_chart(report: Mapping[str, Any]) -> Any:
    """The two funnels side by side: one bar per stage, each on its own scale."""
    alt = _altair()

    def one(funnel: str, title: str, color: str) -> Any:
        rows = report[funnel]["stages"]
        data = [{"stage": r["stage"], "entered": r["entered"]} for r in rows]
        return alt.Chart({"values": data}, title=title).mark_bar(color=color).encode(
            y=alt.Y("stage:N", sort=[r["stage"] for r in rows], title=None),
            x=alt.X("entered:Q", title="entered in the period"),
            tooltip=["stage:N", "entered:Q"]).properties(width=300, height=30 * len(rows))

    return alt.hconcat(one("demand", "Demand (people)", "#2f6db3"),
                       one("abm", "Account-based (accounts)", "#c0642f"))


def channel_chart(report: Mapping[str, Any]) -> Any:
    """Per channel (first-touch view): MQLs beside SQLs, so a channel that fills
    the top but does not progress stands out."""
    alt = _altair()

    data = [{"channel": row["channel"], "stage": stage, "people": row["demand"][stage]}
            for row in report["by_channel"] if row["view"] == "first_touch"
            for stage in ("Inquiry", "MQL", "SQL", "Won")]
    return alt.Chart({"values": data}).mark_bar().encode(
        y=alt.Y("channel:N", title=None),
        x=alt.X("people:Q", title="people entering the stage"),
        yOffset=alt.YOffset("stage:N", sort=["Inquiry", "MQL", "SQL", "Won"]),
        color=alt.Color("stage:N", sort=["Inquiry", "MQL", "SQL", "Won"]),
        tooltip=["channel:N", "stage:N", "people:Q"]).properties(width=520)


def trend_chart(report: Mapping[str, Any]) -> Any:
    """Period over period: each funnel's volumes per stage."""
    alt = _altair()

    data = [{"period": p["period"], "series": f"{funnel}: {stage}", "count": n}
            for p in report["periods"] for funnel in ("demand", "abm")
            for stage, n in p[funnel].items()]
    return alt.Chart({"values": data}).mark_line(point=True).encode(
        x=alt.X("period:O", title=None, axis=alt.Axis(labelAngle=0)),
        y=alt.Y("count:Q", title="entered"),
        color=alt.Color("series:N", title=None),
        tooltip=["period:O", "series:N", "count:Q"]).properties(width=640, height=260)


CHARTS = {"funnels": funnel_chart, "channels": channel_chart, "trend": trend_chart}


def write_pngs(report: Mapping[str, Any], directory: Path) -> list[Path]:
    """Each chart as a PNG for slides, without a browser."""
    from connector.reports.html import chart_png

    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, build in CHARTS.items():
        path = directory / f"funnel-{name}.png"
        path.write_bytes(chart_png(build(report)))
        written.append(path)
    return written


def render_html(report: Mapping[str, Any]) -> str:
    """One self-contained offline page: both funnels, conversion and velocity,
    channels, campaigns and the trend."""
    from connector.reports import html as page

    def stage_rows(funnel: str) -> list[list[Any]]:
        return [[r[c] for c in STAGE_COLUMNS] for r in report[funnel]["stages"]]

    rev, cost = report["revenue"], report["cost"]
    figures = {"pipeline": _money(rev["pipeline"]), "won": _money(rev["won"]),
               "program cost": _money(cost["programs"]),
               "people entering Inquiry": report["demand"]["stages"][0]["entered"],
               "target accounts": report["abm"]["stages"][0]["entered"]}
    channel_rows = [[row["view"], row["channel"], *row["demand"].values(),
                     *(row.get("demand_conversion", {}).get(s) for s in ("MQL", "SAL")),
                     *row["abm"].values(), row["pipeline"], row["won"]]
                    for row in report["by_channel"]]
    demand_stages = [r["stage"] for r in report["demand"]["stages"]]
    abm_stages = [r["stage"] for r in report["abm"]["stages"]]
    campaign_rows = [[row["view"], row["campaign"], row["name"] or "", row["cost"],
                      *row["demand"].values(), *row["cost_per"].values()]
                     for row in report["by_campaign"]]
    sections = [
        page.Section("The two funnels", [
            page.Figures(figures),
            page.Chart("Demand waterfall beside the account-based funnel",
                       funnel_chart(report), id="chart-funnels"),
            page.Table("Demand (people): conversion and velocity", STAGE_COLUMNS,
                       stage_rows("demand"), id="demand",
                       note="conversion: of those entering the stage in the period, the share "
                            "reaching the next by the as-of time; days to the next stage "
                            "over those who reached it"),
            page.Table("Account-based (accounts): conversion and velocity", STAGE_COLUMNS,
                       stage_rows("abm"), id="abm",
                       note=" ".join(["target accounts, once per buying cycle: an account "
                                      "re-enters at Target when it engages again after a "
                                      "won or closed-lost opportunity.",
                                      *report.get("warnings", ())])),
            page.Table("Cost per stage (programs starting in the period)",
                       ("stage", "cost per entry"),
                       [[s, v] for s, v in cost["per_stage"].items()], id="cost"),
        ]),
        page.Section("By channel", [
            page.Chart("People per stage by channel (first touch of the cycle)",
                       channel_chart(report), id="chart-channels"),
            page.Table("Channels", ("view", "channel", *(f"demand {s}" for s in demand_stages),
                                    "MQL -> SAL", "SAL -> SQL",
                                    *(f"accounts {s}" for s in abm_stages), "pipeline", "won"),
                       channel_rows, id="channels", filter_column="view"),
        ]),
        page.Section("By campaign", [
            page.Table("Campaigns", ("view", "campaign", "name", "cost", *demand_stages,
                                     *(f"cost per {s}" for s in demand_stages)),
                       campaign_rows, id="campaigns", filter_column="view"),
        ]),
        page.Section("Period over period", [
            page.Chart(f"Entries per {report.get('grain', 'month')}", trend_chart(report),
                       id="chart-trend"),
            page.Table("Periods", ("period", *(f"demand {s}" for s in demand_stages),
                                   *(f"accounts {s}" for s in abm_stages)),
                       [[p["period"], *p["demand"].values(), *p["abm"].values()]
                        for p in report["periods"]], id="periods"),
        ]),
    ]
    return page.Page("The dual funnel",
                     f"{report['from']} .. {report['to']}, as of {report['as_of']}: the demand "
                     f"waterfall (people) beside the account-based funnel (accounts)",
                     sections).render()
