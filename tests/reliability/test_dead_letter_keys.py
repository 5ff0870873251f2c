"""Defect 6: a member kept for a not-yet-created Lead resolves once it is written."""

from __future__ import annotations

import pytest

from connector.dead_letter_keys import dead_letter_key, resolved_keys
from tests.e2e.harness import Rig


@pytest.mark.parametrize(("sobject", "ref", "map_ids", "key"), [
    pytest.param("CampaignMember", "CampaignMember:W1:new:P1", ("P1",), "CampaignMember:W1:P1",
                 id="member-of-new-lead"),
    pytest.param("CampaignMember", "CampaignMember:W1:00Q000000000001AAA", ("P1", "P2"),
                 "CampaignMember:W1:P1", id="member-of-existing-lead"),
    pytest.param("CampaignMember", "CampaignMember:a:b:new:P1", ("P1",),
                 "CampaignMember:a:b:P1", id="program-id-with-colons"),
    pytest.param("Lead", "Lead:P1", ("P1",), "Lead:P1", id="other-objects-unchanged"),
])
def test_dead_letter_key_is_stable_across_the_create(sobject: str, ref: str,
                                                     map_ids: tuple[str, ...],
                                                     key: str) -> None:
    assert dead_letter_key(sobject, ref, map_ids) == key


def test_a_later_write_under_the_lead_id_resolves_both_forms() -> None:
    failed = dead_letter_key("CampaignMember", "CampaignMember:W1:new:P1", ("P1",))
    keys = resolved_keys("CampaignMember", "CampaignMember:W1:00Q000000000001AAA", ("P1",))
    assert failed in keys and "CampaignMember:W1:new:P1" in keys


@pytest.mark.e2e
def test_members_of_leads_created_in_a_failed_run_resolve(rig: Rig) -> None:
    export = rig.export().program("W1", "Webinar")
    for i in range(5):
        export.person(f"P{i}", f"p{i}@acme.com").touch(f"t{i}", f"P{i}", "form_fill", 1, "W1")
    export.write()
    rig.org.set_faults([{"match": "composite/sobjects", "error": "UNABLE_TO_LOCK_ROW",
                         "scope": "record", "object": "CampaignMember", "rate": 1}])
    first = rig.sync()
    assert first.objects["CampaignMember"]["failed"] == 5
    assert rig.store().dead_letter_count() == {"failed_write": 5}
    rig.org.clear_faults()
    second = rig.sync()
    assert second.objects["CampaignMember"]["created"] == 5
    assert rig.store().dead_letter_count() == {}
    third = rig.sync()  # nobody is re-planned for a dead letter that no longer waits
    assert sum(o["created"] + o["updated"] for o in third.objects.values()) == 0
    assert third.dead_letters == 0
