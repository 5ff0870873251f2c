"""Source fields, members, idempotence, drift, dry-run and the budget, end to end."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connector.emulator.testing import inprocess_emulator
from tests.e2e.harness import Rig


def _journey(rig: Rig) -> None:
    (rig.export().person("P1", "ada@acme.com")
     .program("W1", "Webinar", name="Spring webinar")
     .program("A1", "paid_search", name="Google Ads")
     .touch("t1", "P1", "webinar_registered", 1, "W1")
     .touch("t2", "P1", "webinar_attended", 3, "W1")
     .touch("t3", "P1", "webinar_registered", 4, "W1")  # a repeat response
     .touch("t4", "P1", "ad_click", 10, "A1", utm_source="google", utm_medium="cpc")
     .write())


def test_first_sync_writes_source_fields_members_and_statuses(rig: Rig) -> None:
    _journey(rig)
    result = rig.sync()
    assert result.status == "ok"
    [lead] = rig.query("SELECT Original_Source__c, Original_Source_Detail__c, "
                       "Original_Source_Date__c, First_Touch_Channel__c, First_Touch_Date__c, "
                       "First_Touch_Campaign__r.Name, Last_Touch_Date__c, "
                       "Last_Touch_Campaign__r.Name, Funnel_Cycle__c FROM Lead")
    assert lead["Original_Source__c"] == "Webinar"
    assert lead["Original_Source_Detail__c"] == "Spring webinar"
    assert lead["Original_Source_Date__c"].startswith("2026-01-06T09:00:00")
    assert lead["First_Touch_Channel__c"] == "Webinar"
    assert lead["First_Touch_Campaign__r"]["Name"] == "Spring webinar"
    assert lead["Last_Touch_Campaign__r"]["Name"] == "Google Ads"
    assert lead["Funnel_Cycle__c"] == 1
    members = {m["Campaign"]["Name"]: m for m in rig.query(
        "SELECT Campaign.Name, Status, HasResponded, First_Response_Date__c FROM "
        "CampaignMember")}
    assert members["Spring webinar"]["Status"] == "Attended"
    assert members["Spring webinar"]["First_Response_Date__c"] == "2026-01-06"
    assert members["Google Ads"]["Status"] == "Clicked Ad" and \
        members["Google Ads"]["HasResponded"] is True
    campaigns = {c["Name"]: c for c in rig.query("SELECT Name, Type, Channel__c FROM Campaign")}
    assert campaigns["Google Ads"]["Channel__c"] == "Paid Search"
    assert campaigns["Google Ads"]["Type"] == "Advertisement"
    labels = [r["Label"] for r in rig.query(
        "SELECT Label FROM CampaignMemberStatus WHERE Campaign.Name = 'Google Ads' "
        "ORDER BY SortOrder")]
    assert labels == [s.label for s in rig.mappings.touches.member_statuses]
    # every repeat response stays in the ledger although Salesforce has one member
    assert len(rig.store().touches_of(["P1"])["P1"]) == 4


def test_a_rerun_with_nothing_changed_spends_zero_write_calls(rig: Rig) -> None:
    _journey(rig)
    rig.sync()
    rig.org.reset_stats()
    result = rig.sync()
    assert rig.org.stats()["api_calls"]["write"] == 0
    assert all(o["created"] == o["updated"] == o["failed"] == 0
               for o in result.objects.values())


def test_a_rerun_recognises_its_own_writes_without_restoring_them(rig: Rig) -> None:
    """The first run's writes come back with new stamps: their digests match, so
    the mirror keeps them as they are (only the CreatedDate the org gave is filled)."""
    _journey(rig)
    rig.sync()
    db = rig.store().db
    before = dict(((s, i), (f, d)) for s, i, f, d in db.execute(
        "SELECT sobject, id, fields, digest FROM sf_records"))
    assert db.execute("SELECT count(*) FROM sf_records WHERE sobject = 'Lead' "
                      "AND created_date IS NULL").fetchone()[0] == 1  # ours, just created
    assert db.execute("SELECT count(*) FROM sf_records WHERE sobject = 'CampaignMember' "
                      "AND modstamp IS NULL").fetchone()[0] == 2  # created, not read back
    rig.sync()
    db = rig.store().db
    after = dict(((s, i), (f, d)) for s, i, f, d in db.execute(
        "SELECT sobject, id, fields, digest FROM sf_records"))
    assert after == before
    assert db.execute("SELECT count(*) FROM sf_records WHERE sobject = 'Lead' "
                      "AND created_date IS NULL").fetchone()[0] == 0
    # every record the first run created was read back: none is left unread
    assert db.execute("SELECT count(*) FROM sf_records WHERE modstamp IS NULL").fetchone()[0] == 0


def test_a_large_read_back_starts_as_a_bulk_query(rig: Rig,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """When the last run created more records of an object than a REST read should
    carry, its re-read starts as a Bulk query: no first REST page is read only to
    be thrown away. Objects it created few of stay on REST."""
    import re

    import connector.run.mirror as mirror
    from connector.salesforce.client import SalesforceClient

    _journey(rig)
    rig.sync()
    created = dict(rig.store().db.execute(
        "SELECT sobject, count(*) FROM sf_records WHERE modstamp IS NULL GROUP BY sobject"))
    assert created["CampaignMember"] == 2 and created["Lead"] == 1
    monkeypatch.setattr(mirror, "BULK_READ_THRESHOLD", 1)
    reads: list[tuple[str, str]] = []
    for method in ("query_with_total", "bulk_query"):
        original = getattr(SalesforceClient, method)

        def spy(self: SalesforceClient, soql: str, *args: object, _name: str = method,
                _original: object = original, **kwargs: object) -> object:
            reads.append((_name, re.findall(r"FROM (\w+)", soql)[0]))
            return _original(self, soql, *args, **kwargs)  # type: ignore[operator]

        monkeypatch.setattr(SalesforceClient, method, spy)
    assert rig.sync().status == "ok"
    for sobject, count in created.items():
        assert (sobject, "query_with_total" in [m for m, o in reads if o == sobject]) == \
            (sobject, count <= 1), reads
    assert ("bulk_query", "CampaignMember") in reads


def test_a_member_status_is_never_downgraded(rig: Rig) -> None:
    _journey(rig)
    rig.sync()
    sf = rig.org.salesforce()
    [member] = rig.query("SELECT Id FROM CampaignMember WHERE Campaign.Name = 'Google Ads'")
    sf.CampaignMember.update(member["Id"], {"Status": "Attended"})  # further, by hand
    rig.export().person("P1", "ada@acme.com").program("W1", "Webinar", name="Spring webinar") \
        .program("A1", "paid_search", name="Google Ads") \
        .touch("t4", "P1", "ad_click", 10, "A1").touch("t9", "P1", "ad_click", 50, "A1").write()
    rig.sync()
    [after] = rig.query("SELECT Status FROM CampaignMember WHERE Campaign.Name = 'Google Ads'")
    assert after["Status"] == "Attended"


def test_a_hand_edit_of_an_owned_field_is_put_back_and_counted_as_drift(rig: Rig) -> None:
    _journey(rig)
    rig.sync()
    [lead] = rig.query("SELECT Id FROM Lead")
    rig.org.salesforce().Lead.update(lead["Id"], {"First_Touch_Channel__c": "Referral"})
    result = rig.sync()
    assert result.drift == {"Lead.First_Touch_Channel__c": 1}
    [after] = rig.query("SELECT First_Touch_Channel__c FROM Lead")
    assert after["First_Touch_Channel__c"] == "Webinar"


def test_a_filled_original_source_is_reported_not_overwritten(rig: Rig) -> None:
    rig.org.salesforce().Lead.create({"LastName": "A", "Company": "Acme",
                                      "Email": "ada@acme.com", "Original_Source__c": "Event"})
    _journey(rig)
    result = rig.sync()
    [lead] = rig.query("SELECT Original_Source__c, Original_Source_Detail__c FROM Lead")
    assert lead == {"Original_Source__c": "Event", "Original_Source_Detail__c": None}
    assert result.findings["original_source_conflict"] == 1


def test_dry_run_prints_the_plan_and_writes_nothing(rig: Rig) -> None:
    _journey(rig)
    rig.org.reset_stats()
    result = rig.sync(dry_run=True)
    assert rig.org.stats()["api_calls"]["write"] == 0
    assert result.status == "dry-run"
    assert result.objects["Lead"]["created"] == 1
    assert result.objects["CampaignMember"]["created"] == 2
    assert rig.query("SELECT Id FROM Lead") == []
    rig.org.reset_stats()
    assert rig.sync().status == "ok"  # the real run still does everything
    assert len(rig.query("SELECT Id FROM Lead")) == 1
    calls = rig.org.stats()["api_calls"]
    # the estimate counts the writes and the one read of new campaigns' statuses
    assert result.estimate["api_calls"] == calls["write"] + 1


def test_budget_stop_exits_4_and_the_next_run_finishes(rig: Rig) -> None:
    export = rig.export().program("W1", "Webinar")
    for i in range(450):
        export.person(f"P{i}", f"p{i}@acme.com").touch(f"t{i}", f"P{i}", "form_fill", 1, "W1")
    export.write()
    result = rig.sync(salesforce={"budget_calls": 20})
    assert result.status == "stopped" and result.exit_code == 4
    assert "budget" in str(result.stopped)
    assert rig.store().last_completed_run("sync") is None
    done = rig.sync()
    assert done.status == "ok", done.as_json()
    assert len(rig.query("SELECT Id FROM Lead")) == 450
    assert len(rig.query("SELECT Id FROM CampaignMember")) == 450


@pytest.fixture(scope="module")
def property_org(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    yield tmp_path_factory.mktemp("prop")


EDITS = st.sampled_from([None, "Event", "Referral", ""])


@settings(max_examples=12, deadline=None, suppress_health_check=[
    HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(steps=st.lists(st.tuples(st.sampled_from(["earlier_touch", "hand_edit", "new_source"]),
                                EDITS), min_size=1, max_size=5))
def test_write_once_survives_hostile_interleavings(tmp_path_factory: pytest.TempPathFactory,
                                                   steps: list[tuple[str, str | None]]) -> None:
    """MAP history rewritten, hand edits, syncs in between: once Salesforce holds an
    original source, no sync ever changes or clears it."""
    root = tmp_path_factory.mktemp("wo")
    with inprocess_emulator(root / "org") as org:
        rig = Rig(org, root)
        export = rig.export().person("P1", "ada@acme.com").program("W1", "Webinar") \
            .program("E1", "Event").touch("t1", "P1", "webinar_registered", 10, "W1")
        export.write()
        rig.sync()
        day = 9.0
        for action, value in steps:
            [lead] = rig.query("SELECT Id, Original_Source__c FROM Lead")
            before = lead["Original_Source__c"]
            if action == "hand_edit":
                rig.org.salesforce().Lead.update(lead["Id"], {"Original_Source__c": value})
                before = value or None
            elif action == "earlier_touch":
                export.touch(f"e{day}", "P1", "event_attended", day, "E1").write()
                day -= 1
            else:
                export.people[0]["source"] = "Partner"
                export.write()
            rig.sync()
            [after] = rig.query("SELECT Original_Source__c FROM Lead")
            if before:
                assert after["Original_Source__c"] == before
