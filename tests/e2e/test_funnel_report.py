"""A sync keeps the funnel facts, and ``connector report funnel`` reads them."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from typer.testing import CliRunner

from connector.cli import app
from connector.reports.funnel import FunnelQuery, funnel_report
from tests.e2e.harness import Rig
from tests.e2e.test_sync_scores import DAY0, _world


def _facts(rig: Rig) -> list[tuple[object, ...]]:
    store = rig.store()
    try:
        return list(store.db.execute(
            "SELECT map_id, cycle, stage, at, inferred, channel, source_channel "
            "FROM funnel_stages ORDER BY 1, 2, 3"))
    finally:
        store.close()


def test_a_sync_fills_the_facts_and_the_report_counts_them(
        rig: Rig, monkeypatch: pytest.MonkeyPatch) -> None:
    _world(rig)
    # Acme is on the MAP's target list
    (rig.map_dir / "target_accounts.csv").write_text("domain,account_id,tier\nacme.com,,Tier 1\n",
                                                     encoding="utf-8")
    as_of = DAY0 + timedelta(days=11)
    assert rig.sync(as_of=as_of).status == "ok"
    facts = _facts(rig)
    stages = {(m, s) for m, _, s, *_ in facts}
    # A: Inquiry, MQL and SAL on day 10; B: Inquiry and MQL on day 0; C (a student on
    # free mail) is excluded: Inquiry only, its demo request is no fast track
    assert stages == {("A", "Inquiry"), ("A", "MQL"), ("A", "SAL"), ("B", "Inquiry"),
                      ("B", "MQL"), ("C", "Inquiry")}
    assert {m: ch for m, _, s, _, _, ch, _ in facts if s == "Inquiry"}["B"] == "Webinar"
    store = rig.store()
    try:
        accounts = list(store.db.execute("SELECT target, engaged_at FROM funnel_accounts"))
        engaged = list(store.db.execute("SELECT map_id, at FROM funnel_engagements "
                                        "ORDER BY 1, 2"))
        report = funnel_report(store.db, FunnelQuery(as_of, DAY0.date().replace(day=1),
                                                     as_of.date()))
    finally:
        store.close()
    assert len(accounts) == 1 and accounts[0][1] is not None  # Acme engaged on day 0
    assert accounts[0][0] == 1
    # the meaningful engagements: A's demo request and pricing form (one moment, day
    # 10); B's contact form and two pricing visits (day 0); C's is no one's account,
    # but a person's engagements are kept all the same
    assert [m for m, _ in engaged] == ["A", "B", "B", "B", "C"]
    demand = {r["stage"]: r for r in report["demand"]["stages"]}
    assert [demand[s]["entered"] for s in ("Inquiry", "MQL", "SAL", "SQL")] == [3, 2, 1, 0]
    # of the 3 Inquiries, A and B reached MQL; C is still in flight (not recycled)
    assert (demand["Inquiry"]["reached_next"], demand["Inquiry"]["in_flight"]) == (2, 1)
    abm = {r["stage"]: r for r in report["abm"]["stages"]}
    # one buying cycle, opened by B's contact form on day 0: Target (first seen on
    # day 11, so dated at the opening and inferred) and Engaged; nobody at SQL
    assert [abm[s]["entered"] for s in ("Target", "Engaged", "SQL")] == [1, 1, 0]
    assert (abm["Target"]["inferred"], abm["Engaged"]["in_flight"]) == (1, 1)
    # a re-run with nothing new keeps the same facts
    assert rig.sync(as_of=as_of).status == "ok"
    assert _facts(rig) == facts
    # the command line prints the same numbers
    monkeypatch.setenv("CONNECTOR_STATE", str(rig.state_path))
    result = CliRunner().invoke(app, ["report", "funnel", "--format", "json", "--from",
                                      "2026-01-01", "--to", as_of.date().isoformat(),
                                      "--as-of", as_of.isoformat()])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["demand"] == report["demand"] and data["abm"] == report["abm"]


def test_snapshot_upserts_one_record_per_period_funnel_stage_and_channel(rig: Rig) -> None:
    from connector.reports.funnel_command import funnel_command

    _world(rig)
    as_of = DAY0 + timedelta(days=11)
    assert rig.sync(as_of=as_of).status == "ok"
    store = rig.store()
    try:
        def snap() -> int:
            return funnel_command(store, fmt="json", out=rig.root / "f.json",
                                  start="2026-01-01", end="2026-01-31", grain="month",
                                  as_of=as_of, png=None,
                                  snapshot=(rig.settings(), rig.mappings),
                                  http=rig.org.session())
        assert snap() == 0
        data = json.loads((rig.root / "f.json").read_text())
        first = data["snapshot"]
        # totals (6 + 5 stages), one month (6 + 5), and per channel and view (11 each)
        assert len(data["by_channel"]) >= 2
        assert first["records"] == 11 + 11 + 11 * len(data["by_channel"])
        assert (first["created"], first["updated"], first["failed"]) == (first["records"], 0, 0)
        rows = rig.query("SELECT Key__c, Entered__c, Conversion__c, In_Flight__c, View__c, "
                         "Channel__c FROM Funnel_Snapshot__c")
        assert len(rows) == first["records"]
        by_key = {r["Key__c"]: r for r in rows}
        total = by_key["2026-01-01..2026-01-31:2026-01-01..2026-01-31:demand:Inquiry:all:All"]
        # 3 Inquiries, 2 reached MQL: 66.67%, C in flight
        assert (total["Entered__c"], total["Conversion__c"], total["In_Flight__c"]) == (
            3, 66.67, 1)
        assert by_key["2026-01-01..2026-01-31:2026-01:demand:MQL:all:All"]["Entered__c"] == 2
        # the same report again updates the same records, creates none
        assert snap() == 0
        again = json.loads((rig.root / "f.json").read_text())["snapshot"]
        assert (again["created"], again["updated"]) == (0, first["records"])
        assert len(rig.query("SELECT Id FROM Funnel_Snapshot__c")) == first["records"]
    finally:
        store.close()


def test_an_account_re_enters_the_account_funnel_after_a_won_deal(rig: Rig) -> None:
    """Acme (a target) engages on day 0 (B's contact form), sales opens a deal on
    day 2 that is won on 2026-01-09; A's demo request on day 10 (01-15) opens a
    second buying cycle, back at Target."""
    _world(rig)
    (rig.map_dir / "target_accounts.csv").write_text("domain,account_id,tier\nacme.com,,Tier 1\n",
                                                     encoding="utf-8")
    acme = rig.query("SELECT Id FROM Account WHERE Name = 'Acme'")[0]["Id"]
    rig.org.set_settings(now=(DAY0 + timedelta(days=2)).isoformat())
    try:
        rig.org.salesforce().Opportunity.create({
            "AccountId": acme, "Name": "Acme platform", "StageName": "Closed Won",
            "CloseDate": "2026-01-09", "Amount": 5000})
    finally:
        rig.org.set_settings(now=None)
    as_of = DAY0 + timedelta(days=11)
    assert rig.sync(as_of=as_of).status == "ok"
    store = rig.store()
    try:
        report = funnel_report(store.db, FunnelQuery(as_of, DAY0.date().replace(day=1),
                                                     as_of.date()))
    finally:
        store.close()
    abm = {r["stage"]: r for r in report["abm"]["stages"]}
    # cycle 1: Target and Engaged day 0, SQL (inferred) and Opportunity day 2, Won
    # 01-09; cycle 2: Target and Engaged on day 10. Both Targets are inferred: the
    # connector first saw Acme on the list at the sync, on day 11
    assert [abm[s]["entered"] for s in ("Target", "Engaged", "SQL", "Opportunity", "Won")] \
        == [2, 2, 1, 1, 1]
    assert (abm["Target"]["inferred"], abm["SQL"]["inferred"]) == (2, 1)
    # of the two Engaged, cycle 1 reached SQL in 2 days; cycle 2 is in flight
    assert (abm["Engaged"]["reached_next"], abm["Engaged"]["in_flight"]) == (1, 1)
    assert abm["Engaged"]["median_days"] == pytest.approx(2.0, abs=0.05)
    assert report["revenue"] == {"pipeline": 5000.0, "won": 5000.0}
