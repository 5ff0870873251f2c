"""Fixtures for the plan tests: a real state store on a temporary path, mirror rows
built through the mirror's own specs (so they look exactly as a read stores them),
and a small fake org behind a fake writer and a fake query client, so execution
is tested without the emulator."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
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
from connector.engine.campaigns import campaign_fields
from connector.engine.context import Target
from connector.engine.policies import canonical
from connector.errors import ConnectorError
from connector.mappings import Mappings
from connector.models import Person, Program, Touch
from connector.plan.model import Plan, PlannedWrite
from connector.plan.planner import Planner
from connector.run.mirror import mirror_specs
from connector.salesforce.writer import NOT_ATTEMPTED, RecordResult, WriteOp, WriteOutcome
from connector.sfid import make_id
from connector.state.store import StateStore, open_store
from connector.values import Link, MirrorRow
from tests.factories import T0, mappings

PREFIX = {"Account": "001", "Contact": "003", "Lead": "00Q", "Campaign": "701",
          "CampaignMember": "00v", "CampaignMemberStatus": "01Y"}
AS_OF = datetime(2026, 6, 1, tzinfo=UTC)


def day(n: int) -> datetime:
    """``n`` days after the factories' T0."""
    return T0 + timedelta(days=n)


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


# ------------------------------------------------------------- worlds


def fill(store: StateStore, run_id: int, *, programs: Sequence[Program] = (),
         people: Sequence[Person] = (), touches: Sequence[Touch] = (),
         rows: Sequence[MirrorRow] = (), links: Sequence[Link] = ()) -> None:
    """Put a world into the store the way a sync does, through the store's methods."""
    with store.transaction():
        if programs:
            store.upsert_programs(run_id, programs)
        if people:
            store.upsert_people(run_id, people)
        if touches:
            store.upsert_touches(run_id, touches)
        if rows:
            store.mirror_upsert(rows)
        if links:
            store.set_links(run_id, links)


def campaign_as_planned(prog: Program, maps: Mappings, n: int, **extra: Any) -> MirrorRow:
    """The Campaign of ``prog`` holding exactly the values a plan would write."""
    decls = maps.fields.obj("Campaign")
    fields = {decls.fields[k].api_name: canonical(decls.fields[k], v)
              for k, v in campaign_fields(prog, maps, AS_OF).items()}
    return campaign(n, prog.program_id, **{**fields, **extra})


def planner(store: StateStore, maps: Mappings) -> Planner:
    return Planner(store, maps, as_of=AS_OF, tz=UTC)


def plan_all(store: StateStore, maps: Mappings, scope: set[str]) -> tuple[Plan, list[Target]]:
    """Campaigns, then matching, then every target, as a sync of one batch does."""
    p = planner(store, maps)
    plan = Plan()
    p.plan_campaigns(plan)
    targets = p.match_people(plan, scope)
    p.plan_targets(plan, targets)
    return plan, targets


def writes(plan: Plan, step: str) -> list[PlannedWrite]:
    return next((s.writes for s in plan.steps if s.name == step), [])


def plan_run(store: StateStore, maps: Mappings, scope: set[str]) -> tuple[Plan, list[Target]]:
    """The whole plan of a one-batch run: campaigns, their statuses (existing
    ones from the mirror, new ones declared), then people, as ``Sync`` does."""
    p = planner(store, maps)
    plan = Plan()
    p.plan_campaigns(plan)
    existing = {pid: value[1] for pid, value in p.campaigns.items() if value[0] == "id"}
    rows: dict[str, list[MirrorRow]] = {}
    for status in store.mirror_by("CampaignMemberStatus", "parent_id", existing.values()):
        rows.setdefault(str(status.parent_id), []).append(status)
    p.plan_statuses(plan, existing, rows, new_campaign_refs=[
        value[1] for value in p.campaigns.values() if value[0] == "ref"])
    targets = p.match_people(plan, scope)
    p.plan_targets(plan, targets)
    return plan, targets


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
    error Salesforce gives it (for the actions in ``fail_actions``); after
    ``stop_after`` calls, a call stops the run with nothing attempted."""

    def __init__(self, org: FakeOrg, *, fail: Mapping[str, Failure] | None = None,
                 fail_actions: frozenset[str] = frozenset({"create", "upsert", "update"}),
                 stop_after: int | None = None) -> None:
        self.org = org
        self.fail = dict(fail or {})
        self.fail_actions = fail_actions
        self.stop_after = stop_after
        self.calls: list[tuple[str, str, list[WriteOp]]] = []
        # id of every record made through this writer -> a name stable across runs
        # (the ref of its create; "<campaign ref>:<label>" for default statuses)
        self.names: dict[str, str] = {}

    def write(self, sobject: str, action: str, ops: Sequence[WriteOp],
              external_id_field: str | None = None,
              bulk_key: Sequence[str] | None = None) -> WriteOutcome:
        self.calls.append((sobject, action, list(ops)))
        if self.stop_after is not None and len(self.calls) > self.stop_after:
            return WriteOutcome([RecordResult(op.ref, op.id, False, error_code=NOT_ATTEMPTED)
                                 for op in ops], stopped=ConnectorError("budget spent"))
        results = []
        for op in ops:
            if op.ref in self.fail and action in self.fail_actions:
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
            self.names[record_id] = op.ref
            self.org.add(sobject, {"Id": record_id, **op.fields})
            if sobject == "Campaign" and self.org.default_statuses:
                for label, responded, default, order in (("Sent", False, True, 1),
                                                         ("Responded", True, False, 2)):
                    status_id = self.org.new_id("CampaignMemberStatus")
                    self.names[status_id] = f"{op.ref}:{label}"
                    self.org.add("CampaignMemberStatus", {
                        "Id": status_id,
                        "CampaignId": record_id, "Label": label, "HasResponded": responded,
                        "IsDefault": default, "SortOrder": order})
            results.append(RecordResult(op.ref, record_id, True, created=True))
        return WriteOutcome(results)

    def estimate_calls(self, n: int, action: str, *, has_bulk_key: bool = True) -> int:
        return -(-n // 200)

    def normalized(self) -> list[tuple[Any, ...]]:
        """Every record written, ids replaced by stable names, in a fixed order:
        two runs that wrote the same things give equal lists."""

        def name(value: Any) -> Any:
            return self.names.get(value, value) if isinstance(value, str) else value

        return sorted((sobject, action, op.ref, name(op.id),
                       tuple(sorted((k, name(v)) for k, v in op.fields.items())))
                      for sobject, action, ops in self.calls for op in ops)
