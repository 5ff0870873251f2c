"""Funnel cycles: when a person's buying journey starts and ends.

A cycle opens with a response and stays open until a close event: a
Salesforce Lead status listed as a recycle status (observed when it changes),
or, once lifecycle scoring runs, the SLA expiring at MQL/SAL. The next response
after a close opens the next cycle; first touch and stage dates restart there,
original source never does. Close events are inputs, so new kinds of event
(the SLA) plug in without changing this module: ``connector.engine.lifecycle``
adds the SLA closes it computes and returns every close event, which
``compute_source_fields`` takes so first touch restarts with the cycle.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from connector.values import TouchLike

# A Lead Status the mirror saw (``record_events``), "status: Recycled"; state
# databases from before the status history hold "lead status Recycled" rows,
# each of which was already a close.
STATUS_OBSERVED = "status: "
LEGACY_CLOSE = "lead status "


def status_closes(history: Sequence[tuple[datetime, str]],
                  recycle_statuses: frozenset[str]) -> list[tuple[datetime, str]]:
    """Close events from one record's observed Status values: each time the
    status enters a recycle status (from another status, or first seen so)."""
    out: list[tuple[datetime, str]] = []
    previous: str | None = None
    for at, text in sorted(history):
        if text.startswith(LEGACY_CLOSE):
            out.append((at, text))
            previous = text[len(LEGACY_CLOSE):]
            continue
        if not text.startswith(STATUS_OBSERVED):
            continue
        status = text[len(STATUS_OBSERVED):]
        if status in recycle_statuses and (previous is None or
                                           previous not in recycle_statuses):
            out.append((at, f"lead status {status}"))
        previous = status
    return out


@dataclass
class Cycle:
    number: int
    opened_at: datetime
    responses: list[TouchLike] = field(default_factory=list)
    closed_at: datetime | None = None
    close_reason: str | None = None

    @property
    def first_response(self) -> TouchLike:
        return self.responses[0]

    @property
    def is_open(self) -> bool:
        return self.closed_at is None


def build_cycles(responses: Sequence[TouchLike],
                 close_events: Sequence[tuple[datetime, str]]) -> list[Cycle]:
    """Split a person's responses (any order) into cycles by close events.

    An event closes the cycle open at its time; events before any cycle, or a
    second event on an already closed cycle, change nothing. A response at the
    very instant of a close belongs to the next cycle.
    """
    ordered = sorted(responses, key=lambda t: t.order_key)
    events = sorted(close_events)
    cycles: list[Cycle] = []
    pending = 0

    def apply_events_until(moment: datetime | None) -> None:
        nonlocal pending
        while pending < len(events) and (moment is None or events[pending][0] <= moment):
            at, reason = events[pending]
            pending += 1
            current = cycles[-1] if cycles else None
            if current is not None and current.is_open and at >= current.opened_at:
                current.closed_at, current.close_reason = at, reason

    for touch in ordered:
        apply_events_until(touch.occurred_at)
        if not cycles or not cycles[-1].is_open:
            cycles.append(Cycle(number=len(cycles) + 1, opened_at=touch.occurred_at))
        cycles[-1].responses.append(touch)
    apply_events_until(None)
    return cycles
