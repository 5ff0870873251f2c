"""Defect 1: every IN list a SOQL builder is given is split, whatever its size."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import requests
from hypothesis import given, settings
from hypothesis import strategies as st

from connector.salesforce import soql

FIELDS = ["Id", "CampaignId", "LeadId"]


def _values(statement: str, field: str) -> list[str]:
    match = re.search(rf"{field} IN \(([^)]*)\)", statement)
    assert match, statement
    return match.group(1).split(", ")


def _ids(prefix: str, n: int) -> list[str]:
    return [f"{prefix}{i:015d}" for i in range(n)]


@pytest.mark.parametrize(("campaigns", "people", "limit"), [
    pytest.param(1, 1, 4000, id="tiny"),
    pytest.param(3, 600, 12_000, id="issue-600-people"),
    pytest.param(40, 5000, 4000, id="both-long"),
    pytest.param(700, 2, 4000, id="many-campaigns-few-people"),
])
def test_select_in_many_covers_every_pair_and_stays_under_the_limit(
        campaigns: int, people: int, limit: int) -> None:
    camp, who = _ids("701", campaigns), _ids("00Q", people)
    statements = list(soql.select_in_many("CampaignMember", FIELDS,
                                          [("CampaignId", camp), ("LeadId", who)],
                                          max_statement=limit))
    assert all(len(s) <= limit for s in statements)
    pairs = [(c, p) for s in statements for c in _values(s, "CampaignId")
             for p in _values(s, "LeadId")]
    assert len(pairs) == len(set(pairs)) == campaigns * people  # each pair exactly once


def test_the_statement_that_crashed_the_run_can_now_be_built() -> None:
    # 600 people in extra_where could not be built at all before (ValueError)
    statements = list(soql.select_in_many(
        "CampaignMember", FIELDS, [("CampaignId", ["701000000000001"]),
                                   ("LeadId", _ids("00Q", 600))], max_statement=12_000))
    assert len(statements) >= 2


def test_select_in_refuses_an_extra_where_that_leaves_no_room() -> None:
    where = "LeadId IN (" + ", ".join(soql.literal(v) for v in _ids("00Q", 600)) + ")"
    with pytest.raises(ValueError, match="select_in_many"):
        list(soql.select_in("CampaignMember", FIELDS, "CampaignId", ["701"],
                            extra_where=where, max_statement=12_000))


def test_an_empty_list_selects_nothing_and_extra_where_is_kept() -> None:
    assert list(soql.select_in_many("Lead", ["Id"], [("Id", [])])) == []
    (one,) = soql.select_in_many("Lead", ["Id"], [("Id", ["a"])], extra_where="IsDeleted = false")
    assert one.endswith("AND (IsDeleted = false)")


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.text(min_size=1, max_size=30), min_size=1, max_size=80),
                min_size=1, max_size=3),
       st.integers(min_value=600, max_value=5000))
def test_property_every_combination_once_and_every_statement_fits(
        lists: list[list[str]], limit: int) -> None:
    names = ["A", "B", "C"][:len(lists)]
    try:
        statements = list(soql.select_in_many("X", ["Id"], list(zip(names, lists, strict=True)),
                                              max_statement=limit))
    except ValueError:
        widest = sum(max(len(soql.literal(v)) for v in vals) + 2 for vals in lists)
        assert widest > limit - 60  # only refused when one value per list cannot fit
        return
    assert all(len(s) <= limit for s in statements)
    expected = 1
    for vals in lists:
        expected *= len(set(vals))
    # count combinations via literal occurrences: each statement is a product of its chunks
    total = 0
    for s in statements:
        product = 1
        for name in names:
            body = s.split(f"{name} IN (", 1)[1]
            product *= len(_split_literals(body))
        total += product
    assert total == expected


def _split_literals(body: str) -> list[str]:
    """The literals at the start of ``body`` up to the IN list's closing paren."""
    out: list[str] = []
    i = 0
    while body[i] == "'":
        j = i + 1
        while body[j] != "'":
            j += 2 if body[j] == "\\" else 1
        out.append(body[i:j + 1])
        i = j + 1
        if body[i] == ")":
            break
        i += 2  # ", "
    return out


class _LosingAdapter(requests.adapters.BaseAdapter):
    """Delivers a request to the org, then loses the response (a read timeout after
    the server committed) for every other Campaign Member create."""

    def __init__(self, inner: requests.adapters.BaseAdapter) -> None:
        super().__init__()
        self.inner = inner
        self.seen = 0
        self.lost = 0

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        response = self.inner.send(request, **kwargs)
        body = request.body or b""
        if request.method == "POST" and request.path_url.endswith("composite/sobjects") \
                and b'"CampaignMember"' in (body if isinstance(body, bytes) else body.encode()):
            self.seen += 1
            if self.seen % 2 == 1 and self.lost < 8:
                self.lost += 1
                raise requests.exceptions.ReadTimeout("the response was lost")
        return response

    def close(self) -> None:
        self.inner.close()


@pytest.mark.e2e
def test_hundreds_of_duplicate_members_are_reconciled_not_crashed(tmp_path: Path) -> None:
    """Defect 1, deterministically: eight Campaign Member batches are committed but
    their responses lost; the resends meet DUPLICATE_VALUE for 1,600 members (about
    500 people) at once, which are looked up (split queries) and reconciled."""
    from connector.datagen import generate
    from connector.emulator.testing import inprocess_emulator
    from connector.run.sync import Sync, SyncOptions
    from tests.e2e.harness import AS_OF
    from tests.reliability.faults_helpers import full_snapshot, no_duplicates, rig_for

    data = generate(tmp_path / "data", people=600, seed=11)
    with inprocess_emulator(tmp_path / "ref", seed_dir=data.sf_dir) as org:
        ref = rig_for(org, tmp_path / "ref", data.map_dir)
        (tmp_path / "ref").mkdir(exist_ok=True)
        assert ref.sync().status == "ok"
        reference = full_snapshot(ref)
    with inprocess_emulator(tmp_path / "org", seed_dir=data.sf_dir) as org:
        rig = rig_for(org, tmp_path, data.map_dir)
        session = org.session()
        losing = _LosingAdapter(session.get_adapter("https://"))
        session.mount("https://", losing)
        store = rig.store()
        try:
            result = Sync(rig.settings(), rig.mappings, store, http=session,
                          sleep=lambda s: None).run(SyncOptions(as_of=AS_OF))
        finally:
            store.close()
        assert losing.lost == 8
        assert result.status == "ok", result.as_json()
        assert result.objects["CampaignMember"]["failed"] == 0
        no_duplicates(rig)
        assert full_snapshot(rig) == reference
