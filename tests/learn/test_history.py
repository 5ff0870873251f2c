"""Labels from the state database: people reach an opportunity through their
Contact's contact roles (directly, or through the Lead they were converted from)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from connector.learn.history import from_store
from connector.state.store import open_store
from connector.values import Link, MirrorRow
from tests.factories import person, touch


def test_contact_roles_through_links_and_conversions(tmp_path: Path) -> None:
    store = open_store(tmp_path / "state.db")
    try:
        run = store.start_run("sync", datetime(2026, 3, 1, tzinfo=UTC))
        people = [person("M-1", "a@acme.com"), person("M-2", "b@acme.com"),
                  person("M-3", "c@acme.com")]
        store.upsert_people(run, people)
        store.upsert_touches(run, [touch("T-1", 1, "web_visit", map_id="M-1"),
                                   touch("T-2", 2, "demo_request", map_id="M-2")])
        store.set_links(run, [Link("M-1", "Contact", "003A", "email", {}, "001A"),
                              Link("M-2", "Lead", "00QB", "email", {}),
                              Link("M-3", "Lead", "00QC", "email", {})])
        store.mirror_upsert([
            MirrorRow("Lead", "00QB", {"IsConverted": True, "ConvertedContactId": "003B"}),
            MirrorRow("Lead", "00QC", {"IsConverted": False}),
            MirrorRow("Opportunity", "006X", {"CreatedDate": "2026-02-01T10:00:00.000+0000",
                                              "StageName": "Closed Won", "IsWon": True,
                                              "CloseDate": "2026-02-20"}),
            MirrorRow("Opportunity", "006Y", {"CreatedDate": "2026-02-05T10:00:00.000+0000",
                                              "StageName": "Prospecting", "IsWon": False,
                                              "CloseDate": "2026-06-01"}),
            MirrorRow("OpportunityContactRole", "00KA",
                      {"CreatedDate": "2026-02-01T10:05:00.000+0000"}, parent_id="006X",
                      contact_id="003A"),
            MirrorRow("OpportunityContactRole", "00KB",
                      {"CreatedDate": "2026-02-06T09:00:00.000+0000"}, parent_id="006Y",
                      contact_id="003B"),
        ])
        history = from_store(store)
    finally:
        store.close()
    assert set(history.people) == {"M-1", "M-2", "M-3"}
    assert history.target_at("M-1", "opportunity") == datetime(2026, 2, 1, 10, 5, tzinfo=UTC)
    assert history.target_at("M-1", "won") == datetime(2026, 2, 20, tzinfo=UTC)
    assert history.target_at("M-2", "opportunity") == datetime(2026, 2, 6, 9, tzinfo=UTC)
    assert history.target_at("M-2", "won") is None
    assert history.target_at("M-3", "opportunity") is None
    assert [t.touch_id for t in history.touches["M-2"]] == ["T-2"]
