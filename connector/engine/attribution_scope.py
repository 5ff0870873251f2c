"""Which touches belong to an opportunity, and what attribution gives back to it.

Contact-role mode (the default) takes the touches of the people who are
contact roles on the opportunity; a converted lead's earlier touches count for
its contact. Account mode takes the touches of every person matched to the
opportunity's account. Candidates left out are reported with the reason, so
``explain opportunity`` can say why a touch earned nothing.

Also here: the opportunity summary (first-touch and last-touch campaign, for
list views) and the standard ``CampaignInfluence`` rows of one model.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from fractions import Fraction

from connector.engine.attribution import (
    NO_CONTACT_ROLE,
    NOT_MATCHED_TO_ACCOUNT,
    Attribution,
    Excluded,
    OpportunityValue,
    Settings,
    TouchValue,
    attribute,
    build_journey,
)
from connector.engine.attribution_config import ModelName
from connector.engine.attribution_rounding import allocate, round_half_up


@dataclass(frozen=True, slots=True)
class ContactRoleScope:
    """The opportunity's contact roles, and where converted leads' people went.

    ``person_contacts`` maps a person's map id to the contact it is (or was
    converted into), for touches recorded before the person had a contact id.
    """

    contact_ids: frozenset[str]
    person_contacts: Mapping[str, str] = dataclasses.field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AccountScope:
    """The people (map ids) matched to the opportunity's account."""

    person_ids: frozenset[str]


Scope = ContactRoleScope | AccountScope


def select_touches(candidates: Iterable[TouchValue],
                   scope: Scope) -> tuple[list[TouchValue], list[Excluded]]:
    """The candidates that belong to the opportunity (with the contact they count
    for), and the rest with the reason they do not."""
    chosen: list[TouchValue] = []
    excluded: list[Excluded] = []
    for t in candidates:
        if isinstance(scope, AccountScope):
            if t.person_id in scope.person_ids:
                chosen.append(t)
            else:
                excluded.append(Excluded(t.touch_id, NOT_MATCHED_TO_ACCOUNT,
                                         f"person {t.person_id} is not matched to the "
                                         "opportunity's account"))
            continue
        contact = t.contact_id if t.contact_id in scope.contact_ids else None
        if contact is None:
            via = scope.person_contacts.get(t.person_id)
            contact = via if via in scope.contact_ids else None
        if contact is None:
            excluded.append(Excluded(t.touch_id, NO_CONTACT_ROLE,
                                     f"person {t.person_id} is not a contact role on the "
                                     "opportunity"))
        elif contact == t.contact_id:
            chosen.append(t)
        else:
            chosen.append(dataclasses.replace(t, contact_id=contact))
    return chosen, excluded


def input_fingerprint(opp: OpportunityValue, candidates: Iterable[TouchValue], scope: Scope,
                      settings: Settings, *, as_of: datetime) -> str:
    """A digest of everything an opportunity's credit records depend on: its amount,
    dates and stage, the settings, and the touches of its window (after selection).

    Equal fingerprints give identical records, so a run that stored the last one
    may skip the opportunity; a touch, contact role, amount, stage or date change,
    or a model switched on or off, changes it. Excluded touches do not count.
    """
    chosen, _left_out = select_touches(candidates, scope)
    _start, _end, journey, _excluded = build_journey(opp, chosen, settings, as_of)
    digest = hashlib.sha256(repr((
        opp.id, str(opp.amount), opp.created_at.astimezone(UTC).isoformat(),
        opp.close_date.isoformat(), opp.is_closed, settings)).encode())
    for t in journey:
        digest.update(repr((t.touch_id, t.occurred_at.astimezone(UTC).isoformat(), t.contact_id,
                            t.campaign_id, t.channel, t.touch_type, t.is_conversion)).encode())
    return digest.hexdigest()


def attribute_in_scope(opp: OpportunityValue, candidates: Iterable[TouchValue], scope: Scope,
                       settings: Settings, *, as_of: datetime) -> Attribution:
    """Select the opportunity's touches, then attribute; the explanation lists both
    kinds of exclusion."""
    chosen, left_out = select_touches(candidates, scope)
    result = attribute(opp, chosen, settings, as_of=as_of)
    if not left_out:
        return result
    ids = {t.touch_id for t in chosen}
    merged = list(result.excluded) + [e for e in left_out if e.touch_id not in ids]
    merged.sort(key=lambda e: (e.touch_id, e.reason))
    return dataclasses.replace(result, excluded=tuple(merged))


# ------------------------------------------------------------------ outputs


@dataclass(frozen=True, slots=True)
class OpportunitySummary:
    """``First_Touch_Campaign__c`` / ``Last_Touch_Campaign__c`` on the Opportunity:
    the campaigns of the FT touch and of the OC touch (the last touch before the
    opportunity was created, the one ``last_touch`` credits). None when that touch
    has no campaign or the opportunity is unattributed."""

    opportunity_id: str
    first_touch_campaign: str | None
    last_touch_campaign: str | None


def opportunity_summary(result: Attribution) -> OpportunitySummary:
    by_id = {t.touch_id: t for t in result.journey}
    ft = by_id.get(result.positions.get("FT", ""))
    oc = by_id.get(result.positions.get("OC", ""))
    return OpportunitySummary(result.opportunity.id,
                              ft.campaign_id if ft else None,
                              oc.campaign_id if oc else None)


@dataclass(frozen=True, slots=True)
class InfluenceRow:
    """One standard ``CampaignInfluence`` row: a campaign's influence on an
    opportunity through one contact. ``Influence`` is a percent with 2 decimals;
    Salesforce computes ``RevenueShare`` from it and the Amount."""

    opportunity_id: str
    campaign_id: str
    contact_id: str | None
    influence: Decimal

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.opportunity_id, self.campaign_id, self.contact_id or "")


def influence_rows(result: Attribution, model: ModelName) -> list[InfluenceRow]:
    """The model's exact shares summed per (campaign, contact), rounded half up to
    2 decimals with the remainder to the largest, so the rows add up to the
    rounded share of the touches that have a campaign (100% when all do).
    Touches without a campaign (plain website visits) have no row."""
    by_touch = {t.touch_id: t for t in result.journey}
    shares = next((m.shares for m in result.models if m.model == model), ())
    groups: dict[tuple[str, str], Fraction] = {}
    for s in shares:
        t = by_touch[s.touch_id]
        if s.share > 0 and t.campaign_id:
            k = (t.campaign_id, t.contact_id or "")
            groups[k] = groups.get(k, Fraction(0)) + s.share
    if not groups:
        return []
    keys = sorted(groups)
    exact = [groups[k] for k in keys]
    total = round_half_up(sum(exact, Fraction(0)), 2)
    rounded = allocate(exact, total, Fraction(1), 2)
    return [InfluenceRow(result.opportunity.id, c, contact or None, value)
            for (c, contact), value in zip(keys, rounded, strict=True)]
