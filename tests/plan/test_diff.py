"""diff_record: one record's per-field writes through every write policy."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from connector.engine.policies import FieldDecision
from connector.plan.model import diff_record
from tests.factories import mappings

LEAD = mappings().fields.obj("Lead")
MQL = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
MQL_API = "2026-03-01T09:30:00.000+0000"  # the same moment as the API returns it
LATER = datetime(2026, 4, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("desired", "current", "written", "new_cycle", "fields", "before", "drift", "conflicts"), [
        pytest.param({"first_touch_channel": "Webinar", "title": None, "mql_date": MQL},
                     None, {}, False,
                     {"First_Touch_Channel__c": "Webinar",
                      "MQL_Date__c": "2026-03-01T09:30:00.000Z"},
                     {}, [], [], id="new-record-writes-every-non-blank-value"),
        pytest.param({"first_touch_channel": "Webinar"}, {"First_Touch_Channel__c": "Event"},
                     {"First_Touch_Channel__c": "Event"}, False,
                     {"First_Touch_Channel__c": "Webinar"}, {"First_Touch_Channel__c": "Event"},
                     [], [], id="always-changed-by-the-map"),
        pytest.param({"first_touch_channel": "Webinar"}, {"First_Touch_Channel__c": "Hand"},
                     {"First_Touch_Channel__c": "Webinar"}, False,
                     {"First_Touch_Channel__c": "Webinar"}, {"First_Touch_Channel__c": "Hand"},
                     ["First_Touch_Channel__c"], [], id="always-hand-edit-is-drift"),
        pytest.param({"first_touch_channel": "Webinar"}, {"First_Touch_Channel__c": "Webinar"},
                     {}, False, {}, {}, [], [], id="always-equal-is-no-write"),
        pytest.param({"first_touch_channel": None}, {"First_Touch_Channel__c": "Webinar"},
                     {"First_Touch_Channel__c": "Webinar"}, False,
                     {"First_Touch_Channel__c": None}, {"First_Touch_Channel__c": "Webinar"},
                     [], [], id="always-clears-its-own-value"),
        pytest.param({"first_touch_channel": None}, {"First_Touch_Channel__c": "Other tool"},
                     {}, False, {}, {}, [], [], id="always-leaves-foreign-value"),
        pytest.param({"title": "VP"}, {"Title": None}, {}, False, {"Title": "VP"},
                     {"Title": None}, [], [], id="if-blank-fills"),
        pytest.param({"title": "VP"}, {"Title": ""}, {}, False, {"Title": "VP"},
                     {"Title": None}, [], [], id="if-blank-empty-string-is-blank"),
        pytest.param({"title": "VP"}, {"Title": "CEO"}, {"Title": "VP"}, False, {}, {}, [], [],
                     id="if-blank-keeps-filled"),
        pytest.param({"original_source": "Webinar"}, {"Original_Source__c": None}, {}, False,
                     {"Original_Source__c": "Webinar"}, {"Original_Source__c": None}, [], [],
                     id="write-once-fills-blank"),
        pytest.param({"original_source": "Webinar"}, {"Original_Source__c": "Event"}, {}, False,
                     {}, {}, [], [("Original_Source__c", "Event", "Webinar")],
                     id="write-once-disagreement-is-a-conflict-not-a-write"),
        pytest.param({"original_source": None}, {"Original_Source__c": "Event"}, {}, False,
                     {}, {}, [], [], id="write-once-never-cleared"),
        pytest.param({"mql_date": MQL}, {"MQL_Date__c": None}, {}, False,
                     {"MQL_Date__c": "2026-03-01T09:30:00.000Z"}, {"MQL_Date__c": None}, [], [],
                     id="monotonic-fills-blank"),
        pytest.param({"mql_date": LATER}, {"MQL_Date__c": MQL_API}, {}, False, {}, {}, [], [],
                     id="monotonic-keeps-the-date-of-this-cycle"),
        pytest.param({"mql_date": MQL}, {"MQL_Date__c": MQL_API}, {}, False, {}, {}, [], [],
                     id="monotonic-api-form-equals-the-datetime"),
        pytest.param({"mql_date": LATER}, {"MQL_Date__c": MQL_API}, {}, True,
                     {"MQL_Date__c": "2026-04-01T00:00:00.000Z"},
                     {"MQL_Date__c": "2026-03-01T09:30:00.000Z"}, [], [],
                     id="monotonic-new-cycle-restarts-the-date"),
        pytest.param({"mql_date": None}, {"MQL_Date__c": MQL_API}, {}, True,
                     {"MQL_Date__c": None}, {"MQL_Date__c": "2026-03-01T09:30:00.000Z"}, [], [],
                     id="monotonic-new-cycle-clears-a-stage-not-reached-again"),
        pytest.param({"mql_date": None}, {"MQL_Date__c": MQL_API}, {}, False, {}, {}, [], [],
                     id="monotonic-never-cleared-within-a-cycle"),
        pytest.param({"status": "Working"}, {"Status": "Open"}, {}, False, {}, {}, [], [],
                     id="never-is-never-written"),
    ])
def test_diff_record_policies(desired: dict[str, Any], current: dict[str, Any] | None,
                              written: dict[str, Any], new_cycle: bool, fields: dict[str, Any],
                              before: dict[str, Any], drift: list[str],
                              conflicts: list[tuple[str, Any, Any]]) -> None:
    diff = diff_record(LEAD, desired, current, written, new_cycle=new_cycle)
    assert diff.fields == fields
    assert diff.before == before
    assert diff.drift == drift
    assert diff.conflicts == conflicts
    assert set(diff.reasons) == (set(fields) if current is not None else set())


def test_skip_leaves_a_field_alone_but_still_explains_it() -> None:
    decisions: dict[str, tuple[Any, Any, FieldDecision | None]] = {}
    diff = diff_record(LEAD, {"original_source_detail": "Spring webinar",
                              "first_touch_channel": "Webinar"},
                       {"Original_Source_Detail__c": None, "First_Touch_Channel__c": "Event"},
                       {}, skip=frozenset({"original_source_detail"}), decisions=decisions)
    assert diff.fields == {"First_Touch_Channel__c": "Webinar"}
    assert decisions["original_source_detail"] == (None, "Spring webinar", None)
    have, want, decision = decisions["first_touch_channel"]
    assert (have, want) == ("Event", "Webinar")
    assert decision is not None and decision.write and decision.reason == "changed"


def test_decisions_record_every_field_for_a_new_record_without_a_policy() -> None:
    decisions: dict[str, tuple[Any, Any, FieldDecision | None]] = {}
    diff_record(LEAD, {"title": "VP", "country": None}, None, {}, decisions=decisions)
    assert decisions == {"title": (None, "VP", None), "country": (None, None, None)}


def test_decisions_of_an_existing_record_carry_the_policy_verdict() -> None:
    decisions: dict[str, tuple[Any, Any, FieldDecision | None]] = {}
    diff = diff_record(LEAD, {"original_source": "Webinar", "title": "VP"},
                       {"Original_Source__c": "Event", "Title": "CEO"}, {}, decisions=decisions)
    assert diff.fields == {}
    conflict = decisions["original_source"][2]
    kept = decisions["title"][2]
    assert conflict is not None and conflict.conflict and not conflict.write
    assert kept is not None and kept.reason == "kept: already filled"


def test_unknown_field_key_is_a_programming_error() -> None:
    with pytest.raises(KeyError):
        diff_record(LEAD, {"no_such_field": 1}, None, {})
