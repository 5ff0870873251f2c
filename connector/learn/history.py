"""The history a model learns from: people, their touches, and when each reached the target.

Two sources give the same shape:

- the state database (what ``connector sync`` left): the ledger's people and
  touches, and the mirror of Opportunity and OpportunityContactRole joined to
  people through their links (a person linked to a Contact that holds a
  contact role on an opportunity reached ``opportunity`` at the role's or the
  opportunity's creation, whichever is later known, and ``won`` at its
  CloseDate when the opportunity is won);
- a generated world (``connector generate-data``): the MAP export read with
  the file source, and the Salesforce seed's opportunities and contact roles
  joined to MAP people by email, so the demo and tests need no org history.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any, Literal

from connector.mappings import Mappings
from connector.models import Person, Touch

Target = Literal["opportunity", "won"]


@dataclass(frozen=True, slots=True)
class Reached:
    """One opportunity a person is a contact role on."""

    opportunity_at: datetime
    won_at: datetime | None  # CloseDate of a won opportunity


@dataclass(slots=True)
class History:
    people: dict[str, Person]
    touches: dict[str, list[Touch]]
    reached: dict[str, list[Reached]] = field(default_factory=dict)
    source: str = ""

    def target_at(self, map_id: str, target: Target) -> datetime | None:
        """When the person first reached the target, or None."""
        moments = [r.opportunity_at if target == "opportunity" else r.won_at
                   for r in self.reached.get(map_id, ())]
        known = [m for m in moments if m is not None]
        return min(known) if known else None

    @property
    def latest(self) -> datetime | None:
        """The last moment the history knows of (the default end of the test period)."""
        stamps = [t[-1].occurred_at for t in self.touches.values() if t]
        stamps += [r.opportunity_at for rs in self.reached.values() for r in rs]
        return max(stamps) if stamps else None


def _moment(value: Any) -> datetime | None:
    """A Salesforce date or datetime -> an aware UTC datetime (dates at midnight UTC)."""
    if value in (None, ""):
        return None
    text = str(value)
    if len(text) == 10:
        return datetime.combine(date.fromisoformat(text), time(), tzinfo=UTC)
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _reached(opportunity: Mapping[str, Any], role_created: Any) -> Reached | None:
    created = _moment(opportunity.get("CreatedDate"))
    role_at = _moment(role_created)
    at = max(m for m in (created, role_at) if m is not None) if (created or role_at) else None
    if at is None:
        return None
    won = opportunity.get("IsWon") is True or opportunity.get("StageName") == "Closed Won"
    return Reached(at, _moment(opportunity.get("CloseDate")) if won else None)


def from_store(store: Any) -> History:
    """The ledger and the mirror, as the last sync left them."""
    people: dict[str, Person] = store.people()
    touches: dict[str, list[Touch]] = store.touches_of(sorted(people))
    by_record: dict[str, list[str]] = {}
    for map_id, link in store.links().items():
        by_record.setdefault(link.sf_id, []).append(map_id)
    by_contact = {k: list(v) for k, v in by_record.items()}
    # a converted Lead's people reach through the Contact it became
    for row in store.mirror_all("Lead"):
        contact = row.fields.get("ConvertedContactId")
        if row.fields.get("IsConverted") and contact:
            by_contact.setdefault(str(contact), []).extend(by_record.get(row.id, ()))
    opportunities = {row.id: row.fields for row in store.mirror_all("Opportunity")}
    reached: dict[str, list[Reached]] = {}
    for role in store.mirror_all("OpportunityContactRole"):
        opp = opportunities.get(str(role.parent_id))
        if opp is None or not role.contact_id:
            continue
        r = _reached(opp, role.fields.get("CreatedDate"))
        if r is not None:
            for map_id in by_contact.get(role.contact_id, ()):
                reached.setdefault(map_id, []).append(r)
    return History(people, touches, reached, source="state database")


def _jsonl(path: Path) -> Iterable[dict[str, Any]]:
    if not path.exists():
        return
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                yield json.loads(line)


def from_generated(directory: Path, mappings: Mappings, as_of: datetime) -> History:
    """A ``generate-data`` output directory (``map/`` and ``sf/``)."""
    from connector.sources.files import FileExportReader

    people: dict[str, Person] = {}
    touches: dict[str, list[Touch]] = {}
    reader = FileExportReader(directory / "map", mappings, as_of=as_of)
    for item in reader.read(None, {}):
        if isinstance(item, Person):
            people[item.map_id] = item
        elif isinstance(item, Touch):
            touches.setdefault(item.map_id, []).append(item)
    for items in touches.values():
        items.sort(key=lambda t: t.order_key)
    by_email: dict[str, list[str]] = {}
    for map_id, person in people.items():
        if person.email:
            by_email.setdefault(person.email.strip().lower(), []).append(map_id)
    sf = directory / "sf"
    contact_email = {r["_key"]: str(r.get("Email") or "").strip().lower()
                     for r in _jsonl(sf / "Contact.jsonl")}
    opportunities = {r["_key"]: r for r in _jsonl(sf / "Opportunity.jsonl")}
    reached: dict[str, list[Reached]] = {}
    for role in _jsonl(sf / "OpportunityContactRole.jsonl"):
        opp = opportunities.get(role["OpportunityId"]["_ref"])
        email = contact_email.get(role["ContactId"]["_ref"], "")
        if opp is None or not email:
            continue
        r = _reached(opp, role.get("CreatedDate"))
        if r is not None:
            for map_id in by_email.get(email, ()):
                reached.setdefault(map_id, []).append(r)
    return History(people, touches, reached, source=f"generated data {directory}")
