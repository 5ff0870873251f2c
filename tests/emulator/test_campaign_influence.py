"""Customizable Campaign Influence as the org enforces it: models are query-only,
CampaignId/OpportunityId/ContactId/ModelId are create-only, Influence is the only
updateable field, and RevenueShare is computed (Influence% x Amount)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from connector.emulator.org import OrgOptions
from connector.emulator.testing import EmulatorHandle
from connector.engine.attribution_diff import diff_influence
from connector.engine.attribution_scope import InfluenceRow
from connector.mappings import bundled_dir
from tests.conftest import new_org_dir
from tests.emulator.helpers import Api, error_of

FIELD_SECURITY = ("Please check the security settings of this field and verify that it is "
                  "read/write for your profile or permission set.")


@pytest.fixture
def api(inproc: EmulatorHandle) -> Api:
    return Api(inproc)


def _models(api: Api) -> dict[str, dict[str, object]]:
    rows = api.get("query", params={"q": "SELECT Id, DeveloperName, MasterLabel, IsDefaultModel "
                                    "FROM CampaignInfluenceModel"}).json()["records"]
    return {str(r["DeveloperName"]): r for r in rows}


def _setup(api: Api, amount: float | None = 1000.0) -> dict[str, str]:
    account = api.create("Account", Name="Acme")
    fields = {"Name": "Deal", "AccountId": account, "StageName": "Prospecting",
              "CloseDate": "2024-06-30"}
    if amount is not None:
        fields["Amount"] = amount  # type: ignore[assignment]
    return {
        "opp": api.create("Opportunity", **fields),
        "campaign": api.create("Campaign", Name="Webinar"),
        "other_campaign": api.create("Campaign", Name="Ads"),
        "contact": api.create("Contact", LastName="Doe", AccountId=account),
        "other_contact": api.create("Contact", LastName="Roe", AccountId=account),
        "model": str(_models(api)["primaryModel"]["Id"]),
    }


def _influence(api: Api, ids: dict[str, str], influence: float = 25.0) -> str:
    return api.create("CampaignInfluence", CampaignId=ids["campaign"], OpportunityId=ids["opp"],
                      ContactId=ids["contact"], ModelId=ids["model"], Influence=influence)


def test_the_org_holds_the_primary_model_and_models_are_query_only(api: Api) -> None:
    models = _models(api)
    assert models["primaryModel"]["IsDefaultModel"] is True
    assert "MAP_Connector_Attribution" not in models  # not enabled in the bundled mappings
    model_id = models["primaryModel"]["Id"]
    created = api.post("sobjects/CampaignInfluenceModel/",
                       json={"DeveloperName": "Mine", "MasterLabel": "Mine"})
    assert error_of(created)[:2] == (400, "INVALID_TYPE_FOR_OPERATION")
    assert error_of(api.patch(f"sobjects/CampaignInfluenceModel/{model_id}",
                              json={"IsActive": False}))[:2] == (400, "INVALID_TYPE_FOR_OPERATION")
    deleted = api.delete(f"sobjects/CampaignInfluenceModel/{model_id}")
    status, code, message = error_of(deleted)
    assert (status, code) == (400, "INVALID_TYPE_FOR_OPERATION")
    assert "CampaignInfluenceModel" in message
    describe = api.get("sobjects/CampaignInfluenceModel/describe").json()
    assert (describe["createable"], describe["updateable"], describe["deletable"]) == (
        False, False, False)


def test_revenue_share_is_computed_from_influence_and_amount(api: Api) -> None:
    ids = _setup(api, amount=1234.56)
    rid = _influence(api, ids, 33.33)
    assert api.record("CampaignInfluence", rid)["RevenueShare"] == 411.48  # 411.4788
    assert api.patch(f"sobjects/CampaignInfluence/{rid}",
                     json={"Influence": 50}).status_code == 204
    assert api.record("CampaignInfluence", rid)["RevenueShare"] == 617.28
    assert api.patch(f"sobjects/Opportunity/{ids['opp']}",
                     json={"Amount": 10}).status_code == 204
    assert api.record("CampaignInfluence", rid)["RevenueShare"] == 5.0


def test_revenue_share_is_blank_without_an_amount(api: Api) -> None:
    ids = _setup(api, amount=None)
    assert api.record("CampaignInfluence", _influence(api, ids))["RevenueShare"] is None


def test_revenue_share_cannot_be_written(api: Api) -> None:
    ids = _setup(api)
    refused = api.post("sobjects/CampaignInfluence/", json={
        "CampaignId": ids["campaign"], "OpportunityId": ids["opp"], "ModelId": ids["model"],
        "Influence": 10, "RevenueShare": 5})
    assert error_of(refused) == (400, "INVALID_FIELD_FOR_INSERT_UPDATE",
                                 f"Unable to create/update fields: RevenueShare. {FIELD_SECURITY}")


@pytest.mark.parametrize("field", ["CampaignId", "OpportunityId", "ContactId", "ModelId"])
def test_keys_are_create_only(api: Api, field: str) -> None:
    ids = _setup(api)
    rid = _influence(api, ids)
    other = {"CampaignId": ids["other_campaign"], "ContactId": ids["other_contact"],
             "OpportunityId": api.create("Opportunity", Name="Other", StageName="Prospecting",
                                         CloseDate="2024-06-30"),
             "ModelId": ids["model"]}[field]
    refused = api.patch(f"sobjects/CampaignInfluence/{rid}", json={field: other})
    assert error_of(refused) == (400, "INVALID_FIELD_FOR_INSERT_UPDATE",
                                 f"Unable to create/update fields: {field}. {FIELD_SECURITY}")


def test_a_model_id_must_name_a_model(api: Api) -> None:
    ids = _setup(api)
    refused = api.post("sobjects/CampaignInfluence/", json={
        "CampaignId": ids["campaign"], "OpportunityId": ids["opp"], "ModelId": ids["campaign"],
        "Influence": 10})
    assert error_of(refused)[:2] == (400, "INVALID_CROSS_REFERENCE_KEY")


@pytest.fixture
def influence_org(tmp_path: Path, _emulator_keys: Path) -> Iterator[EmulatorHandle]:
    mappings = tmp_path / "mappings"
    shutil.copytree(bundled_dir(), mappings, ignore=shutil.ignore_patterns("__*"))
    path = mappings / "attribution.yaml"
    path.write_text(path.read_text().replace("  enabled: false", "  enabled: true"))
    handle = EmulatorHandle(new_org_dir(tmp_path, _emulator_keys),
                            OrgOptions(mappings_dir=mappings), real=False)
    try:
        yield handle
    finally:
        handle.close()


def test_enabled_mappings_give_the_org_the_connectors_own_model(
        influence_org: EmulatorHandle) -> None:
    models = _models(Api(influence_org))
    mine = models["MAP_Connector_Attribution"]
    assert (mine["MasterLabel"], mine["IsDefaultModel"]) == ("MAP Connector Attribution", False)


def test_the_influence_diff_applies_cleanly_and_a_rerun_writes_nothing(api: Api) -> None:
    """The connector's CampaignInfluence diff only ever sends what the org accepts:
    inserts with the create-only keys, Influence-only updates, deletes."""
    ids = _setup(api, amount=2000.0)
    model = ids["model"]

    def held() -> list[dict[str, object]]:
        q = ("SELECT Id, OpportunityId, CampaignId, ContactId, ModelId, Influence, RevenueShare "
             f"FROM CampaignInfluence WHERE OpportunityId = '{ids['opp']}'")
        return list(api.get("query", params={"q": q}).json()["records"])

    def apply(desired: list[InfluenceRow]) -> int:
        diff = diff_influence(desired, held(), model)
        for values in diff.creates:
            api.create("CampaignInfluence", **values)
        for update in diff.updates:
            r = api.patch(f"sobjects/CampaignInfluence/{update.record_id}",
                          json={"Influence": update.influence})
            assert r.status_code == 204, r.text
        for rid in diff.deletes:
            assert api.delete(f"sobjects/CampaignInfluence/{rid}").status_code == 204
        return diff.writes

    first = [InfluenceRow(ids["opp"], ids["campaign"], ids["contact"], Decimal("60.00")),
             InfluenceRow(ids["opp"], ids["other_campaign"], None, Decimal("40.00"))]
    assert apply(first) == 2
    assert sorted(float(str(r["RevenueShare"])) for r in held()) == [800.0, 1200.0]
    assert apply(first) == 0
    moved = [InfluenceRow(ids["opp"], ids["campaign"], ids["other_contact"], Decimal("55.00")),
             InfluenceRow(ids["opp"], ids["other_campaign"], None, Decimal("45.00"))]
    assert apply(moved) == 3  # a contact change is a delete and an insert; one update
    assert sorted((str(r["ContactId"]), float(str(r["Influence"]))) for r in held()) == [
        (ids["other_contact"], 55.0), ("None", 45.0)]
    assert apply(moved) == 0
