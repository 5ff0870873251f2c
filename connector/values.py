"""Plain value types shared by the engines, the planner, explain and the state
store: no behaviour and no I/O, so an engine can take them without importing the
store."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
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


__all__ = ["Finding", "FindingCategory", "Link", "MirrorRow", "WriteAction"]
