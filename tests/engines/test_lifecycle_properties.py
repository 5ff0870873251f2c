"""Lifecycle invariants over random histories: dates never move earlier within a
cycle, dates follow stage order, original source never changes across cycles."""

from __future__ import annotations

from datetime import datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from connector.engine.lifecycle import (
    RANK,
    Lifecycle,
    LifecycleRules,
    OpportunityRole,
    SalesforceView,
    StageState,
    StatusChange,
    lifecycle,
)
from connector.engine.scoring import Profile, score_person
from connector.engine.scoring_config import STAGES
from connector.models import Touch
from connector.source_fields import compute_source_fields
from tests.factories import T0, mappings, person, touch

RULES = LifecycleRules.from_mappings(mappings())
KINDS = ["form_fill", "demo_request", "webinar_attended", "web_visit", "email_open",
         "content_download", "trial_start", "ad_click"]
PATHS = ["/pricing", "/blog/x", "/careers", "/"]
STATUSES = ["Open - Not Contacted", "Working", "Qualified", "Nurture", "Recycled"]
PROFILES = [Profile(email="vp@acme.com", title="VP Marketing", industry="Technology",
                    employees=500, country="United States"),
            Profile(email="x@acme.com"), Profile(email="s@gmail.com", title="Student")]

hours = st.integers(min_value=0, max_value=24 * 300)


@st.composite
def histories(draw: st.DrawFn) -> tuple[list[Touch], SalesforceView, Profile]:
    raw = draw(st.lists(st.tuples(hours, st.sampled_from(KINDS), st.sampled_from(PATHS)),
                        max_size=25))
    touches = [touch(f"t{i:02d}", T0 + timedelta(hours=h), kind,
                     url=f"https://www.lumora.io{path}") for i, (h, kind, path) in
               enumerate(raw)]
    statuses = tuple(StatusChange(T0 + timedelta(hours=h), s) for h, s in draw(
        st.lists(st.tuples(hours, st.sampled_from(STATUSES)), max_size=5)))
    roles = tuple(
        OpportunityRole(f"006{i}", T0 + timedelta(hours=h), is_closed=won is not None,
                        is_won=bool(won), closed_at=T0 + timedelta(hours=h + 24 * 20)
                        if won is not None else None)
        for i, (h, won) in enumerate(draw(st.lists(
            st.tuples(hours, st.one_of(st.none(), st.booleans())), max_size=2))))
    return touches, SalesforceView(statuses=statuses, opportunities=roles), draw(
        st.sampled_from(PROFILES))


def compute(touches: list[Touch], sf: SalesforceView, profile: Profile, as_of: datetime,
            previous: StageState | None) -> Lifecycle:
    m = mappings()
    assert m.scoring is not None
    scores = score_person(profile, touches, m.scoring, m.sync.free_mail_domains, as_of)
    return lifecycle(touches, scores, sf, RULES, as_of, previous)


def state_of(result: Lifecycle) -> StageState | None:
    if result.cycle is None:
        return None
    return StageState(cycle=result.cycle, stage=result.stage, dates=result.dates,
                      recycled_at=result.recycled_at)


@settings(max_examples=120, deadline=None)
@given(histories(), st.lists(st.integers(min_value=0, max_value=24 * 400), min_size=2,
                             max_size=4))
def test_stage_dates_never_move_earlier_within_a_cycle(
        history: tuple[list[Touch], SalesforceView, Profile], as_of_hours: list[int]) -> None:
    touches, sf, profile = history
    previous: StageState | None = None
    seen: dict[tuple[int, str], datetime] = {}
    for h in sorted(as_of_hours):
        result = compute(touches, sf, profile, T0 + timedelta(hours=h), previous)
        for cycle in result.cycles:
            # within a cycle, a later stage never has an earlier date
            dated = sorted(cycle.dates.items(), key=lambda kv: RANK[kv[0]])
            assert [d for _, d in dated] == sorted(d for _, d in dated)
            assert all(d >= cycle.opened_at for d in cycle.dates.values())
            if cycle.closed_at is not None:
                assert all(d < cycle.closed_at for d in cycle.dates.values())
        if result.cycle is not None:
            for stage, when in result.dates.items():
                key = (result.cycle, stage)
                assert seen.get(key, when) == when  # set once: never moved, either way
                seen[key] = when
            for stage in STAGES:
                if (result.cycle, stage) in seen and result.cycle == max(
                        c for c, _ in seen):
                    assert stage in result.dates  # never cleared within the cycle
        previous = state_of(result)


@settings(max_examples=80, deadline=None)
@given(histories(), st.integers(min_value=0, max_value=24 * 400))
def test_original_source_never_changes_across_cycles(
        history: tuple[list[Touch], SalesforceView, Profile], as_of_hour: int) -> None:
    touches, sf, profile = history
    as_of = T0 + timedelta(hours=as_of_hour)
    m = mappings()
    result = compute(touches, sf, profile, as_of, None)
    seen = [t for t in touches if t.occurred_at <= as_of]
    fields = compute_source_fields([person()], seen, {}, result.close_events, m.channels)
    without_cycles = compute_source_fields([person()], seen, {}, [], m.channels)
    assert (fields.original_source, fields.original_source_date) == (
        without_cycles.original_source, without_cycles.original_source_date)
    if result.cycles:
        # first touch restarts with the connector's own current cycle
        assert fields.first_touch is not None
        assert fields.first_touch.touch_id == result.cycles[-1].first_touch_id
        assert fields.cycle == result.cycle
