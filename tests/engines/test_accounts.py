"""Account scores: fit, engagement window and decay, buying stage both ways,
Purchase on an open opportunity, qualified and engaged dates, target flag."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connector.engine.accounts import (
    AccountMember,
    AccountProfile,
    AccountScores,
    AccountState,
    OpenOpportunity,
    first_meaningful,
    score_account,
)
from connector.engine.scoring import score_touches
from connector.engine.scoring_config import AccountsConfig, ScoringMapping
from connector.models import Touch
from tests.factories import T0, mappings, touch

DAY = timedelta(days=1)


def cfg() -> ScoringMapping:
    scoring = mappings().scoring
    assert scoring is not None
    return scoring


def acfg() -> AccountsConfig:
    return cfg().accounts


def at(days: float) -> datetime:
    return T0 + timedelta(days=days)


def web(tid: str, days: float, path: str, map_id: str = "M-1") -> Touch:
    return touch(tid, at(days), "web_visit", url=f"https://www.lumora.io{path}", map_id=map_id)


def member(map_id: str, touches: list[Touch], as_of: datetime) -> AccountMember:
    return AccountMember(map_id, score_touches(touches, cfg().behavior.rules, as_of),
                         first_meaningful(map_id, touches, acfg().meaningful_engagement, as_of))


def score(members: dict[str, list[Touch]], as_of: datetime,
          profile: AccountProfile | None = None, **kw: Any) -> AccountScores:
    built = [member(k, v, as_of) for k, v in members.items()]
    return score_account(profile or AccountProfile(), built, acfg(),
                         cfg().behavior.half_life_days, as_of, **kw)


ICP = AccountProfile(domain="acme.com", industry="Technology", employees=1500,
                     annual_revenue=200_000_000, country="United States", tier="Tier 1")


@pytest.mark.parametrize(("profile", "expected"), [
    pytest.param(ICP, {"tier_1": 30, "icp_industry": 25, "enterprise": 25,
                       "revenue_100m_plus": 10, "served_country": 10}, id="tier-1-icp"),
    pytest.param(AccountProfile(industry="Retail", employees=120, country="Brazil"),
                 {"smb": 5}, id="outside-icp"),
    pytest.param(AccountProfile(tier="2", annual_revenue=50_000_000),
                 {"tier_2": 20, "revenue_10m_plus": 5}, id="tier-2-band"),
    pytest.param(AccountProfile(), {}, id="unknown"),
])
def test_account_fit(profile: AccountProfile, expected: dict[str, int]) -> None:
    result = score({}, at(0), profile)
    assert {line.rule: line.points for line in result.fit.lines} == expected
    assert result.fit.total == sum(expected.values())


def test_engagement_sums_every_member_within_the_window_with_decay() -> None:
    people = {"a": [touch("d", at(0), "demo_request", map_id="a")],
              "b": [web("p", 0, "/pricing", "b"), web("old", -120, "/pricing", "b")]}
    result = score(people, at(30))
    # 60 + 15 decayed by one half-life; the 120-day-old visit is outside the window
    assert result.engagement.total == 38  # 37.5 rounds half up
    assert {line.touch_id for line in result.engagement.lines} == {"d", "p"}
    assert sum(line.points for line in result.engagement.lines) == 38
    assert result.engagement.lines[0].detail.startswith("a: demo_request")


STAGE_CASES = [
    pytest.param({}, False, "Target", id="no-engagement-target"),
    pytest.param({"a": [web("p", 10, "/pricing")]}, False, "Aware", id="aware"),
    pytest.param({"a": [touch("d", at(10), "demo_request", map_id="a")]}, False,
                 "Consideration", id="consideration"),
    pytest.param({"a": [touch("d", at(10), "demo_request", map_id="a")],
                  "b": [touch("t", at(10), "trial_start", map_id="b"),
                        touch("w", at(10), "webinar_attended", map_id="b")],
                  "c": [touch("d2", at(10), "demo_request", map_id="c")]}, False, "Decision",
                 id="decision"),
    pytest.param({}, True, "Purchase", id="open-opportunity-purchase"),
]


@pytest.mark.parametrize(("members", "open_opp", "stage"), STAGE_CASES)
def test_buying_stage(members: dict[str, list[Touch]], open_opp: bool, stage: str) -> None:
    opps = [OpenOpportunity("006X", at(5))] if open_opp else []
    assert score(members, at(10), opportunities=opps).buying_stage == stage


def test_an_account_losing_engagement_moves_back_a_stage() -> None:
    people = {"a": [touch("d", at(0), "demo_request", map_id="a")]}
    hot = score(people, at(1))
    assert hot.buying_stage == "Consideration"
    cooled = score(people, at(40), previous=AccountState(buying_stage=hot.buying_stage))
    assert cooled.buying_stage == "Aware"  # 60 halved then some: below 50
    assert cooled.stage_reason.endswith("moved back from Consideration")
    gone = score(people, at(91))
    assert gone.buying_stage == "Target" and gone.engagement.total == 0


def test_qualified_when_fit_and_stage_reach_their_thresholds_with_the_first_moment() -> None:
    people = {"a": [web("p", 0, "/pricing", "a"), touch("d", at(3), "demo_request",
                                                          map_id="a")]}
    result = score(people, at(10), ICP)
    assert result.qualified and result.qualified_date == at(3)
    low_fit = score(people, at(10), AccountProfile(industry="Retail"))
    assert not low_fit.qualified and low_fit.qualified_date is None


def test_qualified_date_is_kept_once_written_and_the_flag_follows_the_stage() -> None:
    people = {"a": [touch("d", at(0), "demo_request", map_id="a")]}
    kept = score(people, at(80), ICP, previous=AccountState(qualified_date=at(0)))
    assert not kept.qualified and kept.qualified_date == at(0)


def test_qualified_by_an_open_opportunity_dates_from_its_creation() -> None:
    result = score({}, at(10), ICP, opportunities=[OpenOpportunity("006X", at(4))])
    assert result.qualified and result.qualified_date == at(4)


ENGAGED_CASES = [
    pytest.param([web("p", 5, "/pricing")], at(5), id="pricing-page"),
    pytest.param([touch("m", at(6), "sales_meeting")], at(6), id="meeting"),
    pytest.param([touch("f", at(7), "form_fill", url="https://www.lumora.io/contact-sales")],
                 at(7), id="contact-request"),
    pytest.param([web("v", 1, "/"), touch("ad", at(2), "ad_click",
                                          url="https://www.lumora.io/pricing"),
                  touch("o", at(3), "email_open")], None,
                 id="visits-ad-clicks-opens-do-not-count"),
    pytest.param([touch("d", at(9), "demo_request"), web("p", 8, "/pricing")], at(8),
                 id="earliest-wins"),
]


@pytest.mark.parametrize(("touches", "expected"), ENGAGED_CASES)
def test_engaged_date_at_the_first_meaningful_engagement(touches: list[Touch],
                                                         expected: datetime | None) -> None:
    assert score({"M-1": touches}, at(10)).engaged_date == expected


def test_engaged_date_is_kept_once_written() -> None:
    result = score({"M-1": [web("p", 5, "/pricing")]}, at(10),
                   previous=AccountState(engaged_date=at(2)))
    assert result.engaged_date == at(2)


@pytest.mark.parametrize(("on_list", "sf_field", "expected"), [
    pytest.param(True, False, True, id="target-list"),
    pytest.param(False, True, True, id="salesforce-field"),
    pytest.param(False, False, False, id="neither"),
])
def test_target_flag(on_list: bool, sf_field: bool, expected: bool) -> None:
    assert score({}, at(0), on_target_list=on_list,
                 salesforce_target=sf_field).target is expected


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 200),
                          st.sampled_from(["demo_request", "web_visit", "email_open",
                                           "webinar_attended"])), max_size=30),
       st.integers(0, 220))
def test_engagement_lines_sum_to_the_total(raw: list[tuple[int, int, str]],
                                           as_of_day: int) -> None:
    people: dict[str, list[Touch]] = {}
    for i, (who, day, kind) in enumerate(raw):
        people.setdefault(f"m{who}", []).append(
            touch(f"t{i}", at(day), kind, map_id=f"m{who}",
                  url="https://www.lumora.io/careers" if i % 5 == 0 else None))
    result = score(people, at(as_of_day))
    assert sum(line.points for line in result.engagement.lines) == result.engagement.total


def test_account_explain_json() -> None:
    import json

    from connector.engine.score_json import account_scores_json

    doc = json.loads(json.dumps(account_scores_json(
        score({"a": [web("p", 5, "/pricing", "a")]}, at(10), ICP))))
    assert doc["buying_stage"] == "Aware" and doc["engaged_by"]["touch_id"] == "p"
    assert sum(r["points"] for r in doc["engagement"]["rules"]) == doc["engagement"]["total"]
    assert sum(r["points"] for r in doc["fit"]["rules"]) == doc["fit"]["total"] == 100
