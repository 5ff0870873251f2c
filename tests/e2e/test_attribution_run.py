"""Attribution end to end: credits land in Attribution__c, a re-run writes
nothing, a changed amount rewrites only that opportunity's records, a removed
contact role deletes its records."""

from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path

from connector.emulator.org import OrgOptions
from connector.emulator.testing import EmulatorHandle
from connector.mappings import bundled_dir, load_mappings
from connector.run.attribution import AttributionRun
from connector.salesforce import SalesforceClient
from tests.e2e.harness import AS_OF, Rig


def _credits(rig: Rig) -> list[dict[str, object]]:
    return rig.query("SELECT Key__c, Opportunity__c, Model__c, Credit__c, Revenue__c, "
                     "Position__c, Campaign__c FROM Attribution__c")


def _run(rig: Rig) -> dict[str, object]:
    store = rig.store()
    try:
        client = SalesforceClient(rig.settings().salesforce, http=rig.org.session()).connect()
        run_id = store.start_run("attribution", AS_OF)
        result = AttributionRun(client, store, rig.mappings, as_of=AS_OF).run(run_id)
        store.finish_run(run_id, result.status, result.as_json())
        return result.as_json()
    finally:
        store.close()


def _world(rig: Rig) -> tuple[str, str, str]:
    (rig.export().program("W1", "Webinar").program("A1", "Paid Search")
     .person("P1", "ann@acme.com").person("P2", "bob@acme.com")
     .touch("t1", "P1", "webinar_registered", 1, "W1")
     .touch("t2", "P1", "ad_click", 5, "A1")
     .touch("t3", "P2", "form_fill", 8, "W1")
     .write())
    assert rig.sync().status == "ok"
    org: EmulatorHandle = rig.org
    leads = {r["MAP_Id__c"]: r["Id"] for r in rig.query("SELECT Id, MAP_Id__c FROM Lead")}
    first = org.convert_lead(leads["P1"], create_opportunity=True)
    second = org.convert_lead(leads["P2"], account_id=first["account_id"])
    sf = org.salesforce()
    opp_id = str(first["opportunity_id"])
    sf.Opportunity.update(opp_id, {"Amount": 1000.03})
    role = sf.OpportunityContactRole.create({"OpportunityId": opp_id,
                                            "ContactId": second["contact_id"]})["id"]
    return opp_id, str(role), str(second["contact_id"])


def test_credits_land_then_a_rerun_writes_nothing(rig: Rig) -> None:
    _world(rig)
    assert rig.sync().status == "ok"   # the mirror learns the opportunity and its roles
    first = _run(rig)
    assert first["status"] == "ok" and first["attributed"] == 1
    credits = _credits(rig)
    models = rig.mappings.attribution.models
    by_model: dict[str, list[dict[str, object]]] = {}
    for c in credits:
        by_model.setdefault(str(c["Model__c"]), []).append(c)
    assert set(by_model) == set(models)
    for rows in by_model.values():  # exactly 100% and the amount, per model
        assert sum(Decimal(str(r["Credit__c"])) for r in rows) == Decimal("100")
        assert sum(Decimal(str(r["Revenue__c"])) for r in rows) == Decimal("1000.03")
    rig.org.reset_stats()
    again = _run(rig)
    assert again["objects"]["Attribution__c"]["created"] == 0  # type: ignore[index]
    assert rig.org.stats()["api_calls"]["write"] == 0


def test_a_changed_amount_and_a_removed_role_rewrite_only_what_changed(rig: Rig) -> None:
    opp_id, role, _contact = _world(rig)
    rig.sync()
    _run(rig)
    before = {c["Key__c"]: c for c in _credits(rig)}
    assert any(":t3:" in str(k) for k in before)   # P2's touch counts through the role
    sf = rig.org.salesforce()
    sf.OpportunityContactRole.delete(role)
    sf.Opportunity.update(opp_id, {"Amount": 2000})
    rig.sync()
    after_run = _run(rig)
    after = {c["Key__c"]: c for c in _credits(rig)}
    assert not any(":t3:" in str(k) for k in after)   # its credits were deleted
    assert after_run["objects"]["Attribution__c"]["deleted"] > 0  # type: ignore[index]
    for rows in ({k: v for k, v in after.items() if str(v["Model__c"]) == m}
                 for m in rig.mappings.attribution.models):
        assert sum(Decimal(str(r["Revenue__c"])) for r in rows.values()) == Decimal("2000")


