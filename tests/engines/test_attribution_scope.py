"""Touch selection (contact roles, converted leads, account mode), the opportunity
summary and CampaignInfluence rows."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest

from connector.engine.attribution import (
    NO_CONTACT_ROLE,
    NOT_MATCHED_TO_ACCOUNT,
    OpportunityValue,
    TouchValue,
    attribute,
)
from connector.engine.attribution_explain import explanation
from connector.engine.attribution_scope import (
    AccountScope,
    ContactRoleScope,
    Scope,
    attribute_in_scope,
    influence_rows,
    input_fingerprint,
    opportunity_summary,
    select_touches,
)
from tests.engines.attribution_journeys import ALL, CREATED, opp, touch

AS_OF = CREATED + timedelta(days=60)
ROLE = "003000000000001AAA"
OTHER = "003000000000002AAA"
CANDIDATES = [
    touch("role", -10, person="p-role", contact=ROLE),
    # a lead's touch before it was converted into the role contact
    touch("lead", -20, person="p-lead", contact=None),
    touch("colleague", -5, person="p-other", contact=OTHER),
]


@pytest.mark.parametrize(("scope", "chosen", "excluded"), [
    pytest.param(ContactRoleScope(frozenset({ROLE}), {"p-lead": ROLE}),
                 {"role": ROLE, "lead": ROLE}, {("colleague", NO_CONTACT_ROLE)},
                 id="contact-roles-with-a-converted-lead"),
    pytest.param(ContactRoleScope(frozenset({ROLE})),
                 {"role": ROLE}, {("lead", NO_CONTACT_ROLE), ("colleague", NO_CONTACT_ROLE)},
                 id="unconverted-lead-is-not-a-role"),
    pytest.param(ContactRoleScope(frozenset({ROLE, OTHER}), {"p-lead": "003999999999999AAA"}),
                 {"role": ROLE, "colleague": OTHER}, {("lead", NO_CONTACT_ROLE)},
                 id="lead-converted-into-a-contact-without-a-role"),
    pytest.param(ContactRoleScope(frozenset()), {},
                 {("role", NO_CONTACT_ROLE), ("lead", NO_CONTACT_ROLE),
                  ("colleague", NO_CONTACT_ROLE)}, id="no-contact-roles"),
    pytest.param(AccountScope(frozenset({"p-role", "p-lead", "p-other"})),
                 {"role": ROLE, "lead": None, "colleague": OTHER}, set(),
                 id="account-mode-everyone-matched"),
    pytest.param(AccountScope(frozenset({"p-other"})), {"colleague": OTHER},
                 {("role", NOT_MATCHED_TO_ACCOUNT), ("lead", NOT_MATCHED_TO_ACCOUNT)},
                 id="account-mode-partly-matched"),
])
def test_selection_picks_the_opportunitys_touches(
        scope: Scope, chosen: dict[str, str | None], excluded: set[tuple[str, str]]) -> None:
    picked, left_out = select_touches(CANDIDATES, scope)
    assert {t.touch_id: t.contact_id for t in picked} == chosen
    assert {(e.touch_id, e.reason) for e in left_out} == excluded


def test_attribute_in_scope_explains_both_kinds_of_exclusion() -> None:
    candidates = [*CANDIDATES, touch("mail", -2, person="p-role", contact=ROLE, response=False)]
    result = attribute_in_scope(opp(), candidates, ContactRoleScope(frozenset({ROLE})), ALL,
                                as_of=AS_OF)
    assert [t.touch_id for t in result.journey] == ["role"]
    assert [(e.touch_id, e.reason) for e in result.excluded] == [
        ("colleague", NO_CONTACT_ROLE), ("lead", NO_CONTACT_ROLE), ("mail", "not_a_response")]


def test_summary_takes_the_campaigns_of_ft_and_oc() -> None:
    touches = [touch("t1", -20, campaign="701FT"), touch("t2", -5, campaign="701OC"),
               touch("t3", 3, campaign="701AFTER")]
    summary = opportunity_summary(attribute(opp(), touches, ALL, as_of=AS_OF))
    assert (summary.first_touch_campaign, summary.last_touch_campaign) == ("701FT", "701OC")
    empty = opportunity_summary(attribute(opp(), [], ALL, as_of=AS_OF))
    assert (empty.first_touch_campaign, empty.last_touch_campaign) == (None, None)


def test_influence_rows_sum_a_campaigns_touches_per_contact() -> None:
    touches = [touch("t1", -20, campaign="701A", contact="003A"),
               touch("t2", -10, campaign="701A", contact="003A"),
               touch("t3", -5, campaign="701B", contact="003B")]
    rows = influence_rows(attribute(opp(), touches, ALL, as_of=AS_OF), "linear")
    assert [(r.campaign_id, r.contact_id, str(r.influence)) for r in rows] == [
        ("701A", "003A", "66.67"), ("701B", "003B", "33.33")]


def test_influence_rows_leave_out_touches_without_a_campaign() -> None:
    touches = [touch("t1", -20, campaign=""), touch("t2", -10, campaign="701A")]
    rows = influence_rows(attribute(opp(), touches, ALL, as_of=AS_OF), "linear")
    assert [(r.campaign_id, r.influence) for r in rows] == [("701A", Decimal("50.00"))]


def test_the_fingerprint_moves_with_what_the_records_depend_on() -> None:
    scope = ContactRoleScope(frozenset({ROLE}), {"p-lead": ROLE})

    def fp(o: OpportunityValue = opp(), candidates: list[TouchValue] = CANDIDATES,
           s: Scope = scope) -> str:
        return input_fingerprint(o, candidates, s, ALL, as_of=AS_OF)

    base = fp()
    assert fp(candidates=list(reversed(CANDIDATES))) == base
    mail = touch("mail", -1, person="p-role", contact=ROLE, response=False)
    assert fp(candidates=[*CANDIDATES, mail]) == base  # excluded: no effect
    assert fp(candidates=[*CANDIDATES, touch("late", -1, person="p-role", contact=ROLE)]) \
        != base
    assert fp(o=opp(amount="1000.01")) != base
    assert fp(o=opp(closed=False)) != base
    assert fp(o=opp(close_in_days=31)) != base
    assert fp(s=ContactRoleScope(frozenset({ROLE}))) != base  # the lead's touch leaves
    assert input_fingerprint(opp(), CANDIDATES, scope, replace(ALL, models=("linear",)),
                             as_of=AS_OF) != base


def test_the_explanation_is_json_ready_and_complete() -> None:
    candidates = [*CANDIDATES, touch("mail", -2, person="p-role", contact=ROLE, response=False)]
    result = attribute_in_scope(opp(), candidates, ContactRoleScope(frozenset({ROLE})), ALL,
                                as_of=AS_OF)
    data = explanation(result)
    assert json.loads(json.dumps(data)) == data
    assert data["positions"] == {"FT": "role", "LC": "role", "OC": "role", "CL": "role"}
    assert [t["position"] for t in data["touches"]] == ["FT+LC+OC+CL"]
    assert {e["touch_id"]: e["reason"] for e in data["excluded"]} == {
        "colleague": NO_CONTACT_ROLE, "lead": NO_CONTACT_ROLE, "mail": "not_a_response"}
    linear = next(m for m in data["models"] if m["model"] == "linear")
    assert linear["touches"] == [{"touch_id": "role", "share": "100.000000",
                                  "credit": "100.0000", "revenue": "1000.00",
                                  "rule": "100% / 1 touch"}]
