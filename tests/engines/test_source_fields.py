"""Original source, first touch and last touch answer different questions."""

from __future__ import annotations

from datetime import timedelta

from connector.source_fields import compute_source_fields
from tests.factories import T0, mappings, person, program, touch

WEBINAR = program("P-W", "Webinar", name="Q1 Webinar")
ADS = program("P-A", "paid_search", name="Google Ads")


def test_recycled_lead_keeps_original_source_and_moves_first_touch() -> None:
    """DOMAIN.md: sourced by a webinar, recycled, re-engaged by paid search."""
    touches = [touch("t1", 0, "webinar_registered", program=WEBINAR),
               touch("t2", 1, "webinar_attended", program=WEBINAR),
               touch("t3", 400, "ad_click", program=ADS, utm_source="google")]
    events = [(T0 + timedelta(days=200), "lead status Recycled")]
    fields = compute_source_fields([person()], touches, {p.program_id: p for p in
                                                          (WEBINAR, ADS)}, events,
                                   mappings().channels)
    assert fields.original_source == "Webinar"
    assert fields.original_source_detail == "Q1 Webinar"
    assert fields.original_source_date == touches[0].occurred_at
    assert fields.first_touch is not None and fields.first_touch.channel == "Paid Search"
    assert fields.first_touch.touch_id == "t3" and fields.cycle == 2
    assert fields.last_touch is not None and fields.last_touch.touch_id == "t3"


def test_original_source_counts_non_responses_but_first_touch_does_not() -> None:
    touches = [touch("open", 0, "email_open"), touch("form", 3, "form_fill")]
    fields = compute_source_fields([person()], touches, {}, [], mappings().channels)
    assert fields.original_source == "Email"
    assert fields.first_touch is not None and fields.first_touch.touch_id == "form"


def test_without_touches_the_map_recorded_source_is_used() -> None:
    p = person(source="Trade Show", source_channel="Event")
    fields = compute_source_fields([p], [], {}, [], mappings().channels)
    assert (fields.original_source, fields.original_source_detail) == ("Event", "Trade Show")
    assert fields.original_source_date == p.created_at
    assert fields.first_touch is None and fields.cycle is None


def test_an_unknown_map_source_is_not_guessed() -> None:
    fields = compute_source_fields([person(source="Mystery")], [], {}, [],
                                   mappings().channels)
    assert fields.original_source is None


def test_detail_falls_back_to_utm_then_referrer() -> None:
    t = touch("v", 0, "web_visit", referrer="https://www.google.com/search?q=x")
    fields = compute_source_fields([person()], [t], {}, [], mappings().channels)
    assert fields.original_source == "Organic Search"
    assert fields.original_source_detail == "referrer www.google.com"
