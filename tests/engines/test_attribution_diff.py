"""Desired credit rows against Salesforce's: creates, changed-field updates, stale deletes."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connector.engine.attribution import CreditRecord, attribute
from connector.engine.attribution_diff import (
    attribution_values,
    diff_attribution,
    diff_influence,
)
from connector.engine.attribution_scope import InfluenceRow
from connector.mappings import ObjectDecl, load_mappings
from tests.engines.attribution_journeys import ALL, CREATED, opp, touch

AS_OF = CREATED + timedelta(days=60)


@pytest.fixture(scope="module")
def decl() -> ObjectDecl:
    return load_mappings().fields.obj("Attribution__c")


def _records() -> list[CreditRecord]:
    touches = [touch("t1", -20), touch("t2", -5, conversion=True)]
    return attribute(opp(), touches, ALL, as_of=AS_OF).records


def _as_salesforce(record: CreditRecord, decl: ObjectDecl, rid: str) -> dict[str, Any]:
    """How the API returns a row: numbers as floats, datetimes with +0000."""
    row = dict(attribution_values(record, decl))
    row["Touch_Date__c"] = record.touch_date.strftime("%Y-%m-%dT%H:%M:%S.000+0000")
    row["Id"] = rid
    return row


def test_values_carry_the_contract_field_names(decl: ObjectDecl) -> None:
    record = _records()[0]
    values = attribution_values(record, decl)
    assert values["Key__c"] == f"{record.opportunity_id}:t1:first_touch"
    assert values["Credit__c"] == 100.0 and values["Revenue__c"] == 1000.0
    assert values["Position__c"] == "FT" and values["Model__c"] == "first_touch"
    assert values["Touch_Date__c"] == "2024-02-10T12:00:00.000Z"


def test_nothing_held_creates_everything_in_key_order(decl: ObjectDecl) -> None:
    records = _records()
    diff = diff_attribution(records, [], decl)
    assert [c["Key__c"] for c in diff.creates] == sorted(r.key for r in records)
    assert diff.updates == [] and diff.deletes == []


def test_a_rerun_with_nothing_changed_writes_nothing(decl: ObjectDecl) -> None:
    records = _records()
    held = [_as_salesforce(r, decl, f"a00{i:015d}") for i, r in enumerate(records)]
    diff = diff_attribution(records, held, decl)
    assert diff.writes == 0 and diff.unchanged == len(records)


def test_changed_values_update_only_the_changed_fields(decl: ObjectDecl) -> None:
    records = _records()
    held = [_as_salesforce(r, decl, f"a00{i:015d}") for i, r in enumerate(records)]
    held[0]["Revenue__c"] = 999.0
    held[1]["Credit__c"] = 12.5
    held[1]["Channel__c"] = "Email"
    diff = diff_attribution(records, held, decl)
    assert [(u.record_id, sorted(u.fields)) for u in diff.updates] == [
        ("a00000000000000000", ["Revenue__c"]),
        ("a00000000000000001", ["Channel__c", "Credit__c"])]
    assert diff.updates[1].before["Credit__c"] == 12.5
    assert diff.creates == [] and diff.deletes == []


def test_stale_and_duplicate_keys_are_deleted(decl: ObjectDecl) -> None:
    records = _records()
    held = [_as_salesforce(r, decl, f"a00{i:015d}") for i, r in enumerate(records)]
    stale = dict(held[0], Id="a00999999999999999", Key__c="006X:gone:linear")
    dup = dict(held[2], Id="a00999999999999998")
    diff = diff_attribution(records[1:], [*held, stale, dup], decl)
    assert diff.deletes == ["a00999999999999998", "a00000000000000000", "a00999999999999999"]
    assert diff.creates == [] and diff.updates == []


MODEL = "0Ml000000000001AAA"


def _row(rid: str, campaign: str, contact: str | None, influence: float,
         model: str = MODEL) -> dict[str, Any]:
    return {"Id": rid, "OpportunityId": "006A00000000001AAA", "CampaignId": campaign,
            "ContactId": contact, "ModelId": model, "Influence": influence,
            "RevenueShare": 1.0}


def _want(campaign: str, contact: str | None, influence: str) -> InfluenceRow:
    return InfluenceRow("006A00000000001AAA", campaign, contact, Decimal(influence))


@pytest.mark.parametrize(("desired", "held", "creates", "updates", "deletes"), [
    pytest.param([_want("701A00000000001AAA", "003A00000000001AAA", "60.00")],
                 [_row("0ci1", "701A00000000001AAA", "003A00000000001AAA", 60.0)],
                 [], [], [], id="unchanged"),
    pytest.param([_want("701A00000000001AAA", "003A00000000001AAA", "55.00")],
                 [_row("0ci1", "701A00000000001AAA", "003A00000000001AAA", 60.0)],
                 [], [("0ci1", 55.0)], [], id="influence-is-updated-in-place"),
    pytest.param([_want("701B00000000001AAA", "003A00000000001AAA", "60.00")],
                 [_row("0ci1", "701A00000000001AAA", "003A00000000001AAA", 60.0)],
                 [("701B00000000001AAA", "003A00000000001AAA")], [], ["0ci1"],
                 id="campaign-change-is-delete-and-insert"),
    pytest.param([_want("701A00000000001AAA", "003B00000000001AAA", "60.00")],
                 [_row("0ci1", "701A00000000001AAA", "003A00000000001AAA", 60.0)],
                 [("701A00000000001AAA", "003B00000000001AAA")], [], ["0ci1"],
                 id="contact-change-is-delete-and-insert"),
    pytest.param([_want("701A00000000001AAA", None, "100.00")],
                 [_row("0ci1", "701A00000000001", None, 100.0),
                  _row("0ci2", "701A00000000001AAA", None, 100.0),
                  _row("0ci3", "701A00000000001AAA", None, 100.0, model="0Ml0000000000OTHER")],
                 [], [], ["0ci2"], id="15-char-ids-match-and-other-models-stay"),
])
def test_campaign_influence_respects_create_only_fields(
        desired: list[InfluenceRow], held: list[dict[str, Any]],
        creates: list[tuple[str, str]], updates: list[tuple[str, float]],
        deletes: list[str]) -> None:
    diff = diff_influence(desired, held, MODEL)
    assert [(c["CampaignId"], c["ContactId"]) for c in diff.creates] == creates
    assert all(c["ModelId"] == MODEL for c in diff.creates)
    assert [(u.record_id, u.influence) for u in diff.updates] == updates
    assert diff.deletes == deletes


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_applying_the_diff_to_what_salesforce_holds_gives_the_desired_rows(
        data: st.DataObject) -> None:
    decl = load_mappings().fields.obj("Attribution__c")
    records = _records()
    desired = data.draw(st.lists(st.sampled_from(records), unique_by=lambda r: r.key))
    held_records = data.draw(st.lists(st.sampled_from(records), unique_by=lambda r: r.key))
    held = {f"a00{i:015d}": _as_salesforce(r, decl, f"a00{i:015d}")
            for i, r in enumerate(held_records)}
    for row in held.values():
        if data.draw(st.booleans()):
            row["Credit__c"] = data.draw(st.sampled_from([0.0, 1.5, 99.9999]))
    diff = diff_attribution(desired, list(held.values()), decl)
    for rid in diff.deletes:
        del held[rid]
    for update in diff.updates:
        held[update.record_id].update(update.fields)
    for i, values in enumerate(diff.creates):
        held[f"new{i}"] = dict(values, Id=f"new{i}")
    assert sorted(row["Key__c"] for row in held.values()) == sorted(r.key for r in desired)
    again = diff_attribution(desired, list(held.values()), decl)
    assert again.writes == 0 and again.unchanged == len(desired)
