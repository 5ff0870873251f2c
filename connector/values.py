"""Plain value types shared by the engines, the planner, explain and the state
store: no behaviour and no I/O, so an engine can take them without importing the
store."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, NamedTuple, Protocol


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


class FindingCategory(StrEnum):
    """What kind of problem a finding reports, shared by the sync's findings and
    the audit's (docs/interfaces.md lists them); in the order reports show them."""

    MISSING_IN_SALESFORCE = "missing_in_salesforce"
    MISSING_IN_MAP = "missing_in_map"
    FIELD_DRIFT = "field_drift"
    ORIGINAL_SOURCE_CONFLICT = "original_source_conflict"
    DUPLICATE = "duplicate"
    CAMPAIGN_MEMBER_GAP = "campaign_member_gap"
    UNMAPPED_PROGRAM = "unmapped_program"
    ATTRIBUTION_GAP = "attribution_gap"
    FAILED_WRITE = "failed_write"
    REJECTED_INPUT = "rejected_input"
    COUNT_MISMATCH = "count_mismatch"


@dataclass(frozen=True)
class Finding:
    """Something a sync noticed and did not (or could not) write: recorded per run."""

    category: FindingCategory
    object: str | None = None
    record_id: str | None = None
    map_id: str | None = None
    field: str | None = None
    salesforce_value: str | None = None
    expected_value: str | None = None
    detail: str | None = None

    def as_dict(self) -> dict[str, str | None]:
        return {
            "category": self.category, "object": self.object, "record_id": self.record_id,
            "map_id": self.map_id, "field": self.field,
            "salesforce_value": self.salesforce_value, "expected_value": self.expected_value,
            "detail": self.detail,
        }


class WriteAction(StrEnum):
    """What a plan step (and the writer) does to its records."""

    CREATE = "create"
    UPDATE = "update"
    UPSERT = "upsert"
    DELETE = "delete"


class TouchLike(Protocol):
    """What an engine reads of a touch: satisfied by the pydantic ``Touch`` a
    source yields (and tests build) and by the ``TouchFacts`` the ledger returns,
    so engines take either without converting."""

    @property
    def touch_id(self) -> str: ...
    @property
    def map_id(self) -> str: ...
    @property
    def program_id(self) -> str | None: ...
    @property
    def touch_type(self) -> str: ...
    @property
    def occurred_at(self) -> datetime: ...
    @property
    def url(self) -> str | None: ...
    @property
    def referrer(self) -> str | None: ...
    @property
    def utm_source(self) -> str | None: ...
    @property
    def utm_medium(self) -> str | None: ...
    @property
    def utm_campaign(self) -> str | None: ...
    @property
    def utm_content(self) -> str | None: ...
    @property
    def utm_term(self) -> str | None: ...
    @property
    def channel(self) -> str: ...
    @property
    def channel_rule(self) -> str: ...
    @property
    def is_response(self) -> bool: ...
    @property
    def is_conversion(self) -> bool: ...
    @property
    def order_key(self) -> tuple[datetime, str]: ...


class TouchFacts(NamedTuple):
    """A stored touch as the ledger's columns hold it: the fields of
    ``connector.models.Touch`` that engines read (not ``extra`` nor ``origin``),
    built from plain SQL columns because re-validating the stored JSON with
    pydantic cost about 4x as much per touch, and a sync reads every touch of
    every person in scope twice."""

    touch_id: str
    map_id: str
    program_id: str | None
    touch_type: str
    occurred_at: datetime  # UTC-aware
    url: str | None
    referrer: str | None
    utm_source: str | None
    utm_medium: str | None
    utm_campaign: str | None
    utm_content: str | None
    utm_term: str | None
    channel: str
    channel_rule: str
    is_response: bool
    is_conversion: bool

    @property
    def order_key(self) -> tuple[datetime, str]:
        """Touches order by time, then by id, as ``Touch.order_key`` does."""
        return (self.occurred_at, self.touch_id)

    @classmethod
    def of(cls, touch: TouchLike) -> TouchFacts:
        """The facts of any touch (a pydantic ``Touch`` included)."""
        return cls(touch.touch_id, touch.map_id, touch.program_id, touch.touch_type,
                   touch.occurred_at, touch.url, touch.referrer, touch.utm_source,
                   touch.utm_medium, touch.utm_campaign, touch.utm_content, touch.utm_term,
                   touch.channel, touch.channel_rule, touch.is_response, touch.is_conversion)


__all__ = ["Finding", "FindingCategory", "Link", "MirrorRow", "TouchFacts", "TouchLike",
           "WriteAction"]
