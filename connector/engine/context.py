"""The plain values an engine decides from: one Salesforce person record and
everything known about the MAP people behind it (filled by ``run.gather``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from connector.models import Person
from connector.values import MirrorRow, TouchLike


@dataclass(slots=True)
class Target:
    """One Salesforce person record and every MAP person behind it (a run holds
    one per person in scope: slots and a shared empty set keep that small)."""

    key: str                      # sf id, or "new:<primary map id>"
    sobject: str                  # Lead | Contact
    sf_id: str | None
    map_ids: list[str]
    ref: str = ""
    converted_from: frozenset[str] = frozenset()
    # create_leads: mql -- create only once the person reached MQL
    require_mql: bool = False
    map_mql: bool = False  # the MAP's own stage says MQL or later


@dataclass(frozen=True)
class PersonContext:
    """Plain values about one Salesforce person record, as of a moment."""

    target: Target
    people: tuple[Person, ...]
    touches: tuple[TouchLike, ...]                  # by time, then touch id; no repeats
    record: MirrorRow | None                        # None for a Lead still to create
    written: Mapping[str, Any]                      # what the connector last wrote
    person_events: tuple[tuple[datetime, str], ...]  # cycle closes kept per person
    # Salesforce record id -> its observed Lead Status history (the record and
    # the Leads converted into it)
    record_history: Mapping[str, tuple[tuple[datetime, str], ...]]
    converted_from: frozenset[str]                  # Leads converted into this Contact
    members: Mapping[str, MirrorRow]                # campaign id -> its member row
    converted_leads: tuple[MirrorRow, ...] = ()     # mirror rows of those Leads
    # (contact role, its opportunity) for every role of this Contact
    roles: tuple[tuple[MirrorRow, MirrorRow], ...] = ()

    @property
    def map_ids(self) -> tuple[str, ...]:
        return tuple(self.target.map_ids)


@dataclass(frozen=True)
class AccountContext:
    """One Salesforce Account and the people matched to it, as plain values."""

    record: MirrorRow
    people: tuple[Person, ...]
    touches: Mapping[str, tuple[TouchLike, ...]]  # map id -> touches by time
    opportunities: tuple[MirrorRow, ...]        # the account's opportunities
    tier: str | None                            # from the MAP's target_accounts
    on_target_list: bool
    written: Mapping[str, Any]
