"""``connector explain person``: why a person looks the way they do in Salesforce.

Answers from the local state (the ledger, the links and the mirror), so it
spends no API calls and works while the org is unreachable. It calls the sync's
own gather (``run.gather``) and engines, so it shows what a sync computes for
the given ``--as-of``: which rule picked
the Salesforce record and which other candidates there were, the account
match, every touch with the rule that gave its channel, the funnel cycles,
and per connector-owned field what Salesforce holds, what the connector wants
and what its write policy decides.
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from typing import Any

from connector.audit.problems import person_problems
from connector.engine.campaigns import member_states
from connector.engine.context import Target
from connector.engine.cycles import build_cycles
from connector.engine.identity import primary_person
from connector.engine.person import desired_person
from connector.engine.policies import FieldDecision
from connector.engine.score_json import (
    account_scores_json,
    lifecycle_json,
    person_scores_json,
)
from connector.errors import ConfigError
from connector.mappings import Mappings
from connector.models import Person
from connector.plan.model import diff_record
from connector.run.gather import gather_targets
from connector.state.store import StateStore
from connector.values import Link


def find_people(store: StateStore, key: str) -> list[Person]:
    """By MAP id, else by email (several MAP people may share one)."""
    found = store.people([key])
    if found:
        return list(found.values())
    by_email = store.people_by_email([key.strip().lower()])
    return list(store.people(by_email.get(key.strip().lower(), [])).values())


def _campaigns(store: StateStore) -> dict[str, tuple[str, str]]:
    """Program id -> ("id", campaign id) for the campaigns the mirror knows."""
    return {row.map_key: ("id", row.id) for row in store.mirror_all("Campaign")
            if row.map_key}


def _target(store: StateStore, people: list[Person]) -> tuple[Target, Link | None]:
    """The Salesforce record the sync plans for these people, and their link."""
    map_ids = [p.map_id for p in people]
    links = store.links(map_ids)
    link = next((links[m] for m in map_ids if m in links and links[m].sf_id), None)
    if link is None:
        primary = primary_person(people)
        return Target(f"new:{primary.map_id}", "Lead", None, sorted(map_ids),
                      ref=f"Lead:{primary.map_id}"), None
    group = sorted(store.people_linked_to([link.sf_id])) or sorted(map_ids)
    return Target(link.sf_id, link.sobject, link.sf_id, group), link


def explain_person(store: StateStore, mappings: Mappings, key: str, *,
                   tz: tzinfo, as_of: datetime | None = None) -> dict[str, Any]:
    """The sync's own gather and engines for one person, with every decision."""
    people = find_people(store, key)
    problems = person_problems(store, key)
    if not people:
        if problems:  # the MAP row was rejected, or its write failed: say why
            return {"as_of": (as_of or datetime.now(UTC)).isoformat(), "people": [],
                    "match": {"rule": "not in the ledger",
                              "detail": "the MAP rows for this person were rejected or "
                                        "could not be written; see problems"},
                    "problems": problems, "sources": [], "cycles": [], "close_events": [],
                    "touches": [], "fields": [], "members": []}
        raise ConfigError(f"no MAP person with id or email {key!r} in the ledger",
                          hint="run `connector sync` first, or check the spelling")
    as_of = as_of or datetime.now(UTC)
    target, link = _target(store, people)
    contexts = gather_targets(store, [target])
    if not contexts:
        raise ConfigError(f"the ledger has no MAP person behind {key!r}")
    ctx = contexts[0]
    programs = store.programs()
    campaigns = _campaigns(store)
    primary = primary_person(list(ctx.people))
    want = desired_person(ctx, programs, campaigns, mappings, primary.map_id, as_of)
    sources = want.sources
    touches = list(ctx.touches)
    cycles = build_cycles([t for t in touches if t.is_response], list(want.close_events))
    out: dict[str, Any] = {
        "as_of": as_of.isoformat(),
        "people": [
            {"map_id": p.map_id, "email": p.email, "email_valid": p.email_valid,
             "email_problem": p.email_problem, "name": " ".join(
                 x for x in (p.first_name, p.last_name) if x) or None,
             "company": p.company, "source": p.source,
             "created_at": p.created_at.isoformat() if p.created_at else None}
            for p in ctx.people],
        "match": None,
        "sources": list(sources.explanation),
        "cycles": [
            {"number": c.number, "opened_at": c.opened_at.isoformat(),
             "first_response": c.first_response.touch_id, "responses": len(c.responses),
             "closed_at": c.closed_at.isoformat() if c.closed_at else None,
             "close_reason": c.close_reason} for c in cycles],
        "close_events": [{"at": at.isoformat(), "reason": why}
                         for at, why in want.close_events],
        "touches": [
            {"touch_id": t.touch_id, "occurred_at": t.occurred_at.isoformat(),
             "type": t.touch_type, "response": t.is_response, "program_id": t.program_id,
             "program": programs[t.program_id].name if t.program_id in programs else None,
             "channel": t.channel, "channel_rule": t.channel_rule} for t in touches],
        "fields": [],
        "members": [],
        "problems": problems,
    }
    if link is None:
        out["match"] = {"rule": "unmatched",
                        "detail": "no Salesforce record is linked yet: " + (
                            "a write failed (see problems)" if problems else
                            "see `connector audit` (missing_in_salesforce)")}
    else:
        out["match"] = {"sobject": link.sobject, "sf_id": link.sf_id, "rule": link.rule,
                        "detail": link.detail, "account_id": link.account_id,
                        "people_on_record": list(ctx.map_ids),
                        "converted_from": sorted(ctx.converted_from)}
    decls = mappings.fields.obj(target.sobject)
    decisions: dict[str, tuple[Any, Any, FieldDecision | None]] = {}
    record = ctx.record
    diff_record(decls, want.values, record.fields if record else None, ctx.written,
                new_cycle=want.new_cycle, skip=want.skip, decisions=decisions)
    for field_key, (have, wanted, decision) in decisions.items():
        decl = decls.fields[field_key]
        if decision is None:
            verdict, why = ("write", "new record") if record is None and wanted is not None \
                else ("keep", "kept with the original source channel it belongs to"
                      if field_key in want.skip else "blank")
        else:
            verdict, why = ("write" if decision.write else "keep"), decision.reason
        out["fields"].append({
            "field": decl.api_name, "key": field_key, "policy": decl.policy,
            "salesforce": have, "connector": wanted,
            "last_written": ctx.written.get(decl.api_name),
            "decision": verdict, "why": why,
        })
    for api_name, ref in sorted(want.depends.items()):
        out["fields"].append({"field": api_name, "key": api_name, "policy": "always",
                              "salesforce": None, "connector": ref, "last_written": None,
                              "decision": "write", "why": "campaign created in the next run"})
    if want.stages is not None:
        out["scores"] = person_scores_json(want.stages.scores)
        out["lifecycle"] = lifecycle_json(want.stages.life)
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