def test_campaign_influence_rows_follow_the_chosen_model(tmp_path: Path) -> None:
    mappings_dir = tmp_path / "mappings"
    shutil.copytree(bundled_dir(), mappings_dir, ignore=shutil.ignore_patterns("__*"))
    path = mappings_dir / "attribution.yaml"
    path.write_text(path.read_text().replace("  enabled: false", "  enabled: true"))
    handle = EmulatorHandle(tmp_path / "org", OrgOptions(mappings_dir=mappings_dir),
                            real=False)
    try:
        rig = Rig(handle, tmp_path, load_mappings(mappings_dir))
        opp_id, role, _contact = _world(rig)
        rig.sync()
        first = _run(rig)
        assert first["objects"]["CampaignInfluence"]["created"] > 0  # type: ignore[index]
        rows = rig.query(f"SELECT CampaignId, ContactId, Influence, RevenueShare FROM "
                         f"CampaignInfluence WHERE OpportunityId = '{opp_id}'")
        assert round(sum(float(r["Influence"]) for r in rows), 2) == 100.0
        rig.org.reset_stats()
        again = _run(rig)
        assert again["objects"]["CampaignInfluence"] == {  # type: ignore[index]
            "created": 0, "updated": 0, "deleted": 0}
        assert rig.org.stats()["api_calls"]["write"] == 0
        # the second contact's role goes: its rows are deleted (create-only keys)
        rig.org.salesforce().OpportunityContactRole.delete(role)
        rig.sync()
        third = _run(rig)
        assert third["objects"]["CampaignInfluence"]["deleted"] > 0  # type: ignore[index]
    finally:
        handle.close()


def test_only_opportunities_whose_inputs_changed_are_recomputed(rig: Rig) -> None:
    opp_id, _role, _contact = _world(rig)
    rig.sync()
    _run(rig)
    store = rig.store()
    try:
        assert store.attribution_fingerprints([opp_id])  # remembered after the write
    finally:
        store.close()
    # a hand edit to a credit is put back although the inputs did not change
    sf = rig.org.salesforce()
    [credit] = rig.query("SELECT Id, Credit__c FROM Attribution__c WHERE "
                         "Model__c = 'first_touch' AND Credit__c > 0 LIMIT 1")
    sf.Attribution__c.update(credit["Id"], {"Credit__c": 1})
    fixed = _run(rig)
    assert fixed["objects"]["Attribution__c"]["updated"] == 1  # type: ignore[index]
    assert rig.query(f"SELECT Credit__c FROM Attribution__c WHERE Id = '{credit['Id']}'")[0][
        "Credit__c"] == credit["Credit__c"]


def test_the_funnel_report_shows_attributed_revenue_per_channel(rig: Rig) -> None:
    from datetime import UTC, date, datetime, timedelta

    from connector.reports.funnel import FunnelQuery, funnel_report

    _world(rig)
    rig.sync()
    _run(rig)
    credits = rig.query("SELECT Channel__c, Revenue__c FROM Attribution__c "
                        "WHERE Model__c = 'linear'")
    expected: dict[str, float] = {}
    for c in credits:
        expected[str(c["Channel__c"])] = expected.get(str(c["Channel__c"]), 0.0) + \
            float(c["Revenue__c"])
    now = datetime.now(UTC) + timedelta(days=1)
    store = rig.store()
    try:
        report = funnel_report(store.db, FunnelQuery(now, date(2000, 1, 1), now.date(),
                                                     model="linear"))
    finally:
        store.close()
    got = {k: v["pipeline"] for k, v in report["attributed_revenue"]["by_channel"].items()}
    assert got == {k: round(v, 2) for k, v in expected.items()}
    assert round(sum(got.values()), 2) == 1000.03
    rows = [r for r in report["by_channel"] if r["view"] == "first_touch"]
    assert {r["channel"]: r["attributed"]["pipeline"] for r in rows
            if r["attributed"]["pipeline"]} == got
