"""Seed loading: manifest order, references by key, privileged fields, errors that point."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from connector.emulator.seed import SeedError, load_seed
from connector.emulator.testing import EmulatorHandle
from tests.emulator.helpers import Api


def write_seed(directory: Path, objects: dict[str, list[dict[str, Any]]]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "manifest.json").write_text(json.dumps({
        "objects": list(objects), "counts": {k: len(v) for k, v in objects.items()}}))
    for name, records in objects.items():
        (directory / f"{name}.jsonl").write_text(
            "".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return directory


SEED = {
    "Account": [{"_key": "acc-1", "Name": "Acme", "CreatedDate": "2024-01-02T03:04:05.000+0000"}],
    "Contact": [{"_key": "con-1", "LastName": "Doe", "AccountId": {"_ref": "acc-1"},
                 "MAP_Id__c": "p1"}],
    "Campaign": [{"_key": "cmp-1", "Name": "Webinar", "MAP_Program_Id__c": "prog-1"}],
    "CampaignMemberStatus": [
        {"_key": "st-att", "CampaignId": {"_ref": "cmp-1"}, "Label": "Attended",
         "HasResponded": True},
        {"_key": "st-sent", "CampaignId": {"_ref": "cmp-1"}, "Label": "Sent",
         "IsDefault": True}],
    "Lead": [{"_key": "lead-1", "LastName": "Doe", "Company": "Acme", "MAP_Id__c": "p1",
              "IsConverted": True, "ConvertedDate": "2024-02-01",
              "ConvertedAccountId": {"_ref": "acc-1"}, "ConvertedContactId": {"_ref": "con-1"},
              "Status": "Closed - Converted", "CreatedDate": "2023-12-01T00:00:00.000+0000",
              "LastModifiedDate": "2024-02-01T00:00:00.000+0000"}],
    "CampaignMember": [{"_key": "cm-1", "CampaignId": {"_ref": "cmp-1"},
                        "LeadId": {"_ref": "lead-1"}, "ContactId": {"_ref": "con-1"},
                        "Status": "Attended", "CreatedDate": "2023-12-05T22:00:00.000+0000"}],
}


def test_seed_loads_in_manifest_order_with_privileged_fields(inproc: EmulatorHandle,
                                                             tmp_path: Path) -> None:
    keys = load_seed(inproc.org, write_seed(tmp_path / "seed", SEED))
    assert set(keys) == {"acc-1", "con-1", "cmp-1", "st-att", "st-sent", "lead-1", "cm-1"}
    api = Api(inproc)
    lead = api.record("Lead", keys["lead-1"])
    assert (lead["IsConverted"], lead["ConvertedContactId"], lead["CreatedDate"],
            lead["LastModifiedDate"]) == (True, keys["con-1"], "2023-12-01T00:00:00.000+0000",
                                          "2024-02-01T00:00:00.000+0000")
    member = api.record("CampaignMember", keys["cm-1"])
    assert (member["HasResponded"], member["FirstRespondedDate"], member["ContactId"]) == (
        True, "2023-12-05", keys["con-1"])
    assert keys["st-sent"].startswith("01Y")  # merged into the campaign's default status
    labels = api.get("query", params={"q": "SELECT Label FROM CampaignMemberStatus"}).json()
    assert sorted(r["Label"] for r in labels["records"]) == ["Attended", "Responded", "Sent"]
    account = api.record("Account", keys["acc-1"])
    assert account["CreatedDate"] == "2024-01-02T03:04:05.000+0000"


def _with(obj: str, index: int, **changes: Any) -> dict[str, list[dict[str, Any]]]:
    seed = {k: [dict(r) for r in v] for k, v in SEED.items()}
    seed[obj][index].update(changes)
    return seed


@pytest.mark.parametrize("seed, where", [
    pytest.param(_with("Contact", 0, Email="not-an-email"), "Contact.jsonl:1: Email: "
                 "INVALID_EMAIL_ADDRESS", id="bad-email"),
    pytest.param(_with("Lead", 0, MAP_Id__c="x" * 81), "Lead.jsonl:1: MAP_Id__c: "
                 "STRING_TOO_LONG", id="too-long"),
    pytest.param(_with("Lead", 0, ConvertedContactId={"_ref": "nobody"}),
                 "Lead.jsonl:1: ConvertedContactId: _ref 'nobody'", id="unknown-ref"),
    pytest.param(_with("Contact", 0, _key="acc-1"), "Contact.jsonl:1: _key: 'acc-1' is used "
                 "twice", id="duplicate-key"),
    pytest.param(_with("Lead", 0, Bogus__c=1), "Lead.jsonl:1: INVALID_FIELD: No such column "
                 "'Bogus__c'", id="unknown-field"),
    pytest.param(_with("CampaignMember", 0, HasResponded=False), "CampaignMember.jsonl:1: "
                 "HasResponded: INVALID_FIELD_FOR_INSERT_UPDATE", id="contradicts-derived"),
])
def test_bad_seed_lines_name_file_line_and_field_and_load_nothing(
        inproc: EmulatorHandle, tmp_path: Path, seed: dict[str, Any], where: str) -> None:
    with pytest.raises(SeedError) as info:
        load_seed(inproc.org, write_seed(tmp_path / "seed", seed))
    assert where in str(info.value)
    assert inproc.org.store.record_count() == 0


def test_duplicate_unique_values_in_a_seed_are_refused(inproc: EmulatorHandle,
                                                       tmp_path: Path) -> None:
    seed = {"Lead": [{"_key": "a", "LastName": "A", "Company": "C", "MAP_Id__c": "same"},
                     {"_key": "b", "LastName": "B", "Company": "C", "MAP_Id__c": "SAME"}]}
    with pytest.raises(SeedError, match=r"Lead\.jsonl:2: MAP_Id__c: DUPLICATE_VALUE"):
        load_seed(inproc.org, write_seed(tmp_path / "seed", seed))


def test_manifest_problems(inproc: EmulatorHandle, tmp_path: Path) -> None:
    with pytest.raises(SeedError, match="no manifest"):
        load_seed(inproc.org, tmp_path)
    (tmp_path / "manifest.json").write_text(json.dumps({"objects": ["Nope"]}))
    with pytest.raises(SeedError, match="unknown object 'Nope'"):
        load_seed(inproc.org, tmp_path)
    (tmp_path / "manifest.json").write_text(json.dumps({"objects": ["Lead"]}))
    with pytest.raises(SeedError, match=r"Lead\.jsonl: missing"):
        load_seed(inproc.org, tmp_path)


def test_the_data_generator_seed_loads(inproc: EmulatorHandle, tmp_path: Path) -> None:
    from connector.datagen import generate

    generated = generate(tmp_path / "gen", people=60, seed=5)
    keys = load_seed(inproc.org, generated.sf_dir)
    manifest = json.loads((generated.sf_dir / "manifest.json").read_text())
    assert len(keys) == sum(manifest["counts"].values())
    total = Api(inproc).get("query", params={"q": "SELECT COUNT() FROM Lead"}).json()
    assert total["totalSize"] == manifest["counts"].get("Lead", 0)
