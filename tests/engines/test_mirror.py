"""What counts as a change when a record comes back from the org."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connector.record_form import digest, same_fields
from connector.run.mirror import coerce_csv


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
    assert (digest(ours) == digest(theirs)) is same  # a re-read is recognised by its digest


_SPELLINGS = st.sampled_from([
    ("2026-01-31T09:30:00Z", "2026-01-31T09:30:00.000+0000"),
    (None, ""), (None, False), ("", False), (3, 3.0), ("Open", "Open"), (12.5, 12.5)])
_VALUES = st.one_of(st.none(), st.booleans(), st.integers(-5, 5), st.text(max_size=4),
                    st.sampled_from(["2026-01-31T09:30:00Z", "2026-01-31T09:30:01.000+0000"]))


@given(st.dictionaries(st.sampled_from(["A__c", "B__c", "Status", "Email"]), _SPELLINGS),
       st.dictionaries(st.sampled_from(["SystemModstamp", "CreatedDate", "Name"]), _VALUES))
def test_a_record_spelled_either_way_has_one_digest(
        pairs: dict[str, tuple[Any, Any]], stamps: dict[str, Any]) -> None:
    ours = {k: a for k, (a, _) in pairs.items()}
    theirs = {**{k: b for k, (_, b) in pairs.items()}, **stamps}
    assert digest(ours) == digest(theirs)


@given(st.dictionaries(st.sampled_from(["A__c", "B__c", "Status"]), _VALUES, min_size=1),
       st.dictionaries(st.sampled_from(["A__c", "B__c", "Status"]), _VALUES, min_size=1))
def test_digests_agree_with_same_fields(a: dict[str, Any], b: dict[str, Any]) -> None:
    """Equal digests never hide a change same_fields sees (True/1 aside: the digest
    tells them apart, which only costs one more stored row)."""
    if digest(a) == digest(b):
        assert same_fields(a, b)


def test_bulk_csv_cells_become_api_values() -> None:
    row = coerce_csv({"IsConverted": "false", "NumberOfEmployees": "12", "Amount": "9.5",
                      "Email": ""}, {"isconverted": "boolean", "numberofemployees": "int",
                                     "amount": "currency", "email": "email"})
    assert row == {"IsConverted": False, "NumberOfEmployees": 12, "Amount": 9.5, "Email": None}
