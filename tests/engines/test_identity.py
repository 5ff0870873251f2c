"""Matching people to Salesforce records, each branch and its explanation."""

from __future__ import annotations

from typing import Any

import pytest

from connector.engine.identity import (
    MemoryIndex,
    Unmatched,
    group_new_leads,
    match_account,
    match_person,
)
from connector.sfid import make_id
from connector.state.store import Link, MirrorRow
from tests.factories import mappings, person

L1, L2, L3 = (make_id("00Q", i) for i in (1, 2, 3))
C1, C2, C3 = (make_id("003", i) for i in (1, 2, 3))
A1, A2 = make_id("001", 1), make_id("001", 2)


def lead(rid: str, email: str | None = None, *, map_id: str | None = None,
         converted_to: str | None = None, created: str = "2025-01-01") -> MirrorRow:
    return MirrorRow("Lead", rid, {"IsConverted": converted_to is not None}, email=email,
                     map_key=map_id.lower() if map_id else None, parent_id=converted_to,
                     created_date=created)


def contact(rid: str, email: str | None = None, *, map_id: str | None = None,
            account: str | None = None, created: str = "2025-01-01") -> MirrorRow:
    return MirrorRow("Contact", rid, {}, email=email, map_key=map_id.lower() if map_id else None,
                     parent_id=account, created_date=created)


def account(rid: str, domain: str, created: str = "2024-01-01") -> MirrorRow:
    return MirrorRow("Account", rid, {}, map_key=domain, created_date=created)


CASES: list[Any] = [
    pytest.param(dict(sfdc_contact_id=C2[:15]), [contact(C2)], ("Contact", C2, "sfdc_contact_id"),
                 id="map-contact-id-15-chars"),
    pytest.param(dict(sfdc_lead_id=L1), [lead(L1)], ("Lead", L1, "sfdc_lead_id"),
                 id="map-lead-id"),
    pytest.param(dict(sfdc_lead_id=L1), [lead(L1, converted_to=C1), contact(C1)],
                 ("Contact", C1, "sfdc_lead_id_converted"), id="map-lead-id-converted"),
    pytest.param({}, [contact(C1, map_id="m-1"), lead(L1, map_id="M-1")],
                 ("Contact", C1, "map_id_contact"), id="map-id-contact-before-lead"),
    pytest.param({}, [lead(L1, map_id="M-1")], ("Lead", L1, "map_id_lead"), id="map-id-lead"),
    pytest.param({}, [lead(L1, map_id="M-1", converted_to=C3), contact(C3)],
                 ("Contact", C3, "map_id_lead_converted"), id="map-id-converted-lead"),
    pytest.param({}, [lead(L1, "ada@acme.com"), contact(C1, "ada@acme.com")],
                 ("Contact", C1, "email_contact"), id="email-contact-before-lead"),
    pytest.param({}, [lead(L2, "ada@acme.com")], ("Lead", L2, "email_lead"), id="email-lead"),
    pytest.param({}, [lead(L2, "ada@acme.com", converted_to=C1), contact(C1, "other@x.com")],
                 ("Contact", C1, "email_lead_converted"), id="email-converted-lead"),
    pytest.param(dict(sfdc_contact_id=C3), [lead(L1, "ada@acme.com")],
                 ("Lead", L1, "email_lead"), id="stale-map-id-falls-through"),
]


@pytest.mark.parametrize(("extra", "rows", "expected"), CASES)
def test_match_order(extra: dict[str, Any], rows: list[MirrorRow],
                     expected: tuple[str, str, str]) -> None:
    match = match_person(person(**extra), MemoryIndex(rows), None)
    assert match is not None
    assert (match.sobject, match.sf_id, match.rule) == expected


def test_no_candidate_is_no_match() -> None:
    assert match_person(person(), MemoryIndex([lead(L1, "bob@acme.com")]), None) is None


def test_invalid_email_never_matches_by_email() -> None:
    p = person(email="ada@")
    assert not p.email_valid
    assert match_person(p, MemoryIndex([lead(L1, "ada@")]), None) is None


def test_several_candidates_tie_break_oldest_then_id_and_flag_duplicate() -> None:
    rows = [contact(C3, "ada@acme.com", created="2024-05-01"),
            contact(C2, "ada@acme.com", created="2024-01-01"),
            contact(C1, "ada@acme.com", created="2024-01-01")]
    for order in (rows, list(reversed(rows))):
        match = match_person(person(), MemoryIndex(order), None)
        assert match is not None and match.sf_id == C1 and match.duplicate
        assert match.candidates == (C1, C2, C3)


def test_an_existing_link_is_kept_even_when_an_older_duplicate_appears() -> None:
    rows = [lead(L2, "ada@acme.com", created="2025-01-01"),
            lead(L1, "ada@acme.com", created="2020-01-01")]
    previous = Link("M-1", "Lead", L2, "email_lead", {})
    match = match_person(person(), MemoryIndex(rows), previous)
    assert match is not None and match.sf_id == L2


def test_a_linked_lead_that_was_converted_moves_to_its_contact() -> None:
    previous = Link("M-1", "Lead", L1, "created", {})
    match = match_person(person(), MemoryIndex([lead(L1, converted_to=C2), contact(C2)]),
                         previous)
    assert match is not None
    assert (match.sobject, match.sf_id, match.detail["converted_from"]) == ("Contact", C2, L1)


def test_a_deleted_linked_record_is_matched_afresh() -> None:
    previous = Link("M-1", "Lead", L3, "created", {})
    match = match_person(person(), MemoryIndex([contact(C1, "ada@acme.com")]), previous)
    assert match is not None and match.sf_id == C1


@pytest.mark.parametrize(("email", "record", "rows", "expected"), [
    pytest.param("ada@acme.com", None, [account(A2, "acme.com", "2023-01-01"),
                                        account(A1, "acme.com", "2022-01-01")],
                 (A1, "email_domain"), id="domain-oldest"),
    pytest.param("ada@gmail.com", None, [account(A1, "gmail.com")], (None, "free_mail"),
                 id="free-mail-never-matches"),
    pytest.param("ada@acme.com", contact(C1, account=A2), [account(A1, "acme.com")],
                 (A2, "contact_account"), id="contact-account-wins"),
    pytest.param("ada@nowhere.io", None, [], (None, "no_account_for_domain"), id="none"),
])
def test_account_matching(email: str, record: MirrorRow | None, rows: list[MirrorRow],
                          expected: tuple[str | None, str]) -> None:
    account_id, rule, _ = match_account(person(email=email), record, MemoryIndex(rows),
                                        mappings().sync.free_mail_domains)
    assert (account_id, rule) == expected


def test_people_sharing_an_email_become_one_new_lead_for_the_oldest() -> None:
    from datetime import UTC, datetime

    a = person("M-2", "Ada@Acme.com ", created_at=datetime(2025, 1, 1, tzinfo=UTC))
    b = person("M-1", "ada@acme.com", created_at=datetime(2025, 6, 1, tzinfo=UTC))
    c = person("M-3", "bob@acme.com")
    groups = group_new_leads({p.map_id: Unmatched.of(p) for p in (a, b, c)})
    assert groups == {"M-2": ["M-1", "M-2"], "M-3": ["M-3"]}
