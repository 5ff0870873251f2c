"""The history a model learns from: people, their touches, and when each reached the target.

Two sources (``connector.learn.sources``) give the same shape:

- the state database (what ``connector sync`` left): the ledger's people and
  touches, and the mirror of Opportunity and OpportunityContactRole joined to
  people through their links (a person linked to a Contact that holds a
  contact role on an opportunity reached ``opportunity`` at the role's or the
  opportunity's creation, whichever is later known, and ``won`` at its
  CloseDate when the opportunity is won);
- a generated world (``connector generate-data``): the MAP export read with
  the file source, and the Salesforce seed's opportunities and contact roles
  joined to MAP people by email, so the demo and tests need no org history.

Accounts: a person's account is the link's account (state database) or the
account of the Contact with the person's email, else the Account whose
website's registered domain is the person's email domain (generated data).
An account reached ``opportunity`` when any opportunity on it was created, and
``won`` at the CloseDate of a won one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any, Literal

from connector.engine.accounts import AccountProfile
from connector.models import Person, Touch

Target = Literal["opportunity", "won"]


@dataclass(frozen=True, slots=True)
class Reached:
    """One opportunity a person is a contact role on."""

    opportunity_at: datetime
    won_at: datetime | None  # CloseDate of a won opportunity


@dataclass(slots=True)
class History:
    """An in-memory history (tests and small worlds); the loaders in
    ``connector.learn.sources`` stream into a compact ``Ledger`` instead."""

    people: dict[str, Person]
    touches: dict[str, list[Touch]]
    reached: dict[str, list[Reached]] = field(default_factory=dict)
    source: str = ""
    account_of: dict[str, str] = field(default_factory=dict)  # map id -> account id
    accounts: dict[str, AccountProfile] = field(default_factory=dict)
    account_reached: dict[str, list[Reached]] = field(default_factory=dict)

    def target_at(self, map_id: str, target: Target) -> datetime | None:
        """When the person first reached the target, or None."""
        moments = [r.opportunity_at if target == "opportunity" else r.won_at
                   for r in self.reached.get(map_id, ())]
        known = [m for m in moments if m is not None]
        return min(known) if known else None

    @property
    def latest(self) -> datetime | None:
        """The last moment the history knows of (the default end of the test period)."""
        stamps = [t[-1].occurred_at for t in self.touches.values() if t]
        stamps += [r.opportunity_at for rs in self.reached.values() for r in rs]
        return max(stamps) if stamps else None


def moment(value: Any) -> datetime | None:
    """A Salesforce date or datetime -> an aware UTC datetime (dates at midnight UTC)."""
    if value in (None, ""):
        return None
    text = str(value)
    if len(text) == 10:
        return datetime.combine(date.fromisoformat(text), time(), tzinfo=UTC)
    at = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return at.astimezone(UTC)


def reached_of(opportunity: Mapping[str, Any], role_created: Any) -> Reached | None:
    created = moment(opportunity.get("CreatedDate"))
    role_at = moment(role_created)
    at = max(m for m in (created, role_at) if m is not None) if (created or role_at) else None
    if at is None:
        return None
    won = opportunity.get("IsWon") is True or opportunity.get("StageName") == "Closed Won"
    return Reached(at, moment(opportunity.get("CloseDate")) if won else None)
