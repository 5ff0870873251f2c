"""Lifecycle stages per cycle: dates, skipped stages, SLA recycling, re-engagement."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import pytest

from connector.engine.lifecycle import (
    Lifecycle,
    LifecycleRules,
    OpportunityRole,
    SalesforceView,
    StageState,
    StatusChange,
    lifecycle,
)
from connector.engine.scoring import Profile, score_person
from connector.models import Touch
from tests.factories import T0, mappings, touch

SECOND = timedelta(seconds=1)
DAY = timedelta(days=1)
RULES = LifecycleRules.from_mappings(mappings())
# fit 60: vp 20 + revenue_function 10 + icp_industry 15 + mid_market 10 + country 5
BUYER = Profile(email="vp@acme.com", title="VP Marketing", industry="Technology",
                employees=500, country="United States")
NOBODY = Profile(email="x@acme.com")           # fit 0: never MQL by score
FREE_MAIL = Profile(email="vp@gmail.com", title="VP Marketing", industry="Technology",
                    employees=500, country="United States")


def at(days: float) -> datetime:
    return T0 + timedelta(days=days)


def web(tid: str, days: float, path: str) -> Touch:
    return touch(tid, at(days), "web_visit", url=f"https://www.lumora.io{path}")


def run(touches: list[Touch], as_of: datetime, profile: Profile = BUYER,
        sf: SalesforceView | None = None, previous: StageState | None = None,
        rules: LifecycleRules = RULES) -> Lifecycle:
    m = mappings()
    assert m.scoring is not None
    scores = score_person(profile, touches, m.scoring, m.sync.free_mail_domains, as_of)
    return lifecycle(touches, scores, sf or SalesforceView(), rules, as_of, previous)


# form fill (10) + webinar attended (20) + pricing (15) with fit 60 crosses 100 at the
# pricing visit on day 2
MQL_TOUCHES = [touch("f", at(0), "form_fill"), touch("w", at(1), "webinar_attended"),
               web("p", 2, "/pricing")]
MQL_AT = at(2)


def test_no_response_no_stage() -> None:
    result = run([web("a", 0, "/pricing")], at(1))
    assert (result.stage, result.cycle, dict(result.dates)) == (None, None, {})


STAGE_CASES: list[Any] = [
    pytest.param([touch("a", at(0))], NOBODY, None, "Inquiry", {"Inquiry": at(0)}, set(),
                 id="a-response-is-an-inquiry"),
    pytest.param(MQL_TOUCHES, BUYER, None, "MQL", {"Inquiry": at(0), "MQL": MQL_AT}, set(),
                 id="mql-when-the-score-crosses"),
    pytest.param(MQL_TOUCHES, Profile(email="x@acme.com", title="VP Sales"), None, "Inquiry",
                 {"Inquiry": at(0)}, set(), id="fit-below-minimum-never-mql"),
    pytest.param([touch("d", at(3), "demo_request")], NOBODY, None, "SAL",
                 {"Inquiry": at(3), "MQL": at(3), "SAL": at(3)}, {"MQL"},
                 id="demo-request-skips-to-sal-mql-inferred"),
    pytest.param([touch("f", at(0))], NOBODY,
                 SalesforceView(statuses=(StatusChange(at(4), "Qualified"),)), "SQL",
                 {"Inquiry": at(0), "MQL": at(4), "SAL": at(4), "SQL": at(4)},
                 {"MQL", "SAL"}, id="qualified-status-skips-two"),
    pytest.param([touch("f", at(0))], NOBODY,
                 SalesforceView(statuses=(StatusChange(at(-10), "Working - Contacted"),)),
                 "SAL", {"Inquiry": at(0), "MQL": at(0), "SAL": at(0)}, {"MQL"},
                 id="status-before-the-first-response-counts-at-opening"),
    pytest.param([touch("f", at(0))], NOBODY,
                 SalesforceView(opportunities=(OpportunityRole("006A", at(5)),)),
                 "Opportunity", {"Inquiry": at(0), "MQL": at(5), "SAL": at(5), "SQL": at(5),
                                 "Opportunity": at(5)}, {"MQL", "SAL", "SQL"},
                 id="contact-role-on-open-opportunity"),
    pytest.param([touch("f", at(0))], NOBODY,
                 SalesforceView(opportunities=(OpportunityRole(
                     "006A", at(5), is_closed=True, is_won=True, closed_at=at(9)),)),
                 "Customer", {"Inquiry": at(0), "MQL": at(5), "SAL": at(5), "SQL": at(5),
                              "Opportunity": at(5), "Customer": at(9)},
                 {"MQL", "SAL", "SQL"}, id="won-opportunity-customer"),
    pytest.param([*MQL_TOUCHES, touch("t", at(3), "trial_start")], FREE_MAIL, None,
                 "Excluded", {"Inquiry": at(0)}, set(),
                 id="excluded-never-mql-nor-fast-tracked"),
    pytest.param(MQL_TOUCHES, FREE_MAIL,
                 SalesforceView(statuses=(StatusChange(at(4), "Working"),)), "SAL",
                 {"Inquiry": at(0), "SAL": at(4)}, set(),
                 id="excluded-sales-acceptance-still-counts-without-mql"),
]


@pytest.mark.parametrize(("touches", "profile", "sf", "stage", "dates", "inferred"),
                         STAGE_CASES)
def test_stages_and_dates(touches: list[Touch], profile: Profile, sf: SalesforceView | None,
                          stage: str, dates: dict[str, datetime], inferred: set[str]) -> None:
    result = run(touches, at(10), profile, sf)
    assert result.stage == stage
    assert dict(result.dates) == dates
    assert set(result.cycles[-1].inferred) == inferred
    reasons = {e.stage: e for e in result.cycles[-1].history}
    assert all(reasons[s].inferred == (s in inferred) for s in dates)


def test_stage_history_says_why() -> None:
    result = run([*MQL_TOUCHES, touch("d", at(4), "demo_request")], at(5))
    why = {e.stage: e.reason for e in result.cycles[0].history}
    assert why["Inquiry"].startswith("first response of the cycle: form_fill f")
    assert "lead score reached 100" in why["MQL"] and "web_visit p" in why["MQL"]
    assert why["SAL"] == "fast-track response demo_request d"


SLA_CASES = [
    pytest.param(timedelta(days=30) - SECOND, "MQL", None, id="one-second-before"),
    pytest.param(timedelta(days=30), "Recycled", MQL_AT + timedelta(days=30), id="at"),
    pytest.param(timedelta(days=30) + SECOND, "Recycled", MQL_AT + timedelta(days=30),
                 id="one-second-after"),
]


@pytest.mark.parametrize(("offset", "stage", "recycled"), SLA_CASES)
def test_sla_at_mql_recycles_at_exactly_the_deadline(offset: timedelta, stage: str,
                                                    recycled: datetime | None) -> None:
    result = run(MQL_TOUCHES, MQL_AT + offset)
    assert (result.stage, result.recycled_at) == (stage, recycled)
    assert result.cycle == 1 and result.date("MQL") == MQL_AT
    if recycled:
        assert result.cycles[0].close_reason == "SLA: 30 days at MQL without reaching SAL"
        assert (recycled, result.cycles[0].close_reason) in result.close_events


@pytest.mark.parametrize(("offset", "stage"), [
    pytest.param(timedelta(days=30) - SECOND, "SAL", id="one-second-before"),
    pytest.param(timedelta(days=30), "Recycled", id="at"),
    pytest.param(timedelta(days=30) + SECOND, "Recycled", id="one-second-after"),
])
def test_sla_at_sal_counts_from_the_sal_date(offset: timedelta, stage: str) -> None:
    sal = MQL_AT + 10 * DAY
    sf = SalesforceView(statuses=(StatusChange(sal, "Working"),))
    result = run(MQL_TOUCHES, sal + offset, sf=sf)
    assert result.stage == stage and result.date("SAL") == sal


def test_progress_at_the_deadline_itself_is_too_late() -> None:
    sf = SalesforceView(statuses=(StatusChange(MQL_AT + 30 * DAY, "Working"),))
    result = run(MQL_TOUCHES, MQL_AT + 40 * DAY, sf=sf)
    assert result.stage == "Recycled" and "SAL" not in result.dates


def test_per_stage_sla_is_configurable() -> None:
    rules = replace(RULES, sla={"MQL": timedelta(days=7), "SAL": timedelta(days=30)})
    assert run(MQL_TOUCHES, MQL_AT + 7 * DAY, rules=rules).stage == "Recycled"
    assert run(MQL_TOUCHES, MQL_AT + 7 * DAY).stage == "MQL"


def test_a_recycle_lead_status_closes_the_cycle() -> None:
    sf = SalesforceView(statuses=(StatusChange(at(5), "Working"), StatusChange(at(8),
                                                                                "Nurture")))
    result = run(MQL_TOUCHES, at(9), sf=sf)
    assert result.stage == "Recycled" and result.recycled_at == at(8)
    assert result.cycles[0].close_reason == "Lead Status Nurture"
    assert result.lead_status_to_write is None


def test_recycle_then_re_engage_opens_the_next_cycle() -> None:
    # cycle 1: MQL on day 2, accepted on day 5, never qualified: SAL SLA ends day 35
    sf = SalesforceView(statuses=(StatusChange(at(5), "Working"),))
    later = [*MQL_TOUCHES, touch("again", at(100), "content_download")]
    result = run(later, at(101), sf=sf)
    assert [c.number for c in result.cycles] == [1, 2]
    first, second = result.cycles
    assert first.closed_at == at(35) and first.stage == "SAL"
    assert second.first_touch_id == "again" and second.opened_at == at(100)
    # the old "Working" status does not carry into the new cycle; the old score decayed
    assert result.stage == "Inquiry" and result.cycle == 2
    assert dict(result.dates) == {"Inquiry": at(100)}
    assert result.recycled_at == at(35)


def test_re_engaging_hot_lead_is_mql_again_in_the_new_cycle() -> None:
    touches = [*MQL_TOUCHES, touch("d", at(40), "demo_request")]
    result = run(touches, at(41))
    assert result.cycle == 2 and result.cycles[0].closed_at == MQL_AT + 30 * DAY
    assert result.stage == "SAL" and result.date("MQL") == at(40)
    assert "MQL" not in result.cycles[1].inferred  # demo 60 + fit 60 crosses on its own


def test_lead_converted_mid_cycle() -> None:
    conversion = at(12)
    sf = SalesforceView(converted_at=conversion, converted_opportunity_id="006B",
                        opportunities=(OpportunityRole("006B", conversion),))
    result = run(MQL_TOUCHES, at(20), sf=sf)
    assert result.stage == "Opportunity"
    assert dict(result.dates) == {"Inquiry": at(0), "MQL": MQL_AT, "SAL": conversion,
                                  "SQL": conversion, "Opportunity": conversion}
    assert result.cycles[0].inferred == {"SAL"}
    why = {e.stage: e.reason for e in result.cycles[0].history}
    assert why["SQL"] == "converted with opportunity 006B"


def test_converted_without_opportunity_is_not_sql() -> None:
    sf = SalesforceView(converted_at=at(5))
    assert run(MQL_TOUCHES, at(6), sf=sf).stage == "MQL"


def test_opt_in_writes_the_lead_status_on_sla_recycle() -> None:
    rules = replace(RULES, write_lead_status_on_recycle=True)
    assert run(MQL_TOUCHES, at(40), rules=rules).lead_status_to_write == "Recycled"
    assert run(MQL_TOUCHES, at(40)).lead_status_to_write is None


def test_dates_written_earlier_in_the_cycle_are_kept() -> None:
    earlier = StageState(cycle=1, stage="MQL", dates={"Inquiry": at(0), "MQL": at(1)})
    result = run(MQL_TOUCHES, at(10), previous=earlier)
    assert result.date("MQL") == at(1)  # not moved to the recomputed day 2
    history = {e.stage: e.reason for e in result.cycles[0].history}
    assert history["MQL"].endswith("(date kept from an earlier run)")
    # never cleared: rules that no longer make an MQL keep the written date
    kept = run(MQL_TOUCHES, at(10), profile=NOBODY, previous=earlier)
    assert kept.stage == "MQL" and kept.date("MQL") == at(1)


def test_previous_dates_do_not_carry_into_the_next_cycle() -> None:
    old = StageState(cycle=1, stage="SQL", dates={"MQL": at(2), "SQL": at(3)})
    sf = SalesforceView(statuses=(StatusChange(at(20), "Nurture"),))
    touches = [*MQL_TOUCHES, touch("d", at(40), "form_fill")]
    result = run(touches, at(41), sf=sf, previous=old)
    assert result.cycle == 2 and dict(result.dates) == {"Inquiry": at(40)}
    assert result.cycles[0].dates["SQL"] == at(3)


def test_a_later_as_of_recycles_exactly_the_people_whose_sla_ran_out() -> None:
    people = {f"p{i}": [touch(f"d{i}", at(i * 3), "demo_request", map_id=f"p{i}")]
              for i in range(10)}
    first_as_of, second_as_of = at(35), at(50)
    before = {k: run(v, first_as_of) for k, v in people.items()}
    after = {k: run(v, second_as_of, previous=StageState(
        cycle=b.cycle or 0, stage=b.stage, dates=b.dates, recycled_at=b.recycled_at))
        for (k, v), b in zip(people.items(), before.values(), strict=True)}
    newly = {k for k in people if before[k].stage != "Recycled" and after[k].stage == "Recycled"}
    expected = {k for k, b in before.items() if b.stage == "SAL" and first_as_of
                < b.dates["SAL"] + 30 * DAY <= second_as_of}
    assert newly == expected and len(newly) == 5
    assert all(after[k].date("SAL") == before[k].date("SAL") for k in people)
    # and running the later as-of from scratch gives the same answer
    assert {k for k, v in people.items() if run(v, second_as_of).stage == "Recycled"} == {
        k for k in people if after[k].stage == "Recycled"}


def test_explain_json_sums_and_names_every_stage() -> None:
    import json

    from connector.engine.score_json import lifecycle_json, person_scores_json

    m = mappings()
    assert m.scoring is not None
    scores = score_person(BUYER, MQL_TOUCHES, m.scoring, m.sync.free_mail_domains, at(5))
    doc = json.loads(json.dumps(person_scores_json(scores)))
    for part in ("behavior", "fit"):
        assert sum(r["points"] for r in doc[part]["rules"]) == doc[part]["total"]
    assert doc["lead"] == doc["behavior"]["total"] + doc["fit"]["total"]
    assert doc["behavior"]["rules"][0]["touch_id"] == "f"
    life = json.loads(json.dumps(lifecycle_json(run(MQL_TOUCHES, at(40)))))
    assert life["stage"] == "Recycled" and life["cycle"] == 1
    assert life["dates"]["MQL"] == MQL_AT.isoformat()
    assert [h["stage"] for h in life["cycles"][0]["history"]] == ["Inquiry", "MQL", "Recycled"]


def test_close_events_recorded_by_the_mirror_close_the_cycle() -> None:
    sf = SalesforceView(close_events=((at(8), "lead status Recycled"),))
    result = run([*MQL_TOUCHES, touch("n", at(9), "form_fill")], at(10), sf=sf)
    assert [c.close_reason for c in result.cycles] == ["lead status Recycled", None]
    assert result.cycle == 2 and result.recycled_at == at(8)


def test_a_status_repeated_by_later_observations_does_not_close_again() -> None:
    sf = SalesforceView(statuses=(StatusChange(at(8), "Nurture"), StatusChange(at(12),
                                                                                "Nurture")))
    result = run([*MQL_TOUCHES, touch("n", at(10), "form_fill")], at(13), sf=sf)
    assert result.cycle == 2 and result.stage != "Recycled"
