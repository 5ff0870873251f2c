"""The connector's mirror of the Salesforce fields it reads.

Matching and diffing need the current values of a few fields on every Lead,
Contact, Account and connector Campaign. Reading them record by record would
spend the org's API allocation; instead the first run reads them in full (Bulk
2.0 when there are many), and later runs read only what changed since the
watermark (``SystemModstamp`` with an overlap), plus deletions through
``queryAll``. The watermark moves only after the rows behind it are committed.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

from connector.engine.cycles import STATUS_OBSERVED
from connector.mappings import Mappings
from connector.normalize import parse_timestamp, website_domain
from connector.record_form import csv_digester, digest
from connector.record_form import stamp as _stamp
from connector.salesforce.client import SalesforceClient
from connector.salesforce.describe import DescribeCache
from connector.salesforce.incremental import ChangeReader
from connector.state.store import StateStore
from connector.values import MirrorRow

BULK_READ_THRESHOLD = 20_000
BATCH = 2_000


def _lower(value: Any) -> str | None:
    return str(value).strip().lower() or None if value not in (None, "") else None


_VOLATILE = ("SystemModstamp", "LastModifiedDate", "LastModifiedById")


def _stable(record: dict[str, Any]) -> dict[str, Any]:
    """A record without the stamps that change on every save: two reads of an
    untouched record then store byte-identical text."""
    for key in _VOLATILE:
        record.pop(key, None)
    return record


@dataclass(frozen=True)
class MirrorSpec:
    sobject: str
    fields: tuple[str, ...]
    where: str | None
    to_row: Callable[[dict[str, Any]], MirrorRow]


def mirror_specs(mappings: Mappings) -> list[MirrorSpec]:
    f = mappings.fields

    def mapped(sobject: str) -> list[str]:
        decl = f.objects.get(sobject)  # Opportunity fields are optional in mappings
        return [d.api_name for d in decl.fields.values()] if decl else []

    lead_key = f.obj("Lead").field("map_id").api_name
    contact_key = f.obj("Contact").field("map_id").api_name
    program_key = f.obj("Campaign").field("program_id").api_name
    managed = f"Campaign.{program_key} != null"

    def lead(r: dict[str, Any]) -> MirrorRow:
        return MirrorRow("Lead", r["Id"], r, email=_lower(r.get("Email")),
                         map_key=_lower(r.get(lead_key)), parent_id=r.get("ConvertedContactId"),
                         created_date=_stamp(r.get("CreatedDate")),
                         modstamp=_stamp(r.get("SystemModstamp")))

    def contact(r: dict[str, Any]) -> MirrorRow:
        return MirrorRow("Contact", r["Id"], r, email=_lower(r.get("Email")),
                         map_key=_lower(r.get(contact_key)), parent_id=r.get("AccountId"),
                         created_date=_stamp(r.get("CreatedDate")),
                         modstamp=_stamp(r.get("SystemModstamp")))

    def account(r: dict[str, Any]) -> MirrorRow:
        return MirrorRow("Account", r["Id"], r, map_key=website_domain(r.get("Website")),
                         created_date=_stamp(r.get("CreatedDate")),
                         modstamp=_stamp(r.get("SystemModstamp")))

    def campaign(r: dict[str, Any]) -> MirrorRow:
        return MirrorRow("Campaign", r["Id"], r, map_key=_lower(r.get(program_key)),
                         created_date=_stamp(r.get("CreatedDate")),
                         modstamp=_stamp(r.get("SystemModstamp")))

    def status(r: dict[str, Any]) -> MirrorRow:
        return MirrorRow("CampaignMemberStatus", r["Id"], r, map_key=_lower(r.get("Label")),
                         parent_id=r.get("CampaignId"), modstamp=_stamp(r.get("SystemModstamp")))

    def member(r: dict[str, Any]) -> MirrorRow:
        return MirrorRow("CampaignMember", r["Id"], r, parent_id=r.get("CampaignId"),
                         lead_id=r.get("LeadId") or None, contact_id=r.get("ContactId") or None,
                         modstamp=_stamp(r.get("SystemModstamp")))

    def opportunity(r: dict[str, Any]) -> MirrorRow:
        return MirrorRow("Opportunity", r["Id"], r, parent_id=r.get("AccountId"),
                         created_date=_stamp(r.get("CreatedDate")),
                         modstamp=_stamp(r.get("SystemModstamp")))

    def role(r: dict[str, Any]) -> MirrorRow:
        return MirrorRow("OpportunityContactRole", r["Id"], r, parent_id=r.get("OpportunityId"),
                         contact_id=r.get("ContactId") or None,
                         created_date=_stamp(r.get("CreatedDate")),
                         modstamp=_stamp(r.get("SystemModstamp")))

    def uniq(*names: Iterable[str]) -> tuple[str, ...]:
        return tuple(dict.fromkeys(n for group in names for n in group))

    return [
        MirrorSpec("Account", uniq(["Name", "Website", "CreatedDate", "Industry",
                                    "NumberOfEmployees", "AnnualRevenue", "BillingCountry"],
                                   mapped("Account")), None, account),
        MirrorSpec("Campaign", uniq(["Name", "CreatedDate"], mapped("Campaign")), None, campaign),
        MirrorSpec("CampaignMemberStatus",
                   ("CampaignId", "Label", "HasResponded", "IsDefault", "SortOrder"),
                   managed, status),
        MirrorSpec("Contact", uniq(["Email", "CreatedDate", "AccountId"], mapped("Contact")),
                   None, contact),
        MirrorSpec("Lead", uniq(["Email", "CreatedDate", "IsConverted", "ConvertedContactId",
                                 "ConvertedDate", "ConvertedOpportunityId", "Status"],
                                mapped("Lead")), None, lead),
        # (no CreatedDate: nothing uses when a member was added, and a re-read of
        # the members a run created would otherwise store one for each)
        MirrorSpec("CampaignMember",
                   uniq(["CampaignId", "LeadId", "ContactId", "Status", "HasResponded"],
                        mapped("CampaignMember")), managed, member),
        # stages (Opportunity, Customer) and attribution read opportunities and roles
        MirrorSpec("Opportunity",
                   uniq(["Name", "AccountId", "Amount", "StageName", "CloseDate", "IsClosed",
                         "IsWon", "CreatedDate"], mapped("Opportunity")), None, opportunity),
        MirrorSpec("OpportunityContactRole",
                   ("OpportunityId", "ContactId", "Role", "IsPrimary", "CreatedDate"), None,
                   role),
    ]


def attribution_spec(mappings: Mappings) -> MirrorSpec:
    """Attribution__c rows, read by ``connector attribution run`` (not by a sync)."""
    decl = mappings.fields.obj("Attribution__c")
    key = decl.field("key").api_name
    opportunity = decl.field("opportunity").api_name

    def row(r: dict[str, Any]) -> MirrorRow:
        return MirrorRow("Attribution__c", r["Id"], r, map_key=_lower(r.get(key)),
                         parent_id=r.get(opportunity),
                         modstamp=_stamp(r.get("SystemModstamp")))

    return MirrorSpec("Attribution__c", tuple(d.api_name for d in decl.fields.values()),
                      None, row)


def coerce_csv(row: Mapping[str, str], types: Mapping[str, str]) -> dict[str, Any]:
    """Bulk CSV cells (all text) -> the values the REST API would have returned."""
    out: dict[str, Any] = {}
    for name, text in row.items():
        kind = types.get(name.lower(), "string")
        if text == "":
            out[name] = None
        elif kind == "boolean":
            out[name] = text.lower() == "true"
        elif kind == "int":
            out[name] = int(float(text))
        elif kind in ("double", "currency", "percent"):
            out[name] = float(text)
        else:
            out[name] = text
    return out


@dataclass
class MirrorRefresh:
    changed: dict[str, set[str]] = field(default_factory=dict)
    deleted: dict[str, set[str]] = field(default_factory=dict)
    full: set[str] = field(default_factory=set)
    bulk: set[str] = field(default_factory=set)
    statuses: int = 0  # Lead Status values observed (new or changed)


def refresh_mirror(
    client: SalesforceClient,
    describe: DescribeCache,
    store: StateStore,
    mappings: Mappings,
    run_id: int,
    *,
    full: bool = False,
    on_progress: Callable[[str, int], None] | None = None,
    specs: list[MirrorSpec] | None = None,
) -> MirrorRefresh:
    """Bring the mirror up to date with the org (``specs``: only these objects);
    returns what changed."""
    result = MirrorRefresh()
    for spec in specs if specs is not None else mirror_specs(mappings):
        result.changed[spec.sobject] = set()
        result.deleted[spec.sobject] = set()
        since_text = None if full else store.watermark("salesforce", spec.sobject)
        since = parse_timestamp(since_text) if since_text else None
        # The first REST page says how many rows changed; a large result switches
        # to a Bulk 2.0 query (no separate COUNT() call to decide). When this
        # connector created more than that many records since the last read, all
        # of them come back: the read starts as a Bulk query, no page wasted.
        # An incremental read is a queryAll: deletions arrive in the same pages.
        large = since is not None and store.mirror_unread(spec.sobject,
                                                          above=BULK_READ_THRESHOLD)
        reader = ChangeReader(client, spec.sobject, spec.fields, since,
                              extra_where=spec.where, bulk=large,
                              bulk_above=BULK_READ_THRESHOLD, include_deleted=since is not None)
        started = datetime.now(UTC)
        reading = _Reading(spec, describe)
        seen = 0
        if since is None:
            store.mirror_seen_reset()
        batch: list[Mapping[str, Any]] = []
        deleted: list[str] = []
        with store.transaction():
            for raw in reader:
                if raw.get("IsDeleted") in (True, "true"):
                    deleted.append(str(raw["Id"]))
                    continue
                seen += 1
                batch.append(raw)
                if len(batch) >= BATCH:
                    if since is None:
                        store.mirror_seen_add([str(r["Id"]) for r in batch])
                    result.statuses += _flush(store, run_id, reading.of(reader), batch,
                                              result.changed[spec.sobject])
                    batch = []
                    if on_progress:
                        on_progress(spec.sobject, seen)
            if since is None:
                store.mirror_seen_add([str(r["Id"]) for r in batch])
            result.statuses += _flush(store, run_id, reading.of(reader), batch,
                                      result.changed[spec.sobject])
            if reader.bulk:
                result.bulk.add(spec.sobject)
            if since is None:
                result.full.add(spec.sobject)
                gone = store.mirror_unseen(spec.sobject)
                store.mirror_mark_deleted(spec.sobject, gone)
                result.deleted[spec.sobject].update(gone)
            else:
                store.mirror_mark_deleted(spec.sobject, deleted)
                result.deleted[spec.sobject].update(deleted)
            mark = reader.watermark
            if mark is None and since is None:
                # an empty full read: later runs read from when this one started
                # (the lookback overlap covers clock skew and late commits)
                mark = started
            if mark is not None:
                store.set_watermark(run_id, "salesforce", spec.sobject,
                                    mark.astimezone(UTC).isoformat())
            store.mirror_mark_read(spec.sobject, (mark or started).astimezone(UTC).isoformat(
                timespec="milliseconds"))
        if on_progress:
            on_progress(spec.sobject, seen)
    return result


class _Reading:
    """How one object's read turns raw records into digests and mirror rows: a
    REST read returns typed JSON; a Bulk read returns CSV text, typed through
    the describe (worked out once, when the first CSV row arrives)."""

    def __init__(self, spec: MirrorSpec, describe: DescribeCache) -> None:
        self.spec = spec
        self.describe = describe
        self.types: dict[str, str] | None = None
        self.csv_digest: Callable[[Mapping[str, str]], str] | None = None

    def of(self, reader: ChangeReader) -> _Reading:
        if reader.bulk and self.types is None:
            info = self.describe.fields(self.spec.sobject) or {}
            self.types = {name: fi.type for name, fi in info.items()}
        return self

    def digest(self, raw: Mapping[str, Any]) -> str:
        if self.types is None:
            return digest(raw)
        if self.csv_digest is None:
            self.csv_digest = csv_digester(list(raw), self.types)
        return self.csv_digest(cast(Mapping[str, str], raw))

    def row(self, raw: Mapping[str, Any]) -> MirrorRow:
        record = coerce_csv(cast(Mapping[str, str], raw), self.types) \
            if self.types is not None else dict(raw)
        record.pop("IsDeleted", None)
        row = self.spec.to_row(record)
        _stable(row.fields)
        return row


def _flush(store: StateStore, run_id: int, reading: _Reading, raws: list[Mapping[str, Any]],
           changed: set[str]) -> int:
    """Store the records that differ from the mirror, noting which really changed.

    A record the connector itself just wrote comes back with a new stamp but the
    values it already has: its digest, taken from the raw record, matches and it
    costs that one digest (plus, once, the CreatedDate the org gave it); it is
    never turned into a mirror row. A Lead's Status is kept as a history of
    observed values, in the same transaction as the row: what a status means for
    the funnel (a recycle) is the lifecycle engines' business, not the mirror's."""
    if not raws:
        return 0
    sobject = reading.spec.sobject
    stored = store.mirror_digests(sobject, [str(r["Id"]) for r in raws])
    to_store: list[MirrorRow] = []
    digests: dict[str, str] = {}
    settle: list[tuple[str, str]] = []
    for raw in raws:
        record_id = str(raw["Id"])
        known = stored.get(record_id)
        mark = reading.digest(raw)
        if known is not None and known[0] == mark and not known[2]:
            if known[1] is None and raw.get("CreatedDate"):
                created = _stamp(raw["CreatedDate"])
                if created:
                    settle.append((record_id, created))
            continue  # the same values, however spelled: nothing to do
        row = reading.row(raw)
        digests[row.id] = mark
        to_store.append(row)
        changed.add(row.id)
    events: list[tuple[str, datetime, str]] = []
    if sobject == "Lead" and to_store:
        priors = store.mirror_texts(sobject, [r.id for r in to_store if r.id in stored])
        for row in to_store:
            status = row.fields.get("Status")
            prior = priors.get(row.id)
            if status and (prior is None or json.loads(prior).get("Status") != status):
                at = datetime.fromisoformat(row.modstamp) if row.modstamp else datetime.now(UTC)
                events.append((row.id, at, f"{STATUS_OBSERVED}{status}"))
    store.mirror_upsert(to_store, digests)
    store.mirror_settle_created(sobject, settle)
    store.add_record_events(run_id, events)
    return len(events)
