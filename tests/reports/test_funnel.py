"""The dual funnel on a hand-built dataset (tests/reports/funnel_sample.py): every
count, rate, in-flight number and percentile below is worked out by hand.

Percentiles interpolate linearly between ranks: over sorted values v0..v(n-1),
p sits at position (n - 1) * p, between v[floor] and v[floor + 1].
"""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from connector.cli import app
from connector.errors import ConfigError
from connector.reports.funnel import FunnelQuery, default_range, funnel_report, periods
from connector.reports.funnel_command import parse_query
from connector.reports.funnel_render import render_csv, render_html
from tests.reports.funnel_sample import AS_OF, QUERY, build

KEYS = ["stage", "entered", "inferred", "reached_next", "in_flight", "conversion",
        "median_days", "p75_days", "p90_days"]


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    store = build(tmp_path_factory.mktemp("funnel") / "state.db")
    try:
        return funnel_report(store.db, QUERY)
    finally:
        store.close()


def row(*values: Any) -> dict[str, Any]:
    return dict(zip(KEYS, values, strict=True))


DEMAND = [
    # Inquiry in Jan-Mar: p1, p2, p3 (cycle 1), p3 (cycle 2), p4, p6 (p5's is in 2025).
    # Reached MQL: p1 10 d, p2 20 d, p3c1 4 d, p6 3 d (its MQL inferred at SAL);
    # in flight: p3 cycle 2 and p4. Days 3, 4, 10, 20: median at 1.5 -> 4 + .5*6 = 7;
    # p75 at 2.25 -> 10 + .25*10 = 12.5; p90 at 2.7 -> 10 + .7*10 = 17.
    row("Inquiry", 6, 0, 4, 2, 0.6667, 7.0, 12.5, 17.0),
    # MQL: p1, p2, p3, p5, p6 (inferred). Reached SAL: p1 10, p2 20, p5 5, p6 0 days;
    # p3 was recycled on 03-10: neither reached nor in flight. Days 0, 5, 10, 20.
    row("MQL", 5, 1, 4, 0, 0.8, 7.5, 12.5, 17.0),
    # SAL: p1, p2 (inferred), p5, p6. p1 -> SQL in 20 d, p2 the same day; p5, p6 in flight.
    row("SAL", 4, 1, 2, 2, 0.5, 10.0, 15.0, 18.0),
    row("SQL", 2, 0, 1, 1, 0.5, 20.0, 20.0, 20.0),          # p1 in 20 d; p2 in flight
    row("Opportunity", 1, 0, 1, 0, 1.0, 29.5, 29.5, 29.5),  # p1: 03-02 -> 03-31 12:00
    row("Won", 1, 0, None, None, None, None, None, None),
]

