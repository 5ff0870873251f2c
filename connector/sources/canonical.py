"""Building canonical touches the same way for every source.

Channel resolution, response/conversion flags and the unknown-touch-type
rejection live here once, so files, Marketo and HubSpot cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

from pydantic import ValidationError

from connector.mappings import Mappings
from connector.models import Origin, Program, Rejection, Touch
from connector.normalize import resolve_channel

UTM_KEYS = ("utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term")


def utms_from_query(query: str | None) -> dict[str, str]:
    """UTM parameters of a query string (with or without the leading '?')."""
    if not query:
        return {}
    parsed = parse_qs(query.lstrip("?"), keep_blank_values=False)
    return {k: v[0] for k, v in parsed.items() if k in UTM_KEYS and v and v[0]}


def utms_from_url(url: str | None) -> dict[str, str]:
    """UTM parameters carried in a URL's query string."""
    if not url:
        return {}
    try:
        return utms_from_query(urlsplit(url).query)
    except ValueError:
        return {}


def validation_message(exc: ValidationError) -> tuple[str | None, str]:
    """The first failing field and a readable message from a pydantic error."""
    first = exc.errors()[0]
    loc = ".".join(str(p) for p in first["loc"]) or None
    return loc, "; ".join(
        f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())


class TouchFactory:
    """Turns source-neutral touch fields into a ``Touch`` or a ``Rejection``.

    Programs read in this run win over ``known_programs`` (from the ledger) when
    a touch's channel is resolved by its program."""

    def __init__(self, mappings: Mappings, known_programs: Mapping[str, Program]) -> None:
        self._mappings = mappings
        self._known = known_programs
        self._current: dict[str, Program] = {}
        self._allowed = ", ".join(sorted(mappings.touches.touch_types))

    def add_program(self, program: Program) -> None:
        self._current[program.program_id] = program

    def program(self, program_id: str | None) -> Program | None:
        if not program_id:
            return None
        return self._current.get(program_id) or self._known.get(program_id)

    def build(
        self,
        *,
        touch_id: str,
        map_id: str,
        touch_type: str,
        occurred_at: datetime,
        program_id: str | None = None,
        url: str | None = None,
        referrer: str | None = None,
        utms: Mapping[str, str | None] | None = None,
        extra: dict[str, Any] | None = None,
        origin: Origin | None = None,
        raw: Mapping[str, Any] | None = None,
    ) -> Touch | Rejection:
        """A touch, or a rejection naming the field when the record cannot be one."""
        where_file = origin.file if origin else None
        where_row = origin.row if origin else None
        raw_dict = dict(raw) if raw is not None else {}
        decl = self._mappings.touches.touch_types.get(touch_type)
        if decl is None:
            return Rejection(
                kind="touch", record_id=touch_id or None, file=where_file, row=where_row,
                field="touch_type", value=touch_type,
                message=f"unknown touch type {touch_type!r}; allowed: {self._allowed} "
                        "(add it to touches.yaml and replay)",
                raw=raw_dict)
        utm = dict(utms or {})
        program = self.program(program_id)
        channel, rule = resolve_channel(
            self._mappings.channels, self._mappings.touches,
            program_channel=program.channel if program else None,
            utm_medium=utm.get("utm_medium"), utm_source=utm.get("utm_source"),
            referrer=referrer, touch_type=touch_type)
        try:
            return Touch(
                touch_id=touch_id, map_id=map_id, program_id=program_id or None,
                touch_type=touch_type, occurred_at=occurred_at, url=url or None,
                referrer=referrer or None,
                utm_source=utm.get("utm_source") or None,
                utm_medium=utm.get("utm_medium") or None,
                utm_campaign=utm.get("utm_campaign") or None,
                utm_content=utm.get("utm_content") or None,
                utm_term=utm.get("utm_term") or None,
                channel=channel, channel_rule=rule,
                is_response=decl.response, is_conversion=decl.conversion,
                extra=extra or {}, origin=origin)
        except ValidationError as exc:
            field_name, message = validation_message(exc)
            return Rejection(kind="touch", record_id=touch_id or None, file=where_file,
                             row=where_row, field=field_name, message=message, raw=raw_dict)
