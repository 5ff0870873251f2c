"""Account scores: fit, engagement, buying stage, qualified and engaged dates.

* Fit: firmographic rules (industry, employees, revenue, country, target
  tier), first match per group, as for people.
* Engagement: the behavior points of every person matched to the account,
  decayed to ``as_of``, over the window (default 90 days). Rounded and
  apportioned like a person's behavior score, so the lines add up exactly.
* Buying stage: Target below the Aware threshold, then Aware, Consideration,
  Decision by engagement; an open opportunity means Purchase. It is computed
  from the current engagement alone, so it moves back as engagement fades.
* Qualified: fit and buying stage both at their thresholds. Its date is the
  first moment both held, replayed through time (engagement only rises at a
  touch, so touches and opportunity creations are the moments to check);
  once written it is kept.
* Engaged date: the first meaningful engagement of any matched person (a
  pricing page, a pricing, contact or demo request, a trial, a meeting);
  once written it is kept.

Pure: plain values in, a frozen ``AccountScores`` out.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from connector.engine.scoring import (
    SECONDS_PER_DAY,
    Score,
    ScoredTouch,
    ScoreLine,
    apportion,
    decay_factor,
    round_half_up,
)
from connector.engine.scoring_config import BUYING_STAGES, AccountsConfig, TouchMatch
from connector.values import TouchLike

STAGE_RANK = {name: i for i, name in enumerate(BUYING_STAGES)}


@dataclass(frozen=True, slots=True)
class AccountProfile:
    """Firmographics from the Account (Industry, NumberOfEmployees, AnnualRevenue,
    BillingCountry) and the target list's tier."""

    domain: str | None = None
    industry: str | None = None
    employees: int | None = None
    annual_revenue: Decimal | float | None = None
    country: str | None = None
    tier: str | None = None


@dataclass(frozen=True, slots=True)
class Engagement:
    """A person's first meaningful engagement: when, which touch, why it counts."""

    at: datetime
    map_id: str
    touch_id: str
    detail: str


@dataclass(frozen=True, slots=True)
class AccountMember:
    """A person matched to the account, reduced to what account scores need."""

    map_id: str
    scored: tuple[ScoredTouch, ...]
    first_meaningful: Engagement | None = None


@dataclass(frozen=True, slots=True)
class OpenOpportunity:
    opportunity_id: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class AccountState:
    """What was written last time (Qualified_Date__c, Engaged_Date__c, Buying_Stage__c)."""

    buying_stage: str | None = None
    qualified_date: datetime | None = None
    engaged_date: datetime | None = None


@dataclass(frozen=True, slots=True)
class AccountScores:
    fit: Score                       # Account_Fit_Score__c
    engagement: Score                # Engagement_Score__c
    buying_stage: str                # Buying_Stage__c
    stage_reason: str
    target: bool                     # Target_Account__c
    qualified: bool                  # Qualified_Account__c
    qualified_date: datetime | None  # Qualified_Date__c
    engaged_date: datetime | None    # Engaged_Date__c
    engaged_by: Engagement | None


def first_meaningful(map_id: str, touches: Iterable[TouchLike], rules: Sequence[TouchMatch],
                     as_of: datetime) -> Engagement | None:
    """The person's earliest touch (up to ``as_of``) that any meaningful rule matches."""
    best: TouchLike | None = None
    for t in touches:
        if t.occurred_at > as_of or (best is not None and t.order_key >= best.order_key):
            continue
        if any(r.matches(t.touch_type, t.channel, t.url) for r in rules):
            best = t
    if best is None:
        return None
    return Engagement(best.occurred_at, map_id, best.touch_id,
                      f"{best.touch_type} {best.url or ''}".rstrip())


def account_fit(profile: AccountProfile, config: AccountsConfig) -> Score:
    lines: list[ScoreLine] = []
    groups: set[str] = set()
    for rule in config.fit_rules:
        if rule.group is not None and rule.group in groups:
            continue
        value = getattr(profile, rule.field)
        if rule.test(value):
            if rule.group is not None:
                groups.add(rule.group)
            lines.append(ScoreLine(rule=rule.name, points=rule.points,
                                   detail=f"{rule.field} {value!r}"))
    return Score(sum(line.points for line in lines), tuple(lines))


def _half_life(config: AccountsConfig, behavior_half_life: float | None) -> float | None:
    return config.engagement_half_life_days or behavior_half_life