ABM = [
    # Only target accounts count (A3 is not one), once per buying cycle. Cycles:
    #   A1: Target 01-01, Engaged 01-15, SQL 02-10 (p1), Opportunity 03-02, Won 03-31.
    #   A2: Target 02-01; O2 on 03-15 with nobody engaged or at SQL before it: Engaged
    #       and SQL inferred 03-15; O2 closed lost 04-10.
    #   A4: Target 03-01, Engaged 03-11.
    #   A5 cycle 1: Target 01-01; O4 on 01-05: Engaged and SQL inferred 01-05; O4 lost
    #       01-20 (p4's engagement at 01-20 15:00 is on the close day: same cycle).
    #   A5 cycle 2: back with p4's engagement 02-03: Target and Engaged 02-03; O5 on
    #       02-20 (SQL inferred 02-20); won 03-10.
    #   A5 cycle 3: back with p4's engagement 03-20: Target and Engaged 03-20.
    # Target: A1, A2, A4, A5 x3 = 6, all engaged: 14, 42, 10, 4, 0 and 0 days.
    # Days 0, 0, 4, 10, 14, 42: median at 2.5 -> 4 + .5*6 = 7; p75 at 3.75 ->
    # 10 + .75*4 = 13; p90 at 4.5 -> 14 + .5*28 = 28.
    row("Target", 6, 0, 6, 0, 1.0, 7.0, 13.0, 28.0),
    # Engaged: A1 01-15, A2 03-15 (inferred), A4 03-11, A5c1 01-05 (inferred), A5c2
    # 02-03, A5c3 03-20. SQL: A1 in 26 d, A2 and A5c1 the same day, A5c2 in 17 d;
    # A4 and A5c3 in flight. Days 0, 0, 17, 26: median at 1.5 -> 8.5; p75 at 2.25 ->
    # 17 + .25*9 = 19.25; p90 at 2.7 -> 17 + .7*9 = 23.3.
    row("Engaged", 6, 2, 4, 2, 0.6667, 8.5, 19.25, 23.3),
    # SQL: A1 02-10, A2 03-15 (inferred), A5c1 01-05 (inferred), A5c2 02-20 (inferred).
    # All reached Opportunity: 20, 0, 0, 0 days: median at 1.5 -> 0; p75 at 2.25 ->
    # .25*20 = 5; p90 at 2.7 -> .7*20 = 14.
    row("SQL", 4, 3, 4, 0, 1.0, 0.0, 5.0, 14.0),
    # Opportunity: A1 03-02 (won 03-31: 29 d), A2 03-15 and A5c1 01-05 (closed lost:
    # not in flight), A5c2 02-20 (won 03-10: 18 d). Days 18, 29: median 23.5; p75
    # 18 + .75*11 = 26.25; p90 18 + .9*11 = 27.9.
    row("Opportunity", 4, 0, 2, 0, 0.5, 23.5, 26.25, 27.9),
    row("Won", 2, 0, None, None, None, None, None, None),     # A1 03-31, A5c2 03-10
]


def test_demand_stages_are_the_hand_computed_ones(report: dict[str, Any]) -> None:
    assert report["demand"]["stages"] == DEMAND


def test_account_stages_are_the_hand_computed_ones(report: dict[str, Any]) -> None:
    assert report["abm"]["stages"] == ABM


def test_the_contract_keys_and_revenue(report: dict[str, Any]) -> None:
    assert {"as_of", "from", "to", "demand", "abm", "by_channel", "periods"} <= set(report)
    assert (report["from"], report["to"]) == ("2026-01-01", "2026-03-31")
    assert all(set(r) == set(KEYS) for f in ("demand", "abm") for r in report[f]["stages"])
    assert all({"channel", "view", "demand", "abm", "pipeline", "won"} <= set(r)
               for r in report["by_channel"])
    # pipeline by created date: O1 1000 + O2 500 + O4 200 + O5 800 (O3 is from 2025);
    # won: O1 and O5
    assert report["revenue"] == {"pipeline": 2500.0, "won": 1800.0}
    # programs starting in the period with a cost: P1 (1200); per stage entered
    assert report["cost"] == {"programs": 1200.0, "per_stage": {
        "Inquiry": 200.0, "MQL": 240.0, "SAL": 300.0, "SQL": 600.0, "Opportunity": 1200.0,
        "Won": 1200.0}}


