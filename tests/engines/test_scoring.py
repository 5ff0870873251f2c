"""Person scores: rules, decay, caps, negative points, exclusions, exact integer totals."""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connector.engine.scoring import (
    Profile,
    apportion,
    behavior_score,
    exclusion_reason,
    fit_score,
    round_half_up,
    score_person,
    score_touches,
)
from connector.engine.scoring_config import BehaviorRule, ScoringMapping
from connector.models import Touch
from tests.factories import T0, mappings, program, touch

FREE = mappings().sync.free_mail_domains


def cfg() -> ScoringMapping:
    scoring = mappings().scoring
    assert scoring is not None
    return scoring


def rules(*specs: dict[str, Any]) -> list[BehaviorRule]:
    return [BehaviorRule.model_validate(s) for s in specs]


def web(tid: str, at: int | Any, path: str) -> Touch:
    return touch(tid, at, "web_visit", url=f"https://www.lumora.io{path}")


BEHAVIOR_CASES = [
    pytest.param([web("a", 0, "/pricing")], 15, ["pricing_page"], id="pricing-page-strong"),
    pytest.param([web("a", 0, "/blog/x")], 1, ["blog_visit"], id="blog-weak"),
    pytest.param([web("a", 0, "/careers")], -10, ["careers_page"], id="careers-negative"),
    pytest.param([web("a", 0, "/")], 1, ["web_visit"], id="plain-visit-generic-rule"),
    pytest.param([touch("a", 0, "demo_request")], 60, ["demo_request"], id="demo-request"),
    pytest.param([touch("a", 0, "content_download",
                        program=program("S", "Content Syndication"))], 5,
                 ["syndicated_download"], id="program-channel-rule-before-type-rule"),
    pytest.param([touch("a", 0, "content_download", program=program("W", "Webinar"))], 10,
                 ["content_download"], id="other-channel-falls-to-type-rule"),
    pytest.param([web(str(i), 0, "/pricing") for i in range(5)], 45, ["pricing_page"] * 5,
                 id="cap-three-per-30-days"),
    pytest.param([web("a", 0, "/pricing"), web("b", 1, "/pricing"), web("c", 2, "/pricing"),
                  web("d", 31, "/pricing")], None, ["pricing_page"] * 4,
                 id="cap-window-slides"),
    pytest.param([web("a", 0, "/careers"), web("b", 1, "/careers")], -10,
                 ["careers_page", "careers_page"], id="negative-capped-too"),
    pytest.param([touch("a", 0, "email_open", url=None)], 1, ["email_open"], id="email-open"),
]


@pytest.mark.parametrize(("touches", "expected", "fired"), BEHAVIOR_CASES)
def test_behavior_rules_without_decay(touches: list[Touch], expected: int | None,
                                      fired: list[str]) -> None:
    scored = score_touches(touches, cfg().behavior.rules, T0 + timedelta(days=40))
    assert [s.rule for s in scored] == fired
    score = behavior_score(scored, T0 + timedelta(days=40), None)
    assert sum(line.points for line in score.lines) == score.total
    if expected is not None:
        assert score.total == expected
    else:  # the 4th touch is 31 days after the first: the window has room again
        assert [s.capped for s in scored] == [False, False, False, False]
        assert score.total == 60


def test_capped_touches_are_listed_with_zero_points() -> None:
    touches = [web(str(i), i, "/pricing") for i in range(5)]
    scored = score_touches(touches, cfg().behavior.rules, T0 + timedelta(days=10))
    assert [s.capped for s in scored] == [False, False, False, True, True]
    score = behavior_score(scored, T0 + timedelta(days=10), None)
    assert [line.points for line in score.lines] == [15, 15, 15, 0, 0]
    assert "capped" in score.lines[-1].detail


@pytest.mark.parametrize(("age_days", "half_life", "expected"), [
    pytest.param(0, 30, 60, id="fresh"),
    pytest.param(30, 30, 30, id="one-half-life"),
    pytest.param(60, 30, 15, id="two-half-lives"),
    pytest.param(90, 30, 8, id="three-half-lives-rounds-half-up"),  # 7.5 -> 8
    pytest.param(365, None, 60, id="no-decay"),
])
def test_half_life_decay(age_days: int, half_life: float | None, expected: int) -> None:
    scored = score_touches([touch("a", 0, "demo_request")], cfg().behavior.rules,
                           T0 + timedelta(days=age_days))
    score = behavior_score(scored, T0 + timedelta(days=age_days), half_life)
    assert score.total == expected
    assert score.lines[0].decayed_points == pytest.approx(60 * 0.5 ** (age_days / half_life)
                                                          if half_life else 60)


def test_touches_after_as_of_are_ignored() -> None:
    scored = score_touches([touch("a", 0, "demo_request"), touch("b", 5, "trial_start")],
                           cfg().behavior.rules, T0 + timedelta(days=1))
    assert [s.touch_id for s in scored] == ["a"]


def test_first_matching_rule_wins_and_unmatched_touches_do_not_fire() -> None:
    custom = rules({"name": "any_pricing", "url": "/pricing", "points": 7},
                   {"name": "visits", "touch_types": ["web_visit"], "points": 1})
    scored = score_touches([web("a", 0, "/pricing"), web("b", 0, "/x"),
                            touch("c", 0, "form_fill")], custom, T0 + timedelta(days=1))
    assert [(s.touch_id, s.rule, s.base_points) for s in scored] == [
        ("a", "any_pricing", 7), ("b", "visits", 1)]


