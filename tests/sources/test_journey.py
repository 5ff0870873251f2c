"""One journey, three platforms, the same canonical records.

The fixture in tests/fixtures/journey/ tells the same story in the file
export's, Marketo's and HubSpot's shapes. What must agree: the person's email,
name, company, title, country, creation time and source channel; every touch's
person, type, time, channel, response and conversion flags, and its program.

What legitimately differs, and why:
- touch ids: each platform has its own (the ledger keys on them);
- person ``source``/``source_detail``: the raw values are each platform's
  vocabulary (``Paid Search``, ``Web page visit``, ``PAID_SEARCH``); the
  resolved ``source_channel`` agrees;
- ``map_score``/``map_lifecycle_stage``: the export has no score, Marketo no
  lifecycle stage;
- the email click's program: HubSpot's email events name an email campaign, not
  a program, so its click has no program (its channel, Email, still agrees);
- ``url`` of web activities: Marketo reports pages without a scheme.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from connector.mappings import Mappings
from connector.models import Person, Program, Touch
from connector.sources.clock import FakeClock
from connector.sources.files import FileExportReader
from connector.sources.hubspot import HubSpotReader
from connector.sources.marketo import MarketoReader
from tests.sources.conftest import hubspot_settings, marketo_settings
from tests.sources.hubspot_fake import FakeHubSpot
from tests.sources.marketo_fake import FakeMarketo

JOURNEY = Path(__file__).resolve().parents[1] / "fixtures" / "journey"
AS_OF = datetime(2024, 4, 1, tzinfo=UTC)
PERSON_FIELDS = ("email", "email_valid", "first_name", "last_name", "company", "title",
                 "country", "created_at", "source_channel")
TOUCH_FIELDS = ("map_id", "touch_type", "occurred_at", "channel", "is_response",
                "is_conversion", "program_id")


def _files(mappings: Mappings) -> list[Any]:
    reader = FileExportReader(JOURNEY / "files", mappings, as_of=AS_OF)
    return list(reader.read(None, {}))


def _marketo(mappings: Mappings) -> list[Any]:
    data = json.loads((JOURNEY / "marketo.json").read_text())
    clock = FakeClock()
    fake = FakeMarketo(clock)
    fake.channels, fake.programs = data["channels"], data["programs"]
    fake.leads = {lead["id"]: lead for lead in data["leads"]}
    for activity in data["activities"]:
        fake.add_activity(activity)
    reader = MarketoReader(marketo_settings(), mappings, transport=fake.transport(),
                           as_of=AS_OF, clock=clock)
    return list(reader.read(None, {}))


def _hubspot(mappings: Mappings) -> list[Any]:
    data = json.loads((JOURNEY / "hubspot.json").read_text())
    clock = FakeClock()
    fake = FakeHubSpot(clock)
    for contact in data["contacts"]:
        props = dict(contact["properties"])
        fake.add_contact(int(contact["id"]), props.pop("lastmodifieddate"), **props)
    fake.events, fake.participations = data["events"], data["participations"]
    fake.campaigns, fake.forms = data["campaigns"], data["forms"]
    fake.submissions, fake.email_events = data["submissions"], data["email_events"]
    reader = HubSpotReader(hubspot_settings(), mappings, transport=fake.transport(),
                           as_of=AS_OF, clock=clock)
    return list(reader.read(None, {}))


def _person(items: list[Any]) -> dict[str, Any]:
    people = {p.map_id: p for p in items if isinstance(p, Person)}
    assert list(people) == ["1001"]
    return {f: getattr(people["1001"], f) for f in PERSON_FIELDS}


def _touches(items: list[Any], platform: str) -> list[dict[str, Any]]:
    rows = []
    for touch in sorted((t for t in items if isinstance(t, Touch)),
                        key=lambda t: t.occurred_at):
        row = {f: getattr(touch, f) for f in TOUCH_FIELDS}
        if platform == "hubspot" and touch.touch_type == "email_click":
            assert row["program_id"] is None  # see the module docstring
            row["program_id"] = "2003"
        rows.append(row)
    return rows


@pytest.fixture(scope="module")
def journeys(mappings: Mappings) -> dict[str, list[Any]]:
    return {"files": _files(mappings), "marketo": _marketo(mappings),
            "hubspot": _hubspot(mappings)}


@pytest.mark.parametrize("platform", [pytest.param("marketo", id="marketo"),
                                      pytest.param("hubspot", id="hubspot")])
def test_the_platform_tells_the_same_journey_as_the_file_export(
        journeys: dict[str, list[Any]], platform: str) -> None:
    expected, got = journeys["files"], journeys[platform]
    assert _person(got) == _person(expected)
    assert _touches(got, platform) == _touches(expected, "files")


def test_the_journey_itself_is_what_the_fixture_says(journeys: dict[str, list[Any]]) -> None:
    touches = _touches(journeys["files"], "files")
    assert [(t["touch_type"], t["channel"]) for t in touches] == [
        ("ad_click", "Paid Search"), ("form_fill", "Website"),
        ("webinar_registered", "Webinar"), ("webinar_attended", "Webinar"),
        ("email_click", "Email"), ("demo_request", "Website")]
    assert _person(journeys["files"])["source_channel"] == "Paid Search"


@pytest.mark.parametrize("platform", [pytest.param("marketo", id="marketo"),
                                      pytest.param("hubspot", id="hubspot")])
def test_the_webinar_program_agrees(journeys: dict[str, list[Any]], platform: str) -> None:
    def webinar(items: list[Any]) -> tuple[Any, ...]:
        program = next(p for p in items if isinstance(p, Program) and p.program_id == "2001")
        return (program.name, program.channel, program.start_date)

    assert webinar(journeys[platform]) == webinar(journeys["files"])
