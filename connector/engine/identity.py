"""Who is who: MAP people -> Salesforce Leads/Contacts, and -> Accounts.

The order, each step recorded so ``connector explain person`` can say why:

1. the Salesforce id the MAP holds (a converted lead resolves to its contact);
2. ``MAP_Id__c`` on a Contact, then on a Lead;
3. the normalized email: Contacts first, then unconverted Leads (a converted
   lead with that email resolves to its contact); among several candidates the
   oldest ``CreatedDate`` wins, then the smallest id, and a ``duplicate``
   finding lists them all;
4. otherwise no match: a new Lead may be created (mapping ``create_leads``).

Accounts match by email domain against the Account's normalized ``Website``
domain: the exact host first, then the registered domain (``jane@us.acme.com``
finds ``acme.com``; see ``connector.engine.domains``); free-mail domains never
match. A Contact's own ``AccountId`` wins.
Pure: candidates come from an index the caller fills from its mirror.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, TypeVar

from connector.engine.domains import domain_keys, registered_domain
from connector.models import Person
from connector.sfid import to18
from connector.values import Link, MirrorRow


class _Dated(Protocol):
    @property
    def map_id(self) -> str: ...
    @property
    def created_at(self) -> datetime | None: ...


P = TypeVar("P", bound=_Dated)


class CandidateIndex(Protocol):
    def get(self, sobject: str, record_id: str) -> MirrorRow | None: ...
    def by_map_id(self, sobject: str, map_id: str) -> Sequence[MirrorRow]: ...
    def by_email(self, sobject: str, email: str) -> Sequence[MirrorRow]: ...
    def accounts_by_domain(self, domain: str) -> Sequence[MirrorRow]: ...


@dataclass(frozen=True)
class Match:
    sobject: str
    sf_id: str
    rule: str
    detail: dict[str, Any] = field(default_factory=dict)
    candidates: tuple[str, ...] = ()

    @property
    def duplicate(self) -> bool:
        return len(self.candidates) > 1


def _tie_break(rows: Sequence[MirrorRow]) -> list[MirrorRow]:
    """Oldest CreatedDate first, then smallest id: deterministic whatever the read order."""
    return sorted(rows, key=lambda r: (r.created_date is None, r.created_date or "", r.id))


def _is_converted(row: MirrorRow) -> bool:
    return bool(row.fields.get("IsConverted"))


def _converted_contact(index: CandidateIndex, lead: MirrorRow) -> MirrorRow | None:
    contact_id = lead.parent_id
    return index.get("Contact", contact_id) if contact_id else None


def match_person(person: Person, index: CandidateIndex, previous: Link | None) -> Match | None:
    """The Salesforce record for ``person``, or None when nothing matches."""
    # 1. the MAP's own Salesforce ids
    if person.sfdc_contact_id:
        contact = index.get("Contact", person.sfdc_contact_id)
        if contact:
            return Match("Contact", contact.id, "sfdc_contact_id",
                         {"sfdc_contact_id": person.sfdc_contact_id})
    if person.sfdc_lead_id:
        lead = index.get("Lead", person.sfdc_lead_id)
        if lead:
            if _is_converted(lead):
                contact = _converted_contact(index, lead)
                if contact:
                    return Match("Contact", contact.id, "sfdc_lead_id_converted",
                                 {"sfdc_lead_id": lead.id, "converted_from": lead.id})
            else:
                return Match("Lead", lead.id, "sfdc_lead_id", {"sfdc_lead_id": lead.id})

    # an earlier link stays while its record is alive (stable across new duplicates)
    if previous is not None:
        kept = _follow_previous(previous, index)
        if kept is not None:
            return kept

    # 2. MAP_Id__c on Contact, then Lead
    contacts = _tie_break(index.by_map_id("Contact", person.map_id))
    if contacts:
        return Match("Contact", contacts[0].id, "map_id_contact", {"map_id": person.map_id},
                     tuple(r.id for r in contacts))
    leads = _tie_break(index.by_map_id("Lead", person.map_id))
    for lead in leads:
        if _is_converted(lead):
            contact = _converted_contact(index, lead)
            if contact:
                return Match("Contact", contact.id, "map_id_lead_converted",
                             {"map_id": person.map_id, "converted_from": lead.id})
        else:
            return Match("Lead", lead.id, "map_id_lead", {"map_id": person.map_id},
                         tuple(r.id for r in leads if not _is_converted(r)))

    # 3. email: Contacts first, then Leads
    if person.email and person.email_valid:
        contacts = _tie_break(index.by_email("Contact", person.email))
        if contacts:
            return Match("Contact", contacts[0].id, "email_contact", {"email": person.email},
                         tuple(r.id for r in contacts))
        leads = _tie_break(index.by_email("Lead", person.email))
        open_leads = [r for r in leads if not _is_converted(r)]
        if open_leads:
            return Match("Lead", open_leads[0].id, "email_lead", {"email": person.email},
                         tuple(r.id for r in open_leads))
        for lead in leads:
            contact = _converted_contact(index, lead)
            if contact:
                return Match("Contact", contact.id, "email_lead_converted",
                             {"email": person.email, "converted_from": lead.id})
    return None


def _follow_previous(previous: Link, index: CandidateIndex) -> Match | None:
    row = index.get(previous.sobject, previous.sf_id)
    if row is None:
        return None  # deleted or merged away: match afresh
    detail = dict(previous.detail)
    if previous.sobject == "Lead" and _is_converted(row):
        contact = _converted_contact(index, row)
        if contact is None:
            return None
        detail["converted_from"] = row.id
        return Match("Contact", contact.id, "converted_lead", detail)
    return Match(previous.sobject, previous.sf_id, previous.rule, detail)


@dataclass(frozen=True, slots=True)
class Unmatched:
    """What creating a Lead for an unmatched MAP person needs: a first sync of a
    large org holds one per person, so not the whole Person."""

    map_id: str
    email: str | None
    email_valid: bool
    email_problem: str | None
    created_at: datetime | None
    map_lifecycle_stage: str | None

    @classmethod
    def of(cls, person: Person) -> Unmatched:
        return cls(person.map_id, person.email, person.email_valid, person.email_problem,
                   person.created_at, person.map_lifecycle_stage)


def primary_person(people: Iterable[P]) -> P:
    """The person whose MAP id a shared Salesforce record carries: the oldest."""
    return min(people, key=lambda p: (
        p.created_at.isoformat() if p.created_at else "9999", p.map_id))


def match_account(person: Person, record: MirrorRow | None, index: CandidateIndex,
                  free_mail: frozenset[str]) -> tuple[str | None, str, tuple[str, ...]]:
    """(account id, rule, candidates) for a person."""
    if record is not None and record.sobject == "Contact" and record.parent_id:
        return record.parent_id, "contact_account", (record.parent_id,)
    domain = person.email_domain if person.email_valid else None
    keys = domain_keys(domain)
    if not keys:
        return None, "no_domain", ()
    if any(k in free_mail for k in keys):
        return None, "free_mail", ()
    for key, rule in zip(keys, ("email_domain", "registered_domain"), strict=False):
        found = index.accounts_by_domain(key)
        if found:
            # an Account whose own website is exactly this key beats one that only
            # shares its registered domain (a subsidiary's site), then oldest first
            rows = sorted(_tie_break(found), key=lambda r: r.map_key != key)
            return rows[0].id, rule, tuple(r.id for r in rows)
    return None, "no_account_for_domain", ()


class MemoryIndex:
    """A ``CandidateIndex`` over mirror rows loaded for one batch of people."""

    def __init__(self, rows: Iterable[MirrorRow]) -> None:
        self._by_id: dict[tuple[str, str], MirrorRow] = {}
        self._by_key: dict[tuple[str, str], list[MirrorRow]] = {}
        self._by_email: dict[tuple[str, str], list[MirrorRow]] = {}
        for row in rows:
            self.add(row)

    def add(self, row: MirrorRow) -> None:
        if (row.sobject, row.id) in self._by_id:
            return
        self._by_id[(row.sobject, row.id)] = row
        if row.map_key:
            self._by_key.setdefault((row.sobject, row.map_key), []).append(row)
            if row.sobject == "Account":  # also findable by its registered domain
                reg = registered_domain(row.map_key)
                if reg and reg != row.map_key:
                    self._by_key.setdefault((row.sobject, reg), []).append(row)
        if row.email:
            self._by_email.setdefault((row.sobject, row.email), []).append(row)

    def get(self, sobject: str, record_id: str) -> MirrorRow | None:
        try:
            key = to18(record_id)
        except ValueError:
            return None
        return self._by_id.get((sobject, key))

    def by_map_id(self, sobject: str, map_id: str) -> Sequence[MirrorRow]:
        return self._by_key.get((sobject, map_id.lower()), [])

    def by_email(self, sobject: str, email: str) -> Sequence[MirrorRow]:
        return self._by_email.get((sobject, email.lower()), [])

    def accounts_by_domain(self, domain: str) -> Sequence[MirrorRow]:
        return self._by_key.get(("Account", domain.lower()), [])


def group_new_leads(people: Mapping[str, Unmatched]) -> dict[str, list[str]]:
    """Unmatched people sharing an email become one new Lead: primary map id -> group."""
    by_email: dict[str, list[Unmatched]] = {}
    for person in people.values():
        if person.email and person.email_valid:
            by_email.setdefault(person.email, []).append(person)
    groups: dict[str, list[str]] = {}
    for members in by_email.values():
        primary = primary_person(members)
        groups[primary.map_id] = sorted(p.map_id for p in members)
    return groups
