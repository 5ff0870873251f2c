"""Labels from the state database: people reach an opportunity through their
Contact's contact roles (directly, or through the Lead they were converted from)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from connector.learn.sources import from_store
from connector.state.store import open_store
from connector.values import Link, MirrorRow
from tests.factories import mappings, person, touch


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
            MirrorRow("Account", "001A", {"Industry": "Technology", "NumberOfEmployees": 5000,
                                          "BillingCountry": "Germany",
                                          "Website": "https://www.acme.com"}),
            MirrorRow("Opportunity", "006X", {"CreatedDate": "2026-02-01T10:00:00.000+0000",
                                              "StageName": "Closed Won", "IsWon": True,
                                              "CloseDate": "2026-02-20"}, parent_id="001A"),
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
        ledger = from_store(store, mappings())
    finally:
        store.close()
    assert ledger.map_ids == ["M-1", "M-2", "M-3"]
    day = 86_400.0
    opp, won = ledger.reached_at("opportunity"), ledger.reached_at("won")
    assert opp[0] == datetime(2026, 2, 1, 10, 5, tzinfo=UTC).timestamp()
    assert won[0] == datetime(2026, 2, 20, tzinfo=UTC).timestamp()
    assert opp[1] == datetime(2026, 2, 6, 9, tzinfo=UTC).timestamp()
    assert won[1] == float("inf") and opp[2] == float("inf")
    assert ledger.t_person.tolist() == [0, 1] and ledger.t_points.tolist() == [1.0, 60.0]
    assert ledger.t_time[1] - ledger.t_time[0] == day
    # M-1 belongs to the account (its link); the account reached both targets
    assert ledger.account_ids == ["001A"] and ledger.person_account.tolist() == [0, -1, -1]
    assert ledger.account_reached_at("opportunity")[0] == \
        datetime(2026, 2, 1, 10, tzinfo=UTC).timestamp()
    assert ledger.account_reached_at("won")[0] == datetime(2026, 2, 20, tzinfo=UTC).timestamp()
    fit = dict(zip(ledger.account_fit_names, ledger.account_fit[0].tolist(), strict=True))
    assert fit["enterprise"] == fit["icp_industry"] == fit["served_country"] == 1.0
    assert ledger.account_fit_points[0] == 60
