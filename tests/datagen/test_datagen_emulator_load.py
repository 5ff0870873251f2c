"""A generated seed loads into the local org emulator and reads back through the API."""

from __future__ import annotations

from pathlib import Path

from connector.datagen import generate
from connector.emulator.testing import inprocess_emulator


def test_a_small_seed_loads_and_reads_back_through_the_api(tmp_path: Path) -> None:
    result = generate(tmp_path / "data", people=300, seed=17)
    s = result.summary
    with inprocess_emulator(tmp_path / "org", seed_dir=result.sf_dir) as org:
        sf = org.salesforce()
        for obj, expected in (("Account", s["accounts"]), ("Lead", s["leads"]),
                              ("Contact", s["contacts"]), ("Campaign", s["campaigns"]),
                              ("Opportunity", s["opportunities"]),
                              ("OpportunityContactRole", s["opportunity_contact_roles"])):
            assert sf.query(f"SELECT COUNT() FROM {obj}")["totalSize"] == expected, obj
        leads = sf.query_all("SELECT Email, ConvertedContactId, ConvertedAccountId "
                             "FROM Lead WHERE IsConverted = true")["records"]
        assert len(leads) == s["converted"] > 0
        contacts = {c["Id"]: c for c in sf.query_all(
            "SELECT Id, Email, AccountId FROM Contact")["records"]}
        for lead in leads:
            contact = contacts[lead["ConvertedContactId"]]
            assert lead["Email"] == contact["Email"]
            assert lead["ConvertedAccountId"] == contact["AccountId"]
        won = sf.query("SELECT COUNT() FROM Opportunity WHERE IsWon = true")["totalSize"]
        assert won == s["opportunities_won"]
        synced = sf.query("SELECT COUNT() FROM Campaign WHERE MAP_Program_Id__c != null")
        assert synced["totalSize"] == s["campaigns_synced"]
