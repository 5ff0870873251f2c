"""``connector explain person``: why a person looks the way they do in Salesforce.

Answers from the local state (the ledger, the links and the mirror), so it
spends no API calls and works while the org is unreachable: which rule picked
the Salesforce record and which other candidates there were, the account
match, every touch with the rule that gave its channel, the funnel cycles,
and per connector-owned field what Salesforce holds, what the connector wants
and what its write policy decides.
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any

from connector.campaigns import member_states
from connector.cycles import build_cycles
from connector.errors import ConfigError
from connector.mappings import Mappings
from connector.models import Person
from connector.policies import canonical, decide
from connector.source_fields import compute_source_fields, source_values
from connector.state.store import StateStore


def find_people(store: StateStore, key: str) -> list[Person]:
    """By MAP id, else by email (several MAP people may share one)."""
    found = store.people([key])
    if found:
        return list(found.values())
    by_email = store.people_by_email([key.strip().lower()])
    return list(store.people(by_email.get(key.strip().lower(), [])).values())


def explain_person(store: StateStore, mappings: Mappings, key: str, *,
                   tz: tzinfo) -> dict[str, Any]:
    people = find_people(store, key)
    if not people:
        raise ConfigError(f"no MAP person with id or email {key!r} in the ledger",
                          hint="run `connector sync` first, or check the spelling")
    map_ids = [p.map_id for p in people]
    links = store.links(map_ids)
    link = next((links[m] for m in map_ids if m in links), None)
    group = sorted(store.people_linked_to([link.sf_id])) if link and link.sf_id else map_ids
    group_people = list(store.people(group).values()) or people
    touches_by = store.touches_of(group)
    touches = sorted({t.touch_id: t for ts in touches_by.values() for t in ts}.values(),
                     key=lambda t: t.order_key)
    events = sorted({e for es in store.cycle_events(group).values() for e in es})
    programs = store.programs()
    sources = compute_source_fields(group_people, touches, programs, events,
                                    mappings.channels)
    cycles = build_cycles([t for t in touches if t.is_response], events)
    out: dict[str, Any] = {
        "people": [
            {"map_id": p.map_id, "email": p.email, "email_valid": p.email_valid,
             "email_problem": p.email_problem, "name": " ".join(
                 x for x in (p.first_name, p.last_name) if x) or None,
             "company": p.company, "source": p.source,
             "created_at": p.created_at.isoformat() if p.created_at else None}
            for p in group_people],
        "match": None,
        "sources": list(sources.explanation),
        "cycles": [
            {"number": c.number, "opened_at": c.opened_at.isoformat(),
             "first_response": c.first_response.touch_id, "responses": len(c.responses),
             "closed_at": c.closed_at.isoformat() if c.closed_at else None,
             "close_reason": c.close_reason} for c in cycles],
        "touches": [
            {"touch_id": t.touch_id, "occurred_at": t.occurred_at.isoformat(),
             "type": t.touch_type, "response": t.is_response, "program_id": t.program_id,
             "program": programs[t.program_id].name if t.program_id in programs else None,
             "channel": t.channel, "channel_rule": t.channel_rule} for t in touches],
        "fields": [],
        "members": [],
    }
    if link is None:
        out["match"] = {"rule": "unmatched",
                        "detail": "no Salesforce record is linked yet (see the last sync's "
                                  "findings: missing_in_salesforce)"}
        return out
    out["match"] = {"sobject": link.sobject, "sf_id": link.sf_id, "rule": link.rule,
                    "detail": link.detail, "account_id": link.account_id,
                    "people_on_record": group}
    record = store.mirror_get(link.sobject, [link.sf_id]).get(link.sf_id)
    written = store.written(link.sobject, [link.sf_id]).get(link.sf_id, {})
    desired = source_values(sources)
    decls = mappings.fields.obj(link.sobject)
    for key, value in desired.items():
        decl = decls.fields.get(key)
        if decl is None:
            continue
        have = canonical(decl, record.fields.get(decl.api_name)) if record else None
        want = canonical(decl, value)
        decision = decide(decl, current=have, desired=want,
                          last_written=written.get(decl.api_name),
                          has_written=decl.api_name in written)
        out["fields"].append({
            "field": decl.api_name, "policy": decl.policy, "salesforce": have,
            "connector": want, "last_written": written.get(decl.api_name),
            "decision": "write" if decision.write else "keep", "why": decision.reason,
        })
    for pid, state in sorted(member_states(touches, mappings, tz).items()):
        out["members"].append({
            "program_id": pid, "program": programs[pid].name if pid in programs else None,
            "status": state.status,
            "first_response_on": state.first_response_on.isoformat()
            if state.first_response_on else None, "touches": state.touches})
    return out


def mirror_age(store: StateStore) -> str | None:
    stamps = [store.watermark("salesforce", obj) for obj in ("Lead", "Contact")]
    known = [datetime.fromisoformat(s) for s in stamps if s]
    return max(known).isoformat() if known else None
