"""Person scores: behavior, fit, lead = behavior + fit, and exclusions.

Pure: a person's profile, their ledger touches and ``ScoringMapping`` in, a
frozen ``PersonScores`` out, with one explanation line per rule that fired
(each behavior line names the touch behind it).

How the integers stay exact. Decay makes behavior points fractional, yet
Salesforce gets integers and ``explain`` must show lines that add up to
them. So the behavior total is the exact decayed sum rounded half up, and the
lines are apportioned by the largest-remainder method: every line gets its
decayed points rounded down, and the few units still missing go to the lines
with the largest fractional parts (ties: the earlier touch). Each line is
then within one point of its exact value and the lines sum to the total by
construction. Fit points are integers already; lead = behavior + fit.

Touches after ``as_of`` are ignored, so a score is reproducible for a given
``as_of`` whatever the ledger has learnt since.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from connector.engine.scoring_config import (
    BehaviorRule,
    Exclusion,
    FitRule,
    PersonCondition,
    ScoringMapping,
)
from connector.models import Person
from connector.values import TouchLike

SECONDS_PER_DAY = 86_400.0


@dataclass(frozen=True, slots=True)
class Profile:
    """The canonical fields fit and exclusions read (one person, or a merged group)."""

    email: str | None = None
    title: str | None = None
    industry: str | None = None
    country: str | None = None
    employees: int | None = None
    annual_revenue: Decimal | float | None = None
    company: str | None = None

    @classmethod
    def of(cls, person: Person) -> Profile:
        return cls(email=person.email if person.email_valid else None, title=person.title,
                   industry=person.industry, country=person.country,
                   employees=person.employees, annual_revenue=person.annual_revenue,
                   company=person.company)

    @classmethod
    def of_group(cls, people: Sequence[Person]) -> Profile:
        """One profile for the MAP people behind one Salesforce record: each field from
        the first person (pass the primary first) who has a value for it."""
        profiles = [cls.of(p) for p in people]

        def first(name: str) -> Any:
            return next((getattr(p, name) for p in profiles
                         if getattr(p, name) not in (None, "")), None)

        return cls(email=first("email"), title=first("title"), industry=first("industry"),
                   country=first("country"), employees=first("employees"),
                   annual_revenue=first("annual_revenue"), company=first("company"))

    @property
    def email_domain(self) -> str | None:
        if not self.email or "@" not in self.email:
            return None
        return self.email.rsplit("@", 1)[1].lower()

    def value(self, field: str) -> object:
        return self.email_domain if field == "email_domain" else getattr(self, field)


@dataclass(frozen=True, slots=True)
class ScoredTouch:
    """A touch some behavior rule matched: its undecayed points, or 0 when capped."""

    touch_id: str
    occurred_at: datetime
    touch_type: str
    url: str | None
    rule: str
    base_points: int
    capped: bool


@dataclass(frozen=True, slots=True)
class ScoreLine:
    """One rule that fired; ``points`` is what it adds to the written total."""

    rule: str
    points: int
    detail: str
    touch_id: str | None = None
    occurred_at: datetime | None = None
    base_points: int | None = None
    decayed_points: float | None = None
    capped: bool = False


@dataclass(frozen=True, slots=True)
class Score:
    total: int
    lines: tuple[ScoreLine, ...]


@dataclass(frozen=True, slots=True)
class PersonScores:
    behavior: Score
    fit: Score
    lead: int
    excluded_reason: str | None
    # every matched touch up to as_of, oldest first: lifecycle replays the score
    # through time from these, accounts sum them per account
    scored: tuple[ScoredTouch, ...]
    half_life_days: float | None


def round_half_up(value: float) -> int:
    """2.5 -> 3, -2.5 -> -2: one rule for every total, so re-runs agree."""
    return math.floor(value + 0.5)


def decay_factor(age_seconds: float, half_life_days: float | None) -> float:
    if half_life_days is None or age_seconds <= 0:
        return 1.0
    return math.pow(0.5, age_seconds / (half_life_days * SECONDS_PER_DAY))


def apportion(values: Sequence[float]) -> tuple[int, list[int]]:
    """(round_half_up(sum), integers within 1 of each value that sum to it)."""
    total = round_half_up(math.fsum(values))
    floors = [math.floor(v) for v in values]
    missing = total - sum(floors)  # 0 <= missing <= len(values)
    if missing:
        by_fraction = sorted(range(len(values)), key=lambda i: (floors[i] - values[i], i))
        for i in by_fraction[:missing]:
            floors[i] += 1
    return total, floors


# --------------------------------------------------------------- behavior


def match_rule(rules: Sequence[BehaviorRule], touch: TouchLike) -> BehaviorRule | None:
    """The first rule matching the touch (specific rules are listed first)."""
    for rule in rules:
        if rule.matches(touch.touch_type, touch.channel, touch.url):
            return rule
    return None


def score_touches(touches: Iterable[TouchLike], rules: Sequence[BehaviorRule],
                  as_of: datetime) -> tuple[ScoredTouch, ...]:
    """Match and cap every touch up to ``as_of``; independent of decay.

    A cap counts within a sliding window: a touch scores when fewer than
    ``count`` earlier touches of its rule scored in the ``days`` before it.
    """
    ordered = sorted((t for t in touches if t.occurred_at <= as_of), key=lambda t: t.order_key)
    windows: dict[str, deque[datetime]] = {}
    out: list[ScoredTouch] = []
    by_type: dict[str, list[BehaviorRule]] = {}
    for touch in ordered:
        candidates = by_type.get(touch.touch_type)
        if candidates is None:
            candidates = [r for r in rules
                          if r.touch_types is None or touch.touch_type in r.touch_types]
            by_type[touch.touch_type] = candidates
        rule = match_rule(candidates, touch)
        if rule is None:
            continue
        capped = False
        if rule.cap is not None:
            window = windows.setdefault(rule.name, deque())
            horizon = touch.occurred_at.timestamp() - rule.cap.days * SECONDS_PER_DAY
            while window and window[0].timestamp() <= horizon:
                window.popleft()
            capped = len(window) >= rule.cap.count
            if not capped:
                window.append(touch.occurred_at)
        out.append(ScoredTouch(touch.touch_id, touch.occurred_at, touch.touch_type, touch.url,
                               rule.name, 0 if capped else rule.points, capped))
    return tuple(out)


def behavior_score(scored: Sequence[ScoredTouch], as_of: datetime,
                   half_life_days: float | None,
                   since: datetime | None = None) -> Score:
    """The decayed sum at ``as_of`` of touches after ``since`` (all when None)."""
    now = as_of.timestamp()
    kept = [s for s in scored
            if s.occurred_at <= as_of and (since is None or s.occurred_at > since)]
    exact = [s.base_points * decay_factor(now - s.occurred_at.timestamp(), half_life_days)
             for s in kept]
    total, shares = apportion(exact)
    lines = tuple(
        ScoreLine(rule=s.rule, points=share, touch_id=s.touch_id, occurred_at=s.occurred_at,
                  base_points=s.base_points, decayed_points=value, capped=s.capped,
                  detail=(f"{s.touch_type} {s.url or ''}".rstrip()
                          + (" (capped: the rule already counted its maximum)" if s.capped
                             else "")))
        for s, value, share in zip(kept, exact, shares, strict=True))
    return Score(total, lines)


def first_reaching(scored: Sequence[ScoredTouch], target: int, half_life_days: float | None,
                   start: datetime, end: datetime, end_inclusive: bool) -> ScoredTouch | None:
    """The first touch in [start, end) (or ]) right after which the rounded behavior
    score is at least ``target``: the moment a person crossed a threshold.

    The score only rises at a touch (it decays in between), so the touches are the
    only moments to check; the running sum is decayed from one touch to the next.
    """
    running = 0.0
    last: float | None = None
    for s in scored:
        at = s.occurred_at
        if at > end or (at == end and not end_inclusive):
            return None
        t = at.timestamp()
        if last is not None:
            running *= decay_factor(t - last, half_life_days)
        running += s.base_points
        last = t
        if at >= start and round_half_up(running) >= target:
            return s
    return None


# -------------------------------------------------------------- fit, exclusions


def _condition_holds(cond: PersonCondition, profile: Profile,
                     free_mail: frozenset[str]) -> bool:
    if cond.free_mail:
        domain = profile.email_domain
        return domain is not None and domain in free_mail
    assert cond.field is not None  # the model requires a field without free_mail
    return cond.test(profile.value(cond.field))


def _describe(cond: PersonCondition, profile: Profile) -> str:
    if cond.free_mail:
        return f"email domain {profile.email_domain} is a free-mail domain"
    assert cond.field is not None
    return f"{cond.field} {profile.value(cond.field)!r}"


def fit_score(profile: Profile, rules: Sequence[FitRule], free_mail: frozenset[str]) -> Score:
    """Every matching rule adds its points; in a group only the first match does."""
    lines: list[ScoreLine] = []
    groups_done: set[str] = set()
    for rule in rules:
        if rule.group is not None and rule.group in groups_done:
            continue
        if _condition_holds(rule, profile, free_mail):
            if rule.group is not None:
                groups_done.add(rule.group)
            lines.append(ScoreLine(rule=rule.name, points=rule.points,
                                   detail=_describe(rule, profile)))
    return Score(sum(line.points for line in lines), tuple(lines))


def exclusion_reason(profile: Profile, exclusions: Sequence[Exclusion],
                     free_mail: frozenset[str]) -> str | None:
    """The reason of the first exclusion that holds, for Excluded_Reason__c."""
    for ex in exclusions:
        if _condition_holds(ex, profile, free_mail):
            return ex.reason
    return None


def score_person(profile: Profile, touches: Iterable[TouchLike], scoring: ScoringMapping,
                 free_mail: frozenset[str], as_of: datetime) -> PersonScores:
    """Behavior, fit, lead and the exclusion of one person at ``as_of``."""
    scored = score_touches(touches, scoring.behavior.rules, as_of)
    behavior = behavior_score(scored, as_of, scoring.behavior.half_life_days)
    fit = fit_score(profile, scoring.fit.rules, free_mail)
    return PersonScores(behavior=behavior, fit=fit, lead=behavior.total + fit.total,
                        excluded_reason=exclusion_reason(profile, scoring.exclusions,
                                                         free_mail),
                        scored=scored, half_life_days=scoring.behavior.half_life_days)
