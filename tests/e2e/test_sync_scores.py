"""Scores, lifecycle stages, SLA recycling and account scores, end to end."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

from connector.mappings import bundled_dir, load_mappings
from connector.normalize import parse_timestamp
from tests.e2e.harness import Rig, at

DAY0 = datetime(2026, 1, 5, 9, tzinfo=UTC)  # harness.at(0)
FIELDS = ("MAP_Id__c, Behavior_Score__c, Fit_Score__c, Lead_Score__c, Lifecycle_Stage__c, "
          "Funnel_Cycle__c, MQL_Date__c, SAL_Date__c, SQL_Date__c, Recycled_Date__c, "
          "Excluded_Reason__c, First_Touch_Date__c")


def _world(rig: Rig) -> None:
    sf = rig.org.salesforce()
    sf.Account.create({"Name": "Acme", "Website": "https://www.acme.com/",
                       "Industry": "Technology", "NumberOfEmployees": 500,
                       "BillingCountry": "United States"})
    (rig.export()
     .program("W1", "Webinar").program("D1", "Website")
     # A: a VP who asks for a demo on day 10 -> MQL and SAL (fast track) that day
     .person("A", "ann@acme.com", title="VP Marketing", industry="Technology",
             employees="500", country="United States")
     .touch("a1", "A", "webinar_attended", 10, "W1")
     .touch("a2", "A", "demo_request", 10, "D1", url="https://acme-vendor.com/demo")
     .touch("a3", "A", "form_fill", 10, "D1", url="https://acme-vendor.com/pricing")
     # B: a director who reaches MQL on day 0 on engagement alone
     .person("B", "bob@acme.com", title="Director of Demand", industry="Technology",
             employees="500", country="United States")
     .touch("b1", "B", "webinar_attended", 0, "W1")
     .touch("b2", "B", "form_fill", 0, "D1", url="https://acme-vendor.com/contact")
     .touch("b3", "B", "content_download", 0, "D1")
     .touch("b4", "B", "content_download", 0.01, "D1")
     .touch("b5", "B", "content_download", 0.02, "D1")
     .touch("b6", "B", "web_visit", 0.03, url="https://acme-vendor.com/pricing")
     .touch("b7", "B", "web_visit", 0.04, url="https://acme-vendor.com/pricing")
     # C: a student on free mail: excluded, never MQL
     .person("C", "cy@gmail.com", title="Student")
     .touch("c1", "C", "demo_request", 1, "D1")
     .write())


def _leads(rig: Rig) -> dict[str, dict[str, object]]:
    return {r["MAP_Id__c"]: r for r in rig.query(f"SELECT {FIELDS} FROM Lead")}


def _moment(value: object) -> datetime | None:
    return parse_timestamp(str(value)) if value else None


def test_scores_stages_and_accounts_land_and_a_rerun_writes_nothing(rig: Rig) -> None:
    _world(rig)
    as_of = DAY0 + timedelta(days=11)
    assert rig.sync(as_of=as_of).status == "ok"
    leads = _leads(rig)
    a, b, c = leads["A"], leads["B"], leads["C"]
    assert a["Lifecycle_Stage__c"] == "SAL"
    assert _moment(a["SAL_Date__c"]) == _moment(at(10)) == _moment(a["MQL_Date__c"])
    assert a["Lead_Score__c"] == a["Behavior_Score__c"] + a["Fit_Score__c"]  # type: ignore
    assert b["Lifecycle_Stage__c"] == "MQL" and b["SAL_Date__c"] is None
    assert _moment(b["MQL_Date__c"]) is not None
    assert _moment(b["MQL_Date__c"]) <= DAY0 + timedelta(hours=1)  # type: ignore[operator]
    assert c["Lifecycle_Stage__c"] == "Excluded"
    assert c["Excluded_Reason__c"] == "Free-mail address" and c["MQL_Date__c"] is None
    [account] = rig.query("SELECT Account_Fit_Score__c, Engagement_Score__c, Buying_Stage__c, "
                          "Qualified_Account__c, Engaged_Date__c FROM Account")
    assert account["Account_Fit_Score__c"] > 0 and account["Engagement_Score__c"] > 0
    assert account["Buying_Stage__c"] in ("Consideration", "Decision")
    # a demo request and a contact form are meaningful engagement; the first one counts
    assert _moment(account["Engaged_Date__c"]) == _moment(at(0))
    rig.org.reset_stats()
    again = rig.sync(as_of=as_of)
    assert again.status == "ok"
    assert rig.org.stats()["api_calls"]["write"] == 0


def test_a_later_as_of_recycles_exactly_the_sla_expired_people(rig: Rig) -> None:
    _world(rig)
    rig.sync(as_of=DAY0 + timedelta(days=11))
    mql_b = _moment(_leads(rig)["B"]["MQL_Date__c"])
    assert mql_b is not None
    # one second before B's SLA (30 days at MQL) runs out: nobody is recycled
    before = rig.sync(as_of=mql_b + timedelta(days=30, seconds=-1))
    assert before.status == "ok"
    assert all(r["Recycled_Date__c"] is None for r in _leads(rig).values())
    # at the deadline B is recycled, at exactly MQL date + 30 days; A (SAL on day 10)
    # is not
    assert rig.sync(as_of=mql_b + timedelta(days=30)).status == "ok"
    leads = _leads(rig)
    assert leads["B"]["Lifecycle_Stage__c"] == "Recycled"
    assert _moment(leads["B"]["Recycled_Date__c"]) == mql_b + timedelta(days=30)
    assert leads["A"]["Lifecycle_Stage__c"] == "SAL" and leads["A"]["Recycled_Date__c"] is None
    # the Lead Status itself is left alone by default (opt-in, below)
    assert all(r["Status"] != "Recycled" for r in rig.query("SELECT Status FROM Lead"))
    # B responds again: a new cycle; its first touch moves
    with open(rig.map_dir / "touches.csv", "a", encoding="utf-8") as fh:
        fh.write(f"b8,B,W1,webinar_registered,{at(45)},,,,,,,\n")
    assert rig.sync(as_of=DAY0 + timedelta(days=46)).status == "ok"
    b = _leads(rig)["B"]
    assert b["Funnel_Cycle__c"] == 2
    assert _moment(b["First_Touch_Date__c"]) == _moment(at(45))
    # its decayed score plus fit still clears the threshold: MQL again, dated in
    # the new cycle at the touch that opened it, and nothing from cycle 1 kept
    assert b["Lifecycle_Stage__c"] == "MQL"
    assert _moment(b["MQL_Date__c"]) == _moment(at(45))
    assert b["Recycled_Date__c"] is not None


def test_explain_lists_the_rules_behind_the_written_scores(rig: Rig) -> None:
    from connector.run.explain import explain_account, explain_person

    _world(rig)
    as_of = DAY0 + timedelta(days=11)
    rig.sync(as_of=as_of)
    store = rig.store()
    try:
        data = explain_person(store, rig.mappings, "B", tz=UTC, as_of=as_of)
        scores, life = data["scores"], data["lifecycle"]
        lead = _leads(rig)["B"]
        for part, field in (("behavior", "Behavior_Score__c"), ("fit", "Fit_Score__c")):
            assert sum(r["points"] for r in scores[part]["rules"]) == scores[part]["total"]
            assert scores[part]["total"] == lead[field]
        assert scores["lead"] == lead["Lead_Score__c"]
        assert life["stage"] == "MQL" and life["cycle"] == 1
        assert any(r.get("touch_id") == "b2" for r in scores["behavior"]["rules"])
        account = explain_account(store, rig.mappings, "acme.com", as_of=as_of)
        assert set(account["people"]) == {"A", "B"}
        assert sum(r["points"] for r in account["engagement"]["rules"]) == \
            account["engagement"]["total"]
    finally:
        store.close()


def test_writing_the_lead_status_on_an_sla_recycle_is_opt_in(rig: Rig,
                                                             tmp_path: Path) -> None:
    custom = tmp_path / "mappings"
    shutil.copytree(bundled_dir(), custom, ignore=shutil.ignore_patterns("__*"))
    path = custom / "scoring.yaml"
    path.write_text(path.read_text().replace("write_lead_status_on_recycle: false",
                                             "write_lead_status_on_recycle: true"))
    opted = load_mappings(custom)
    _world(rig)
    rig.sync(as_of=DAY0 + timedelta(days=11), mappings=opted)
    mql_b = _moment(_leads(rig)["B"]["MQL_Date__c"])
    assert mql_b is not None
    rig.sync(as_of=mql_b + timedelta(days=30), mappings=opted)
    statuses = {r["MAP_Id__c"]: r["Status"] for r in rig.query(
        "SELECT MAP_Id__c, Status FROM Lead")}
    assert statuses["B"] == "Recycled" and statuses["A"] != "Recycled"
    rig.org.reset_stats()
    rig.sync(as_of=mql_b + timedelta(days=30), mappings=opted)
    assert rig.org.stats()["api_calls"]["write"] == 0  # written once
