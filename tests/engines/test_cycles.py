"""Funnel cycles open with a response and close on recycle events."""

from __future__ import annotations

from datetime import timedelta

import pytest

from connector.engine.cycles import build_cycles, status_closes
from tests.factories import T0, touch


def test_no_events_is_one_cycle_from_the_first_response() -> None:
    cycles = build_cycles([touch("b", 5), touch("a", 1)], [])
    assert [c.number for c in cycles] == [1]
    assert cycles[0].first_response.touch_id == "a" and cycles[0].is_open


def test_a_close_then_a_response_opens_the_next_cycle() -> None:
    events = [(T0 + timedelta(days=10), "lead status Recycled")]
    cycles = build_cycles([touch("a", 1), touch("b", 3), touch("c", 40)], events)
    assert [(c.number, c.first_response.touch_id, c.is_open) for c in cycles] == [
        (1, "a", False), (2, "c", True)]
    assert cycles[0].close_reason == "lead status Recycled"


def test_events_before_any_response_or_repeated_close_change_nothing() -> None:
    events = [(T0 - timedelta(days=5), "early"), (T0 + timedelta(days=10), "x"),
              (T0 + timedelta(days=11), "again")]
    cycles = build_cycles([touch("a", 1), touch("b", 20)], events)
    assert [c.first_response.touch_id for c in cycles] == ["a", "b"]
    assert cycles[0].closed_at == T0 + timedelta(days=10)


def test_a_response_at_the_instant_of_a_close_starts_the_new_cycle() -> None:
    moment = T0 + timedelta(days=10)
    cycles = build_cycles([touch("a", 1), touch("b", moment)], [(moment, "recycled")])
    assert [c.first_response.touch_id for c in cycles] == ["a", "b"]


def test_equal_timestamps_order_by_touch_id() -> None:
    cycles = build_cycles([touch("z", 1), touch("a", 1)], [])
    assert cycles[0].first_response.touch_id == "a"


def test_a_trailing_close_leaves_the_last_cycle_closed() -> None:
    cycles = build_cycles([touch("a", 1)], [(T0 + timedelta(days=60), "sla")])
    assert not cycles[0].is_open and cycles[0].close_reason == "sla"


RECYCLE = frozenset({"Recycled", "Nurture"})


@pytest.mark.parametrize(("history", "closes"), [
    pytest.param([], [], id="no-history"),
    pytest.param([(0, "status: Open")], [], id="never-recycled"),
    pytest.param([(0, "status: Recycled")], [0], id="first-seen-recycled-closes"),
    pytest.param([(0, "status: Open"), (5, "status: Recycled")], [5], id="enters-recycle"),
    pytest.param([(0, "status: Recycled"), (5, "status: Nurture")], [0],
                 id="recycle-to-recycle-is-one-close"),
    pytest.param([(0, "status: Recycled"), (3, "status: Working"), (5, "status: Nurture")],
                 [0, 5], id="left-and-re-entered"),
    pytest.param([(5, "status: Recycled"), (0, "status: Open")], [5], id="any-order"),
    pytest.param([(0, "lead status Recycled"), (2, "lead status Nurture")], [0, 2],
                 id="legacy-rows-are-closes"),
])
def test_status_history_becomes_close_events(history: list[tuple[int, str]],
                                             closes: list[int]) -> None:
    events = [(T0 + timedelta(days=d), text) for d, text in history]
    got = status_closes(events, RECYCLE)
    assert [at for at, _ in got] == [T0 + timedelta(days=d) for d in closes]
    assert all(reason.startswith("lead status ") for _, reason in got)
