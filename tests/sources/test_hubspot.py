"""The HubSpot source against an API-faithful fake: paging, the 10k search cap,
429s with their headers, the daily limit, and email-keyed touches."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from connector.errors import AuthError, ConfigError, SourceQuotaExhausted
from connector.mappings import Mappings
from connector.models import Person, Program, Rejection, Touch
from connector.sources.base import SourceBudgetExhausted
from connector.sources.clock import FakeClock
from connector.sources.hubspot import HubSpotReader
from connector.sources.timestamps import iso_z, to_epoch_ms
from tests.sources.conftest import AS_OF, hubspot_settings
from tests.sources.hubspot_fake import FakeHubSpot


def _when(days: float) -> str:
    return iso_z(AS_OF - timedelta(days=days))


def _populate(fake: FakeHubSpot, contacts: int = 3) -> None:
    for i in range(1, contacts + 1):
        fake.add_contact(i, _when(5), email=f"p{i}@acme.io", firstname=f"P{i}",
                         createdate=_when(40), hubspotscore="7",
                         lifecyclestage="marketingqualifiedlead",
                         hs_lifecyclestage_lead_date=_when(40),
                         hs_lifecyclestage_marketingqualifiedlead_date=_when(6),
                         hs_analytics_source="PAID_SEARCH",
                         hs_analytics_first_timestamp=_when(40),
                         hs_analytics_first_url="https://acme.io/?utm_source=google&utm_medium=cpc")
    fake.events = [{"objectId": "2001", "eventName": "Webinar A", "eventType": "WEBINAR",
                    "startDateTime": _when(20), "endDateTime": _when(20),
                    "updatedAt": _when(19)}]
    fake.participations["2001"] = [
        {"id": "p1", "createdAt": _when(25),
         "associations": {"contact": {"contactId": "1", "email": "p1@acme.io"},
                          "marketingEvent": {"marketingEventId": "2001"}},
         "properties": {"attendanceState": "REGISTERED",
                        "occurredAt": to_epoch_ms(AS_OF - timedelta(days=25))}},
        {"id": "p2", "createdAt": _when(20),
         "associations": {"contact": {"contactId": "1"}},
         "properties": {"attendanceState": "CANCELLED", "occurredAt": 1}},
    ]
    fake.campaigns = [{"id": "c-1", "createdAt": _when(60), "updatedAt": _when(60),
                       "properties": {"hs_name": "Spring", "hs_utm": "spring",
                                      "hs_spend_items_sum_amount": "250.5"}}]
    fake.forms = [{"id": "f-demo", "name": "Demo Request"}, {"id": "f-c", "name": "Contact"}]
    fake.submissions["f-demo"] = [
        {"conversionId": "cv1", "submittedAt": to_epoch_ms(AS_OF - timedelta(days=3)),
         "pageUrl": "https://acme.io/demo?utm_campaign=spring&utm_medium=email",
         "values": [{"name": "email", "value": "P2@acme.io"}]},
        {"conversionId": "cv2", "submittedAt": to_epoch_ms(AS_OF - timedelta(days=2)),
         "values": [{"name": "email", "value": "stranger@nowhere.io"}]}]
    fake.email_events = [{"id": "e1", "type": "CLICK", "recipient": "p3@acme.io",
                          "created": to_epoch_ms(AS_OF - timedelta(days=4)),
                          "url": "https://acme.io/blog"}]


def _reader(fake: FakeHubSpot, mappings: Mappings, clock: FakeClock,
            as_of: datetime = AS_OF, **settings: Any) -> HubSpotReader:
    return HubSpotReader(hubspot_settings(**settings), mappings, transport=fake.transport(),
                         as_of=as_of, clock=clock, max_attempts=5)


def test_first_read_lists_contacts_and_maps_every_stream(mappings: Mappings,
                                                         clock: FakeClock) -> None:
    fake = FakeHubSpot(clock)
    _populate(fake)
    reader = _reader(fake, mappings, clock)
    items = list(reader.read(None, {}))
    kinds = [type(i).__name__ for i in items if not isinstance(i, Rejection)]
    assert kinds == sorted(kinds, key=["Program", "Person", "Touch"].index)
    programs = {p.program_id: p for p in items if isinstance(p, Program)}
    assert programs["2001"].channel == "Webinar" and programs["c-1"].cost == 250.5
    person = next(p for p in items if isinstance(p, Person) and p.map_id == "1")
    assert person.map_score == 7 and person.source_channel == "Paid Search"
    assert person.map_lifecycle_stage == "marketingqualifiedlead"
    assert set(person.map_stage_dates) == {"lead", "marketingqualifiedlead"}
    touches = {t.touch_id: t for t in items if isinstance(t, Touch)}
    assert touches["mev:p1"].touch_type == "webinar_registered"
    assert touches["mev:p1"].channel == "Webinar" and touches["mev:p1"].program_id == "2001"
    demo = touches["form:cv1"]
    assert (demo.touch_type, demo.map_id, demo.program_id) == ("demo_request", "2", "c-1")
    assert touches["email:e1"].touch_type == "email_click" and touches["email:e1"].map_id == "3"
    first_visit = next(t for t in touches.values() if t.touch_id.startswith("visit:1:"))
    assert first_visit.touch_type == "ad_click" and first_visit.channel == "Paid Search"
    rejected = [r for r in items if isinstance(r, Rejection)]
    assert [r.field for r in rejected] == ["email"]  # the stranger's submission
    assert "mev:p2" not in touches  # a cancellation is not a touch


def test_incremental_search_over_the_10k_cap_loses_no_contact(mappings: Mappings,
                                                             clock: FakeClock) -> None:
    fake = FakeHubSpot(clock)
    first = _reader(fake, mappings, clock)
    list(first.read(None, {}))
    checkpoint = first.checkpoint
    assert checkpoint["contacts"]["mode"] == "incremental"
    later = AS_OF + timedelta(hours=2)
    for i in range(1, 10_601):  # all modified in the hour since, 3 per second
        fake.add_contact(i, iso_z(later - timedelta(seconds=i // 3 + 1)), email=f"c{i}@x.io")
    second = _reader(fake, mappings, clock, as_of=later)
    people = [p for p in second.read(checkpoint, {}) if isinstance(p, Person)]
    assert sorted(int(p.map_id) for p in people) == list(range(1, 10_601))
    assert fake.cap_refusals == 0
    assert fake.max_search_per_second <= 5
    assert second.checkpoint["contacts"]["watermark"] == iso_z(later)
    assert "search windows read: " in " ".join(
        second.summary.streams["hubspot:contacts"].notes)


def test_a_contact_modified_during_the_read_does_not_hide_others(mappings: Mappings,
                                                                 clock: FakeClock) -> None:
    fake = FakeHubSpot(clock)
    first = _reader(fake, mappings, clock)
    list(first.read(None, {}))
    for i in range(1, 501):
        fake.add_contact(i, iso_z(AS_OF + timedelta(minutes=30)), email=f"c{i}@x.io")
    seen = {"n": 0}

    def touch_contact_1(hub: FakeHubSpot) -> None:
        seen["n"] += 1
        if seen["n"] == 2:  # after the first page: contact 1 moves out of the window
            hub.modify(1, iso_z(AS_OF + timedelta(days=1)))

    fake.on_search = touch_contact_1
    later = _reader(fake, mappings, clock, as_of=AS_OF + timedelta(hours=1))
    people = [p for p in later.read(first.checkpoint, {}) if isinstance(p, Person)]
    assert {int(p.map_id) for p in people} == set(range(1, 501))


def test_secondly_429_is_waited_out_with_retry_after(mappings: Mappings,
                                                     clock: FakeClock) -> None:
    fake = FakeHubSpot(clock)
    _populate(fake)
    real_handle = fake.handle
    state = {"left": 2}

    def flaky(request: Any) -> Any:
        if request.url.path.endswith("/contacts") and state["left"]:
            state["left"] -= 1
            return fake._throttle("SECONDLY", "You have reached your secondly limit.")
        return real_handle(request)

    fake.handle = flaky  # type: ignore[method-assign]
    items = list(_reader(fake, mappings, clock).read(None, {}))
    assert {i.map_id for i in items if isinstance(i, Person)} == {"1", "2", "3"}
    assert len(clock.sleeps) >= 2 and all(s >= 1.0 for s in clock.sleeps)  # >= Retry-After


def test_daily_limit_stops_cleanly_and_a_later_run_completes(mappings: Mappings,
                                                             clock: FakeClock) -> None:
    fake = FakeHubSpot(clock, daily_max=4)  # programs (2) + 2 of 3 contact pages
    _populate(fake, contacts=250)
    reader = _reader(fake, mappings, clock)
    got: list[Any] = []
    with pytest.raises(SourceQuotaExhausted):
        for item in reader.read(None, {}):
            got.append(item)
    checkpoint = reader.checkpoint
    assert checkpoint["contacts"]["mode"] == "full" and checkpoint["contacts"]["after"]
    fake.daily_max = None
    resumed = _reader(fake, mappings, clock)
    got += list(resumed.read(checkpoint, {}))
    assert {p.map_id for p in got if isinstance(p, Person)} == {str(i) for i in range(1, 251)}
    assert {"mev:p1", "form:cv1", "email:e1"} <= {t.touch_id for t in got
                                                 if isinstance(t, Touch)}


def test_run_budget_stop_keeps_email_keyed_streams_for_the_next_run(
        mappings: Mappings, clock: FakeClock) -> None:
    fake = FakeHubSpot(clock)
    _populate(fake)
    # programs (2) + contacts (1) + touch streams, no lookup
    reader = HubSpotReader(hubspot_settings(run_call_budget=9), mappings,
                           transport=fake.transport(), as_of=AS_OF, clock=clock)
    with pytest.raises(SourceBudgetExhausted):
        list(reader.read(None, {}))
    assert "f-demo" not in reader.checkpoint.get("forms", {})  # its touch was not yielded
    again = list(_reader(fake, mappings, clock).read(reader.checkpoint, {}))
    assert "form:cv1" in {t.touch_id for t in again if isinstance(t, Touch)}


def test_bad_token_is_an_auth_error_and_missing_token_a_config_error(
        mappings: Mappings, clock: FakeClock) -> None:
    fake = FakeHubSpot(clock)
    with pytest.raises(AuthError):
        list(_reader(fake, mappings, clock, token="wrong").read(None, {}))
    with pytest.raises(ConfigError):
        list(_reader(fake, mappings, clock, token=None).read(None, {}))


def test_unchanged_programs_are_not_yielded_again(mappings: Mappings,
                                                  clock: FakeClock) -> None:
    fake = FakeHubSpot(clock)
    _populate(fake)
    first = _reader(fake, mappings, clock)
    list(first.read(None, {}))
    again = list(_reader(fake, mappings, clock).read(first.checkpoint, {}))
    assert not [p for p in again if isinstance(p, Program)]
