"""What an Account should hold: account scores from a gathered context (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from connector.engine.accounts import (
    AccountMember,
    AccountProfile,
    AccountScores,
    AccountState,
    OpenOpportunity,
    first_meaningful,
    score_account,
)
from connector.engine.context import AccountContext
from connector.engine.domains import registered_domain
from connector.engine.person_stages import field_moment
from connector.engine.scoring import score_touches
from connector.mappings import Mappings


@dataclass(frozen=True)
class AccountDesired:
    scores: AccountScores
    values: dict[str, Any]   # by field key of fields.yaml


def _number(value: Any) -> Any:
    if value in (None, ""):
        return None
    try:
        return Decimal(str(value))
    except ArithmeticError:
        return None


def desired_account(ctx: AccountContext, mappings: Mappings,
                    as_of: datetime) -> AccountDesired | None:
    """Account fit, engagement, buying stage, target, qualified and engaged
    dates at ``as_of``; None when the mappings have no scoring."""
    scoring = mappings.scoring
    if scoring is None:
        return None
    fields = ctx.record.fields
    employees = _number(fields.get("NumberOfEmployees"))
    profile = AccountProfile(
        domain=registered_domain(fields.get("Website")) or ctx.record.map_key,
        industry=fields.get("Industry") or None,
        employees=int(employees) if employees is not None else None,
        annual_revenue=_number(fields.get("AnnualRevenue")),
        country=fields.get("BillingCountry") or None, tier=ctx.tier)
    members = []
    for person in ctx.people:
        touches = ctx.touches.get(person.map_id, ())
        # the account sums its people's scored touches; their fit and the
        # explanation lines of their own score play no part here
        scored = score_touches(touches, scoring.behavior.rules, as_of)
        members.append(AccountMember(
            person.map_id, scored,
            first_meaningful(person.map_id, touches,
                             scoring.accounts.meaningful_engagement, as_of)))
    opportunities = []
    for opp in ctx.opportunities:
        created = field_moment(opp.fields.get("CreatedDate"))
        if created is not None and not opp.fields.get("IsClosed"):
            opportunities.append(OpenOpportunity(opp.id, created))
    decls = mappings.fields.obj("Account").fields
    previous = None
    if ctx.written:
        def written(key: str) -> Any:
            decl = decls.get(key)
            return fields.get(decl.api_name) if decl else None
        previous = AccountState(buying_stage=written("buying_stage"),
                                qualified_date=field_moment(written("qualified_date")),
                                engaged_date=field_moment(written("engaged_date")))
    target_field = scoring.accounts.target_field
    scores = score_account(
        profile, members, scoring.accounts, scoring.behavior.half_life_days, as_of,
        opportunities=opportunities, on_target_list=ctx.on_target_list,
        salesforce_target=bool(fields.get(target_field)) if target_field else False,
        previous=previous)
    return AccountDesired(scores, {
        "account_fit_score": scores.fit.total,
        "engagement_score": scores.engagement.total,
        "buying_stage": scores.buying_stage,
        "target_account": scores.target,
        "qualified_account": scores.qualified,
        "qualified_date": scores.qualified_date,
        "engaged_date": scores.engaged_date,
    })
