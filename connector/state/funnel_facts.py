"""The funnel facts a sync computes, kept in the state database for the funnel report.

A sync already replays every planned person's lifecycle (stage dates per funnel
cycle, inferred flags) and every planned account's scores (target, engaged
date). Keeping those facts as rows lets ``connector report funnel`` be a few
set-based SQL queries over the state database instead of replaying a million
people again. A person's rows are replaced as a whole each time the person is
planned, so a recomputed cycle never leaves stale stages behind.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from connector.engine.lifecycle import Lifecycle
    from connector.models import Touch
    from connector.source_fields import SourceFields
    from connector.state.store import StateStore

CHUNK = 500


def iso(moment: datetime) -> str:
    """The one text form of a moment in the facts: UTC, microseconds; sorts as time."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


@dataclass(frozen=True)
class StageFact:
    """One stage a person entered in one funnel cycle."""

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
                touches: Sequence[Touch]) -> list[StageFact]:
    """The facts of one person from the lifecycle the sync computed for them."""
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
    return out


def set_person_stages(store: StateStore, facts: Mapping[str, Sequence[StageFact]]) -> None:
    """Replace the stage rows of these people (an empty list deletes theirs)."""
    ids = list(facts)
    for start in range(0, len(ids), CHUNK):
        part = ids[start:start + CHUNK]
        store.db.execute(f"DELETE FROM funnel_stages WHERE map_id IN "
                         f"({','.join('?' * len(part))})", part)
    store.db.executemany(
        "INSERT INTO funnel_stages (map_id, cycle, stage, at, inferred, closed_at, channel, "
        "program_id, source_channel, source_program_id) VALUES (?,?,?,?,?,?,?,?,?,?)",
        [f.row() for rows in facts.values() for f in rows])


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
