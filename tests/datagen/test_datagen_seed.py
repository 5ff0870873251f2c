"""The Salesforce seed loads cleanly: schema field names, types, lengths, references."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

import pytest

from connector.datagen.export import SEED_OBJECTS
from connector.emulator.schema import Schema, to_db
from connector.mappings import load_mappings
from connector.normalize import parse_timestamp, resolve_channel, website_domain
from tests.datagen.conftest import Dataset

PRIVILEGED = {"CreatedDate", "IsConverted", "ConvertedContactId", "ConvertedAccountId",
              "ConvertedOpportunityId", "ConvertedDate"}


@pytest.fixture(scope="module")
def schema() -> Schema:
    return Schema.build(load_mappings())


def test_manifest_names_load_order_counts_seed_and_as_of(medium: Dataset) -> None:
    m = medium.manifest
    assert m["objects"] == list(SEED_OBJECTS)
    assert set(m) == {"objects", "counts", "seed", "as_of"}
    assert m["seed"] == 5 and m["as_of"] == "2026-10-01T12:00:00.000+0000"
    assert all(m["counts"][obj] > 0 for obj in SEED_OBJECTS)


def test_every_field_exists_accepts_its_value_and_fits(medium: Dataset, schema: Schema) -> None:
    for obj_name, records in medium.seed.items():
        obj = schema.get(obj_name)
        assert obj is not None
        required = {f.name for f in obj.fields.values() if f.required and f.default is None}
        for record in records:
            missing = required - set(record)
            assert not missing, f"{obj_name} {record['_key']} lacks {missing}"
            for name, value in record.items():
                if name == "_key":
                    continue
                f = obj.field(name)
                assert f is not None and f.name == name, f"{obj_name}.{name} is not a field"
                assert f.createable or name in PRIVILEGED, f"{obj_name}.{name} is read-only"
                if f.type == "reference":
                    assert set(value) == {"_ref"}, f"{obj_name}.{name} is not a _ref"
                    continue
                stored = to_db(f, value)  # raises on a bad type or range
                assert stored is not None
                if f.is_text:
                    assert len(value) <= f.length, f"{obj_name}.{name} too long: {value!r}"
                if f.restricted:
                    assert value in f.picklist_values


def test_keys_are_unique_and_references_point_back_in_load_order(medium: Dataset,
                                                                  schema: Schema) -> None:
    seen: dict[str, str] = {}
    for obj_name in medium.manifest["objects"]:
        obj = schema.get(obj_name)
        assert obj is not None
        for record in medium.seed[obj_name]:
            for name, value in record.items():
                f = obj.field(name)
                if f is not None and f.type == "reference":
                    target = seen.get(value["_ref"])
                    assert target is not None, f"{record['_key']}.{name} points forward"
                    assert target in f.reference_to, f"{record['_key']}.{name} -> {target}"
            assert record["_key"] not in seen
            seen[record["_key"]] = obj_name


def test_converted_leads_point_at_their_contact_with_the_same_email(medium: Dataset) -> None:
    contacts = {c["_key"]: c for c in medium.seed["Contact"]}
    converted = [lead for lead in medium.seed["Lead"] if lead.get("IsConverted")]
    assert converted
    for lead in converted:
        contact = contacts[lead["ConvertedContactId"]["_ref"]]
        assert lead["Email"] == contact["Email"]
        assert lead["ConvertedAccountId"] == contact["AccountId"]
        assert lead["Status"] == "Closed - Converted"
        assert lead["ConvertedDate"] == contact["CreatedDate"][:10]
        assert lead["CreatedDate"] <= contact["CreatedDate"]
    with_opportunity = [lead for lead in converted if "ConvertedOpportunityId" in lead]
    assert with_opportunity


def test_contacts_carry_emails_on_their_account_domain(medium: Dataset) -> None:
    accounts = {a["_key"]: a for a in medium.seed["Account"]}
    on_domain = total = 0
    for contact in medium.seed["Contact"]:
        website = accounts[contact["AccountId"]["_ref"]].get("Website")
        if website:
            total += 1
            on_domain += contact["Email"].lower().endswith("@" + website_domain(website))
    assert on_domain == total


def test_accounts_have_websites_in_varied_forms(medium: Dataset) -> None:
    websites = [a["Website"] for a in medium.seed["Account"] if "Website" in a]
    assert len(websites) >= 0.9 * len(medium.seed["Account"])
    forms = {("scheme" if "://" in w else "bare") + ("-www" if "www." in w.lower() else "")
             + ("-slash" if w.endswith("/") else "") for w in websites}
    assert {"scheme-www", "bare", "scheme-slash"} <= forms


def test_a_share_of_people_were_synced_before_and_map_ids_exist(medium: Dataset) -> None:
    map_ids = {p["map_id"] for p in medium.people}
    for obj in ("Lead", "Contact"):
        ids = [r["MAP_Id__c"] for r in medium.seed[obj] if "MAP_Id__c" in r]
        assert ids and set(ids) <= map_ids
        assert len(ids) == len(set(ids)), f"MAP_Id__c repeats on {obj}"
    assert medium.summary["previously_synced"] > 0.2 * medium.summary["people"]


def test_original_source_conflicts_are_exactly_the_ones_summarised(medium: Dataset) -> None:
    """A filled Original_Source__c matches the channel of the earliest touch, except
    the deliberate conflicts the audit must report."""
    mappings = load_mappings()
    programs = {p["program_id"]: p for p in medium.programs}
    earliest: dict[str, dict[str, Any]] = {}
    for t in medium.touches:
        try:
            when = parse_timestamp(t["occurred_at"])
        except ValueError:  # a deliberately naive timestamp: the connector rejects it
            continue
        current = earliest.get(t["map_id"])
        if current is None or (when, t["touch_id"]) < current["_key"]:
            earliest[t["map_id"]] = {**t, "_key": (when, t["touch_id"])}
    filled: dict[str, str] = {}
    for obj in ("Lead", "Contact"):
        for r in medium.seed[obj]:
            if "Original_Source__c" in r:
                assert filled.setdefault(r["MAP_Id__c"], r["Original_Source__c"]) == \
                    r["Original_Source__c"]
    conflicts = 0
    for map_id, value in filled.items():
        t = earliest[map_id]
        channel, _ = resolve_channel(
            mappings.channels, mappings.touches,
            program_channel=programs[t["program_id"]]["channel"] if t["program_id"] else None,
            utm_medium=t["utm_medium"], utm_source=t["utm_source"], referrer=t["referrer"],
            touch_type=t["touch_type"])
        conflicts += channel != value
    assert len(filled) == medium.summary["original_source_prefilled"]
    assert conflicts == medium.summary["original_source_conflicts"] > 0


def test_salesforce_has_duplicate_people_sharing_an_email(medium: Dataset) -> None:
    by_email: defaultdict[str, list[str]] = defaultdict(list)
    for obj in ("Lead", "Contact"):
        for r in medium.seed[obj]:
            if not r.get("IsConverted"):
                by_email[r["Email"].lower()].append(r["_key"])
    duplicated = [keys for keys in by_email.values() if len(keys) > 1]
    assert len(duplicated) == medium.summary["salesforce_duplicates"] > 0


def test_campaigns_from_programs_and_by_sales(medium: Dataset) -> None:
    program_ids = {p["program_id"] for p in medium.programs}
    campaigns = medium.seed["Campaign"]
    synced = [c for c in campaigns if "MAP_Program_Id__c" in c]
    by_sales = [c for c in campaigns if "MAP_Program_Id__c" not in c]
    assert synced and by_sales
    assert {c["MAP_Program_Id__c"] for c in synced} <= program_ids
    assert any("ParentId" in c for c in synced)


def test_opportunities_span_18_months_with_open_and_closed_stages(medium: Dataset) -> None:
    opps = medium.seed["Opportunity"]
    stages = Counter(o["StageName"] for o in opps)
    assert stages["Closed Won"] and stages["Closed Lost"]
    assert sum(n for s, n in stages.items() if not s.startswith("Closed")) > 0
    created = sorted(o["CreatedDate"] for o in opps)
    assert created[0] >= "2025-04-07" and created[-1] <= "2026-10-01T12"
    assert created[0] < "2025-07-01" and created[-1] > "2026-06-01"
    for o in opps:
        assert o["Amount"] > 0
        if o["StageName"].startswith("Closed"):
            assert o["CreatedDate"][:10] <= o["CloseDate"] <= "2026-10-01"
        else:
            assert o["CloseDate"] > "2026-10-01"


def test_every_opportunity_has_exactly_one_primary_contact_role(medium: Dataset) -> None:
    primaries: Counter[str] = Counter()
    roles: Counter[str] = Counter()
    for role in medium.seed["OpportunityContactRole"]:
        roles[role["OpportunityId"]["_ref"]] += 1
        primaries[role["OpportunityId"]["_ref"]] += role["IsPrimary"]
    for opp in medium.seed["Opportunity"]:
        assert roles[opp["_key"]] >= 1
        assert primaries[opp["_key"]] == 1, opp["_key"]
