"""Salesforce seed records: the org as a previous sync and a sales team left it.

Records are plain dicts of field API names in Salesforce REST JSON form plus a
``_key``; a lookup is ``{"_ref": key}`` to a record written earlier in load order.
Fields that are None are left out, as an import would leave them blank.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from connector.datagen import vocab
from connector.datagen.clock import (
    DAY,
    HOUR,
    business_time,
    day_to_date,
    epoch_day,
    sf_date,
    sf_datetime,
)
from connector.datagen.companies import Company
from connector.datagen.people import Profile
from connector.datagen.programs import Catalogue
from connector.mappings import ChannelsMapping

OPEN_STAGES = (("Prospecting", 10, 10), ("Qualification", 18, 20), ("Needs Analysis", 16, 25),
               ("Value Proposition", 14, 50), ("Id. Decision Makers", 10, 60),
               ("Perception Analysis", 8, 70), ("Proposal/Price Quote", 14, 75),
               ("Negotiation/Review", 10, 90))
"""(StageName, relative frequency, Probability %) of open opportunities."""
OPPORTUNITY_HISTORY_DAYS = 540
"""Opportunities are created over the 18 months before ``as_of``."""
SYNC_CUTOFF_DAYS = 120
"""Programs that started this long before ``as_of`` may already be Campaigns."""


def ref(key: str) -> dict[str, str]:
    return {"_ref": key}


def _compact(record: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if v is not None}


class Keys:
    """``_key`` values, unique across the whole seed: acc-1, con-1, lead-1, ..."""

    def __init__(self) -> None:
        self._next: dict[str, int] = {}

    def new(self, prefix: str) -> str:
        n = self._next.get(prefix, 0) + 1
        self._next[prefix] = n
        return f"{prefix}-{n}"


# ----------------------------------------------------------------- campaigns


def campaign_records(rng: random.Random, catalogue: Catalogue, channels: ChannelsMapping,
                     keys: Keys, as_of: int) -> Iterator[dict[str, Any]]:
    """Campaigns of programs synced before, then campaigns sales created by hand.

    Sets ``campaign_key`` on each program that gets a Campaign. A child is
    synced only when its parent is, so ParentId always resolves.
    """
    as_of_day = epoch_day(as_of)
    cutoff = as_of_day - SYNC_CUTOFF_DAYS
    for p in catalogue.programs:
        parent = catalogue.by_id.get(p.parent_id) if p.parent_id else None
        if p.start_day >= cutoff or (parent is not None and parent.campaign_key is None):
            continue
        if rng.random() >= 0.75:
            continue
        p.campaign_key = keys.new("cmp")
        status = ("Completed" if p.end_day < as_of_day else
                  "In Progress" if p.start_day <= as_of_day else "Planned")
        yield _compact({
            "_key": p.campaign_key, "Name": p.name, "MAP_Program_Id__c": p.program_id,
            "Type": channels.campaign_type(p.channel), "Channel__c": p.channel,
            "Status": status, "StartDate": day_to_date(p.start_day).isoformat(),
            "EndDate": day_to_date(p.end_day).isoformat(),
            "IsActive": p.start_day <= as_of_day <= p.end_day, "ActualCost": p.cost,
            "ParentId": ref(parent.campaign_key) if parent and parent.campaign_key else None,
            "CreatedDate": sf_datetime((p.start_day - rng.randint(3, 30)) * DAY
                                       + rng.randint(8 * HOUR, 18 * HOUR)),
        })


def sales_campaign_records(rng: random.Random, keys: Keys, as_of: int,
                           people: int) -> Iterator[dict[str, Any]]:
    """Campaigns sales made in Salesforce: no MAP program behind them."""
    count = 4 + round(3 * people ** (1 / 3) / 10)
    for i in range(count):
        start = epoch_day(as_of) - rng.randint(20, 600)
        base = vocab.SALES_CAMPAIGN_NAMES[i % len(vocab.SALES_CAMPAIGN_NAMES)]
        yield {
            "_key": keys.new("cmp"), "Name": f"{base} - {day_to_date(start):%b %Y}",
            "Type": rng.choice(("Telemarketing", "Other", "Partners", "Seminar / Conference")),
            "Status": "Completed", "StartDate": day_to_date(start).isoformat(),
            "EndDate": day_to_date(start + rng.randint(1, 45)).isoformat(), "IsActive": False,
            "CreatedDate": sf_datetime(start * DAY - rng.randint(DAY, 10 * DAY)),
        }


# ------------------------------------------------------------- opportunities


@dataclass(slots=True)
class OpportunityPlan:
    """An opportunity decided before its account's people, so buyers can lead up to it."""

    key: str
    created: int
    close_day: int
    stage: str
    probability: int
    amount: float
    product: str
    sales_only: bool  # no marketing-touched contact: attribution has nothing to credit
    convert_primary: bool  # the primary buyer's Lead is converted into this opportunity
    type: str = "New Business"
    buyers: list[Profile] = field(default_factory=list)
    contact_keys: list[tuple[str, bool]] = field(default_factory=list)  # (key, is primary)
    campaign_key: str | None = None

    @property
    def closed(self) -> bool:
        return self.stage in ("Closed Won", "Closed Lost")


