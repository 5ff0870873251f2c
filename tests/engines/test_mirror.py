"""What counts as a change when a record comes back from the org."""

from __future__ import annotations

from typing import Any

import pytest

from connector.mirror import coerce_csv, same_fields


@pytest.mark.parametrize(("ours", "theirs", "same"), [
    pytest.param({"First_Touch_Date__c": "2026-01-31T09:30:00.000Z"},
                 {"First_Touch_Date__c": "2026-01-31T09:30:00.000+0000",
                  "SystemModstamp": "2026-11-01T00:00:00.000+0000"}, True,
                 id="our-write-echoed-with-a-new-stamp"),
    pytest.param({"LastName": "A", "MAP_Id__c": "m1"},
                 {"LastName": "A", "MAP_Id__c": "m1", "IsConverted": False,
                  "ConvertedContactId": None, "CreatedDate": "2026-11-01T00:00:00.000+0000"},
                 True, id="a-record-we-created-read-back-in-full"),
    pytest.param({"LastName": "A"}, {"LastName": "A", "IsConverted": True,
                                     "ConvertedContactId": "003xx"}, False,
                 id="a-conversion-is-a-change"),
    pytest.param({"Funnel_Cycle__c": 1}, {"Funnel_Cycle__c": 1.0}, True, id="1-equals-1.0"),
    pytest.param({"Status": "Open"}, {"Status": "Recycled"}, False, id="hand-edit"),
])
def test_same_fields(ours: dict[str, Any], theirs: dict[str, Any], same: bool) -> None:
    assert same_fields(ours, theirs) is same


def test_bulk_csv_cells_become_api_values() -> None:
    row = coerce_csv({"IsConverted": "false", "NumberOfEmployees": "12", "Amount": "9.5",
                      "Email": ""}, {"isconverted": "boolean", "numberofemployees": "int",
                                     "amount": "currency", "email": "email"})
    assert row == {"IsConverted": False, "NumberOfEmployees": 12, "Amount": 9.5, "Email": None}