def explain_account(store: StateStore, mappings: Mappings, key: str, *,
                    as_of: datetime | None = None) -> dict[str, Any]:
    """Account fit, engagement, buying stage and the people and rules behind them,
    by the sync's own gather and engine (no API calls)."""
    from connector.engine.account_values import desired_account
    from connector.engine.domains import registered_domain
    from connector.run.gather import gather_accounts
    from connector.sfid import to18

    as_of = as_of or datetime.now(UTC)
    ids: list[str] = []
    try:
        ids = [to18(key)]
    except ValueError:
        domain = registered_domain(key) or key.strip().lower()
        ids = sorted(r.id for r in store.mirror_all("Account")
                     if r.map_key and (registered_domain(r.map_key) or r.map_key) == domain)
    contexts = gather_accounts(store, ids)
    if not contexts:
        raise ConfigError(f"no Account {key!r} in the mirror",
                          hint="give an Account id or a website domain; run `connector sync` "
                               "first")
    ctx = contexts[0]
    want = desired_account(ctx, mappings, as_of)
    if want is None:
        raise ConfigError("the mappings have no scoring.yaml: account scores are off")
    data = account_scores_json(want.scores)
    return {"as_of": as_of.isoformat(), "account_id": ctx.record.id,
            "name": ctx.record.fields.get("Name"), "website": ctx.record.fields.get("Website"),
            "target_list": ctx.on_target_list, "tier": ctx.tier, **data,
            "people": [p.map_id for p in ctx.people],
            "other_accounts_with_this_domain": [i for i in ids if i != ctx.record.id]}