def plan_opportunity(rng: random.Random, keys: Keys, company: Company, offset: int,
                     as_of: int, expansion: bool = False) -> OpportunityPlan:
    """Dates, stage and amount; a closed opportunity closed before ``as_of``."""
    created = as_of - rng.randint(2, OPPORTUNITY_HISTORY_DAYS) * DAY
    created = min(business_time(rng, created, offset), as_of - HOUR)
    cycle = rng.randint(20, 200) * DAY
    as_of_day = epoch_day(as_of)
    if created + cycle < as_of - DAY and rng.random() < 0.85:
        won = rng.random() < (0.45 if company.icp else 0.3)
        stage, probability = ("Closed Won", 100) if won else ("Closed Lost", 0)
        close_day = epoch_day(created + cycle)
    else:
        stage, _, probability = rng.choices(OPEN_STAGES, weights=[w for _, w, _ in OPEN_STAGES])[0]
        close_day = max(epoch_day(created + cycle), as_of_day + rng.randint(7, 120))
    size_factor = 1 + math.log10(max(company.employees, 10)) / 2
    amount = round(rng.uniform(8_000, 60_000) * size_factor, -2)
    return OpportunityPlan(
        key=keys.new("opp"), created=created, close_day=close_day, stage=stage,
        probability=probability, amount=float(amount),
        product="Expansion" if expansion else rng.choice(vocab.OPPORTUNITY_PRODUCTS),
        sales_only=rng.random() < 0.08, convert_primary=rng.random() < 0.5,
        type="Existing Business" if expansion else "New Business",
    )


def opportunity_record(plan: OpportunityPlan, company: Company,
                       account_key: str) -> dict[str, Any]:
    return _compact({
        "_key": plan.key, "Name": f"{company.short_name} - {plan.product}",
        "AccountId": ref(account_key), "Amount": plan.amount, "StageName": plan.stage,
        "CloseDate": day_to_date(plan.close_day).isoformat(), "Probability": plan.probability,
        "Type": plan.type, "CreatedDate": sf_datetime(plan.created),
        "CampaignId": ref(plan.campaign_key) if plan.campaign_key else None,
    })


def contact_role_records(rng: random.Random, keys: Keys,
                         plan: OpportunityPlan) -> Iterator[dict[str, Any]]:
    roles = list(vocab.OPPORTUNITY_ROLES)
    rng.shuffle(roles)
    for i, (contact_key, primary) in enumerate(plan.contact_keys):
        yield {"_key": keys.new("ocr"), "OpportunityId": ref(plan.key),
               "ContactId": ref(contact_key), "Role": roles[i % len(roles)],
               "IsPrimary": primary, "CreatedDate": sf_datetime(plan.created + 60 * (i + 1))}


# ------------------------------------------------------------ accounts, people


def account_record(key: str, company: Company, website: str | None, created: int,
                   customer: bool) -> dict[str, Any]:
    return _compact({
        "_key": key, "Name": company.name, "Website": website, "Industry": company.industry,
        "Type": "Customer" if customer else "Prospect",
        "NumberOfEmployees": company.employees, "AnnualRevenue": company.annual_revenue,
        "BillingCountry": company.country, "CreatedDate": sf_datetime(created),
    })


@dataclass(slots=True)
class PersonFields:
    """What a previous sync left on a person's Salesforce record."""

    email: str
    map_id: str | None = None
    original_source: str | None = None
    lead_source: str | None = None


def contact_record(key: str, p: Profile, account_key: str, created: int,
                   synced: PersonFields) -> dict[str, Any]:
    return _compact({
        "_key": key, "FirstName": p.first_name, "LastName": p.last_name, "Email": synced.email,
        "Title": p.title_clean, "AccountId": ref(account_key), "LeadSource": synced.lead_source,
        "MailingCountry": p.clean_country, "CreatedDate": sf_datetime(created),
        "MAP_Id__c": synced.map_id, "Original_Source__c": synced.original_source,
    })


def sales_contact_record(key: str, first: str, last: str, email: str, title: str,
                         account_key: str, country: str, created: int,
                         lead_source: str | None) -> dict[str, Any]:
    return _compact({
        "_key": key, "FirstName": first, "LastName": last, "Email": email, "Title": title,
        "AccountId": ref(account_key), "LeadSource": lead_source, "MailingCountry": country,
        "CreatedDate": sf_datetime(created),
    })


def lead_record(key: str, p: Profile, company: Company, created: int, status: str,
                synced: PersonFields) -> dict[str, Any]:
    return _compact({
        "_key": key, "FirstName": p.first_name, "LastName": p.last_name,
        "Company": p.company_clean, "Email": synced.email, "Title": p.title_clean,
        "Industry": company.industry, "NumberOfEmployees": company.employees,
        "AnnualRevenue": company.annual_revenue, "Country": p.clean_country,
        "LeadSource": synced.lead_source, "Status": status, "CreatedDate": sf_datetime(created),
        "MAP_Id__c": synced.map_id, "Original_Source__c": synced.original_source,
    })


def converted(record: dict[str, Any], converted_at: int, account_key: str, contact_key: str,
              opportunity_key: str | None) -> dict[str, Any]:
    """Mark a Lead converted, as the loader may (like a data import with audit fields)."""
    record.update(_compact({
        "Status": "Closed - Converted", "IsConverted": True, "ConvertedDate": sf_date(converted_at),
        "ConvertedAccountId": ref(account_key), "ConvertedContactId": ref(contact_key),
        "ConvertedOpportunityId": ref(opportunity_key) if opportunity_key else None,
    }))
    return record
