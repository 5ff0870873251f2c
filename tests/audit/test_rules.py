"""The reconciliation rules over plain values: tables of cases and invariants."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connector.audit import rules
from connector.audit.rules import Credit, Opportunity, PersonRecord, WriteFailure
from connector.plan.model import PlannedWrite

NOW = datetime(2026, 11, 1, 12, tzinfo=UTC)


def _cats(found: list[rules.AuditFinding]) -> list[tuple[Any, ...]]:
    return [(f.category, f.object, f.record_id, f.map_id, f.field) for f in found]


# ------------------------------------------------------------ duplicates

@pytest.mark.parametrize(("records", "expected"), [
    pytest.param([PersonRecord("Lead", "L1", "a@x.com", "P1"),
                  PersonRecord("Lead", "L2", "b@x.com", "P2")], [], id="distinct"),
    pytest.param([PersonRecord("Lead", "L2", "A@x.com ", None, "2026-02-01"),
                  PersonRecord("Lead", "L1", "a@x.com", "P1", "2026-01-01")],
                 [("duplicate", "Lead", "L1", "P1", "Email")], id="two-leads-one-email"),
    pytest.param([PersonRecord("Lead", "L1", "a@x.com", None, "2026-01-01"),
                  PersonRecord("Contact", "C1", "a@x.com", None, "2026-03-01")],
                 [("duplicate", "Contact+Lead", "L1", None, "Email")],
                 id="lead-and-contact"),
    pytest.param([PersonRecord("Lead", "L1", "a@x.com", "P1", "2026-01-01"),
                  PersonRecord("Contact", "C1", "c@x.com", "p1", "2026-03-01")],
                 [("duplicate", "Contact+Lead", "L1", "P1", "MAP_Id__c")],
                 id="one-map-id-on-two-records"),
    pytest.param([PersonRecord("Lead", "L1", "a@x.com", "P1", "2026-01-01"),
                  PersonRecord("Contact", "C1", "a@x.com", "P1", "2026-03-01")],
                 [("duplicate", "Contact+Lead", "L1", "P1", "Email")],
                 id="same-group-by-two-rules-reported-once"),
    pytest.param([PersonRecord("Lead", "L1", "a@x.com", "P1", converted=True),
                  PersonRecord("Contact", "C1", "a@x.com", "P1")], [],
                 id="a-converted-lead-is-history"),
])
def test_duplicates(records: list[PersonRecord], expected: list[tuple[Any, ...]]) -> None:
    assert _cats(rules.duplicates(records)) == expected


@given(st.lists(st.tuples(st.sampled_from(["Lead", "Contact"]),
                          st.sampled_from(["a@x.com", "b@x.com", None]),
                          st.sampled_from(["P1", "P2", None])), max_size=8))
def test_every_record_sharing_an_email_or_map_id_is_named(
        spec: list[tuple[str, str | None, str | None]]) -> None:
    records = [PersonRecord(obj, f"R{i}", email, map_id) for i, (obj, email, map_id)
               in enumerate(spec)]
    named = {r for f in rules.duplicates(records) for r in f.extra["records"]}
    for key in ("email", "map_id"):
        groups: dict[str, set[str]] = {}
        for r in records:
            value = getattr(r, key)
            if value:
                groups.setdefault(value, set()).add(r.id)
        for ids in groups.values():
            if len(ids) > 1:
                assert ids <= named


# ------------------------------------------------------- missing in map

def test_missing_in_map_names_unknown_map_ids_only() -> None:
    records = [PersonRecord("Lead", "L1", None, "P1"), PersonRecord("Lead", "L2", None, "X9"),
               PersonRecord("Contact", "C1", None, None),
               PersonRecord("Lead", "L3", None, "X8", converted=True)]
    assert _cats(rules.missing_in_map(records, ["p1"])) == [
        ("missing_in_map", "Lead", "L2", "X9", "MAP_Id__c")]


def test_campaigns_missing_in_map_names_unknown_program_ids_only() -> None:
    found = rules.campaigns_missing_in_map([("701A", "W1", "Webinar"), ("701B", "X9", None)],
                                           ["w1"])
    assert _cats(found) == [("missing_in_map", "Campaign", "701B", None, "MAP_Program_Id__c")]


# ------------------------------------------------------- from the plan

def _update(**kw: Any) -> PlannedWrite:
    base: dict[str, Any] = {"ref": "Lead:L1", "sobject": "Lead", "record_id": "L1",
                            "fields": {"A__c": "new"}, "before": {"A__c": "old"},
                            "map_ids": ("P1",)}
    return PlannedWrite(**{**base, **kw})


@pytest.mark.parametrize(("write", "expected"), [
    pytest.param(_update(drift=("A__c",)), [("field_drift", "Lead", "L1", "P1", "A__c")],
                 id="hand-edit"),
    pytest.param(_update(), [("field_drift", "Lead", "L1", "P1", "A__c")], id="pending"),
    pytest.param(_update(sobject="CampaignMember"), [], id="members-are-another-rule"),
    pytest.param(_update(record_id=None), [], id="creates-are-another-rule"),
])
def test_field_drift(write: PlannedWrite, expected: list[tuple[Any, ...]]) -> None:
    assert _cats(rules.field_drift([write])) == expected


def test_a_hand_edit_is_told_apart_from_a_pending_change() -> None:
    [edit] = rules.field_drift([_update(drift=("A__c",))])
    [pending] = rules.field_drift([_update(reasons={"A__c": "changed"})])
    assert edit.extra["hand_edit"] and "edited in Salesforce" in edit.detail
    assert not pending.extra["hand_edit"] and "(changed)" in pending.detail
    assert (edit.salesforce_value, edit.expected_value) == ("old", "new")


@pytest.mark.parametrize(("write", "expected"), [
    pytest.param(PlannedWrite("CampaignMember:W1:L1", "CampaignMember", None,
                              {"Status": "Registered", "CampaignId": "701", "LeadId": "L1"},
                              map_ids=("P1",)),
                 [("campaign_member_gap", "CampaignMember", None, "P1", "Status")],
                 id="response-without-member"),
    pytest.param(PlannedWrite("CampaignMember:W1:L1", "CampaignMember", "00v1",
                              {"Status": "Attended"}, before={"Status": "Registered"},
                              map_ids=("P1",)),
                 [("campaign_member_gap", "CampaignMember", "00v1", "P1", "Status")],
                 id="status-behind"),
    pytest.param(PlannedWrite("CampaignMember:W1:new:P1", "CampaignMember", None,
                              {"Status": "Registered", "CampaignId": "701"},
                              depends={"LeadId": "Lead:P1"}), [],
                 id="member-of-a-record-still-to-create"),
])
def test_campaign_member_gap(write: PlannedWrite, expected: list[tuple[Any, ...]]) -> None:
    assert _cats(rules.campaign_member_gap([write], "Status")) == expected


def test_missing_in_salesforce_says_when_the_record_was_deleted() -> None:
    write = PlannedWrite("Lead:P1", "Lead", None, {"Email": "a@x.com"}, map_ids=("P1",))
    [gone] = rules.missing_in_salesforce([write], {"P1": "00Q1"})
    [never] = rules.missing_in_salesforce([write], {})
    assert gone.record_id == "00Q1" and "deleted" in gone.detail
    assert never.record_id is None and "deleted" not in never.detail


def test_planner_findings_are_passed_once_and_person_duplicates_left_out() -> None:
    base = {"category": "original_source_conflict", "object": "Lead", "record_id": "L9",
            "map_id": "P9", "field": "Original_Source__c", "salesforce_value": "Event",
            "expected_value": "Webinar", "detail": "write-once"}
    person_dup = {**base, "category": "duplicate", "object": "Lead", "record_id": "L1"}
    account_dup = {**base, "category": "duplicate", "object": "Account", "record_id": "A1",
                   "map_id": "P1", "field": "Website"}
    programs = {**base, "category": "unmapped_program", "object": "Campaign"}
    found = rules.from_planner([base, base, person_dup, account_dup, programs,
                                {**account_dup, "map_id": "P2"}])
    assert _cats(found) == [("original_source_conflict", "Lead", "L9", "P9",
                             "Original_Source__c"),
                            ("duplicate", "Account", "A1", None, "Website")]


def test_unmapped_programs_are_named_one_by_one() -> None:
    found = rules.unmapped_programs(
        [("U1", "Mind reading", None, "Telepathy"), ("U2", None, None, "Telepathy"),
         ("W1", "Webinar", "Webinar", "webinar")], {"X9": 3})
    assert [(f.field, f.expected_value, f.key) for f in found] == [
        ("Channel__c", "Telepathy", "unmapped_program|Campaign|||Channel__c|U1"),
        ("Channel__c", "Telepathy", "unmapped_program|Campaign|||Channel__c|U2"),
        (None, "X9", "unmapped_program|Campaign||||X9")]
    assert found[2].extra["touches"] == 3


# ---------------------------------------------------------- state inputs

def test_failed_writes_carry_the_error_code_and_hide_what_they_explain() -> None:
    failure = WriteFailure("Lead", "Lead:L1", "P1", "L1", "UNABLE_TO_LOCK_ROW", "locked")
    [f] = rules.failed_writes([failure])
    assert f.extra["error_code"] == "UNABLE_TO_LOCK_ROW" and "retries" in f.action
    drift = rules.field_drift([_update()])
    other = rules.field_drift([_update(record_id="L2")])
    assert rules.without_pending([*drift, *other, f], [failure]) == [*other, f]


def test_rejected_rows_name_file_row_and_field() -> None:
    [f] = rules.rejected_inputs([rules.RejectedRow("touch", "touches.csv", 7, "occurred_at",
                                                   "soon", "not a timestamp", "t9")])
    assert f.detail == "touches.csv, row 7, field occurred_at: not a timestamp"
    assert (f.map_id, f.expected_value) == ("t9", "soon")


@pytest.mark.parametrize(("expected", "actual", "objects"), [
    pytest.param({"Lead": 3}, {"Lead": 3}, [], id="equal"),
    pytest.param({"Lead": 3}, {"Lead": 2}, ["Lead"], id="fewer"),
    pytest.param({"Lead": 3, "Contact": 1}, {"Lead": 3}, ["Contact"], id="absent-object"),
])
def test_count_mismatches(expected: dict[str, int], actual: dict[str, int],
                          objects: list[str]) -> None:
    assert [f.object for f in rules.count_mismatches(expected, actual)] == objects


# ---------------------------------------------------------- attribution

OPEN = Opportunity("006A", NOW - timedelta(days=10), None, False)
CLOSED = Opportunity("006B", NOW - timedelta(days=100), NOW - timedelta(days=50), True)


@pytest.mark.parametrize(("opp", "touch_days", "credits", "expected"), [
    pytest.param(OPEN, [-20], [], ["no_credit"], id="eligible-without-credit"),
    pytest.param(OPEN, [-400], [], [], id="touch-before-the-lookback"),
    pytest.param(OPEN, [], [], [], id="no-touch-no-gap"),
    pytest.param(CLOSED, [-40], [], [], id="touch-after-close"),
    pytest.param(CLOSED, [-50], [], ["no_credit"], id="close-day-is-inclusive"),
    pytest.param(OPEN, [-20], [("linear", "100")], [], id="credited"),
    pytest.param(OPEN, [-20], [("linear", "33.3333"), ("linear", "66.6667")], [],
                 id="rounded-shares-sum-to-100"),
    pytest.param(OPEN, [-20], [("linear", "60"), ("u_shaped", "100")], ["linear"],
                 id="one-model-short"),
])
def test_attribution_gaps(opp: Opportunity, touch_days: list[int],
                          credits: list[tuple[str, str]], expected: list[str]) -> None:
    touches = {opp.id: [NOW + timedelta(days=d) for d in touch_days]}
    found = rules.attribution_gaps([opp], touches,
                                   [Credit(opp.id, m, Decimal(c)) for m, c in credits], NOW)
    assert [f.extra["key"] for f in found] == expected


def test_credits_on_an_opportunity_without_roles_are_still_summed() -> None:
    orphan = Opportunity("006C", datetime.min.replace(tzinfo=UTC), None, False)
    found = rules.attribution_gaps([orphan], {}, [Credit("006C", "linear", Decimal(50))], NOW)
    assert [(f.record_id, f.salesforce_value) for f in found] == [("006C", "50")]


def test_summary_lists_every_category() -> None:
    summary = rules.summarize(rules.count_mismatches({"Lead": 1}, {}))
    assert list(summary) == list(rules.CATEGORIES) and summary["count_mismatch"] == 1
