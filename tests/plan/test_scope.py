"""Sync._scope: who is re-planned after a completed run, and why."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from connector.run.mirror import MirrorRefresh
from connector.run.sync import Sync, SyncOptions
from connector.state.store import StateStore
from connector.values import Link
from tests.factories import T0, mappings, person, program, touch
from tests.plan.conftest import AS_OF, fill, lead, member, offline_settings, sf_id

L1, L4, L6, L9 = (sf_id("Lead", n) for n in (1, 4, 6, 9))
K2 = sf_id("Contact", 2)
C1 = sf_id("Campaign", 1)
EVERYONE = {f"M-{i}" for i in range(1, 7)}

Change = Callable[[StateStore, int], tuple[MirrorRefresh, SyncOptions]]


def refresh(**changed: set[str]) -> MirrorRefresh:
    return MirrorRefresh(changed=dict(changed))


def options(**kw: object) -> SyncOptions:
    return SyncOptions(as_of=AS_OF, **kw)  # type: ignore[arg-type]


def _nothing(store: StateStore, run: int) -> tuple[MirrorRefresh, SyncOptions]:
    return refresh(), options()


def _person_changed(store: StateStore, run: int) -> tuple[MirrorRefresh, SyncOptions]:
    store.upsert_people(run, [person("M-3", "renamed@x.com")])
    store.upsert_people(run, [person("M-1", "m1@x.com")])  # seen again, unchanged
    return refresh(), options()


def _touch_new(store: StateStore, run: int) -> tuple[MirrorRefresh, SyncOptions]:
    store.upsert_touches(run, [touch("t-new", 40, map_id="M-5")])
    return refresh(), options()


def _lead_changed(store: StateStore, run: int) -> tuple[MirrorRefresh, SyncOptions]:
    return refresh(Lead={L1}), options()


def _contact_deleted(store: StateStore, run: int) -> tuple[MirrorRefresh, SyncOptions]:
    return MirrorRefresh(deleted={"Contact": {K2}}), options()


def _unlinked_by_email(store: StateStore, run: int) -> tuple[MirrorRefresh, SyncOptions]:
    # a Lead someone created in Salesforce with M-3's email (M-6 shares it, but
    # is linked elsewhere already)
    store.mirror_upsert([lead(9, "m3@x.com")])
    return refresh(Lead={L9}), options()


def _member_changed(store: StateStore, run: int) -> tuple[MirrorRefresh, SyncOptions]:
    row = member(1, C1, lead_id=L4, status="Attended")
    store.mirror_upsert([row])
    return refresh(CampaignMember={row.id}), options()


def _converted_member_changed(store: StateStore,
                              run: int) -> tuple[MirrorRefresh, SyncOptions]:
    # a converted Lead's member keeps its LeadId and gains the Contact's id; the
    # person is linked to the Contact since the conversion
    row = member(2, C1, lead_id=L9, contact_id=K2, status="Sent")
    store.mirror_upsert([row])
    return refresh(CampaignMember={row.id}), options()


def _dead_letters(store: StateStore, run: int) -> tuple[MirrorRefresh, SyncOptions]:
    store.add_failed_write(run, "CampaignMember", "CampaignMember:P-1:M-5", "M-5",
                           "UNABLE_TO_LOCK_ROW", "locked", {"map_ids": ["M-5", "M-6"]})
    store.add_failed_write(run, "Lead", "Lead:M-3", "M-3", "REQUIRED_FIELD_MISSING", "x", {})
    store.add_failed_write(run, "Lead", "Lead:M-404", "M-404", "X", "gone from the MAP", {})
    store.add_failed_write(run, "Lead", "Lead:M-2", "M-2", "X", "fixed since", {})
    store.resolve_dead_letters(run, "failed_write", ["Lead:M-2"])
    return refresh(), options()


def _program_changed(store: StateStore, run: int) -> tuple[MirrorRefresh, SyncOptions]:
    store.upsert_programs(run, [program("P-1", name="Renamed")])
    return refresh(), options()


def _since(store: StateStore, run: int) -> tuple[MirrorRefresh, SyncOptions]:
    return refresh(), options(since=T0 + timedelta(days=20))


def _full(store: StateStore, run: int) -> tuple[MirrorRefresh, SyncOptions]:
    return refresh(), options(full=True)


@pytest.mark.parametrize(("change", "expected"), [
    pytest.param(_nothing, set(), id="nothing-changed"),
    pytest.param(_person_changed, {"M-3"}, id="person-changed-in-the-map"),
    pytest.param(_touch_new, {"M-5"}, id="new-touch"),
    pytest.param(_lead_changed, {"M-1"}, id="linked-lead-changed-in-salesforce"),
    pytest.param(_contact_deleted, {"M-2"}, id="linked-contact-deleted"),
    pytest.param(_unlinked_by_email, {"M-3"}, id="unlinked-person-by-email"),
    pytest.param(_member_changed, {"M-4"}, id="campaign-member-changed"),
    pytest.param(_converted_member_changed, {"M-2"}, id="converted-persons-member-changed"),
    pytest.param(_dead_letters, {"M-3", "M-5", "M-6"}, id="waiting-dead-letters"),
    pytest.param(_program_changed, {"M-4"}, id="program-changed"),
    pytest.param(_since, {"M-5"}, id="since"),
    pytest.param(_full, EVERYONE, id="full"),
])
def test_scope(store: StateStore, run_id: int, change: Change, expected: set[str]) -> None:
    fill(store, run_id, programs=[program("P-1")],
         people=[person(f"M-{i}", "m3@x.com" if i == 6 else f"m{i}@x.com")
                 for i in range(1, 7)],
         touches=[touch(f"t{i}", i, map_id=f"M-{i}",
                        program=program("P-1") if i == 4 else None) for i in range(1, 7)]
         + [touch("t5b", 25, map_id="M-5")],
         links=[Link("M-1", "Lead", L1, "email_lead", {}),
                Link("M-2", "Contact", K2, "email_contact", {}),
                Link("M-4", "Lead", L4, "email_lead", {}),
                Link("M-6", "Lead", L6, "email_lead", {})])
    store.finish_run(run_id, "ok", {})
    run = store.start_run("sync", AS_OF)
    with store.transaction():
        found_refresh, found_options = change(store, run)
    sync = Sync(offline_settings(store.path), mappings(), store)
    assert sync._scope(run, found_options, found_refresh) == expected


@pytest.mark.parametrize("status", ["failed", "running", "stopped"])
def test_everyone_is_in_scope_until_a_run_completes(store: StateStore, run_id: int,
                                                    status: str) -> None:
    fill(store, run_id, people=[person("M-1"), person("M-2", "b@x.com")])
    store.finish_run(run_id, status, {})
    run = store.start_run("sync", AS_OF)
    sync = Sync(offline_settings(store.path), mappings(), store)
    assert sync._scope(run, options(), refresh()) == {"M-1", "M-2"}


def test_a_partial_run_counts_as_completed(store: StateStore, run_id: int) -> None:
    fill(store, run_id, people=[person("M-1"), person("M-2", "b@x.com")])
    store.finish_run(run_id, "partial", {})
    run = store.start_run("sync", AS_OF)
    sync = Sync(offline_settings(store.path), mappings(), store)
    assert sync._scope(run, options(), refresh()) == set()
