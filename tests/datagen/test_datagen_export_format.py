"""The MAP export is exactly the CONTRACT.md file format, in CSV and JSONL."""

from __future__ import annotations

from collections import Counter

import pytest

from connector.datagen.export import MAP_TABLES
from connector.datagen.vocab import VENDOR_SITE
from connector.mappings import load_mappings
from connector.normalize import parse_date, parse_decimal, parse_timestamp
from tests.datagen.conftest import Dataset, text

CONTRACT_COLUMNS = {
    "people": ["map_id", "email", "first_name", "last_name", "company", "title", "industry",
               "employees", "annual_revenue", "country", "created_at", "source", "sfdc_lead_id",
               "sfdc_contact_id", "updated_at"],
    "programs": ["program_id", "name", "channel", "type", "start_date", "end_date", "cost",
                 "parent_id"],
    "touches": ["touch_id", "map_id", "program_id", "touch_type", "occurred_at", "url",
                "referrer", "utm_source", "utm_medium", "utm_campaign", "utm_content",
                "utm_term"],
    "target_accounts": ["domain", "account_id", "tier"],
}


@pytest.mark.parametrize("table", [pytest.param(t, id=t) for t in CONTRACT_COLUMNS])
def test_every_table_has_exactly_the_contract_columns(small: Dataset, jsonl: Dataset,
                                                      table: str) -> None:
    assert list(MAP_TABLES[table]) == CONTRACT_COLUMNS[table]
    assert small.headers[table] == CONTRACT_COLUMNS[table]
    assert all(list(row) == CONTRACT_COLUMNS[table] for row in jsonl.tables[table])


def test_csv_and_jsonl_carry_the_same_values(small: Dataset, jsonl: Dataset) -> None:
    for table in CONTRACT_COLUMNS:
        as_csv = small.tables[table]
        as_jsonl = [{k: text(v) for k, v in row.items()} for row in jsonl.tables[table]]
        assert as_csv == as_jsonl, table


def test_jsonl_values_are_strings_numbers_or_null(jsonl: Dataset) -> None:
    for table, rows in jsonl.tables.items():
        for row in rows:
            for key, value in row.items():
                assert value is None or isinstance(value, (str, int, float)), (table, key)
                assert not isinstance(value, bool)


def test_ids_are_unique_and_salesforce_ids_left_empty(small: Dataset) -> None:
    map_ids = [r["map_id"] for r in small.people]
    assert len(set(map_ids)) == len(map_ids)
    program_ids = [r["program_id"] for r in small.programs]
    assert len(set(program_ids)) == len(program_ids)
    assert all(r["sfdc_lead_id"] == "" and r["sfdc_contact_id"] == "" for r in small.people)
    known = set(map_ids)
    assert all(r["map_id"] in known for r in small.touches)


def test_programs_cover_every_channel_with_parents_before_children(small: Dataset) -> None:
    channels = load_mappings().channels
    resolved = [channels.canonical(p["channel"]) for p in small.programs]
    assert None not in resolved
    assert set(resolved) == {c.name for c in channels.channels}
    seen: set[str] = set()
    parents = set()
    for p in small.programs:
        if p["parent_id"]:
            assert p["parent_id"] in seen, f"{p['name']} comes before its parent"
            parents.add(p["parent_id"])
        seen.add(p["program_id"])
        start, end = parse_date(p["start_date"]), parse_date(p["end_date"])
        assert start is not None and end is not None and start <= end
        assert p["cost"] == "" or parse_decimal(p["cost"]) is not None
        assert len(p["name"]) <= 80
    assert len(parents) >= 20
    names = {p["name"] for p in small.programs}
    assert any(n.endswith(" Q1 Paid Search") for n in names)
    assert any(n.startswith(("2025 Q1 Paid Search - ", "2026 Q1 Paid Search - ")) for n in names)


def test_program_channels_come_in_varied_spellings(medium: Dataset) -> None:
    channels = load_mappings().channels
    raw = [p["channel"] for p in medium.programs]
    canonical = [channels.canonical(c) for c in raw]
    varied = [r for r, c in zip(raw, canonical, strict=True) if r != c]
    assert len(varied) >= 0.1 * len(raw)
    assert any("_" in r for r in varied) and any(r.isupper() for r in varied)


def test_timestamps_carry_offsets_some_not_utc(clean: Dataset) -> None:
    offsets: Counter[str] = Counter()
    for row in clean.touches:
        parsed = parse_timestamp(row["occurred_at"])  # raises on a missing offset
        assert parsed is not None
        offsets[row["occurred_at"][19:]] += 1
    for row in clean.people:
        assert parse_timestamp(row["created_at"]) is not None
        assert parse_timestamp(row["updated_at"]) is not None
    assert offsets["+00:00"] > 0.5 * len(clean.touches)
    non_utc = {o for o in offsets if o != "+00:00"}
    assert {"-05:00", "+05:30"} <= non_utc


def test_touch_types_are_mapped_types_and_urls_are_absolute(small: Dataset) -> None:
    types = set(load_mappings().touches.touch_types)
    for row in small.touches:
        assert row["touch_type"] in types
        for column in ("url", "referrer"):
            assert row[column] == "" or row[column].startswith(("https://", "http://"))
    assert {row["touch_type"] for row in small.touches} >= types - {"trial_start"}


def test_target_accounts_name_domains_with_tiers(medium: Dataset) -> None:
    rows = medium.tables["target_accounts"]
    assert rows
    assert {r["tier"] for r in rows} == {"Tier 1", "Tier 2", "Tier 3"}
    assert all(r["domain"] and not r["account_id"] for r in rows)


def test_vendor_pages_are_the_site_visited(small: Dataset) -> None:
    urls = [r["url"] for r in small.touches if r["url"]]
    assert sum(u.startswith(VENDOR_SITE) for u in urls) == len(urls)
