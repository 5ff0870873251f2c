"""Invariants of attribution over random journeys (hypothesis).

Every model's credits sum to exactly 100.0000 and its revenue to the Amount
(in cents); the output is byte-identical whatever order the touches arrive in.
"""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from connector.engine.attribution import (
    Attribution,
    OpportunityValue,
    TouchValue,
    attribute,
)
from connector.engine.attribution_rounding import cents
from connector.engine.attribution_scope import influence_rows
from tests.engines.attribution_journeys import ALL, CREATED, opp, touch

AS_OF = CREATED + timedelta(days=90)


@st.composite
def journeys(draw: st.DrawFn) -> tuple[OpportunityValue, list[TouchValue]]:
    n = draw(st.integers(min_value=0, max_value=12))
    # window edges and a few shared instants, so equal timestamps happen often
    minutes = st.one_of(
        st.sampled_from([-366 * 1440, -365 * 1440, -30 * 1440, -1440, 0, 1440, 30 * 1440]),
        st.integers(min_value=-400 * 1440, max_value=80 * 1440))
    touches = [
        touch(f"t{draw(st.integers(0, 30)):02d}-{i}", 0,
              conversion=draw(st.booleans()), response=draw(st.integers(0, 5)) > 0,
              at=CREATED + timedelta(minutes=draw(minutes)),
              campaign=draw(st.sampled_from(["701A", "701B", "701C"])),
              contact=draw(st.sampled_from(["003A", "003B"])))
        for i in range(n)]
    amount = draw(st.one_of(
        st.none(),
        st.decimals(min_value=0, max_value=10**9, places=2, allow_nan=False),
        st.decimals(min_value=0, max_value=10**6, places=5, allow_nan=False)))
    o = opp(closed=draw(st.booleans()), close_in_days=draw(st.integers(0, 60)),
            amount=str(amount) if amount is not None else None)
    return o, touches


def _render(result: Attribution) -> str:
    return "\n".join(repr(r) for r in result.records) + repr(result.excluded) \
        + repr([(m.model, m.shares) for m in result.models])


@settings(max_examples=250, deadline=None)
@given(journeys(), st.integers(1, 60))
def test_every_model_sums_to_100_and_to_the_amount(
        case: tuple[OpportunityValue, list[TouchValue]], half_life: int) -> None:
    o, touches = case
    result = attribute(o, touches, replace(ALL, half_life_days=Fraction(half_life)),
                       as_of=AS_OF)
    assert result.attributed == bool(result.journey)
    keys = [r.key for r in result.records]
    assert len(keys) == len(set(keys))
    for m in result.models:
        assert sum(s.share for s in m.shares) == 100
        assert m.records, m.model  # an attributed opportunity always has credit
        assert sum(r.credit for r in m.records) == Decimal("100.0000")
        assert all(r.credit >= 0 and r.credit.as_tuple().exponent == -4 for r in m.records)
        if o.amount is None:
            assert all(r.revenue is None for r in m.records)
        else:
            assert sum(r.revenue for r in m.records if r.revenue is not None) == cents(o.amount)
    if not result.attributed:
        assert result.records == []


@settings(max_examples=150, deadline=None)
@given(journeys(), st.randoms(use_true_random=False))
def test_output_is_identical_under_input_shuffles(
        case: tuple[OpportunityValue, list[TouchValue]], rnd: random.Random) -> None:
    o, touches = case
    first = _render(attribute(o, touches, ALL, as_of=AS_OF))
    shuffled = list(touches)
    rnd.shuffle(shuffled)
    assert _render(attribute(o, shuffled, ALL, as_of=AS_OF)) == first


@settings(max_examples=150, deadline=None)
@given(journeys())
def test_campaign_influence_rows_sum_to_100_when_every_touch_has_a_campaign(
        case: tuple[OpportunityValue, list[TouchValue]]) -> None:
    o, touches = case
    result = attribute(o, touches, ALL, as_of=AS_OF)
    for m in result.models:
        rows = influence_rows(result, m.model)
        if result.attributed:
            assert sum(r.influence for r in rows) == Decimal("100.00")
            assert len({r.key for r in rows}) == len(rows)
        else:
            assert rows == []
