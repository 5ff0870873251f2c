"""What counts as a change when a record comes back from the org."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connector.record_form import csv_digester, digest, same_fields
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


_TYPES = {"isconverted": "boolean", "numberofemployees": "int", "amount": "currency",
          "email": "email", "first_touch_date__c": "datetime", "id": "id"}
_CELLS = {
    "IsConverted": st.sampled_from(["true", "false", "True", ""]),
    "NumberOfEmployees": st.sampled_from(["12", "0", "12.0", "", "-3"]),
    "Amount": st.sampled_from(["9.5", "10", "0.0", "", "1e3"]),
    "Email": st.text(max_size=6),
    "First_Touch_Date__c": st.sampled_from(["2026-01-31T09:30:00.000Z", "",
                                            "2026-01-31T09:30:00.000+0000", "2026-01-31"]),
    "SystemModstamp": st.sampled_from(["2026-11-01T00:00:00.000Z", ""]),
    "IsDeleted": st.sampled_from(["false", ""]),
}


@given(st.fixed_dictionaries({"Id": st.sampled_from(["00Qxx", "003yy"])},
                             optional=_CELLS))
def test_a_csv_row_digests_as_its_typed_record(row: dict[str, str]) -> None:
    """The fused CSV digest equals the digest of the record the REST API (or
    coerce_csv) would give, so a Bulk re-read matches rows stored from REST reads
    and from writes alike."""
    typed = coerce_csv(row, _TYPES)
    typed.pop("IsDeleted", None)
    assert csv_digester(list(row), _TYPES)(row) == digest(typed)


@pytest.mark.parametrize(("cells", "written"), [
    pytest.param({"Status": "Responded", "LeadId": "00Qa", "ContactId": ""},
                 {"Status": "Responded", "LeadId": "00Qa"}, id="blank-cell-is-no-field"),
    pytest.param({"Funnel_Cycle__c": "2"}, {"Funnel_Cycle__c": 2}, id="int-cell-is-a-number"),
    pytest.param({"Responded__c": "false"}, {}, id="false-is-blank"),
    pytest.param({"First_Response_Date__c": "2026-01-31T09:30:00.000+0000"},
                 {"First_Response_Date__c": "2026-01-31T09:30:00Z"}, id="datetime-respelled"),
])
def test_a_bulk_reread_of_our_write_matches_its_digest(cells: dict[str, str],
                                                       written: dict[str, Any]) -> None:
    types = {"funnel_cycle__c": "double", "responded__c": "boolean"}
    header = ["Id", "SystemModstamp", *cells]
    row = {"Id": "00v1", "SystemModstamp": "2026-11-01T00:00:00.000Z", **cells}
    assert csv_digester(header, types)(row) == digest({"Id": "00v1", **written})


def test_digests_stay_what_earlier_versions_stored() -> None:
    """Mirror rows keep their digest across upgrades: a changed formula would make
    every stored row look changed once (a full re-plan of the org)."""
    assert digest({"Id": "00Q1", "Email": "a@b.co", "Fit_Score__c": 30,
                   "IsConverted": True, "MQL_Date__c": "2024-10-01T14:09:29.000Z"}) == \
        "cde743b60dc4947caf9278b4"
