"""One person's rejected rows and failed writes, with their reasons.

For ``connector explain person``: a person whose MAP row was rejected is not
in the ledger (so explain finds "no MAP person"), and a person whose write
failed is not "missing in Salesforce" but waiting for a retry. This names both
from the dead letters, matched by MAP id, email, or a failed write carrying
the person among its MAP ids.
"""

from __future__ import annotations

from typing import Any

from connector.state.dead_letters import DeadLetterKind
from connector.state.store import DeadLetter, StateStore

from . import rules


def _concerns(dead: DeadLetter, key: str) -> bool:
    low = key.strip().lower()
    if (dead.map_id or "").lower() == low:
        return True
    payload = dead.payload
    if dead.kind == DeadLetterKind.REJECTED_INPUT:
        raw = payload.get("raw") or {}
        return low in {str(payload.get("record_id") or "").lower(),
                       str(raw.get("map_id") or "").lower(),
                       str(raw.get("email") or "").strip().lower()}
    return low in {str(m).lower() for m in payload.get("map_ids") or []}


def person_problems(store: StateStore, key: str) -> list[dict[str, Any]]:
    """Open rejected rows and failed writes of the person named by ``key`` (MAP id
    or email), each with what to do."""
    found = [d for d in store.dead_letters() if _concerns(d, key)]
    failures = rules.failed_writes(rules.WriteFailure(
        d.sobject, d.ref, d.map_id, d.payload.get("record_id"), d.error_code, d.message,
        tuple(d.payload.get("error_fields") or ()), d.attempts, d.created_at)
        for d in found if d.kind == DeadLetterKind.FAILED_WRITE)
    rejected = rules.rejected_inputs(rules.RejectedRow(
        str(d.payload.get("kind") or "row"), d.file, d.row, d.field, d.payload.get("value"),
        d.message, d.payload.get("record_id"))
        for d in found if d.kind == DeadLetterKind.REJECTED_INPUT)
    return [f.as_dict() for f in (*rejected, *failures)]
