"""Small builders for attribution tests: an opportunity and touches by day offset."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from connector.engine.attribution import OpportunityValue, Settings, TouchValue
from connector.engine.attribution_config import MODEL_NAMES

CREATED = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
ALL = Settings(models=MODEL_NAMES)


def opp(*, closed: bool = True, close_in_days: int = 30, amount: str | None = "1000.00",
        opp_id: str = "006000000000001AAA") -> OpportunityValue:
    return OpportunityValue(
        id=opp_id, account_id="001000000000001AAA",
        amount=Decimal(amount) if amount is not None else None,
        created_at=CREATED, close_date=(CREATED + timedelta(days=close_in_days)).date(),
        is_closed=closed, is_won=closed)


def touch(touch_id: str, days: float, *, conversion: bool = False, response: bool = True,
          person: str = "p1", contact: str | None = "003000000000001AAA",
          campaign: str | None = None, at: datetime | None = None) -> TouchValue:
    """A touch ``days`` after the opportunity's CreatedDate (negative: before)."""
    return TouchValue(
        touch_id=touch_id, person_id=person, contact_id=contact,
        campaign_id=campaign if campaign is not None else f"701{touch_id}",
        program_id=f"prog-{touch_id}", channel="Webinar",
        touch_type="form_fill" if conversion else ("ad_click" if response else "email_open"),
        occurred_at=at or CREATED + timedelta(days=days), is_response=response,
        is_conversion=conversion)


def end_of(day: date) -> datetime:
    return datetime.combine(day, datetime.max.time(), tzinfo=UTC)
