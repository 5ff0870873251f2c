"""Building canonical touches the same way for every source.

Channel resolution, response/conversion flags and the unknown-touch-type
rejection live here once, so files, Marketo and HubSpot cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from functools import cache
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlsplit

from pydantic import BaseModel, ValidationError

from connector.mappings import Mappings
from connector.models import Origin, Program, Rejection, Touch
from connector.normalize import ChannelResolver

UTM_KEYS = ("utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term")
M = TypeVar("M", bound=BaseModel)
_set = object.__setattr__


@cache
def _field_names(model: type[BaseModel]) -> tuple[str, ...]:
    """The model's fields, checked to be plain: no aliases, no post-init hook, no
    extra fields, so an instance is exactly its ``__dict__`` of field values."""
    if model.__pydantic_post_init__ or model.__pydantic_root_model__ or \
            model.model_config.get("extra") == "allow" or \
            any(f.alias or f.validation_alias for f in model.__pydantic_fields__.values()):
        raise TypeError(f"{model.__name__} cannot be built from trusted values")
    return tuple(model.__pydantic_fields__)


def trusted(model: type[M], fields: dict[str, Any]) -> M:
    """``model`` from ``fields`` that are already exactly what validation would
    produce (every field, in declaration order, of the validated types), without
    validating them again: what ``model_construct`` does, minus its per-field
    alias handling, which dominates its cost. Callers check the values first and
    validate anything else; tests compare the results with validated models."""
    if tuple(fields) != _field_names(model):
        raise TypeError(f"{model.__name__} needs exactly its fields, in order")
    instance = model.__new__(model)
    _set(instance, "__dict__", fields)
    _set(instance, "__pydantic_fields_set__", set(fields))
    _set(instance, "__pydantic_extra__", None)
    _set(instance, "__pydantic_private__", None)
    return instance


def _texts_or_none(*values: Any) -> bool:
    # a loop, not all(<generator>): this runs once per touch
    for value in values:  # noqa: SIM110
        if value is not None and type(value) is not str:
            return False
    return True


def _is_plain_touch(f: dict[str, Any]) -> bool:
    """True when validating ``f`` as a ``Touch`` would return every value as is
    (the touch's times already aware UTC, its texts plain ``str``)."""
    extra = f["extra"]
    occurred_at = f["occurred_at"]
    origin = f["origin"]
    return (type(f["touch_id"]) is str and f["touch_id"] != ""
            and type(f["map_id"]) is str and f["map_id"] != ""
            and type(f["touch_type"]) is str
            and type(occurred_at) is datetime and occurred_at.tzinfo is UTC
            and _texts_or_none(f["program_id"], f["url"], f["referrer"], f["utm_source"],
                               f["utm_medium"], f["utm_campaign"], f["utm_content"],
                               f["utm_term"])
            and type(f["channel"]) is str and type(f["channel_rule"]) is str
            and type(f["is_response"]) is bool and type(f["is_conversion"]) is bool
            and type(extra) is dict and (not extra or all(type(k) is str for k in extra))
            and (origin is None or type(origin) is Origin))


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
        self._channels = ChannelResolver(mappings.channels, mappings.touches)

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
        decl = self._mappings.touches.touch_types.get(touch_type)
        if decl is None:
            return Rejection(
                kind="touch", record_id=touch_id or None,
                file=origin.file if origin else None, row=origin.row if origin else None,
                field="touch_type", value=touch_type,
                message=f"unknown touch type {touch_type!r}; allowed: {self._allowed} "
                        "(add it to touches.yaml and replay)",
                raw=dict(raw) if raw is not None else {})
        utm = utms if utms is not None else {}
        utm_medium = utm.get("utm_medium")
        utm_source = utm.get("utm_source")
        program = self.program(program_id)
        channel, rule = self._channels.resolve(
            program_channel=program.channel if program else None,
            utm_medium=utm_medium, utm_source=utm_source,
            referrer=referrer, touch_type=touch_type)
        fields: dict[str, Any] = {
            "touch_id": touch_id, "map_id": map_id, "program_id": program_id or None,
            "touch_type": touch_type, "occurred_at": occurred_at, "url": url or None,
            "referrer": referrer or None, "utm_source": utm_source or None,
            "utm_medium": utm_medium or None, "utm_campaign": utm.get("utm_campaign") or None,
            "utm_content": utm.get("utm_content") or None,
            "utm_term": utm.get("utm_term") or None, "channel": channel, "channel_rule": rule,
            "is_response": decl.response, "is_conversion": decl.conversion,
            "extra": extra or {}, "origin": origin}
        if _is_plain_touch(fields):
            fields["extra"] = dict(fields["extra"])  # validation would copy it too
            return trusted(Touch, fields)
        try:
            return Touch(**fields)
        except ValidationError as exc:
            field_name, message = validation_message(exc)
            return Rejection(kind="touch", record_id=touch_id or None,
                             file=origin.file if origin else None,
                             row=origin.row if origin else None, field=field_name,
                             message=message, raw=dict(raw) if raw is not None else {})