FIT_CASES = [
    pytest.param(dict(title="VP Marketing", industry="Technology", employees=500,
                      country="United States", email="a@acme.com"),
                 {"vp": 20, "revenue_function": 10, "icp_industry": 15, "mid_market": 10,
                  "served_country": 5}, id="icp-buyer"),
    pytest.param(dict(title="Chief Marketing Officer", employees=5000,
                      annual_revenue=250_000_000, email="a@acme.com"),
                 {"executive": 20, "revenue_function": 10, "enterprise": 15,
                  "revenue_100m_plus": 10}, id="exec-enterprise-one-per-group"),
    pytest.param(dict(title="Student", employees=5, email="s@gmail.com"),
                 {"not_a_buyer": -20, "micro": -5, "free_mail": -15}, id="negative-fit"),
    pytest.param(dict(title=None, industry=None, email=None), {}, id="nothing-known"),
    pytest.param(dict(employees=200, email="a@acme.com"), {"mid_market": 10},
                 id="band-min-included"),
    pytest.param(dict(employees=1000, email="a@acme.com"), {"enterprise": 15},
                 id="band-below-excluded"),
]


@pytest.mark.parametrize(("fields", "expected"), FIT_CASES)
def test_fit_rules(fields: dict[str, Any], expected: dict[str, int]) -> None:
    score = fit_score(Profile(**fields), cfg().fit.rules, FREE)
    assert {line.rule: line.points for line in score.lines} == expected
    assert score.total == sum(expected.values())


EXCLUSION_CASES = [
    pytest.param(dict(email="jo@gmail.com"), "Free-mail address", id="free-mail"),
    pytest.param(dict(email="jo@acme.com", title="Marketing Intern"), "Student",
                 id="student"),
    pytest.param(dict(email="jo@competitor.example.com"), "Competitor", id="competitor"),
    pytest.param(dict(email="jo@acme.edu", industry="education"), "Industry outside ICP",
                 id="industry-case-insensitive"),
    pytest.param(dict(email="jo@acme.com", industry="Technology", title="CMO"), None,
                 id="not-excluded"),
    pytest.param(dict(email=None), None, id="missing-data-never-excludes"),
    pytest.param(dict(email="jo@gmail.com", title="Student"), "Free-mail address",
                 id="first-exclusion-wins"),
]


@pytest.mark.parametrize(("fields", "expected"), EXCLUSION_CASES)
def test_exclusions(fields: dict[str, Any], expected: str | None) -> None:
    assert exclusion_reason(Profile(**fields), cfg().exclusions, FREE) == expected


def test_lead_is_behavior_plus_fit_with_the_reason_of_an_exclusion() -> None:
    profile = Profile(email="jo@gmail.com", title="Director of Marketing")
    scores = score_person(profile, [touch("a", 0, "demo_request")], cfg(), FREE,
                          T0 + timedelta(days=30))
    assert scores.behavior.total == 30 and scores.fit.total == 15 + 10 - 15
    assert scores.lead == 40 and scores.excluded_reason == "Free-mail address"


@pytest.mark.parametrize(("value", "expected"), [
    pytest.param(2.5, 3, id="half-up"), pytest.param(-2.5, -2, id="negative-half-up"),
    pytest.param(2.4999, 2, id="below-half"), pytest.param(-0.6, -1, id="negative-down"),
])
def test_round_half_up(value: float, expected: int) -> None:
    assert round_half_up(value) == expected


@given(st.lists(st.floats(min_value=-1000, max_value=1000, allow_nan=False), max_size=40))
def test_apportioned_lines_sum_to_the_rounded_total_and_stay_within_one(
        values: list[float]) -> None:
    total, shares = apportion(values)
    assert total == round_half_up(math.fsum(values))
    assert sum(shares) == total
    assert all(abs(s - v) < 1 + 1e-9 for s, v in zip(shares, values, strict=True))


TOUCH_KINDS = [("web_visit", "/pricing"), ("web_visit", "/careers"), ("web_visit", "/blog/a"),
               ("demo_request", None), ("email_open", None), ("webinar_attended", None),
               ("content_download", None), ("ad_click", None)]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 200 * 24), st.sampled_from(TOUCH_KINDS)),
                max_size=30),
       st.sampled_from(["VP Sales", "Student", None, "Director of IT"]),
       st.sampled_from(["a@acme.com", "b@gmail.com"]), st.integers(0, 400))
def test_explanation_sums_to_totals_and_lead_is_behavior_plus_fit(
        raw: list[tuple[int, tuple[str, str | None]]], title: str | None, email: str,
        as_of_days: int) -> None:
    touches = [touch(f"t{i}", T0 + timedelta(hours=h), kind,
                     url=f"https://www.lumora.io{path}" if path else None)
               for i, (h, (kind, path)) in enumerate(raw)]
    scores = score_person(Profile(email=email, title=title), touches, cfg(), FREE,
                          T0 + timedelta(days=as_of_days))
    assert sum(line.points for line in scores.behavior.lines) == scores.behavior.total
    assert sum(line.points for line in scores.fit.lines) == scores.fit.total
    assert scores.lead == scores.behavior.total + scores.fit.total
    exact = sum(line.decayed_points or 0.0 for line in scores.behavior.lines)
    assert abs(scores.behavior.total - exact) <= 0.5 + 1e-6


def test_a_group_profile_takes_each_field_from_the_first_person_who_has_it() -> None:
    from tests.factories import person

    primary = person("M-1", "ada@acme.com", title=None, industry="Technology")
    other = person("M-2", "ada.l@acme.com", title="CMO", industry="Retail")
    merged = Profile.of_group([primary, other])
    assert (merged.email, merged.title, merged.industry) == (
        "ada@acme.com", "CMO", "Technology")
    invalid = person("M-3", "not-an-email")
    assert Profile.of(invalid).email is None