def _channel(report: dict[str, Any], view: str, channel: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = [r for r in report["by_channel"]
                                   if r["view"] == view and r["channel"] == channel]
    assert len(found) == 1
    return found[0]


@pytest.mark.parametrize(("view", "channel", "demand", "abm", "pipeline", "won"), [
    # An account cycle's channel: the earliest Inquiry of its people within the cycle,
    # else the latest before it opened. A1: p1 (01-01); A2: p3 (02-01); A5 cycle 1:
    # nobody before 01-21 -> (none); cycle 2: p4 (03-01, Email); cycle 3: no Inquiry
    # after 03-11, the latest before its opening is p4's -> Email; A4: nobody.
    # first touch: p1 all stages, p5 MQL and SAL; account A1 (A3 is not a target)
    pytest.param("first_touch", "Paid Search", [1, 2, 2, 1, 1, 1], [1, 1, 1, 1, 1],
                 1000.0, 1000.0, id="first-touch-paid-search"),
    # p2, p3 (two cycles), p6: many at the top, nobody beyond SQL; account A2 (lost)
    pytest.param("first_touch", "Webinar", [4, 3, 2, 1, 0, 0], [1, 1, 1, 1, 0],
                 500.0, 0.0, id="first-touch-webinar"),
    # A5 cycles 2 (all stages, O5 800 won) and 3 (Target, Engaged)
    pytest.param("first_touch", "Email", [1, 0, 0, 0, 0, 0], [2, 2, 1, 1, 1],
                 800.0, 800.0, id="first-touch-email"),
    # A4 (Target, Engaged) and A5 cycle 1 (to Opportunity; O4 200, lost)
    pytest.param("first_touch", "(none)", [0, 0, 0, 0, 0, 0], [2, 2, 1, 1, 0],
                 200.0, 0.0, id="first-touch-no-channel"),
    # original source: p2 came from Paid Search too
    pytest.param("original_source", "Paid Search", [2, 3, 3, 2, 1, 1], [1, 1, 1, 1, 1],
                 1000.0, 1000.0, id="original-source-paid-search"),
    pytest.param("original_source", "Webinar", [3, 2, 1, 0, 0, 0], [1, 1, 1, 1, 0],
                 500.0, 0.0, id="original-source-webinar"),
    pytest.param("original_source", "Email", [1, 0, 0, 0, 0, 0], [2, 2, 1, 1, 1],
                 800.0, 800.0, id="original-source-email"),
])
def test_channels(report: dict[str, Any], view: str, channel: str, demand: list[int],
                  abm: list[int], pipeline: float, won: float) -> None:
    found = _channel(report, view, channel)
    assert list(found["demand"].values()) == demand
    assert list(found["abm"].values()) == abm
    assert (found["pipeline"], found["won"]) == (pipeline, won)


def test_channel_conversion_shows_who_fills_the_top_but_does_not_progress(
        report: dict[str, Any]) -> None:
    # Webinar MQLs (p2, p3, p6): p2 and p6 reached SAL -> 2/3; Paid Search (p1, p5): 2/2
    assert _channel(report, "first_touch", "Webinar")["demand_conversion"]["MQL"] == 0.6667
    assert _channel(report, "first_touch", "Paid Search")["demand_conversion"]["MQL"] == 1.0


def test_campaigns_and_cost_per_stage(report: dict[str, Any]) -> None:
    rows = {(r["view"], r["campaign"]): r for r in report["by_campaign"]}
    p2 = rows[("first_touch", "P2")]
    assert list(p2["demand"].values()) == [4, 3, 2, 1, 0, 0]
    assert p2["cost"] == 600.0
    assert p2["cost_per"] == {"Inquiry": 150.0, "MQL": 200.0, "SAL": 300.0, "SQL": 600.0,
                              "Opportunity": None, "Won": None}
    assert list(rows[("original_source", "P1")]["demand"].values()) == [2, 3, 3, 2, 1, 1]
    assert rows[("first_touch", "(none)")]["cost"] is None


def test_periods_by_month_and_quarter(report: dict[str, Any], tmp_path: Path) -> None:
    def period(name: str, demand: list[int], abm: list[int]) -> dict[str, Any]:
        return {"period": name,
                "demand": dict(zip(["Inquiry", "MQL", "SAL", "SQL", "Opportunity", "Won"],
                                   demand, strict=True)),
                "abm": dict(zip(["Target", "Engaged", "SQL", "Opportunity", "Won"], abm,
                                strict=True))}

    # accounts by month: Target A1, A5c1 | A2, A5c2 | A4, A5c3; Engaged A1, A5c1 |
    # A5c2 | A2, A4, A5c3; SQL A5c1 | A1, A5c2 | A2; Opportunity A5c1 | A5c2 | A1, A2;
    # Won - | - | A1, A5c2
    assert report["periods"] == [period("2026-01", [2, 3, 2, 0, 0, 0], [2, 2, 1, 1, 0]),
                                 period("2026-02", [1, 1, 1, 2, 0, 0], [2, 1, 2, 1, 0]),
                                 period("2026-03", [3, 1, 1, 0, 1, 1], [2, 3, 1, 2, 2])]
    store = build(tmp_path / "q.db")
    try:
        quarter = funnel_report(store.db, FunnelQuery(AS_OF, date(2026, 1, 1),
                                                      date(2026, 3, 31), "quarter"))
    finally:
        store.close()
    assert [p["period"] for p in quarter["periods"]] == ["2026-Q1"]
    assert quarter["periods"][0]["demand"]["Inquiry"] == 6
    assert quarter["periods"][0]["abm"]["Opportunity"] == 4


def test_an_earlier_as_of_sees_only_what_had_happened(tmp_path: Path) -> None:
    store = build(tmp_path / "s.db")
    try:
        early = funnel_report(store.db, FunnelQuery(datetime(2026, 2, 1, tzinfo=UTC),
                                                    date(2026, 1, 1), date(2026, 1, 31)))
    finally:
        store.close()
    inquiry = early["demand"]["stages"][0]
    # p1 and p2 entered in January; both reached MQL before 02-01
    assert (inquiry["entered"], inquiry["reached_next"], inquiry["in_flight"]) == (2, 2, 0)
    sal = early["demand"]["stages"][2]
    # p1 (01-21) and p5 (01-09); SQL came only in February: both in flight
    assert (sal["entered"], sal["reached_next"], sal["in_flight"]) == (2, 0, 2)
    # only O4 (created 01-05) was known by 02-01
    assert early["revenue"] == {"pipeline": 200.0, "won": 0.0}
    # accounts: A5's second cycle (02-03) has not begun. Engaged in January: A1 (SQL
    # only on 02-10: in flight) and A5 cycle 1 (SQL inferred 01-05: reached);
    # A5's opportunity O4 was lost on 01-20: neither reached nor in flight
    abm = {r["stage"]: r for r in early["abm"]["stages"]}
    assert [abm[s]["entered"] for s in ("Target", "Engaged", "SQL", "Opportunity", "Won")] \
        == [2, 2, 1, 1, 0]
    assert (abm["Engaged"]["reached_next"], abm["Engaged"]["in_flight"]) == (1, 1)
    assert (abm["Opportunity"]["reached_next"], abm["Opportunity"]["in_flight"]) == (0, 0)


def test_csv_and_html_carry_the_numbers(report: dict[str, Any]) -> None:
    rows = list(csv.DictReader(io.StringIO(render_csv(report))))
    totals = [r for r in rows if r["section"] == "total" and r["funnel"] == "demand"]
    assert [int(r["entered"]) for r in totals] == [r["entered"] for r in DEMAND]
    page = render_html(report)
    assert page.count("<svg") == 3 and "http://" not in page.split("<svg")[0]


@pytest.mark.parametrize(("args", "message"), [
    pytest.param(("2026-13-01", None, "month"), "--from", id="bad-from"),
    pytest.param(("2026-03-01", "2026-02-01", "month"), "after --to", id="reversed"),
    pytest.param((None, None, "week"), "--grain", id="bad-grain"),
])
def test_bad_periods_say_which_option(args: tuple[str | None, str | None, str],
                                      message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_query(*args, as_of=AS_OF)


def test_default_range_is_twelve_months_or_four_quarters() -> None:
    assert default_range(AS_OF, "month") == (date(2025, 5, 1), date(2026, 4, 15))
    assert default_range(AS_OF, "quarter") == (date(2025, 7, 1), date(2026, 4, 15))
    assert periods(date(2025, 11, 15), date(2026, 2, 1), "quarter") == ["2025-Q4", "2026-Q1"]


@settings(max_examples=60, deadline=None)
@given(st.dates(date(2000, 1, 1), date(2040, 12, 31)),
       st.integers(0, 800), st.sampled_from(["month", "quarter"]))
def test_periods_cover_the_range_in_order_without_gaps(start: date, days: int,
                                                       grain: str) -> None:
    from datetime import timedelta
    end = start + timedelta(days=days)
    names = periods(start, end, grain)  # type: ignore[arg-type]
    assert names == sorted(set(names))
    months = (end.year - start.year) * 12 + end.month - start.month + 1
    quarters = (end.year * 4 + (end.month - 1) // 3) - (start.year * 4 + (start.month - 1) // 3)
    assert len(names) == (months if grain == "month" else quarters + 1)


def test_the_command_line_table_json_and_files(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    build(tmp_path / "state.db").close()
    monkeypatch.setenv("CONNECTOR_STATE", str(tmp_path / "state.db"))
    base = ["report", "funnel", "--from", "2026-01-01", "--to", "2026-03-31",
            "--as-of", AS_OF.isoformat()]
    runner = CliRunner()
    result = runner.invoke(app, [*base, "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["demand"]["stages"] == DEMAND
    table = runner.invoke(app, base)
    assert table.exit_code == 0, table.output
    assert "Demand (people)" in table.stdout and "Account-based (accounts)" in table.stdout
    assert "66.7%" in table.stdout
    html = tmp_path / "out" / "funnel.html"
    done = runner.invoke(app, [*base, "--format", "html", "--out", str(html), "--png",
                               str(tmp_path / "png")])
    assert done.exit_code == 0, done.output
    assert html.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    pngs = sorted(p.name for p in (tmp_path / "png").iterdir())
    assert pngs == ["funnel-channels.png", "funnel-funnels.png", "funnel-trend.png"]
    assert all((tmp_path / "png" / p).read_bytes()[:4] == b"\x89PNG" for p in pngs)
    bad = runner.invoke(app, [*base, "--to", "2025-01-01", "--format", "json"])
    assert bad.exit_code == 2 and "after --to" in bad.stdout


def test_missing_facts_say_what_to_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An install with a ledger but no funnel facts (never synced since the report
    arrived): exit 2 and the command to run, rather than a report of zeros."""
    from connector.state.store import StateStore

    store = StateStore(tmp_path / "old.db")
    run = store.start_run("test", AS_OF)
    with store.transaction():
        store.db.execute(
            "INSERT INTO touches (touch_id, map_id, program_id, touch_type, occurred_at, "
            "is_response, data, hash, seen_run, changed_run) "
            "VALUES ('t1', 'p1', NULL, 'form_fill', '2026-01-01T00:00:00.000000+00:00', 1, "
            "'{}', '', ?, ?)", (run, run))
    store.close()
    monkeypatch.setenv("CONNECTOR_STATE", str(tmp_path / "old.db"))
    result = CliRunner().invoke(app, ["report", "funnel", "--format", "json",
                                      "--as-of", AS_OF.isoformat()])
    assert result.exit_code == 2, result.output
    assert "the funnel facts are missing" in result.output
    assert "connector sync --full" in result.output


def test_facts_without_engagements_warn_and_still_report(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Facts from before the engagements were kept: the report runs, says what it
    cannot see and what to run. Without p4's engagements A5 comes back only with
    O5 (02-20): its Engaged is then inferred, and its third cycle never opens."""
    store = build(tmp_path / "state.db")
    with store.transaction():
        store.db.execute("DELETE FROM funnel_engagements")
    store.close()
    monkeypatch.setenv("CONNECTOR_STATE", str(tmp_path / "state.db"))
    result = CliRunner().invoke(app, ["report", "funnel", "--format", "json", "--from",
                                      "2026-01-01", "--to", "2026-03-31",
                                      "--as-of", AS_OF.isoformat()])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert len(data["warnings"]) == 1 and "connector sync --full" in data["warnings"][0]
    assert "warning: the funnel facts have no meaningful engagements" in result.stderr
    abm = {r["stage"]: r for r in data["abm"]["stages"]}
    # Target: A1, A2, A4, A5 cycles 1 and 2 (02-20); Engaged A5c2 inferred 02-20
    assert [abm[s]["entered"] for s in ("Target", "Engaged", "SQL", "Opportunity", "Won")] \
        == [5, 5, 4, 4, 2]
    assert abm["Engaged"]["inferred"] == 3
