"""Campaign members carry the furthest status and the first response's local date."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from connector.engine.campaigns import furthest, member_states, program_levels
from tests.factories import mappings, program, touch

W = program("P-W", "Webinar")


def test_furthest_status_over_repeat_touches_and_first_response_date() -> None:
    touches = [touch("a", datetime(2026, 3, 1, 23, 30, tzinfo=UTC), "webinar_registered",
                     program=W),
               touch("b", datetime(2026, 3, 9, 10, tzinfo=UTC), "webinar_attended", program=W),
               touch("c", datetime(2026, 3, 2, 10, tzinfo=UTC), "webinar_registered",
                     program=W)]
    state = member_states(touches, mappings(), ZoneInfo("Asia/Tokyo"))["P-W"]
    assert state.status == "Attended" and state.touches == 3
    # 23:30 UTC on March 1st is March 2nd in Tokyo: the org's date, not UTC's
    assert state.first_response_on == date(2026, 3, 2)


def test_non_responses_never_set_a_first_response_date() -> None:
    state = member_states([touch("o", 0, "email_open", program=W)], mappings(), UTC)["P-W"]
    assert state.status == "Opened" and state.first_response_on is None


def test_status_is_never_downgraded() -> None:
    m = mappings()
    assert furthest("Attended", "Registered", m) == "Attended"
    assert furthest("Registered", "Attended", m) == "Attended"
    assert furthest(None, "Sent", m) == "Sent"
    assert furthest("VIP (custom)", "Attended", m) == "VIP (custom)"


def test_program_levels_put_parents_first_and_survive_cycles() -> None:
    progs = {p.program_id: p for p in (
        program("child", parent_id="parent"), program("parent"), program("grandchild",
                                                                         parent_id="child"),
        program("loop-a", parent_id="loop-b"), program("loop-b", parent_id="loop-a"),
        program("orphan", parent_id="missing"))}
    levels = program_levels(progs)
    position = {pid: i for i, level in enumerate(levels) for pid in level}
    assert position["parent"] < position["child"] < position["grandchild"]
    assert position["orphan"] == 0
    assert {"loop-a", "loop-b"} <= set(position)
