"""Gather: everything deciding needs about a batch of Salesforce person records,
read from the state database into plain values.

The planner and ``connector explain person`` both call ``gather_targets``, so
explain always shows what a sync computes. One batch costs a fixed number of
set-shaped queries, whatever its size; nothing here decides anything.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from connector.engine.context import AccountContext, PersonContext, Target
from connector.engine.domains import registered_domain
from connector.state.store import StateStore
from connector.values import MirrorRow


def gather_targets(store: StateStore, targets: Sequence[Target]) -> list[PersonContext]:
    """Contexts for ``targets`` (one batch), in the same order; targets whose
    people are all gone from the ledger are left out. Histories come whole:
    what counts as of a moment is the engines' decision."""
    map_ids = [m for t in targets for m in t.map_ids]
    people = store.people(map_ids)
    ids = {obj: [t.sf_id for t in targets if t.sf_id and t.sobject == obj]
           for obj in ("Lead", "Contact")}
    records = {**store.mirror_get("Lead", ids["Lead"]),
               **store.mirror_get("Contact", ids["Contact"])}
    # the Leads converted into these Contacts: their recycle history and their
    # Campaign Members belong to the Contact now
    converted: dict[str, set[str]] = {}
    converted_rows: dict[str, list[MirrorRow]] = {}
    for lead in store.mirror_by("Lead", "parent_id", ids["Contact"]):
        if lead.parent_id:
            converted.setdefault(lead.parent_id, set()).add(lead.id)
            converted_rows.setdefault(lead.parent_id, []).append(lead)
    roles = _roles(store, ids["Contact"])
    for target in targets:
        if target.sf_id and target.sobject == "Contact":
            target.converted_from |= converted.get(target.sf_id, set())
    touches = store.touches_of(map_ids)
    events = store.cycle_events(map_ids)
    record_events = store.record_events(
        r for t in targets for r in (t.sf_id, *t.converted_from) if r)
    written = {obj: store.written(obj, ids[obj]) for obj in ("Lead", "Contact")}
    members = _members(store, targets)
    out = []
    for target in targets:
        mine = tuple(people[m] for m in target.map_ids if m in people)
        if not mine:
            continue
        ordered = tuple(sorted({t.touch_id: t for m in target.map_ids
                                for t in touches.get(m, [])}.values(),
                               key=lambda t: t.order_key))
        record_ids = [r for r in (target.sf_id, *target.converted_from) if r]
        person_events = tuple(sorted({e for m in target.map_ids for e in events.get(m, [])}))
        history = {r: tuple(record_events.get(r, [])) for r in record_ids}
        record = records.get(target.sf_id) if target.sf_id else None
        out.append(PersonContext(
            target=target, people=mine, touches=ordered, record=record,
            written=written.get(target.sobject, {}).get(target.sf_id or "", {}),
            person_events=person_events, record_history=history,
            converted_from=frozenset(target.converted_from),
            members=_members_of(members, target),
            converted_leads=tuple(sorted(converted_rows.get(target.sf_id or "", []),
                                         key=lambda r: r.id)),
            roles=tuple(roles.get(target.sf_id or "", ()))))
    return out


def _roles(store: StateStore,
           contact_ids: Sequence[str]) -> dict[str, list[tuple[MirrorRow, MirrorRow]]]:
    """Contact id -> (contact role, opportunity) pairs, two lookups per batch."""
    rows = store.mirror_by("OpportunityContactRole", "contact_id", contact_ids)
    opportunities = store.mirror_get("Opportunity", sorted({str(r.parent_id) for r in rows
                                                            if r.parent_id}))
    out: dict[str, list[tuple[MirrorRow, MirrorRow]]] = {}
    for row in sorted(rows, key=lambda r: r.id):
        opp = opportunities.get(str(row.parent_id))
        if opp is not None and row.contact_id:
            out.setdefault(row.contact_id, []).append((row, opp))
    return out


def _members(store: StateStore, targets: Iterable[Target]) -> dict[str, dict[str, MirrorRow]]:
    """One lookup per batch: person id (contact, or (former) lead) -> campaign id
    -> member row."""
    found: dict[str, dict[str, MirrorRow]] = {}
    person_ids: set[str] = set()
    for target in targets:
        if target.sf_id:
            person_ids.add(target.sf_id)
        person_ids.update(target.converted_from)
    ids = sorted(person_ids)
    for row in store.mirror_by("CampaignMember", "contact_id", ids):
        if row.parent_id and row.contact_id:
            found.setdefault(row.contact_id, {})[row.parent_id] = row
    for row in store.mirror_by("CampaignMember", "lead_id", ids):
        if row.parent_id and row.lead_id:
            found.setdefault(row.lead_id, {}).setdefault(row.parent_id, row)
    return found


def _members_of(members: Mapping[str, Mapping[str, MirrorRow]],
                target: Target) -> dict[str, MirrorRow]:
    """Campaign id -> the member row of this person (its own, else a converted
    Lead's, the smallest id first)."""
    out: dict[str, MirrorRow] = {}
    if not target.sf_id:
        return out
    for candidate in (target.sf_id, *sorted(target.converted_from)):
        for campaign_id, row in members.get(candidate, {}).items():
            out.setdefault(campaign_id, row)
    return out


def gather_accounts(store: StateStore, account_ids: Sequence[str]) -> list[AccountContext]:
    """Contexts for a batch of Accounts: the record, every person matched to it
    with their touches, its opportunities and its place on the target list."""
    records = store.mirror_get("Account", account_ids)
    members = store.people_by_account(list(records))
    map_ids = [m for ids in members.values() for m in ids]
    people = store.people(map_ids)
    touches = store.touches_of(map_ids)
    opportunities: dict[str, list[MirrorRow]] = {}
    for opp in store.mirror_by("Opportunity", "parent_id", list(records)):
        opportunities.setdefault(str(opp.parent_id), []).append(opp)
    targets = {}
    for target in store.target_accounts():
        if target.account_id:
            targets[target.account_id] = target.tier
        if target.domain:
            targets[registered_domain(target.domain) or target.domain.lower()] = target.tier
    written = store.written("Account", list(records))
    out = []
    for account_id in sorted(records):
        row = records[account_id]
        domain = registered_domain(row.fields.get("Website")) or row.map_key
        listed = next((key for key in (account_id, account_id[:15], domain)
                       if key and key in targets), None)
        ids = members.get(account_id, [])
        out.append(AccountContext(
            record=row, people=tuple(people[m] for m in ids if m in people),
            touches={m: tuple(touches.get(m, [])) for m in ids},
            opportunities=tuple(sorted(opportunities.get(account_id, []), key=lambda r: r.id)),
            tier=targets.get(listed) if listed else None, on_target_list=listed is not None,
            written=written.get(account_id, {})))
    return out
