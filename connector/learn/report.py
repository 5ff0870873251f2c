"""Rendering a back-test: terminal tables and the self-contained HTML report."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table as RichTable

from connector.reports import html as page


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, list):
        return "[" + ", ".join(_fmt(v) for v in value) + "]"
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _summary_rows(report: dict[str, Any]) -> list[list[Any]]:
    rows = []
    for name, m in report["models"].items():
        rows.append([name, m["roc_auc"], m["roc_auc_ci"], m["pr_auc"], m["pr_auc_ci"],
                     m["brier"], m["deciles"][0]["lift"]])
    return rows


SUMMARY_COLUMNS = ("model", "ROC AUC", "95% CI", "PR AUC", "95% CI", "Brier",
                   "top-decile lift")
DECILE_COLUMNS = ("decile", "count", "conversions", "rate", "lift", "cumulative_capture")


def render_table(report: dict[str, Any], console: Console) -> None:
    tr, te = report["train"], report["test"]
    level = "accounts" if report.get("level") == "account" else "people"
    console.print(f"Snapshots of {level}. Target: [b]{report['target']}[/b] within "
                  f"{report['horizon_days']} days. "
                  f"Train: {tr['snapshots']} snapshots ({tr['positives']} positive), "
                  f"{tr['from']} to {tr['until']}. Test: {te['snapshots']} snapshots "
                  f"({te['positives']} positive), {te['from']} to {te['until']}. "
                  f"Base rate {report['base_rate']:.3%}.", highlight=False)
    summary = RichTable(title="Back-test on the test period", title_justify="left")
    for col in SUMMARY_COLUMNS:
        summary.add_column(col, justify="left" if col == "model" else "right")
    for row in _summary_rows(report):
        summary.add_row(*(_fmt(v) for v in row))
    console.print(summary)
    for name, m in report["models"].items():
        console.print(f"  {name}: {m['kind']}", highlight=False)
    console.print(f"Verdict: {report['comparison']['verdict']} (AUC difference "
                  f"{_fmt(report['comparison']['roc_auc_difference'])}, 95% CI "
                  f"{_fmt(report['comparison']['difference_ci'])}).", highlight=False)
    for name, m in report["models"].items():
        t = RichTable(title=f"Deciles: {name} (1 = highest scores)", title_justify="left")
        for col in DECILE_COLUMNS:
            t.add_column(col, justify="right")
        for d in m["deciles"]:
            t.add_row(*(_fmt(d[c]) for c in DECILE_COLUMNS))
        console.print(t)
    factors = RichTable(title="Top factors of the learned score (points per touch or fit rule)",
                        title_justify="left")
    for col in ("feature", "log-odds", "points", "current points"):
        factors.add_column(col, justify="left" if col == "feature" else "right")
    current = {f["feature"]: f["points"] for f in report["models"]["rules"]["top_factors"]}
    for f in report["models"]["learned"]["top_factors"]:
        factors.add_row(f["feature"], _fmt(f["weight"]), str(f["points"]),
                        _fmt(current.get(f["feature"])))
    console.print(factors)
    boosting = report["models"].get("boosting")
    if boosting and boosting["top_factors"]:
        t = RichTable(title="Top factors of gradient boosting (ROC AUC drop when the column "
                      "is shuffled, test snapshots)", title_justify="left")
        t.add_column("feature")
        t.add_column("AUC drop", justify="right")
        for f in boosting["top_factors"]:
            t.add_row(f["feature"], _fmt(f["weight"]))
        console.print(t)


# ------------------------------------------------------------------- HTML


def lift_chart(report: dict[str, Any]) -> Any:
    import altair as alt

    data = [{"model": name, "decile": d["decile"], "lift": d["lift"] or 0.0}
            for name, m in report["models"].items() for d in m["deciles"]]
    return alt.Chart({"values": data}).mark_bar().encode(
        x=alt.X("decile:O", title="decile (1 = highest scores)"),
        xOffset="model:N", y=alt.Y("lift:Q", title="lift over the base rate"),
        color=alt.Color("model:N"), tooltip=["model:N", "decile:O", "lift:Q"],
    ).properties(width=560, height=260)


def capture_chart(report: dict[str, Any]) -> Any:
    import altair as alt

    data = [{"model": name, "share of snapshots": d["decile"] / 10,
             "share of conversions": d["cumulative_capture"] or 0.0}
            for name, m in report["models"].items() for d in m["deciles"]]
    data += [{"model": "random", "share of snapshots": x / 10, "share of conversions": x / 10}
             for x in range(11)]
    return alt.Chart({"values": data}).mark_line(point=True).encode(
        x=alt.X("share of snapshots:Q", axis=alt.Axis(format="%")),
        y=alt.Y("share of conversions:Q", axis=alt.Axis(format="%")),
        color="model:N", tooltip=["model:N", "share of snapshots:Q", "share of conversions:Q"],
    ).properties(width=420, height=300)


def calibration_chart(report: dict[str, Any]) -> Any:
    import altair as alt

    data = [{"model": name, "predicted": b["predicted"], "observed": b["observed"],
             "count": b["count"]}
            for name, m in report["models"].items() for b in m["calibration"]]
    return alt.Chart({"values": data}).mark_circle().encode(
        x=alt.X("predicted:Q", title="mean predicted probability"),
        y=alt.Y("observed:Q", title="observed conversion rate"),
        size="count:Q", color="model:N", tooltip=["model:N", "predicted:Q", "observed:Q",
                                                  "count:Q"],
    ).properties(width=420, height=300)


def factor_chart(report: dict[str, Any]) -> Any:
    import altair as alt

    data = [{"feature": f["feature"], "points": f["points"]}
            for f in report["models"]["learned"]["top_factors"]]
    return alt.Chart({"values": data}).mark_bar().encode(
        x=alt.X("points:Q", title="learned points"),
        y=alt.Y("feature:N", sort=[d["feature"] for d in data], title=None,
                axis=alt.Axis(labelLimit=260)),
        color=alt.condition("datum.points > 0", alt.value("#2f6db3"), alt.value("#c0504d")),
        tooltip=["feature:N", "points:Q"],
    ).properties(width=420, height=20 * max(len(data), 1))


def render_html(report: dict[str, Any]) -> str:
    learned, rules = report["models"]["learned"], report["models"]["rules"]
    figures = {
        "learned ROC AUC": f"{_fmt(learned['roc_auc'])} {_fmt(learned['roc_auc_ci'])}",
        "rules ROC AUC": f"{_fmt(rules['roc_auc'])} {_fmt(rules['roc_auc_ci'])}",
        "base rate": f"{report['base_rate']:.3%}",
        "test snapshots": report["test"]["snapshots"],
        "test positives": report["test"]["positives"],
        "train positives": report["train"]["positives"],
    }
    overview = page.Section("Learned vs rule-based score", [
        page.Figures(figures),
        page.Text(f"Verdict: {report['comparison']['verdict']}. ROC and PR AUC compare "
                  "snapshots of the same date (per-date values averaged; pooled values in "
                  "the JSON); intervals are 95% bootstrap intervals over "
                  f"{'accounts' if report.get('level') == 'account' else 'people'}."),
        page.Table("Back-test", SUMMARY_COLUMNS, _summary_rows(report), id="summary"),
    ])
    charts = page.Section("Ranking", [
        page.Chart("Lift by decile", lift_chart(report), id="chart-lift"),
        page.Chart("Cumulative capture", capture_chart(report), id="chart-capture"),
    ])
    calib = page.Section("Calibration", [
        page.Chart("Observed vs predicted", calibration_chart(report), id="chart-calibration"),
        *[page.Table(f"Bands: {name}", ("band", "count", "predicted", "observed"),
                     [[b["band"], b["count"], b["predicted"], b["observed"]]
                      for b in m["calibration"]], id=f"bands-{name}")
          for name, m in report["models"].items()],
    ])
    deciles = page.Section("Deciles and top k", [
        *[page.Table(f"Deciles: {name}", DECILE_COLUMNS,
                     [[d[c] for c in DECILE_COLUMNS] for d in m["deciles"]],
                     id=f"deciles-{name}") for name, m in report["models"].items()],
        *[page.Table(f"Top k per snapshot date: {name}", ("k", "precision", "recall"),
                     [[t["k"], t["precision"], t["recall"]] for t in m["top_k"]],
                     id=f"topk-{name}") for name, m in report["models"].items()],
    ])
    factors = page.Section("Top factors", [
        page.Chart("Learned points", factor_chart(report), id="chart-factors"),
        page.Table("Learned factors", ("feature", "log-odds", "points"),
                   [[f["feature"], f["weight"], f["points"]] for f in learned["top_factors"]],
                   id="factors"),
        *([page.Table("Gradient boosting factors (ROC AUC drop when the column is shuffled)",
                      ("feature", "AUC drop"),
                      [[f["feature"], f["weight"]]
                       for f in report["models"]["boosting"]["top_factors"]],
                      id="factors-boosting")]
          if report["models"].get("boosting") else []),
    ])
    level = " (accounts)" if report.get("level") == "account" else ""
    return page.Page(f"Learned scoring back-test{level}: {report['target']} within "
                     f"{report['horizon_days']} days",
                     f"trained up to {report['settings']['train_until']}, tested up to "
                     f"{report['settings']['test_until']}",
                     [overview, charts, calib, deciles, factors]).render()
