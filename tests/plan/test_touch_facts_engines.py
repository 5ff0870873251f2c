"""The engines decide the same from the ledger's ``TouchFacts`` as from the
pydantic ``Touch`` a source yields: a sync (which reads facts) and a test or a
source (which hold models) can never disagree on a person or an account."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from connector.engine.account_values import desired_account
from connector.engine.campaigns import member_states
from connector.engine.context import AccountContext, PersonContext, Target
from connector.engine.person import desired_person
from connector.models import Touch
from connector.values import MirrorRow, TouchFacts, TouchLike
from tests.factories import mappings, person, program, touch

WEBINAR = program("P-W", "Webinar")
EVENT = program("P-E", "Tradeshow")
PROGRAMS = {"P-W": WEBINAR, "P-E": EVENT}
CAMPAIGNS = {"P-W": ("id", "701000000000001AAA"), "P-E": ("ref", "Campaign:P-E")}
LEAD = "00Q000000000001AAA"
ACCOUNT = "001000000000001AAA"
AS_OF = datetime(2026, 3, 1, tzinfo=UTC)


@st.composite
def _history(draw: st.DrawFn) -> list[Touch]:
    types = sorted(mappings().touches.touch_types)
    out = []
    for i in range(draw(st.integers(0, 12))):
        kw: dict[str, Any] = {}
        if draw(st.booleans()):
            kw["utm_source"], kw["utm_medium"] = draw(st.sampled_from(
                [("google", "cpc"), ("linkedin", "paid_social"), ("newsletter", "email")]))
        if draw(st.booleans()):
            kw["url"] = draw(st.sampled_from(["https://acme.com/pricing",
                                              "https://acme.com/blog/x"]))
        out.append(touch(f"t{i}", draw(st.integers(0, 60)), draw(st.sampled_from(types)),
                         map_id=draw(st.sampled_from(["M-1", "M-2"])),
                         program=draw(st.sampled_from([None, WEBINAR, EVENT])), **kw))
    return out


def _person_context(touches: tuple[TouchLike, ...], recycled: bool) -> PersonContext:
    history = ((AS_OF - timedelta(days=30), "status: Recycled"),) if recycled else ()
    return PersonContext(
        target=Target(LEAD, "Lead", LEAD, ["M-1", "M-2"]),
        people=(person("M-1", "ada@acme.com", company="Acme", title="VP Marketing"),
                person("M-2", "ada@gmail.com")),
        touches=tuple(sorted(touches, key=lambda t: t.order_key)),
        record=MirrorRow("Lead", LEAD, {"Id": LEAD, "Status": "Working"}), written={},
        person_events=(), record_history={LEAD: history}, converted_from=frozenset(),
        members={})


def _account_context(touches: tuple[TouchLike, ...]) -> AccountContext:
    by_person: dict[str, tuple[TouchLike, ...]] = {}
    for t in sorted(touches, key=lambda t: t.order_key):
        by_person[t.map_id] = (*by_person.get(t.map_id, ()), t)
    return AccountContext(
        record=MirrorRow("Account", ACCOUNT, {"Id": ACCOUNT, "Website": "acme.com",
                                              "NumberOfEmployees": 800}),
        people=(person("M-1", "ada@acme.com"), person("M-2", "bob@acme.com")),
        touches=by_person, opportunities=(), tier="1", on_target_list=True, written={})


@settings(max_examples=40, deadline=None)
@given(history=_history(), recycled=st.booleans())
def test_engines_decide_the_same_from_facts_as_from_models(history: list[Touch],
                                                           recycled: bool) -> None:
    facts = tuple(TouchFacts.of(t) for t in history)
    models = tuple(history)
    m = mappings()
    by_model = desired_person(_person_context(models, recycled), PROGRAMS, CAMPAIGNS, m,
                              "M-1", AS_OF)
    by_facts = desired_person(_person_context(facts, recycled), PROGRAMS, CAMPAIGNS, m,
                              "M-1", AS_OF)
    assert by_facts.values == by_model.values
    assert by_facts.depends == by_model.depends
    assert by_facts.sources == by_model.sources
    assert by_facts.close_events == by_model.close_events
    assert by_facts.new_cycle == by_model.new_cycle
    assert by_facts.stages is not None and by_model.stages is not None
    assert by_facts.stages.scores == by_model.stages.scores
    assert by_facts.stages.values() == by_model.stages.values()
    tokyo = ZoneInfo("Asia/Tokyo")
    assert member_states(facts, m, tokyo) == member_states(models, m, tokyo)
    account_by_facts = desired_account(_account_context(facts), m, AS_OF)
    account_by_model = desired_account(_account_context(models), m, AS_OF)
    assert account_by_facts is not None and account_by_model is not None
    assert account_by_facts.values == account_by_model.values
