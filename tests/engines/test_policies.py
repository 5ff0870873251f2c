"""Write policies decide every field write; write-once never changes a filled value."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connector.engine.policies import canonical, decide
from connector.mappings import FieldDecl


def decl(policy: str, type_: str = "string", **kw: Any) -> FieldDecl:
    return FieldDecl(api_name="X__c", type=type_, length=kw.pop("length", 80),  # type: ignore[arg-type]
                     policy=policy, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(("policy", "current", "desired", "last", "has", "write", "value",
                          "drift", "conflict"), [
    pytest.param("always", None, "Webinar", None, False, True, "Webinar", False, False,
                 id="always-fills-blank"),
    pytest.param("always", "Webinar", "Webinar", "Webinar", True, False, None, False, False,
                 id="always-unchanged-is-no-write"),
    pytest.param("always", "Event", "Webinar", "Event", True, True, "Webinar", False, False,
                 id="always-changed-by-the-map"),
    pytest.param("always", "Hand edit", "Webinar", "Webinar", True, True, "Webinar", True,
                 False, id="always-hand-edit-is-put-back-as-drift"),
    pytest.param("always", "Other tool", None, None, False, False, None, False, False,
                 id="always-blank-desired-never-wipes-foreign-data"),
    pytest.param("always", "Webinar", None, "Webinar", True, True, None, False, False,
                 id="always-clears-only-its-own-value"),
    pytest.param("if_blank", None, "VP", None, False, True, "VP", False, False,
                 id="if-blank-fills"),
    pytest.param("if_blank", "CEO", "VP", None, False, False, None, False, False,
                 id="if-blank-keeps-filled"),
    pytest.param("write_once", None, "Webinar", None, False, True, "Webinar", False, False,
                 id="write-once-fills-blank"),
    pytest.param("write_once", "Event", "Webinar", "Event", True, False, None, False, True,
                 id="write-once-conflict-is-reported-not-written"),
    pytest.param("write_once", "Event", None, None, False, False, None, False, False,
                 id="write-once-never-cleared"),
    pytest.param("never", None, "x", None, False, False, None, False, False, id="never"),
])
def test_decide_table(policy: str, current: Any, desired: Any, last: Any, has: bool,
                      write: bool, value: Any, drift: bool, conflict: bool) -> None:
    d = decide(decl(policy), current=current, desired=desired, last_written=last,
               has_written=has)
    assert (d.write, d.drift, d.conflict) == (write, drift, conflict)
    if write:
        assert d.value == value


@pytest.mark.parametrize(("current", "desired", "new_cycle", "write", "value"), [
    pytest.param(None, "2026-01-01T00:00:00.000Z", False, True, "2026-01-01T00:00:00.000Z",
                 id="monotonic-set-when-reached"),
    pytest.param("2026-01-01T00:00:00.000Z", "2025-12-01T00:00:00.000Z", False, False, None,
                 id="monotonic-never-moved-earlier-in-cycle"),
    pytest.param("2026-01-01T00:00:00.000Z", None, False, False, None,
                 id="monotonic-never-cleared-in-cycle"),
    pytest.param("2026-01-01T00:00:00.000Z", "2026-06-01T00:00:00.000Z", True, True,
                 "2026-06-01T00:00:00.000Z", id="monotonic-restarts-in-new-cycle"),
    pytest.param("2026-01-01T00:00:00.000Z", None, True, True, None,
                 id="monotonic-new-cycle-clears-unreached-stage"),
])
def test_monotonic_stage_dates(current: Any, desired: Any, new_cycle: bool, write: bool,
                               value: Any) -> None:
    d = decide(decl("monotonic", "datetime"), current=current, desired=desired,
               new_cycle=new_cycle)
    assert d.write == write
    if write:
        assert d.value == value


@pytest.mark.parametrize(("type_", "raw", "expected"), [
    pytest.param("datetime", "2026-01-31T09:30:00.000+0000", "2026-01-31T09:30:00.000Z",
                 id="api-datetime"),
    pytest.param("datetime", datetime(2026, 1, 31, 9, 30, 0, 123456, tzinfo=UTC),
                 "2026-01-31T09:30:00.123Z", id="python-datetime-to-millis"),
    pytest.param("datetime", "2026-01-31T10:30:00+01:00", "2026-01-31T09:30:00.000Z",
                 id="offset-to-utc"),
    pytest.param("double", "3", 3.0, id="number-text"),
    pytest.param("double", 2.345, 2.35, id="rounded-to-scale-half-up"),
    pytest.param("boolean", "true", True, id="bool-text"),
    pytest.param("string", "", None, id="empty-is-blank"),
    pytest.param("date", "2026-01-31", "2026-01-31", id="date"),
])
def test_canonical_makes_api_and_engine_values_comparable(type_: str, raw: Any,
                                                          expected: Any) -> None:
    assert canonical(decl("always", type_, scale=2, precision=18, length=None
                          if type_ != "string" else 80), raw) == expected


def test_canonical_truncates_text_to_the_field_length() -> None:
    assert canonical(decl("always", length=5), "abcdefgh") == "abcde"


def test_an_address_too_long_for_its_field_is_not_cut_but_left_out() -> None:
    assert canonical(decl("if_blank", "email", length=10), "someone@example.com") is None


values = st.one_of(st.none(), st.sampled_from(["Webinar", "Event", "Paid Search", "Email"]))


@settings(max_examples=300)
@given(initial=values, steps=st.lists(
    st.tuples(st.sampled_from(["map", "hand"]), values), min_size=1, max_size=30))
def test_a_filled_write_once_field_never_changes_under_any_interleaving(
        initial: Any, steps: list[tuple[str, Any]]) -> None:
    """Random MAP changes (desired) and hand edits, run after run: once Salesforce
    holds a value, the connector never writes that field again."""
    field = decl("write_once")
    salesforce = initial
    desired = None
    for actor, value in steps:
        if actor == "hand":
            salesforce = value
        else:
            desired = value
        was_filled = salesforce is not None
        d = decide(field, current=salesforce, desired=desired)
        if d.write:
            assert not was_filled, "write-once wrote over a filled value"
            assert d.value is not None, "write-once cleared a value"
            salesforce = d.value
