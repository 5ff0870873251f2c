"""Every attribution model on hand-computed journeys (README "Attribution").

Each case gives the journey, the opportunity, and per model the credit each
touch must get (touches absent from a model's dict get no record). The numbers
were worked out by hand from the rules, not by running the engine.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest

from connector.engine.attribution import (
    NOT_A_RESPONSE,
    OUTSIDE_WINDOW,
    OpportunityValue,
    TouchValue,
    attribute,
)
from tests.engines.attribution_journeys import ALL, CREATED, end_of, opp, touch

AS_OF = CREATED + timedelta(days=60)

ONE = [touch("t1", -10)]
TWO = [touch("t1", -20), touch("t2", -5, conversion=True)]
# FT and LC on one touch, OC and CL on another, one middle touch
COINCIDE = [touch("t1", -30, conversion=True), touch("t2", -15), touch("t3", -2)]
# every touch positional: FT, LC+OC, CL
NO_MIDDLE = [touch("t1", -24), touch("t2", -3, conversion=True), touch("t3", 5)]
SAME_TIME = [touch("tb", -10), touch("ta", -10)]
AFTER_CREATED = [touch("t1", 1), touch("t2", 2, conversion=True)]

CASES = [
    pytest.param(
        ONE, opp(), {m: {"t1": "100.0000"} for m in (
            "first_touch", "last_touch", "linear", "u_shaped", "w_shaped", "full_path",
            "time_decay", "custom")},
        {"t1": "FT+LC+OC+CL"}, id="one-touch-gets-everything"),
    pytest.param(
        TWO, opp(), {
            "first_touch": {"t1": "100.0000"},
            "last_touch": {"t2": "100.0000"},
            "linear": {"t1": "50.0000", "t2": "50.0000"},
            # no middle touch: its 20% goes 40:40 to FT and LC
            "u_shaped": {"t1": "50.0000", "t2": "50.0000"},
            # FT 30, LC+OC 60, the 10% middle share scaled in: x 100/90
            "w_shaped": {"t1": "33.3333", "t2": "66.6667"},
            "full_path": {"t1": "25.0000", "t2": "75.0000"},
            # 2^(-20/7) : 2^(-5/7)
            "time_decay": {"t1": "18.4626", "t2": "81.5374"},
            # FT 25, LC+OC+CL 65, middle 10 scaled in
            "custom": {"t1": "27.7778", "t2": "72.2222"},
        }, {"t1": "FT", "t2": "LC+OC+CL"}, id="two-touches"),
    pytest.param(
        COINCIDE, opp(), {
            "first_touch": {"t1": "100.0000"},
            "last_touch": {"t3": "100.0000"},
            "linear": {"t1": "33.3334", "t2": "33.3333", "t3": "33.3333"},
            # FT=LC: nothing strictly between, so t1 alone; t2, t3 come after LC
            "u_shaped": {"t1": "100.0000"},
            "w_shaped": {"t1": "60.0000", "t2": "10.0000", "t3": "30.0000"},
            "full_path": {"t1": "45.0000", "t2": "10.0000", "t3": "45.0000"},
            # 4.66933 + 20.62142 + 74.70925 rounds to 99.9999: +0.0001 to the largest
            "time_decay": {"t1": "4.6693", "t2": "20.6214", "t3": "74.7093"},
            "custom": {"t1": "50.0000", "t2": "10.0000", "t3": "40.0000"},
        }, {"t1": "FT+LC", "t2": "middle", "t3": "OC+CL"}, id="coinciding-positions"),
    pytest.param(
        NO_MIDDLE, opp(), {
            "first_touch": {"t1": "100.0000"},
            "last_touch": {"t2": "100.0000"},
            "linear": {"t1": "33.3334", "t2": "33.3333", "t3": "33.3333"},
            "u_shaped": {"t1": "50.0000", "t2": "50.0000"},
            # t3 comes after OC: nothing under w_shaped
            "w_shaped": {"t1": "33.3333", "t2": "66.6667"},
            "full_path": {"t1": "25.0000", "t2": "50.0000", "t3": "25.0000"},
            # 21 days apart = 3 half-lives: 1/8 : 1
            "time_decay": {"t1": "11.1111", "t2": "88.8889"},
            # 27.7778 + 55.5556 + 16.6667 = 100.0001: -0.0001 from the largest
            "custom": {"t1": "27.7778", "t2": "55.5555", "t3": "16.6667"},
        }, {"t1": "FT", "t2": "LC+OC", "t3": "CL"}, id="no-middle-touches"),
    pytest.param(
        SAME_TIME, opp(), {
            "first_touch": {"ta": "100.0000"},
            "last_touch": {"tb": "100.0000"},
            "linear": {"ta": "50.0000", "tb": "50.0000"},
            "u_shaped": {"ta": "100.0000"},
            "w_shaped": {"ta": "66.6667", "tb": "33.3333"},
            "full_path": {"ta": "50.0000", "tb": "50.0000"},
            "time_decay": {"ta": "50.0000", "tb": "50.0000"},
            "custom": {"ta": "55.5556", "tb": "44.4444"},
        }, {"ta": "FT+LC", "tb": "OC+CL"}, id="equal-timestamps-tie-on-touch-id"),
    pytest.param(
        NO_MIDDLE, opp(closed=False), {
            "first_touch": {"t1": "100.0000"},
            "last_touch": {"t2": "100.0000"},
            "linear": {"t1": "33.3334", "t2": "33.3333", "t3": "33.3333"},
            "u_shaped": {"t1": "50.0000", "t2": "50.0000"},
            "w_shaped": {"t1": "33.3333", "t2": "66.6667"},
            # open: full_path is w_shaped
            "full_path": {"t1": "33.3333", "t2": "66.6667"},
            "time_decay": {"t1": "11.1111", "t2": "88.8889"},
            # no CL: FT 25, LC+OC 50, CL 15 and middle 10 scaled in x 100/75
            "custom": {"t1": "33.3333", "t2": "66.6667"},
        }, {"t1": "FT", "t2": "LC+OC", "t3": "middle"}, id="open-opportunity"),
    pytest.param(
        AFTER_CREATED, opp(closed=False), {
            "first_touch": {"t1": "100.0000"},
            "last_touch": {"t1": "100.0000"},
            "linear": {"t1": "50.0000", "t2": "50.0000"},
            "u_shaped": {"t1": "50.0000", "t2": "50.0000"},
            # FT+OC 60, LC 30, the middle 10 scaled in
            "w_shaped": {"t1": "66.6667", "t2": "33.3333"},
            "full_path": {"t1": "66.6667", "t2": "33.3333"},
            "time_decay": {"t1": "100.0000"},
            "custom": {"t1": "66.6667", "t2": "33.3333"},
        }, {"t1": "FT+OC", "t2": "LC"}, id="all-touches-after-created-oc-is-ft"),
]


@pytest.mark.parametrize(("touches", "opportunity", "expected", "positions"), CASES)
def test_model_credits_match_the_hand_computed_journey(
        touches: list[TouchValue], opportunity: OpportunityValue,
        expected: dict[str, dict[str, str]], positions: dict[str, str]) -> None:
    result = attribute(opportunity, touches, ALL, as_of=AS_OF)
    assert dict(result.touch_positions) == positions
    for model in ALL.models:
        records = [r for r in result.records if r.model == model]
        got = {r.touch_id: str(r.credit) for r in records}
        assert got == expected[model], model
        for r in records:
            assert r.position == positions[r.touch_id]
            assert r.key == f"{opportunity.id}:{r.touch_id}:{model}"


@pytest.mark.parametrize(("amount", "model", "revenue"), [
    pytest.param("100.01", "linear", {"t1": "33.33", "t2": "33.34", "t3": "33.34"},
                 id="odd-cents-remainder-to-the-earliest-of-equal-shares"),
    pytest.param("0.00", "w_shaped", {"t1": "0.00", "t2": "0.00", "t3": "0.00"},
                 id="zero-amount"),
    pytest.param("1000.005", "full_path", {"t1": "450.01", "t2": "100.00", "t3": "450.00"},
                 id="amount-rounded-to-cents-first"),
    pytest.param(None, "linear", {"t1": None, "t2": None, "t3": None}, id="no-amount"),
    pytest.param("-90.00", "linear", {"t1": "-30.00", "t2": "-30.00", "t3": "-30.00"},
                 id="negative-amount"),
])
def test_revenue_is_rounded_to_cents_and_sums_to_the_amount(
        amount: str | None, model: str, revenue: dict[str, str | None]) -> None:
    result = attribute(opp(amount=amount), COINCIDE, ALL, as_of=AS_OF)
    got = {r.touch_id: (str(r.revenue) if r.revenue is not None else None)
           for r in result.records if r.model == model}
    assert got == revenue


def test_window_is_inclusive_at_both_ends_and_ends_with_the_close_date() -> None:
    o = opp(close_in_days=30)
    touches = [
        touch("before", 0, at=CREATED - timedelta(days=365, microseconds=1)),
        touch("start", 0, at=CREATED - timedelta(days=365)),
        touch("last-moment", 0, at=end_of(o.close_date)),
        touch("next-day", 0, at=end_of(o.close_date) + timedelta(microseconds=1)),
        touch("open", 0, response=False, at=CREATED - timedelta(days=3)),
    ]
    result = attribute(o, touches, ALL, as_of=AS_OF)
    assert [t.touch_id for t in result.journey] == ["start", "last-moment"]
    assert {(e.touch_id, e.reason) for e in result.excluded} == {
        ("before", OUTSIDE_WINDOW), ("next-day", OUTSIDE_WINDOW), ("open", NOT_A_RESPONSE)}
    assert result.positions["CL"] == "last-moment"


def test_an_open_opportunitys_window_ends_at_as_of() -> None:
    touches = [touch("t1", -1), touch("t2", 5), touch("t3", 9)]
    result = attribute(opp(closed=False), touches, ALL, as_of=CREATED + timedelta(days=5))
    assert [t.touch_id for t in result.journey] == ["t1", "t2"]
    assert "CL" not in result.positions
    assert result.excluded[0].touch_id == "t3"


def test_no_touch_in_the_window_is_unattributed() -> None:
    result = attribute(opp(), [touch("old", -400), touch("mail", -3, response=False)], ALL,
                       as_of=AS_OF)
    assert not result.attributed and result.records == [] and result.positions == {}
    assert len(result.excluded) == 2


def test_a_positive_share_that_rounds_to_zero_is_still_written() -> None:
    # 2^(-300/7) ~ 1e-13 of the weight: a record with 0.0000
    result = attribute(opp(), [touch("ancient", -300), touch("recent", -1)], ALL, as_of=AS_OF)
    decay = {r.touch_id: str(r.credit) for r in result.records if r.model == "time_decay"}
    assert decay == {"ancient": "0.0000", "recent": "100.0000"}


def test_the_lookback_is_a_setting() -> None:
    result = attribute(opp(), [touch("t1", -40), touch("t2", -5)],
                       replace(ALL, lookback_days=30), as_of=AS_OF)
    assert [t.touch_id for t in result.journey] == ["t2"]


def test_half_life_changes_time_decay() -> None:
    # 14 days apart with a 14-day half-life: weights 1/2 : 1 -> 33.3333 / 66.6667
    result = attribute(opp(), [touch("t1", -14), touch("t2", 0)],
                       replace(ALL, half_life_days=Fraction(14)), as_of=AS_OF)
    got = {r.touch_id: str(r.credit) for r in result.records if r.model == "time_decay"}
    assert got == {"t1": "33.3333", "t2": "66.6667"}


def test_duplicate_offers_of_one_touch_count_once() -> None:
    result = attribute(opp(), [touch("t1", -3), touch("t1", -3), touch("t2", -1)], ALL,
                       as_of=AS_OF)
    assert [t.touch_id for t in result.journey] == ["t1", "t2"]


def test_explanation_names_the_rule_behind_each_share() -> None:
    result = attribute(opp(), NO_MIDDLE, ALL, as_of=AS_OF)
    rules = {(m.model, s.touch_id): s.rule for m in result.models for s in m.shares}
    assert rules[("w_shaped", "t3")] == "after OC: no credit"
    assert rules[("w_shaped", "t2")].startswith("LC 30% + OC 30%, scaled by 100%/90%")
    assert rules[("u_shaped", "t3")] == "after LC: no credit"
    assert rules[("linear", "t1")] == "100% / 3 touches"
    assert rules[("first_touch", "t2")] == "not FT: no credit"
    assert rules[("time_decay", "t1")].startswith("2^(-24.0000d/7d)")
    shares = {(m.model, s.touch_id): s.share for m in result.models for s in m.shares}
    assert sum(v for (m, _t), v in shares.items() if m == "custom") == 100


def test_custom_weights_zero_on_every_present_position_split_the_rest_equally() -> None:
    settings = replace(ALL, models=("custom",), custom=(
        ("FT", Fraction(0)), ("LC", Fraction(0)), ("OC", Fraction(0)), ("CL", Fraction(0)),
        ("middle", Fraction(100))))
    result = attribute(opp(), TWO, settings, as_of=AS_OF)
    assert {r.touch_id: str(r.credit) for r in result.records} == {
        "t1": "50.0000", "t2": "50.0000"}
    with_middle = attribute(opp(), COINCIDE, settings, as_of=AS_OF)
    assert {r.touch_id: r.credit for r in with_middle.records} == {"t2": Decimal("100.0000")}


def _readme_journey() -> list[TouchValue]:
    def at(touch_id: str, month: int, day: int, conversion: bool = False) -> TouchValue:
        return touch(touch_id, 0, conversion=conversion,
                     at=datetime(2024, month, day, 12, tzinfo=UTC))
    return [at("t1", 1, 15), at("t2", 1, 25), at("t3", 2, 1, True), at("t4", 2, 25, True),
            at("t5", 3, 20), at("t6", 4, 5, True)]


@pytest.mark.parametrize(("closed", "expected"), [
    pytest.param(True, {
        "u_shaped": ["40.0000", "20.0000", "40.0000"],
        "w_shaped": ["30.0000", "10.0000", "30.0000", "30.0000"],
        "full_path": ["22.5000", "10.0000", "22.5000", "22.5000", "22.5000"],
        "time_decay": ["1.4916", "4.0151", "8.0302", "86.4631"],
        "custom": ["25.0000", "10.0000", "25.0000", "25.0000", "15.0000"]}, id="closed"),
    pytest.param(False, {
        "full_path": ["30.0000", "10.0000", "30.0000", "30.0000"],
        "custom": ["30.0000", "10.0000", "30.0000", "30.0000"]}, id="open-on-2024-03-21"),
])
def test_the_readme_worked_example(closed: bool, expected: dict[str, list[str]]) -> None:
    o = OpportunityValue("006X", None, Decimal("10000.00"), datetime(2024, 3, 1, 12, tzinfo=UTC),
                         datetime(2024, 3, 31).date(), closed, closed)
    result = attribute(o, _readme_journey(), ALL, as_of=datetime(2024, 3, 21, tzinfo=UTC))
    assert [e.touch_id for e in result.excluded] == ["t6"]
    for model, credits in expected.items():
        assert [str(r.credit) for r in result.records if r.model == model] == credits
    t4 = next(r for r in result.records if r.model == "time_decay" and r.touch_id == "t4")
    assert str(t4.revenue) == "8646.31"
