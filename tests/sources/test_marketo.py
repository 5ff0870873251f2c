"""The Marketo source against an API-faithful fake: paging, tokens, throttling, quotas."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from connector.errors import AuthError, ConfigError, SourceQuotaExhausted
from connector.mappings import Mappings
from connector.models import Person, Program, Rejection, Touch
from connector.sources.base import CheckpointNotReady, SourceBudgetExhausted
from connector.sources.clock import FakeClock
from connector.sources.marketo import MarketoReader
from connector.sources.timestamps import iso_z
from tests.sources.conftest import AS_OF, marketo_settings
from tests.sources.marketo_fake import CLIENT_SECRET, FakeMarketo


def _activity(n: int, lead: int, type_id: int, minutes: int, **extra: Any) -> dict[str, Any]:
    return {"id": n, "marketoGUID": str(n), "leadId": lead,
            "activityDate": iso_z(AS_OF - timedelta(days=10) + timedelta(minutes=minutes)),
            "activityTypeId": type_id, "primaryAttributeValueId": extra.pop("pav_id", 1),
            "primaryAttributeValue": extra.pop("pav", "acme.com/page"),
            "attributes": [{"name": k, "value": v} for k, v in extra.items()]}


def _populate(fake: FakeMarketo, leads: int = 3, visits: int = 0) -> None:
    fake.channels = [{"id": 1, "name": "Webinar", "applicableProgramType": "event",
                      "progressionStatuses": [
                          {"name": "Registered", "step": 20, "success": False},
                          {"name": "Attended", "step": 30, "success": True}]}]
    fake.programs = [
        {"id": 2001, "name": "Webinar A", "type": "Event", "channel": "Webinar",
         "folder": {"type": "Folder", "value": 1}, "updatedAt": "2024-01-01T00:00:00Z+0000",
         "costs": [{"startDate": "2024-01-01", "cost": 1200}, {"startDate": "2024-02-01",
                                                               "cost": 300}]},
        {"id": 2003, "name": "Nurture Q1", "type": "Email", "channel": "Email Blast",
         "folder": {"type": "Program", "value": 2001}, "updatedAt": "2024-01-02T00:00:00Z"},
    ]
    for lead in range(1, leads + 1):
        fake.leads[lead] = {"id": lead, "email": f"p{lead}@acme.io", "firstName": f"P{lead}",
                            "createdAt": "2024-01-05T10:00:00Z", "leadScore": 12,
                            "originalSourceType": "Web page visit",
                            "originalSourceInfo": "https://acme.io/?utm_source=google&utm_medium=cpc"}
    n = 1
    fake.add_activity(_activity(n, 1, 12, 0))  # New Lead: not a touch
    n += 1
    fake.add_activity(_activity(n, 1, 104, 5, pav_id=2001, pav="Webinar A",
                                **{"New Status": "Registered", "Old Status": "Not in Program",
                                   "Success": False}))
    n += 1
    fake.add_activity(_activity(n, 1, 104, 9, pav_id=2001, pav="Webinar A",
                                **{"New Status": "Invited", "Success": False}))
    n += 1
    fake.add_activity(_activity(n, 2, 11, 10, pav="Nurture Q1.Email 1",
                                Link="https://acme.io/x?utm_medium=email&utm_source=mkto"))
    n += 1
    fake.add_activity(_activity(n, 3, 2, 20, pav="Demo Request Form"))
    n += 1
    for i in range(visits):
        fake.add_activity(_activity(n + i, 1 + i % leads, 1, 30 + i,
                                    **{"Query Parameters": "utm_source=google&utm_medium=cpc"}))


def _reader(fake: FakeMarketo, mappings: Mappings, clock: FakeClock,
            **settings: Any) -> MarketoReader:
    return MarketoReader(marketo_settings(**settings), mappings, transport=fake.transport(),
                         as_of=AS_OF, clock=clock, max_attempts=4)


def _drain(reader: MarketoReader, checkpoint: Any = None,
           known: dict[str, Program] | None = None) -> list[Any]:
    return list(reader.read(checkpoint, known or {}))


def test_full_read_yields_programs_then_people_then_touches(
        mappings: Mappings, clock: FakeClock) -> None:
    fake = FakeMarketo(clock)
    _populate(fake)
    items = _drain(reader := _reader(fake, mappings, clock))
    kinds = [type(i).__name__ for i in items]
    assert kinds == sorted(kinds, key=["Program", "Person", "Touch"].index)
    programs = {p.program_id: p for p in items if isinstance(p, Program)}
    assert programs["2001"].cost == 1500 and programs["2001"].channel == "Webinar"
    assert programs["2003"].channel == "Email" and programs["2003"].parent_id == "2001"
    assert programs["2001"].extra["success_statuses"] == ["Attended"]
    people = {p.map_id: p for p in items if isinstance(p, Person)}
    assert set(people) == {"1", "2", "3"}
    assert people["1"].source_channel == "Paid Search" and people["1"].map_score == 12
    touches = {t.touch_id: t for t in items if isinstance(t, Touch)}
    assert touches["2"].touch_type == "webinar_registered" and touches["2"].channel == "Webinar"
    assert touches["4"].touch_type == "email_click" and touches["4"].program_id == "2003"
    assert touches["5"].touch_type == "demo_request"
    assert "3" not in touches  # "Invited" is not mapped: not a touch
    assert any("invited" in n for n in reader.summary.streams["marketo:activities"].notes)
    assert reader.checkpoint["pending_lead_ids"] == []


def test_incremental_run_reads_only_new_activities_through_the_stored_paging_token(
        mappings: Mappings, clock: FakeClock) -> None:
    fake = FakeMarketo(clock)
    _populate(fake)
    first = _reader(fake, mappings, clock)
    _drain(first)
    fake.add_activity(_activity(100, 2, 1, 600, **{"Query Parameters": "utm_medium=cpc"}))
    second = _reader(fake, mappings, clock)
    items = _drain(second, first.checkpoint)
    touches = [i for i in items if isinstance(i, Touch)]
    assert [t.touch_id for t in touches] == ["100"]
    assert touches[0].touch_type == "ad_click" and touches[0].channel == "Paid Search"
    assert [p.map_id for p in items if isinstance(p, Person)] == ["2"]
    assert fake.calls["/rest/v1/activities/pagingtoken.json"] == 1  # first run only


def test_expired_token_mid_run_is_refreshed_and_the_call_retried(
        mappings: Mappings, clock: FakeClock) -> None:
    fake = FakeMarketo(clock, activity_page=2)
    _populate(fake, visits=6)
    reader = _reader(fake, mappings, clock)
    items = iter(reader.read(None, {}))
    next(items)
    fake.expire_tokens()
    rest = list(items)
    assert fake.auth_calls == 2
    assert sum(isinstance(i, Touch) for i in rest) == 9
    assert reader.summary.auth_calls == 2


@pytest.mark.parametrize("code", [
    pytest.param("606", id="rate-limit"), pytest.param("615", id="concurrency"),
    pytest.param("604", id="timeout"), pytest.param("608", id="unavailable"),
    pytest.param("611", id="system-error")])
def test_throttling_and_transient_errors_are_retried_with_backoff(
        mappings: Mappings, clock: FakeClock, code: str) -> None:
    fake = FakeMarketo(clock)
    _populate(fake)
    fake.inject("/rest/v1/activities.json", code, times=2)
    items = _drain(_reader(fake, mappings, clock))
    assert sum(isinstance(i, Touch) for i in items) == 3
    assert len(clock.sleeps) >= 2 and all(s > 0 for s in clock.sleeps)
    if code == "606":
        assert min(clock.sleeps) >= 20  # waits out the whole 20 s window


def test_client_side_limiter_keeps_under_100_calls_per_20_seconds(
        mappings: Mappings, clock: FakeClock) -> None:
    fake = FakeMarketo(clock, activity_page=1)
    _populate(fake, leads=2, visits=150)
    items = _drain(_reader(fake, mappings, clock))
    assert sum(isinstance(i, Touch) for i in items) == 153
    assert fake.rest_calls > 150 and fake.max_in_window <= 100
    assert fake.calls["/rest/v1/activities.json"] > 150


def test_daily_quota_stops_cleanly_and_the_next_run_resumes_without_loss(
        mappings: Mappings, clock: FakeClock) -> None:
    fake = FakeMarketo(clock, activity_page=2, daily_quota=9)
    _populate(fake, visits=8)
    reader = _reader(fake, mappings, clock)
    got: list[Any] = []
    with pytest.raises(SourceQuotaExhausted) as stopped:
        for item in reader.read(None, {}):
            got.append(item)
    assert not isinstance(stopped.value, SourceBudgetExhausted)
    checkpoint = reader.checkpoint
    assert checkpoint["pending_lead_ids"]  # leads named by read activities, still to read
    assert reader.summary.stopped_early
    fake.daily_quota = None
    resumed = _reader(fake, mappings, clock)
    got += _drain(resumed, checkpoint)
    touch_ids = {t.touch_id for t in got if isinstance(t, Touch)}
    assert touch_ids == {"2", "4", "5", *(str(6 + i) for i in range(8))}
    assert {p.map_id for p in got if isinstance(p, Person)} == {"1", "2", "3"}
    assert resumed.checkpoint["pending_lead_ids"] == []


def test_run_budget_stops_reading_activities_while_keeping_calls_for_their_leads(
        mappings: Mappings, clock: FakeClock) -> None:
    fake = FakeMarketo(clock, activity_page=2)
    _populate(fake, visits=20)
    reader = _reader(fake, mappings, clock, run_call_budget=12)
    got: list[Any] = []
    with pytest.raises(SourceBudgetExhausted):
        for item in reader.read(None, {}):
            got.append(item)
    assert fake.rest_calls <= 12
    people = {p.map_id for p in got if isinstance(p, Person)}
    touches_people = {t.map_id for t in got if isinstance(t, Touch)}
    assert touches_people <= people  # every touch read has its person read too
    got += _drain(_reader(fake, mappings, clock), reader.checkpoint)
    assert len({t.touch_id for t in got if isinstance(t, Touch)}) == 23


def test_activities_after_as_of_wait_for_a_later_run(mappings: Mappings,
                                                     clock: FakeClock) -> None:
    fake = FakeMarketo(clock)
    _populate(fake)
    future = _activity(200, 1, 1, 60 * 24 * 20)  # 10 days after as_of
    fake.add_activity(future)
    reader = _reader(fake, mappings, clock)
    assert "200" not in {t.touch_id for t in _drain(reader) if isinstance(t, Touch)}
    stream = next(iter(reader.checkpoint["activities"].values()))
    assert stream == {"token": None, "since": iso_z(AS_OF)}


def test_at_most_ten_activity_type_ids_per_call(mappings: Mappings, clock: FakeClock) -> None:
    many = mappings.model_copy(update={"sources": mappings.sources.model_copy(update={
        "marketo": mappings.sources.marketo.model_copy(update={
            "activity_types": {i: "web_visit" for i in range(1, 16)}})})})
    fake = FakeMarketo(clock)
    _populate(fake)
    reader = _reader(fake, many, clock)
    _drain(reader)
    sent = [r.url.params["activityTypeIds"] for r in fake.requests
            if r.url.path == "/rest/v1/activities.json"]
    assert sent and all(len(s.split(",")) <= 10 for s in sent)
    assert len(reader.checkpoint["activities"]) == 2


def test_bad_credentials_are_an_auth_error_and_the_secret_never_leaves_the_body(
        mappings: Mappings, clock: FakeClock) -> None:
    fake = FakeMarketo(clock)
    _populate(fake)
    with pytest.raises(AuthError):
        _drain(_reader(fake, mappings, clock, client_secret="wrong"))
    _drain(_reader(fake, mappings, clock))
    assert all(CLIENT_SECRET not in str(r.url) for r in fake.requests)


@pytest.mark.parametrize("missing", [
    pytest.param("base_url", id="base-url"), pytest.param("identity_url", id="identity"),
    pytest.param("client_id", id="client-id"), pytest.param("client_secret", id="secret")])
def test_missing_marketo_settings_are_a_config_error(
        mappings: Mappings, clock: FakeClock, missing: str) -> None:
    fake = FakeMarketo(clock)
    with pytest.raises(ConfigError, match=missing.upper().replace("_URL", "")[:8]):
        _drain(_reader(fake, mappings, clock, **{missing: None}))


def test_checkpoint_before_read_finished_is_refused_and_holds_no_token(
        mappings: Mappings, clock: FakeClock) -> None:
    fake = FakeMarketo(clock)
    _populate(fake)
    reader = _reader(fake, mappings, clock)
    with pytest.raises(CheckpointNotReady):
        _ = reader.checkpoint
    _drain(reader)
    assert "tok-" not in str(reader.checkpoint)


def test_unknown_touch_type_in_a_rule_is_a_rejection_naming_the_allowed_types(
        mappings: Mappings, clock: FakeClock) -> None:
    odd = mappings.model_copy(update={"sources": mappings.sources.model_copy(update={
        "marketo": mappings.sources.marketo.model_copy(update={
            "activity_types": {2: "form_fill", 11: "email_click", 1: "page_view"}})})})
    fake = FakeMarketo(clock)
    _populate(fake)
    fake.add_activity(_activity(300, 1, 1, 70))  # a plain visit: no rule matches
    items = _drain(_reader(fake, odd, clock))
    rejected = [r for r in items if isinstance(r, Rejection)]
    assert rejected and rejected[0].field == "touch_type" and "web_visit" in rejected[0].message
