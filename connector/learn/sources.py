"""Loading a history into a ``Ledger``, streaming: no touch is held as a model.

- ``from_store``: the state database a ``connector sync`` left, read in batches
  of people (their touches with them).
- ``from_generated``: a ``connector generate-data`` directory, the MAP export
  read with the file source row by row, joined to the Salesforce seed.

See ``connector.learn.history`` for how people and accounts reach the target.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from connector.engine.domains import registered_domain
from connector.learn.history import reached_of
from connector.learn.ledger import Ledger, LedgerBuilder, account_profile
from connector.mappings import Mappings
from connector.models import Person, TargetAccount, Touch

BATCH = 2000


def _builder(mappings: Mappings, source: str) -> LedgerBuilder:
    if mappings.scoring is None:
        raise ValueError("the mappings have no scoring.yaml")
    return LedgerBuilder(mappings.scoring, frozenset(mappings.sync.free_mail_domains), source)


def from_store(store: Any, mappings: Mappings) -> Ledger:
    """The ledger and the mirror, as the last sync left them."""
    b = _builder(mappings, "state database")
    map_ids = sorted(store.all_map_ids())
    for i in range(0, len(map_ids), BATCH):
        chunk = map_ids[i:i + BATCH]
        for person in store.people(chunk).values():
            b.person(person)
        for touches in store.touches_of(chunk).values():
            for t in touches:
                b.touch(t)
    by_record: dict[str, list[str]] = {}
    for map_id, link in store.links().items():
        by_record.setdefault(link.sf_id, []).append(map_id)
        if link.account_id:
            b.link(map_id, link.account_id)
    by_contact = {k: list(v) for k, v in by_record.items()}
    # a converted Lead's people reach through the Contact it became
    for row in store.mirror_all("Lead"):
        contact = row.fields.get("ConvertedContactId")
        if row.fields.get("IsConverted") and contact:
            by_contact.setdefault(str(contact), []).extend(by_record.get(row.id, ()))
    for row in store.mirror_all("Account"):
        b.account(row.id, account_profile(row.fields, registered_domain(row.fields.get("Website"))
                                          or row.map_key))
    for target in store.target_accounts():
        _tier(b, target)
    opportunities = {}
    for row in store.mirror_all("Opportunity"):
        opportunities[row.id] = row.fields
        r = reached_of(row.fields, None)
        account = row.parent_id or row.fields.get("AccountId")
        if r is not None and account:
            b.account_reached(str(account), r)
    for role in store.mirror_all("OpportunityContactRole"):
        opp = opportunities.get(str(role.parent_id))
        if opp is None or not role.contact_id:
            continue
        r = reached_of(opp, role.fields.get("CreatedDate"))
        if r is not None:
            for map_id in by_contact.get(role.contact_id, ()):
                b.reached(map_id, r)
    return b.finish()


def _tier(b: LedgerBuilder, target: TargetAccount) -> None:
    if not target.tier:
        return
    if target.account_id:
        b.tier(target.account_id, target.tier)
    if target.domain:
        b.tier(registered_domain(target.domain) or target.domain.lower(), target.tier)


def _jsonl(path: Path) -> Iterator[dict[str, Any]]:
    if not path.exists():
        return
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                yield json.loads(line)


def _ref(value: Any) -> str:
    return str(value.get("_ref", "")) if isinstance(value, dict) else str(value or "")


def from_generated(directory: Path, mappings: Mappings, as_of: datetime) -> Ledger:
    """A ``generate-data`` output directory (``map/`` and ``sf/``)."""
    from connector.sources.files import FileExportReader

    b = _builder(mappings, f"generated data {directory}")
    sf = directory / "sf"
    by_domain: dict[str, str] = {}
    for row in _jsonl(sf / "Account.jsonl"):
        domain = registered_domain(row.get("Website"))
        b.account(row["_key"], account_profile(row, domain))
        if domain:
            by_domain.setdefault(domain, row["_key"])
    contact_email: dict[str, str] = {}
    account_by_email: dict[str, str] = {}
    for row in _jsonl(sf / "Contact.jsonl"):
        email = str(row.get("Email") or "").strip().lower()
        contact_email[row["_key"]] = email
        account = _ref(row.get("AccountId"))
        if email and account:
            account_by_email.setdefault(email, account)
    by_email: dict[str, list[str]] = {}
    reader = FileExportReader(directory / "map", mappings, as_of=as_of)
    items: Iterable[Any] = reader.read(None, {})
    for item in items:
        if isinstance(item, Touch):
            b.touch(item)
        elif isinstance(item, Person):
            b.person(item)
            email = (item.email or "").strip().lower()
            if email:
                by_email.setdefault(email, []).append(item.map_id)
            linked = account_by_email.get(email) or by_domain.get(
                registered_domain(email) or "")
            if linked:
                b.link(item.map_id, linked)
        elif isinstance(item, TargetAccount):
            _tier(b, item)
    opportunities: dict[str, dict[str, Any]] = {}
    for row in _jsonl(sf / "Opportunity.jsonl"):
        opportunities[row["_key"]] = row
        r = reached_of(row, None)
        if r is not None and _ref(row.get("AccountId")):
            b.account_reached(_ref(row.get("AccountId")), r)
    for role in _jsonl(sf / "OpportunityContactRole.jsonl"):
        opp = opportunities.get(_ref(role.get("OpportunityId")))
        email = contact_email.get(_ref(role.get("ContactId")), "")
        if opp is None or not email:
            continue
        r = reached_of(opp, role.get("CreatedDate"))
        if r is not None:
            for map_id in by_email.get(email, ()):
                b.reached(map_id, r)
    return b.finish()
