"""Defect 11: a touch for an unknown person is rejected with file and row, kept, and
resolved (and used) once the person appears."""

from __future__ import annotations

import pytest

from tests.e2e.harness import Rig

pytestmark = pytest.mark.e2e


def test_touches_for_unknown_people_are_reported_kept_and_resolved(rig: Rig) -> None:
    export = rig.export().program("W1", "Webinar")
    export.person("P1", "p1@acme.com").touch("t1", "P1", "form_fill", 1, "W1")
    export.touch("t2", "P9", "webinar_attended", 2, "W1")
    export.write()
    first = rig.sync()
    [dead] = rig.store().dead_letters("rejected_input")
    assert (dead.file, dead.row, dead.field, dead.map_id) == ("touches.csv", 3, "map_id", "P9")
    assert "t2" in dead.message and "P9" in dead.message
    assert first.ledger["counts"]["rejected"] == 1

    export.person("P9", "p9@acme.com")  # the person arrives in a later export
    export.write()
    second = rig.sync()
    assert second.ledger["counts"]["rejections_resolved"] >= 1
    assert rig.store().dead_letters("rejected_input") == []
    members = rig.query("SELECT Lead.MAP_Id__c, Status FROM CampaignMember")
    statuses = {m["Lead"]["MAP_Id__c"]: m["Status"] for m in members}
    assert statuses["P9"] == "Attended"  # the kept touch was used
