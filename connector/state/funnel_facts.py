"""The funnel facts a sync computes, kept in the state database for the funnel report.

A sync already replays every planned person's lifecycle (stage dates per funnel
cycle, inferred flags) and every planned account's scores (target, engaged
date). Keeping those facts as rows lets ``connector report funnel`` be a few
set-based SQL queries over the state database instead of replaying a million
people again. A person's rows are replaced as a whole each time the person is
planned, so a recomputed cycle never leaves stale stages behind.

Besides the person's own stages, the facts keep each meaningful engagement of
the person (a pricing page, a demo request, a meeting: the account scores'
``meaningful_engagement`` rules) as an ``Engaged`` fact, any number per cycle,
in ``funnel_engagements``: the account funnel needs every one of them, since an
account that closed a deal re-enters at its next meaningful engagement
(``connector.engine.account_cycles``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from connector.engine.lifecycle import Lifecycle
    from connector.mappings import Mappings
    from connector.source_fields import SourceFields
    from connector.state.store import StateStore
    from connector.values import TouchLike

CHUNK = 500
ENGAGED = "Engaged"


def iso(moment: datetime) -> str:
    """The one text form of a moment in the facts: UTC, microseconds; sorts as time."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


@dataclass(frozen=True)
class StageFact:
    """One stage a person entered in one funnel cycle; or, with ``stage`` ENGAGED,
    one meaningful engagement of the person (the cycle it fell in, 0 before any)."""

    map_id: str
    cycle: int
    stage: str                      # Inquiry, MQL, SAL, SQL, Opportunity, Customer
    at: datetime
    inferred: bool
    closed_at: datetime | None      # the cycle's close (a recycle), if any
    channel: str | None             # first touch of the cycle
    program_id: str | None
    source_channel: str | None      # the person's original source
    source_program_id: str | None

    def row(self) -> tuple[Any, ...]:
        return (self.map_id, self.cycle, self.stage, iso(self.at), int(self.inferred),
                iso(self.closed_at) if self.closed_at else None, self.channel,
                self.program_id, self.source_channel, self.source_program_id)


@dataclass(frozen=True)
class AccountFact:
    account_id: str
    target: bool
    target_at: datetime | None      # when the connector first saw it as a target
    engaged_at: datetime | None


def stage_facts(map_id: str, life: Lifecycle, sources: SourceFields,
                touches: Sequence[TouchLike], mappings: Mappings | None = None) -> list[StageFact]:
    """The facts of one person from the lifecycle the sync computed for them, and
    (with ``mappings``) the person's meaningful engagements."""
    by_id = {t.touch_id: t for t in touches}
    earliest = min(touches, key=lambda t: t.order_key, default=None)
    out = []
    for cycle in life.cycles:
        first = by_id.get(cycle.first_touch_id)
        for stage, at in cycle.dates.items():
            out.append(StageFact(
                map_id, cycle.number, stage, at, stage in cycle.inferred, cycle.closed_at,
                first.channel if first else None, first.program_id if first else None,
                sources.original_source, earliest.program_id if earliest else None))
    rules = mappings.scoring.accounts.meaningful_engagement \
        if mappings is not None and mappings.scoring is not None else ()
    seen: set[datetime] = set()
    for t in sorted(touches, key=lambda t: t.order_key):
        if t.occurred_at in seen or not any(
                r.matches(t.touch_type, t.channel, t.url) for r in rules):
            continue
        seen.add(t.occurred_at)
        number = max((c.number for c in life.cycles if c.opened_at <= t.occurred_at),
                     default=0)
        out.append(StageFact(map_id, number, ENGAGED, t.occurred_at, False, None, t.channel,
                             t.program_id, sources.original_source, None))
    return out


def set_person_stages(store: StateStore, facts: Mapping[str, Sequence[StageFact]]) -> None:
    """Replace the stage and engagement rows of these people (an empty list
    deletes theirs)."""
    ids = list(facts)
    for start in range(0, len(ids), CHUNK):
        part = ids[start:start + CHUNK]
        marks = ','.join('?' * len(part))
        store.db.execute(f"DELETE FROM funnel_stages WHERE map_id IN ({marks})", part)
        store.db.execute(f"DELETE FROM funnel_engagements WHERE map_id IN ({marks})", part)
    store.db.executemany(
        "INSERT INTO funnel_stages (map_id, cycle, stage, at, inferred, closed_at, channel, "
        "program_id, source_channel, source_program_id) VALUES (?,?,?,?,?,?,?,?,?,?)",
        [f.row() for rows in facts.values() for f in rows if f.stage != ENGAGED])
    store.db.executemany(
        "INSERT OR IGNORE INTO funnel_engagements (map_id, at, cycle, channel) "
        "VALUES (?,?,?,?)",
        [(f.map_id, iso(f.at), f.cycle, f.channel)
         for rows in facts.values() for f in rows if f.stage == ENGAGED])


def set_accounts(store: StateStore, facts: Iterable[AccountFact]) -> None:
    """Upsert accounts; the first moment an account was seen as a target is kept."""
    store.db.executemany(
        "INSERT INTO funnel_accounts (account_id, target, target_at, engaged_at) "
        "VALUES (?,?,?,?) ON CONFLICT(account_id) DO UPDATE SET "
        "target = excluded.target, engaged_at = excluded.engaged_at, "
        "target_at = CASE WHEN excluded.target = 0 THEN NULL "
        "ELSE COALESCE(funnel_accounts.target_at, excluded.target_at) END",
        [(f.account_id, int(f.target),
          iso(f.target_at) if f.target and f.target_at else None,
          iso(f.engaged_at) if f.engaged_at else None) for f in facts])