def engagement_score(members: Sequence[AccountMember], config: AccountsConfig,
                     behavior_half_life: float | None, as_of: datetime) -> Score:
    """Decayed points of every member's touches inside the window, one line per touch."""
    half_life = _half_life(config, behavior_half_life)
    since = as_of - timedelta(days=config.engagement_window_days)
    now = as_of.timestamp()
    kept: list[tuple[str, ScoredTouch]] = []
    for m in members:
        kept.extend((m.map_id, s) for s in m.scored
                    if since < s.occurred_at <= as_of and s.base_points)
    kept.sort(key=lambda x: (x[1].occurred_at, x[1].touch_id))
    exact = [s.base_points * decay_factor(now - s.occurred_at.timestamp(), half_life)
             for _, s in kept]
    total, shares = apportion(exact)
    lines = tuple(
        ScoreLine(rule=s.rule, points=share, detail=f"{map_id}: {s.touch_type} "
                  f"{s.url or ''}".rstrip(), touch_id=s.touch_id, occurred_at=s.occurred_at,
                  base_points=s.base_points, decayed_points=value)
        for (map_id, s), value, share in zip(kept, exact, shares, strict=True))
    return Score(total, lines)


def stage_for(engagement: int, open_opportunity: bool, config: AccountsConfig) -> str:
    if open_opportunity:
        return "Purchase"
    stage = "Target"
    for name in BUYING_STAGES[1:]:
        threshold = config.buying_stage_thresholds.get(name)  # type: ignore[call-overload]
        if threshold is not None and engagement >= threshold:
            stage = name
    return stage


def _first_qualified(members: Sequence[AccountMember], opportunities: Sequence[OpenOpportunity],
                     config: AccountsConfig, behavior_half_life: float | None,
                     as_of: datetime) -> datetime | None:
    """The first moment (a touch or an opportunity's creation) the stage reached the
    qualified stage; the caller has checked fit, which has no history."""
    need = STAGE_RANK[config.qualified_stage]
    opened = min((o.created_at for o in opportunities if o.created_at <= as_of), default=None)
    half_life = _half_life(config, behavior_half_life)
    window = config.engagement_window_days * SECONDS_PER_DAY
    points = sorted((s.occurred_at, s.base_points) for m in members for s in m.scored
                    if s.base_points and s.occurred_at <= as_of)
    # running decayed sum over a sliding window: add on arrival, subtract on leaving
    running, last, tail = 0.0, None, 0
    for at, base in points:
        if opened is not None and opened <= at:
            break
        t = at.timestamp()
        if last is not None:
            running *= decay_factor(t - last, half_life)
        last = t
        running += base
        while points[tail][0].timestamp() <= t - window:
            old_at, old_base = points[tail]
            running -= old_base * decay_factor(t - old_at.timestamp(), half_life)
            tail += 1
        if STAGE_RANK[stage_for(round_half_up(running), False, config)] >= need:
            return at
    return opened


def score_account(profile: AccountProfile, members: Sequence[AccountMember],
                  config: AccountsConfig, behavior_half_life: float | None, as_of: datetime, *,
                  opportunities: Sequence[OpenOpportunity] = (),
                  on_target_list: bool = False, salesforce_target: bool = False,
                  previous: AccountState | None = None) -> AccountScores:
    """Every account score at ``as_of``.

    ``opportunities``: the account's open ones; ``on_target_list``: the MAP's
    target_accounts names it (its tier goes in ``profile.tier``);
    ``salesforce_target``: the Account's own target field (``target_field``) is true.
    """
    fit = account_fit(profile, config)
    engagement = engagement_score(members, config, behavior_half_life, as_of)
    open_opps = [o for o in opportunities if o.created_at <= as_of]
    stage = stage_for(engagement.total, bool(open_opps), config)
    if open_opps:
        reason = f"open opportunity {open_opps[0].opportunity_id}"
    elif stage == "Target":
        reason = f"engagement {engagement.total} below Aware"
    else:
        reason = f"engagement {engagement.total} reaches {stage}"
    if previous is not None and previous.buying_stage in STAGE_RANK \
            and previous.buying_stage != stage:
        direction = "forward" if STAGE_RANK[stage] > STAGE_RANK[previous.buying_stage] \
            else "back"
        reason += f"; moved {direction} from {previous.buying_stage}"
    qualified = fit.total >= config.qualified_fit_minimum and \
        STAGE_RANK[stage] >= STAGE_RANK[config.qualified_stage]
    qualified_date = previous.qualified_date if previous else None
    if qualified_date is None and qualified:
        qualified_date = _first_qualified(members, open_opps, config, behavior_half_life,
                                          as_of) or as_of
    firsts = [m.first_meaningful for m in members if m.first_meaningful is not None
              and m.first_meaningful.at <= as_of]
    engaged_by = min(firsts, key=lambda e: (e.at, e.touch_id), default=None)
    engaged_date = previous.engaged_date if previous and previous.engaged_date else (
        engaged_by.at if engaged_by else None)
    return AccountScores(fit=fit, engagement=engagement, buying_stage=stage,
                         stage_reason=reason, target=on_target_list or salesforce_target,
                         qualified=qualified, qualified_date=qualified_date,
                         engaged_date=engaged_date, engaged_by=engaged_by)
