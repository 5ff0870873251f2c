"""``generate()``: a MAP file export and a matching Salesforce seed, from one seed.

The two halves are generated together, company by company, so that emails,
domains and dates line up: matching, conversion, attribution and funnel reports
then have something meaningful to find. Output is a pure function of the
arguments (``as_of`` defaults to a fixed moment, not now).
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from connector.datagen import dirty as dirty_kinds
from connector.datagen.clock import day_to_date, sf_datetime, to_epoch
from connector.datagen.export import FileFormat, MapExport, SeedWriter
from connector.datagen.programs import Catalogue, build_catalogue
from connector.datagen.salesforce import Keys, campaign_records, sales_campaign_records
from connector.datagen.world import World, WorldOptions
from connector.mappings import Mappings, load_mappings

DEFAULT_AS_OF = datetime(2026, 10, 1, 12, 0, tzinfo=UTC)
"""The fixed "now" of generated data unless ``as_of`` is given: reproducible output."""
MAX_PEOPLE = 10_000_000


@dataclass(frozen=True, slots=True)
class GeneratedData:
    map_dir: Path  # the MAP file export (MAP_FILES_DIR)
    sf_dir: Path  # the Salesforce seed for the emulator's loader
    summary: dict[str, Any]


def _check(people: int, dirty: float, fmt: str, as_of: datetime | None,
           touches_per_person: float) -> None:
    if not 1 <= people <= MAX_PEOPLE:
        raise ValueError(f"people must be between 1 and {MAX_PEOPLE:,}, not {people}")
    if not 0.0 <= dirty < 1.0:
        raise ValueError(f"dirty is a share of rows, from 0 up to (not including) 1, not {dirty}")
    if fmt not in ("csv", "jsonl"):
        raise ValueError(f"fmt must be 'csv' or 'jsonl', not {fmt!r}")
    if as_of is not None and (as_of.tzinfo is None or as_of.utcoffset() is None):
        raise ValueError("as_of must carry a UTC offset, e.g. 2026-10-01T12:00:00+00:00")
    if not 0.0 <= touches_per_person <= 1000.0:
        raise ValueError(f"touches_per_person must be between 0 and 1000, not {touches_per_person}")


def _write_programs(export: MapExport, catalogue: Catalogue) -> None:
    for p in catalogue.programs:
        export.programs.write((
            p.program_id, p.name, p.channel_raw, p.type, day_to_date(p.start_day).isoformat(),
            day_to_date(p.end_day).isoformat(), p.cost, p.parent_id))


def generate(out_dir: Path, *, people: int = 1000, seed: int = 42, dirty: float = 0.05,
             fmt: FileFormat = "csv", as_of: datetime | None = None,
             touches_per_person: float = 10.0, signal: bool = False,
             account_signal: bool = False,
             progress: Callable[[int], None] | None = None) -> GeneratedData:
    """Write ``out_dir/map`` (the MAP export) and ``out_dir/sf`` (the Salesforce seed).

    Same arguments, byte-identical files. ``progress``, if given, is called with
    the number of people written so far, after each company.
    """
    _check(people, dirty, fmt, as_of, touches_per_person)
    as_of_ts = to_epoch(as_of or DEFAULT_AS_OF)
    mappings: Mappings = load_mappings()
    out_dir = Path(out_dir)
    map_dir, sf_dir = out_dir / "map", out_dir / "sf"
    master = random.Random(seed)
    catalogue = build_catalogue(random.Random(master.getrandbits(64)), as_of_ts, people,
                                mappings.channels)
    campaign_rng = random.Random(master.getrandbits(64))
    world_rng = random.Random(master.getrandbits(64))
    keys = Keys()
    seed_writer = SeedWriter(sf_dir)
    try:
        with MapExport(map_dir, fmt) as export:
            _write_programs(export, catalogue)
            for record in campaign_records(campaign_rng, catalogue, mappings.channels, keys,
                                           as_of_ts):
                seed_writer.write("Campaign", record)
            synced_campaigns = seed_writer.counts["Campaign"]
            sales_keys: list[str] = []
            for record in sales_campaign_records(campaign_rng, keys, as_of_ts, people):
                seed_writer.write("Campaign", record)
                sales_keys.append(record["_key"])
            world = World(world_rng, WorldOptions(people, dirty, touches_per_person, as_of_ts,
                                                  signal, account_signal),
                          catalogue, mappings, export, seed_writer, keys, sales_keys)
            remaining, index = people, 0
            while remaining > 0:
                remaining -= world.company(index, remaining)
                index += 1
                if progress is not None:
                    progress(people - remaining)
            touches = export.touches.rows
            targets = export.target_accounts.rows
    except BaseException:
        seed_writer.abort()
        raise
    seed_writer.close(seed, sf_datetime(as_of_ts))
    summary = _summary(world, seed_writer, catalogue, touches, targets, synced_campaigns,
                       len(sales_keys))
    summary.update({"seed": seed, "as_of": sf_datetime(as_of_ts), "format": fmt,
                    "dirty_rate": dirty, "touches_per_person": touches_per_person,
                    "signal": signal, "account_signal": account_signal})
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return GeneratedData(map_dir=map_dir, sf_dir=sf_dir, summary=summary)


def _summary(world: World, seed_writer: SeedWriter, catalogue: Catalogue, touches: int,
             targets: int, synced_campaigns: int, sales_campaigns: int) -> dict[str, Any]:
    counts = world.counts
    person_kinds = dirty_kinds.PERSON_KINDS
    return {
        "people": counts["people"],
        "touches": touches,
        "programs": len(catalogue.programs),
        "parent_programs": sum(p.is_parent for p in catalogue.programs),
        "target_accounts": targets,
        "companies": counts["companies"],
        "icp_companies": counts["icp_companies"],
        "accounts": seed_writer.counts["Account"],
        "contacts": seed_writer.counts["Contact"],
        "contacts_from_map": counts["contacts_from_map"],
        "sales_contacts": counts["sales_contacts"],
        "leads": seed_writer.counts["Lead"],
        "converted": counts["converted"],
        "campaigns": seed_writer.counts["Campaign"],
        "campaigns_synced": synced_campaigns,
        "campaigns_sales": sales_campaigns,
        "opportunities": seed_writer.counts["Opportunity"],
        "opportunities_won": counts["opportunities_won"],
        "opportunities_lost": counts["opportunities_lost"],
        "opportunities_open": counts["opportunities_open"],
        "opportunities_without_marketing_contacts":
            counts["opportunities_without_marketing_contacts"],
        "opportunity_contact_roles": seed_writer.counts["OpportunityContactRole"],
        "buyers": counts["buyers"],
        "previously_synced": counts["previously_synced"],
        "original_source_prefilled": counts["original_source_prefilled"],
        "original_source_conflicts": counts["original_source_conflicts"],
        "salesforce_duplicates": counts["salesforce_duplicates"],
        "re_engaged": counts["re_engaged"],
        "imported": counts["imported"],
        "touch_types": dict(sorted(world.touch_types.items())),
        "dirty": dict(world.dirty),
        "dirty_people": sum(n for k, n in world.dirty.items() if k in person_kinds),
        "dirty_touches": sum(n for k, n in world.dirty.items() if k not in person_kinds),
    }
