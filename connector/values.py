"""Plain value types shared by the engines, the planner, explain and the state
store: no behaviour and no I/O, so an engine can take them without importing the
store."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Link:
    """How a MAP person maps to a Salesforce record (and why)."""

    map_id: str
    sobject: str
    sf_id: str
    rule: str
    detail: dict[str, Any]
    account_id: str | None = None


@dataclass(frozen=True)
class MirrorRow:
    """The connector's copy of the fields it reads from one Salesforce record."""

    sobject: str
    id: str
    fields: dict[str, Any]
    email: str | None = None
    map_key: str | None = None
    parent_id: str | None = None
    lead_id: str | None = None
    contact_id: str | None = None
    created_date: str | None = None
    modstamp: str | None = None
    is_deleted: bool = False


__all__ = ["Link", "MirrorRow"]
