"""Original source, first touch and last touch: three different questions.

* Original source: how did we first ever get this person? The channel, a detail
  and the date of the earliest known touch of any kind; without any touch, the
  source the MAP recorded at creation. Written once (policy ``write_once``).
* First touch: what started the current buying journey? The first response of
  the current funnel cycle (see ``cycles``).
* Last touch: the most recent response, any cycle.

Pure: everything comes in as arguments, a ``SourceFields`` value comes out,
with an explanation an admin can read in ``connector explain person``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlsplit

from connector.engine.cycles import Cycle, build_cycles
from connector.mappings import ChannelsMapping
from connector.models import Person, Program
from connector.values import TouchLike


@dataclass(frozen=True)
class TouchRef:
    touch_id: str
    program_id: str | None
    channel: str
    occurred_at: datetime
    touch_type: str

    @classmethod
    def of(cls, touch: TouchLike) -> TouchRef:
        return cls(touch.touch_id, touch.program_id, touch.channel, touch.occurred_at,
                   touch.touch_type)


@dataclass(frozen=True)
class SourceFields:
    original_source: str | None = None
    original_source_detail: str | None = None
    original_source_date: datetime | None = None
    original_source_basis: str = "none"
    first_touch: TouchRef | None = None
    last_touch: TouchRef | None = None
    cycle: int | None = None
    cycle_open: bool = False
    explanation: tuple[str, ...] = field(default_factory=tuple)


def _host(url: str | None) -> str | None:
    if not url:
        return None
    try:
        return urlsplit(url if "://" in url else "//" + url).hostname
    except ValueError:
        return None


def touch_detail(touch: TouchLike, programs: Mapping[str, Program]) -> str:
    """The detail beside a channel: UTM source or program name, else what else is known."""
    program = programs.get(touch.program_id) if touch.program_id else None
    parts = []
    if program and program.name:
        parts.append(program.name)
    if touch.utm_source:
        parts.append(f"utm_source={touch.utm_source}")
    if not parts:
        host = _host(touch.referrer)
        parts.append(f"referrer {host}" if host else touch.touch_type)
    return " | ".join(parts)


def compute_source_fields(
    people: Sequence[Person],
    touches: Sequence[TouchLike],
    programs: Mapping[str, Program],
    close_events: Sequence[tuple[datetime, str]],
    channels: ChannelsMapping,
) -> SourceFields:
    """Source fields for one Salesforce record, from every MAP person linked to it."""
    ordered = sorted(touches, key=lambda t: t.order_key)
    why: list[str] = []
    original: tuple[str | None, str | None, datetime | None, str]
    if ordered:
        first = ordered[0]
        original = (first.channel, touch_detail(first, programs), first.occurred_at,
                    f"touch {first.touch_id}")
        why.append(f"original source: earliest touch {first.touch_id} ({first.touch_type}, "
                   f"{first.occurred_at:%Y-%m-%d %H:%M} UTC) -> {first.channel} "
                   f"[{first.channel_rule}]")
    else:
        creators = sorted(people, key=lambda p: (p.created_at is None, p.created_at or
                                                 datetime.max, p.map_id))
        recorded = next((p for p in creators if p.source), None)
        if recorded is not None:
            channel = recorded.source_channel or channels.canonical(recorded.source)
            original = (channel, recorded.source_detail or recorded.source,
                        recorded.created_at, f"MAP source of {recorded.map_id}")
            why.append(f"original source: no touches; the MAP recorded source "
                       f"{recorded.source!r} -> {channel or 'no channel of the taxonomy'}")
            if channel is None:
                original = (None, None, None, "none")
        else:
            original = (None, None, None, "none")
            why.append("original source: no touches and no MAP source")

    responses = [t for t in ordered if t.is_response]
    cycles: list[Cycle] = build_cycles(responses, close_events)
    current = cycles[-1] if cycles else None
    first_touch = TouchRef.of(current.first_response) if current else None
    last_touch = TouchRef.of(responses[-1]) if responses else None
    if current:
        state = "open" if current.is_open else f"closed ({current.close_reason})"
        opener = current.first_response
        why.append(f"funnel cycle {current.number} ({state}) opened by {opener.touch_id} "
                   f"({opener.occurred_at:%Y-%m-%d}) -> first touch {opener.channel}")
    else:
        why.append("first touch: no responses yet")
    if last_touch:
        why.append(f"last touch: {last_touch.touch_id} ({last_touch.touch_type}, "
                   f"{last_touch.occurred_at:%Y-%m-%d})")
    return SourceFields(
        original_source=original[0],
        original_source_detail=original[1],
        original_source_date=original[2],
        original_source_basis=original[3],
        first_touch=first_touch,
        last_touch=last_touch,
        cycle=current.number if current else None,
        cycle_open=bool(current and current.is_open),
        explanation=tuple(why),
    )


def source_values(sources: SourceFields) -> dict[str, object]:
    """The person fields these values fill, by field key of ``fields.yaml``
    (campaign lookups excepted: they need the campaign's Salesforce id)."""
    first, last = sources.first_touch, sources.last_touch
    return {
        "original_source": sources.original_source,
        "original_source_detail": sources.original_source_detail,
        "original_source_date": sources.original_source_date,
        "first_touch_channel": first.channel if first else None,
        "first_touch_date": first.occurred_at if first else None,
        "last_touch_date": last.occurred_at if last else None,
        "funnel_cycle": sources.cycle,
    }
