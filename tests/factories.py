"""Small builders for canonical records in tests (real mappings, real channel rules)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from connector.mappings import Mappings, load_mappings
from connector.models import Person, Program, Touch
from connector.normalize import normalize_email, resolve_channel

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


@cache
def mappings() -> Mappings:
    return load_mappings()


def person(map_id: str = "M-1", email: str | None = "ada@acme.com", **kw: Any) -> Person:
    normalized, valid, problem = normalize_email(email)
    kw.setdefault("created_at", T0 - timedelta(days=30))
    return Person(map_id=map_id, email=normalized, email_valid=valid, email_problem=problem,
                  **kw)


def program(program_id: str = "P-1", channel: str | None = "Webinar", **kw: Any) -> Program:
    canonical = mappings().channels.canonical(channel) if channel else None
    kw.setdefault("name", f"Program {program_id}")
    return Program(program_id=program_id, channel=canonical, channel_raw=channel, **kw)


def touch(touch_id: str, at: datetime | int, touch_type: str = "form_fill", *,
          map_id: str = "M-1", program: Program | None = None, **kw: Any) -> Touch:
    m = mappings()
    occurred = T0 + timedelta(days=at) if isinstance(at, int) else at
    channel, rule = resolve_channel(
        m.channels, m.touches, program_channel=program.channel if program else None,
        utm_medium=kw.get("utm_medium"), utm_source=kw.get("utm_source"),
        referrer=kw.get("referrer"), touch_type=touch_type)
    decl = m.touches.touch_types[touch_type]
    return Touch(touch_id=touch_id, map_id=map_id,
                 program_id=program.program_id if program else kw.pop("program_id", None),
                 touch_type=touch_type, occurred_at=occurred, channel=channel,
                 channel_rule=rule, is_response=decl.response, is_conversion=decl.conversion,
                 **kw)
