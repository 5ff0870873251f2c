"""Building blocks for end-to-end tests: an emulated org, a MAP export, a sync.

Everything talks to the emulator through the same code path as a real org
(HTTPS, or the in-process adapter for speed); nothing in the connector knows
it is an emulator.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from connector.config import (
    Settings,
)
from connector.emulator.testing import EmulatorHandle, settings_for_org
from connector.mappings import Mappings, load_mappings
from connector.run.sync import Sync, SyncOptions, SyncResult
from connector.state.store import StateStore, open_store

AS_OF = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
PEOPLE_COLUMNS = ["map_id", "email", "first_name", "last_name", "company", "title", "industry",
                  "employees", "annual_revenue", "country", "created_at", "source",
                  "sfdc_lead_id", "sfdc_contact_id", "updated_at"]
PROGRAM_COLUMNS = ["program_id", "name", "channel", "type", "start_date", "end_date", "cost",
                   "parent_id"]
TOUCH_COLUMNS = ["touch_id", "map_id", "program_id", "touch_type", "occurred_at", "url",
                 "referrer", "utm_source", "utm_medium", "utm_campaign", "utm_content",
                 "utm_term"]


def at(days: float) -> str:
    """An ISO timestamp ``days`` after 2026-01-05 09:00 UTC."""
    return (datetime(2026, 1, 5, 9, tzinfo=UTC) + timedelta(days=days)).isoformat()


@dataclass
class Export:
    """A MAP file export under construction."""

    directory: Path
    people: list[dict[str, Any]] = field(default_factory=list)
    programs: list[dict[str, Any]] = field(default_factory=list)
    touches: list[dict[str, Any]] = field(default_factory=list)

    def person(self, map_id: str, email: str | None, **kw: Any) -> Export:
        kw.setdefault("last_name", map_id)
        kw.setdefault("created_at", at(-60))
        self.people.append({"map_id": map_id, "email": email or "", **kw})
        return self

    def program(self, program_id: str, channel: str, **kw: Any) -> Export:
        kw.setdefault("name", f"Program {program_id}")
        self.programs.append({"program_id": program_id, "channel": channel, **kw})
        return self

    def touch(self, touch_id: str, map_id: str, touch_type: str, days: float,
              program_id: str | None = None, **kw: Any) -> Export:
        self.touches.append({"touch_id": touch_id, "map_id": map_id, "touch_type": touch_type,
                             "occurred_at": at(days), "program_id": program_id or "", **kw})
        return self

    def write(self) -> Path:
        self.directory.mkdir(parents=True, exist_ok=True)
        for name, columns, rows in (("people", PEOPLE_COLUMNS, self.people),
                                    ("programs", PROGRAM_COLUMNS, self.programs),
                                    ("touches", TOUCH_COLUMNS, self.touches)):
            with open(self.directory / f"{name}.csv", "w", newline="", encoding="utf-8") as fh:
                writer = csv.DictWriter(fh, columns)
                writer.writeheader()
                for row in rows:
                    writer.writerow({c: row.get(c, "") for c in columns})
        return self.directory


def settings_for(org: EmulatorHandle, map_dir: Path, state: Path,
                 **salesforce: Any) -> Settings:
    return settings_for_org(org.env(), map_dir=map_dir, state=state,
                            **salesforce)


@dataclass
class Rig:
    """An org, an export directory and a state file, ready to sync."""

    org: EmulatorHandle
    root: Path
    mappings: Mappings = field(default_factory=load_mappings)

    @property
    def map_dir(self) -> Path:
        return self.root / "map"

    @property
    def state_path(self) -> Path:
        return self.root / "state.db"

    def export(self) -> Export:
        return Export(self.map_dir)

    def settings(self, **salesforce: Any) -> Settings:
        return settings_for(self.org, self.map_dir, self.state_path, **salesforce)

    def store(self) -> StateStore:
        return open_store(self.state_path)

    def sync(self, *, as_of: datetime = AS_OF, mappings: Mappings | None = None,
             sleep: Any = lambda s: None, **options: Any) -> SyncResult:
        store = self.store()
        try:
            return Sync(self.settings(**options.pop("salesforce", {})),
                        mappings or self.mappings, store, http=self.org.session(),
                        sleep=sleep).run(SyncOptions(as_of=as_of, **options))
        finally:
            store.close()

    def query(self, soql: str) -> list[dict[str, Any]]:
        sf = self.org.salesforce()
        records = sf.query_all(soql)["records"]
        return [{k: v for k, v in r.items() if k != "attributes"} for r in records]


def snapshot(rig: Rig) -> dict[str, Any]:
    """The org's connector-relevant state by natural keys (ids differ between orgs)."""
    q = rig.query
    campaigns = {r["Id"]: r["MAP_Program_Id__c"] or r["Name"] for r in q(
        "SELECT Id, Name, MAP_Program_Id__c FROM Campaign")}
    people: dict[str, str] = {}
    leads = []
    for r in q("SELECT Id, MAP_Id__c, Email, IsConverted, Original_Source__c, "
               "Original_Source_Detail__c, Original_Source_Date__c, First_Touch_Channel__c, "
               "First_Touch_Date__c, First_Touch_Campaign__c, Last_Touch_Date__c, "
               "Funnel_Cycle__c FROM Lead"):
        key = r["MAP_Id__c"] or r["Email"] or r["Id"]
        people[r["Id"]] = f"lead:{key}"
        r["First_Touch_Campaign__c"] = campaigns.get(r["First_Touch_Campaign__c"])
        leads.append(tuple(sorted((k, v) for k, v in r.items() if k != "Id")))
    contacts = []
    for r in q("SELECT Id, MAP_Id__c, Email, Original_Source__c, First_Touch_Channel__c, "
               "First_Touch_Date__c, Last_Touch_Date__c FROM Contact"):
        people[r["Id"]] = f"contact:{r['MAP_Id__c'] or r['Email'] or r['Id']}"
        contacts.append(tuple(sorted((k, v) for k, v in r.items() if k != "Id")))
    members = sorted(
        (campaigns.get(r["CampaignId"]), people.get(r["LeadId"] or r["ContactId"]), r["Status"],
         r["First_Response_Date__c"])
        for r in q("SELECT CampaignId, LeadId, ContactId, Status, First_Response_Date__c "
                   "FROM CampaignMember"))
    statuses = sorted((campaigns.get(r["CampaignId"]), r["Label"], r["HasResponded"],
                       r["IsDefault"], r["SortOrder"])
                      for r in q("SELECT CampaignId, Label, HasResponded, IsDefault, SortOrder "
                                 "FROM CampaignMemberStatus"))
    return {
        "campaigns": sorted(str(v) for v in campaigns.values()),
        "leads": sorted(leads, key=str),
        "contacts": sorted(contacts, key=str),
        "members": members,
        "statuses": statuses,
    }


def count_by(rows: Iterable[Mapping[str, Any]], key: str) -> dict[Any, int]:
    out: dict[Any, int] = {}
    for r in rows:
        out[r[key]] = out.get(r[key], 0) + 1
    return out
