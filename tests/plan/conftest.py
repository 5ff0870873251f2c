"""Fixtures for the plan tests: a real state store on a temporary path, mirror rows
built through the mirror's own specs (so they look exactly as a read stores them),
and a small fake org behind a fake writer and a fake query client, so execution
is tested without the emulator."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from connector.config import (
    ConnectorSettings,
    HubSpotSettings,
    MapSettings,
    MarketoSettings,
    SalesforceSettings,
    Settings,
)
from connector.errors import ConnectorError
from connector.mappings import Mappings
from connector.mirror import mirror_specs
from connector.salesforce.writer import NOT_ATTEMPTED, RecordResult, WriteOp, WriteOutcome
from connector.sfid import make_id
from connector.state.store import StateStore, open_store
from connector.values import MirrorRow
from tests.factories import T0, mappings

PREFIX = {"Account": "001", "Contact": "003", "Lead": "00Q", "Campaign": "701",
          "CampaignMember": "00v", "CampaignMemberStatus": "01Y"}
AS_OF = datetime(2026, 6, 1, tzinfo=UTC)


def sf_id(sobject: str, n: int) -> str:
    """A valid 18-character id of ``sobject`` (numbered, so tests can name them)."""
    return make_id(PREFIX[sobject], n)


def row(sobject: str, record: Mapping[str, Any]) -> MirrorRow:
    """A mirror row made from an API record by the mirror's own spec."""
    spec = {s.sobject: s for s in mirror_specs(mappings())}[sobject]
    return spec.to_row(dict(record))


def lead(n: int, email: str | None = None, *, map_id: str | None = None,
         converted_to: str | None = None, created: str = "2025-01-01T00:00:00.000+0000",
         **fields: Any) -> MirrorRow:
    return row("Lead", {"Id": sf_id("Lead", n), "Email": email, "MAP_Id__c": map_id,
                        "IsConverted": converted_to is not None,
                        "ConvertedContactId": converted_to, "CreatedDate": created,
                        "LastName": "Doe", "Company": "Acme", **fields})


def contact(n: int, email: str | None = None, *, map_id: str | None = None,
            account: str | None = None, created: str = "2025-01-01T00:00:00.000+0000",
            **fields: Any) -> MirrorRow:
    return row("Contact", {"Id": sf_id("Contact", n), "Email": email, "MAP_Id__c": map_id,
                           "AccountId": account, "CreatedDate": created, "LastName": "Doe",
                           **fields})


def account(n: int, website: str, created: str = "2025-01-01T00:00:00.000+0000") -> MirrorRow:
    return row("Account", {"Id": sf_id("Account", n), "Website": website,
                           "CreatedDate": created})


def campaign(n: int, program_id: str, **fields: Any) -> MirrorRow:
    return row("Campaign", {"Id": sf_id("Campaign", n), "MAP_Program_Id__c": program_id,
                            **fields})


def member(n: int, campaign_id: str, *, lead_id: str | None = None,
           contact_id: str | None = None, status: str = "Sent", **fields: Any) -> MirrorRow:
    return row("CampaignMember", {"Id": sf_id("CampaignMember", n), "CampaignId": campaign_id,
                                  "LeadId": lead_id, "ContactId": contact_id,
                                  "Status": status, **fields})


def status_row(n: int, campaign_id: str, label: str, *, responded: bool, default: bool,
               sort_order: int) -> MirrorRow:
    return row("CampaignMemberStatus", {"Id": sf_id("CampaignMemberStatus", n),
                                        "CampaignId": campaign_id, "Label": label,
                                        "HasResponded": responded, "IsDefault": default,
                                        "SortOrder": sort_order})


@pytest.fixture
def store(tmp_path: Path) -> Iterator[StateStore]:
    opened = open_store(tmp_path / "state.db")
    yield opened
    opened.close()


@pytest.fixture
def run_id(store: StateStore) -> int:
    return store.start_run("sync", T0)


@pytest.fixture
def maps() -> Mappings:
    return mappings()


def with_sync(m: Mappings, **changes: Any) -> Mappings:
    """The mappings with ``sync:`` rules changed (mappings are frozen)."""
    return m.model_copy(update={"sync": m.sync.model_copy(update=changes)})


