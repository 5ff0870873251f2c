"""desired_person: what a Salesforce person record should hold, from plain values."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from connector.engine.context import PersonContext, Target
from connector.engine.person import desired_person
from connector.models import Person, Touch
from connector.values import MirrorRow
from tests.factories import T0, mappings, person, program, touch
from tests.plan.conftest import AS_OF, day, sf_id

WEBINAR = program("P-W", "Webinar")
PROGRAMS = {"P-W": WEBINAR}
L1 = sf_id("Lead", 1)
C1 = sf_id("Campaign", 1)


def context(*, sobject: str = "Lead", people: tuple[Person, ...] = (),
            touches: tuple[Touch, ...] = (), record: dict[str, Any] | None = None,
            history: tuple[tuple[datetime, str], ...] = (),
            person_events: tuple[tuple[datetime, str], ...] = ()) -> PersonContext:
    people = people or (person("M-1", "ada@acme.com", company="Acme", title="VP"),)
    sf = L1 if record is not None else None
    row = MirrorRow(sobject, L1, {"Id": L1, **record}) if record is not None else None
    return PersonContext(
        target=Target(sf or "new:M-1", sobject, sf, [p.map_id for p in people]),
        people=people, touches=tuple(sorted(touches, key=lambda t: t.order_key)),
        record=row, written={}, person_events=person_events,
        record_history={L1: history} if sf else {}, converted_from=frozenset(), members={})


RESPONSES = (touch("t1", 1, "form_fill", program=WEBINAR),
             touch("t2", 20, "webinar_registered", program=WEBINAR))
RECYCLED = ((day(5), "status: Working"), (day(10), "status: Recycled"))


@pytest.mark.parametrize(("history", "person_events", "as_of", "cycle", "first_touch"), [
    pytest.param((), (), AS_OF, 1, day(1), id="one-cycle"),
    pytest.param(RECYCLED, (), AS_OF, 2, day(20), id="recycled-lead-opens-a-second-cycle"),
    pytest.param(RECYCLED, (), day(8), 1, day(1), id="closes-after-as-of-do-not-count"),
    pytest.param((), ((day(12), "sla"),), AS_OF, 2, day(20), id="a-persons-own-close"),
])
def test_cycles_from_record_history_and_person_events(
        history: tuple[tuple[datetime, str], ...],
        person_events: tuple[tuple[datetime, str], ...], as_of: datetime, cycle: int,
        first_touch: datetime) -> None:
    ctx = context(touches=RESPONSES, record={"Status": "Recycled"}, history=history,
                  person_events=person_events)
    want = desired_person(ctx, PROGRAMS, {"P-W": ("id", C1)}, mappings(), "M-1", as_of)
    assert want.sources.cycle == cycle
    assert want.values["first_touch_date"] == first_touch
    assert want.values["original_source_date"] == day(1)  # whatever the cycle


@pytest.mark.parametrize(("campaign", "values", "depends"), [
    pytest.param(("id", C1), {"first_touch_campaign": C1, "last_touch_campaign": C1}, {},
                 id="existing-campaign-by-id"),
    pytest.param(("ref", "Campaign:P-W"), {},
                 {"First_Touch_Campaign__c": "Campaign:P-W",
                  "Last_Touch_Campaign__c": "Campaign:P-W"}, id="new-campaign-by-dependency"),
    pytest.param(None, {"first_touch_campaign": None, "last_touch_campaign": None}, {},
                 id="no-campaign-clears"),
])
def test_touch_campaigns(campaign: tuple[str, str] | None, values: dict[str, Any],
                         depends: dict[str, str]) -> None:
    campaigns = {"P-W": campaign} if campaign else {}
    want = desired_person(context(touches=RESPONSES), PROGRAMS, campaigns, mappings(),
                          "M-1", AS_OF)
    got = {k: want.values[k] for k in ("first_touch_campaign", "last_touch_campaign")
           if k in want.values}
    assert got == values
    assert want.depends == depends


@pytest.mark.parametrize(("record", "new_cycle", "skip"), [
    pytest.param(None, False, frozenset(), id="new-record"),
    pytest.param({"Funnel_Cycle__c": 1.0, "Original_Source__c": "Webinar"}, False,
                 frozenset(), id="same-cycle-same-source"),
    pytest.param({"Funnel_Cycle__c": None}, False, frozenset(), id="blank-cycle"),
    pytest.param({"Funnel_Cycle__c": 3}, True, frozenset(), id="other-cycle-restarts-dates"),
    pytest.param({"Original_Source__c": "Event"}, False,
                 frozenset({"original_source_detail", "original_source_date"}),
                 id="salesforce-source-keeps-its-detail-and-date"),
])
def test_new_cycle_and_original_source_skip(record: dict[str, Any] | None, new_cycle: bool,
                                            skip: frozenset[str]) -> None:
    want = desired_person(context(touches=RESPONSES[:1], record=record), PROGRAMS,
                          {"P-W": ("id", C1)}, mappings(), "M-1", AS_OF)
    assert (want.new_cycle, want.skip) == (new_cycle, skip)


def test_values_follow_the_objects_fields_and_the_primary_person() -> None:
    older = person("M-0", "not an email", company="Old Co", created_at=T0 - timedelta(days=90))
    newer = person("M-1", "ada@acme.com", company="Acme", title="VP")
    lead = desired_person(context(people=(older, newer)), PROGRAMS, {}, mappings(), "M-0",
                          AS_OF)
    assert lead.values["map_id"] == "M-0" and lead.values["company"] == "Old Co"
    assert lead.values["email"] is None  # an invalid address is never written
    contact = desired_person(context(sobject="Contact", people=(newer,)), PROGRAMS, {},
                             mappings(), "M-1", AS_OF)
    assert "company" not in contact.values and contact.values["title"] == "VP"
    assert set(contact.values) <= set(mappings().fields.obj("Contact").fields)
