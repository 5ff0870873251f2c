"""Canonical records: what every MAP source yields and every engine consumes.

Sources normalize on the way in (emails trimmed and lower-cased, timestamps
UTC-aware, channels resolved through the taxonomy), so the engines never see a
platform's quirks. Invalid emails are kept with a flag rather than dropped.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field


def _to_utc(v: datetime) -> datetime:
    return v.astimezone(UTC)


UtcDatetime = Annotated[AwareDatetime, AfterValidator(_to_utc)]

MapKind = Literal["files", "marketo", "hubspot"]


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Origin(_Record):
    """Where a record came from, so any message about it can name the place."""

    kind: MapKind
    file: str | None = None
    row: int | None = None

    def __str__(self) -> str:
        if self.file:
            return f"{self.file}:{self.row}" if self.row is not None else self.file
        return self.kind


class Person(_Record):
    map_id: str = Field(min_length=1)
    email: str | None = None
    # False when the MAP's address is not a valid email; the raw value is kept.
    email_valid: bool = False
    email_problem: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    company: str | None = None
    title: str | None = None
    industry: str | None = None
    employees: int | None = None
    annual_revenue: Decimal | None = None
    country: str | None = None
    created_at: UtcDatetime | None = None
    updated_at: UtcDatetime | None = None
    # What the MAP recorded as the person's source at creation, raw and resolved.
    source: str | None = None
    source_channel: str | None = None
    source_detail: str | None = None
    acquisition_program_id: str | None = None
    sfdc_lead_id: str | None = None
    sfdc_contact_id: str | None = None
    # The MAP's own view of scores and stages, when it has one (HubSpot, Marketo).
    map_score: float | None = None
    map_lifecycle_stage: str | None = None
    map_stage_dates: dict[str, UtcDatetime] = Field(default_factory=dict)
    extra: dict[str, Any] = Field(default_factory=dict)
    origin: Origin | None = None

    @property
    def email_domain(self) -> str | None:
        if not self.email or "@" not in self.email:
            return None
        return self.email.rsplit("@", 1)[1]


class Program(_Record):
    program_id: str = Field(min_length=1)
    name: str | None = None
    # The taxonomy's channel, or None when the MAP's channel names none of them.
    channel: str | None = None
    channel_raw: str | None = None
    type: str | None = None
    start_date: date | None = None
    end_date: date | None = None
    cost: Decimal | None = None
    parent_id: str | None = None
    extra: dict[str, Any] = Field(default_factory=dict)
    origin: Origin | None = None


class Touch(_Record):
    touch_id: str = Field(min_length=1)
    map_id: str = Field(min_length=1)
    program_id: str | None = None
    touch_type: str
    occurred_at: UtcDatetime
    url: str | None = None
    referrer: str | None = None
    utm_source: str | None = None
    utm_medium: str | None = None
    utm_campaign: str | None = None
    utm_content: str | None = None
    utm_term: str | None = None
    # Resolved through channels.yaml; `channel_rule` says which rule decided.
    channel: str
    channel_rule: str
    is_response: bool
    is_conversion: bool
    extra: dict[str, Any] = Field(default_factory=dict)
    origin: Origin | None = None

    @property
    def order_key(self) -> tuple[datetime, str]:
        """Touches order by time, then by id, so equal timestamps order the same way."""
        return (self.occurred_at, self.touch_id)


class TargetAccount(_Record):
    domain: str | None = None
    account_id: str | None = None
    tier: str | None = None
    origin: Origin | None = None


class Rejection(_Record):
    """An input record that could not be used; kept so it can be fixed and replayed."""

    kind: Literal["person", "program", "touch", "target_account"]
    record_id: str | None = None
    file: str | None = None
    row: int | None = None
    field: str | None = None
    value: str | None = None
    message: str
    raw: dict[str, Any] = Field(default_factory=dict)

    def __str__(self) -> str:
        where = ", ".join(
            p for p in (
                f"{self.file}" if self.file else "",
                f"row {self.row}" if self.row is not None else "",
                f"field {self.field}" if self.field else "",
            ) if p
        )
        return f"{where}: {self.message}" if where else self.message


CanonicalRecord = Person | Program | Touch | TargetAccount