def offline_settings(state: Path) -> Settings:
    """Settings naming an org that is never contacted (scope and planning only)."""
    return Settings(
        salesforce=SalesforceSettings(_env_file=None, instance_url="https://org.invalid",
                                      client_id="id", client_secret="secret"),
        map=MapSettings(_env_file=None, kind="files", files_dir=state.parent),
        marketo=MarketoSettings(_env_file=None), hubspot=HubSpotSettings(_env_file=None),
        connector=ConnectorSettings(_env_file=None, state=state))


# ------------------------------------------------------------- fake org

_FROM = re.compile(r"\bFROM\s+(\w+)", re.IGNORECASE)
_IN = re.compile(r"(\w+)\s+IN\s*\(([^)]*)\)", re.IGNORECASE)


@dataclass
class FakeOrg:
    """Records by object, as a query returns them. Creating a Campaign adds
    Salesforce's two default member statuses, as a real org does."""

    records: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    counter: int = 1000
    default_statuses: bool = True

    def new_id(self, sobject: str) -> str:
        self.counter += 1
        return sf_id(sobject, self.counter)

    def add(self, sobject: str, record: dict[str, Any]) -> dict[str, Any]:
        self.records.setdefault(sobject, []).append(record)
        return record

    def find(self, sobject: str, record_id: str) -> dict[str, Any] | None:
        return next((r for r in self.records.get(sobject, []) if r["Id"] == record_id), None)


class FakeClient:
    """Answers the executor's SOQL: ``FROM`` and every ``field IN (...)`` clause."""

    def __init__(self, org: FakeOrg) -> None:
        self.org = org
        self.statements: list[str] = []

    def query(self, statement: str) -> Iterator[dict[str, Any]]:
        self.statements.append(statement)
        found = _FROM.search(statement)
        assert found, statement
        filters = {name: set(re.findall(r"'([^']*)'", values))
                   for name, values in _IN.findall(statement)}
        for record in self.org.records.get(found.group(1), []):
            if all(str(record.get(name)) in values for name, values in filters.items()):
                yield dict(record)


Failure = tuple[str, str]  # (error code, message)


class FakeWriter:
    """A writer over the fake org: records every call; ``fail`` maps a ref to the
    error Salesforce would give; ``stop_after`` makes the n-th call stop the run."""

    def __init__(self, org: FakeOrg, *, fail: Mapping[str, Failure] | None = None,
                 stop_after: int | None = None,
                 on_write: Callable[[str, str, Sequence[WriteOp]], None] | None = None) -> None:
        self.org = org
        self.fail = dict(fail or {})
        self.stop_after = stop_after
        self.calls: list[tuple[str, str, list[WriteOp]]] = []
        self.on_write = on_write

    def write(self, sobject: str, action: str, ops: Sequence[WriteOp],
              external_id_field: str | None = None,
              bulk_key: Sequence[str] | None = None) -> WriteOutcome:
        self.calls.append((sobject, action, list(ops)))
        if self.on_write is not None:
            self.on_write(sobject, action, ops)
        if self.stop_after is not None and len(self.calls) > self.stop_after:
            return WriteOutcome([RecordResult(op.ref, op.id, False, error_code=NOT_ATTEMPTED)
                                 for op in ops], stopped=ConnectorError("budget spent"))
        results = []
        for op in ops:
            if op.ref in self.fail:
                code, message = self.fail[op.ref]
                results.append(RecordResult(op.ref, op.id, False, error_code=code,
                                            message=message, fields=("Status",)))
                continue
            if op.id:
                record = self.org.find(sobject, op.id)
                if record is not None:
                    record.update(op.fields)
                results.append(RecordResult(op.ref, op.id, True))
                continue
            record_id = self.org.new_id(sobject)
            self.org.add(sobject, {"Id": record_id, **op.fields})
            if sobject == "Campaign" and self.org.default_statuses:
                for label, responded, default, order in (("Sent", False, True, 1),
                                                         ("Responded", True, False, 2)):
                    self.org.add("CampaignMemberStatus", {
                        "Id": self.org.new_id("CampaignMemberStatus"),
                        "CampaignId": record_id, "Label": label, "HasResponded": responded,
                        "IsDefault": default, "SortOrder": order})
            results.append(RecordResult(op.ref, record_id, True, created=True))
        return WriteOutcome(results)

    def estimate_calls(self, n: int, action: str, *, has_bulk_key: bool = True) -> int:
        return -(-n // 200)

    def refs(self, sobject: str | None = None) -> list[str]:
        return [op.ref for s, _, ops in self.calls if sobject in (None, s) for op in ops]
